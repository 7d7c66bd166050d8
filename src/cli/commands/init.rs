//! `fleetgen init [DIR]`: scaffold a fleet repository that validates, lints clean and
//! renders: fleet.yaml, one cluster, one app, its profiles, a policy profile, the schemas
//! its modelines point at, a pre-commit configuration, a CI workflow, a .gitignore and a
//! .gitattributes (rendered/ checked out with LF endings). In a folder of an existing git
//! repository, the pre-commit configuration and the workflow go to the repository's top,
//! pointed at the fleet's folder.

use std::path::{Path, PathBuf};

use crate::cli::commands::meta::COMMIT_HASH;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to start the fleet in (created when missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The fleet's name [default: the folder's name, when it is a DNS label].
    #[arg(long)]
    name: Option<String>,
}

/// The files `init` writes, by path, as templates: `{{name}}`, `{{repository}}`, `{{rev}}`
/// and `{{action}}` are filled in. The schemas are written beside them.
const FILES: &[(&str, &str)] = &[
    ("fleet.yaml", include_str!("../scaffold/fleet.yaml")),
    (
        "clusters/azure-eastus-staging-01.yaml",
        include_str!("../scaffold/clusters/azure-eastus-staging-01.yaml"),
    ),
    ("apps/hello/app.yaml", include_str!("../scaffold/apps/hello/app.yaml")),
    (
        "profiles/cluster/aks-standard.yaml",
        include_str!("../scaffold/profiles/cluster/aks-standard.yaml"),
    ),
    (
        "profiles/observability/standard.yaml",
        include_str!("../scaffold/profiles/observability/standard.yaml"),
    ),
    (
        "profiles/backup/velero-daily.yaml",
        include_str!("../scaffold/profiles/backup/velero-daily.yaml"),
    ),
    (
        "profiles/telemetry/http-service.yaml",
        include_str!("../scaffold/profiles/telemetry/http-service.yaml"),
    ),
    (
        "policy-library/intents/must-run-as-non-root.yaml",
        include_str!("../scaffold/policy-library/intents/must-run-as-non-root.yaml"),
    ),
    (
        "policy-library/intents/must-pin-image-by-digest.yaml",
        include_str!("../scaffold/policy-library/intents/must-pin-image-by-digest.yaml"),
    ),
    (
        "policy-library/profiles/restricted.yaml",
        include_str!("../scaffold/policy-library/profiles/restricted.yaml"),
    ),
    (
        ".pre-commit-config.yaml",
        include_str!("../scaffold/pre-commit-config.yaml"),
    ),
    (
        ".github/workflows/fleetgen.yml",
        include_str!("../scaffold/.github/workflows/fleetgen.yml"),
    ),
    (".gitignore", include_str!("../scaffold/gitignore")),
    (".gitattributes", include_str!("../scaffold/gitattributes")),
];

/// Where the schemas go: `schemas/` at the top, where the modelines look.
pub const SCHEMAS: &str = "schemas";

/// The scaffold's files with the blanks filled in, schemas included, by path.
pub fn scaffold(name: &str) -> Vec<(String, String)> {
    let version = env!("CARGO_PKG_VERSION");
    let home = crate::diag::HOME;
    // The action pinned by commit (as code scanning and zizmor ask) when fleetgen knows its
    // own; by tag otherwise.
    let repo_path = home.strip_prefix("https://github.com/").unwrap_or(home);
    let action = if COMMIT_HASH.is_empty() {
        format!("{repo_path}@v{version}")
    } else {
        format!("{repo_path}@{COMMIT_HASH} # v{version}")
    };
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{repository}}", home)
            .replace("{{rev}}", &format!("v{version}"))
            .replace("{{action}}", &action)
    };
    let mut files: Vec<(String, String)> = FILES.iter().map(|(p, t)| (p.to_string(), fill(t))).collect();
    for (file, text) in crate::load::schema::files() {
        files.push((format!("{SCHEMAS}/{file}"), text.to_string()));
    }
    files
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn run(args: Args, ui: &crate::cli::Ui) -> u8 {
    let dir = &args.dir;
    let shown = crate::diag::escape::line(&dir.display().to_string()).into_owned();
    let name = match &args.name {
        Some(n) if is_dns_label(n) => n.clone(),
        Some(n) => {
            eprintln!(
                "error: `{}` is not a valid fleet name: lowercase letters, digits and '-', at most 63",
                crate::diag::escape::line(n)
            );
            return 2;
        }
        None => std::fs::canonicalize(dir)
            .ok()
            .or_else(|| Some(dir.clone()))
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .filter(|n| is_dns_label(n))
            .unwrap_or_else(|| "fleet".to_string()),
    };
    // Each file with the folder it goes in: the fleet's, or, for a fleet started inside an
    // existing git repository below its top, the repository's top for the pre-commit
    // configuration and the workflow (pre-commit and GitHub read them there only), pointed
    // at the fleet's folder.
    let inside = enclosing_repository(dir);
    // The repository's own URL and branch, for fleet.yaml and the workflow.
    let origin = repository_of(dir).map(|repo| origin_of(&repo)).unwrap_or_default();
    let mut files: Vec<(PathBuf, String, String)> = Vec::new();
    // The repository's own files it already has (another fleet's, say), left as they are,
    // with what to add to each, for the report.
    let mut to_add: Vec<(String, String)> = Vec::new();
    for (path, text) in scaffold(&name) {
        let (base, text) = match (&inside, repository_file(&path)) {
            (Some((top, rel)), true) => (top.clone(), for_subfolder(&path, &text, rel)),
            (Some((_, rel)), false) if path == crate::layout::FLEET_FILE => {
                (dir.clone(), with_repository_path(&text, rel))
            }
            _ => (dir.clone(), text),
        };
        let text = origin.fill(&path, &name, text);
        // A repository's own files (its .gitignore, its pre-commit configuration, another
        // fleet's workflow) are kept as they are: the report says what to add to them.
        if shared_file(&path) && std::fs::symlink_metadata(base.join(&path)).is_ok() {
            let theirs = std::fs::read_to_string(base.join(&path)).unwrap_or_default();
            to_add.push((shown_kept(&base, &path), addition(&path, &text, &theirs)));
            continue;
        }
        files.push((base, path, text));
    }
    let quoted =
        |items: &[String]| crate::lint::query::and_list(&items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>());
    // Nothing is written over anything: a file, a folder or a link (even one that points
    // nowhere) where a file goes is taken; a file or a link where a folder goes blocks it
    // (a link would be written through, out of the folder).
    let mut taken: Vec<String> = Vec::new();
    let mut blocked: Vec<String> = Vec::new();
    let shown_at = |base: &PathBuf, path: &str| {
        let at = if base == dir {
            path.to_string()
        } else {
            base.join(path).display().to_string()
        };
        crate::diag::escape::line(&at).into_owned()
    };
    for (base, path, _) in &files {
        if std::fs::symlink_metadata(base.join(path)).is_ok() {
            taken.push(shown_at(base, path));
        }
        for folder in folders_of(path) {
            let blocks = std::fs::symlink_metadata(base.join(&folder)).is_ok_and(|m| !m.is_dir());
            let folder = shown_at(base, &folder.to_string_lossy());
            if blocks && !blocked.contains(&folder) {
                blocked.push(folder);
            }
        }
    }
    if !taken.is_empty() {
        eprintln!(
            "error: `{shown}` already holds {}; fleetgen init writes nothing over existing files",
            quoted(&taken)
        );
        return 2;
    }
    if !blocked.is_empty() {
        eprintln!(
            "error: in `{shown}`, {} must be a folder (not a file or a link); fleetgen init writes nothing through it",
            quoted(&blocked)
        );
        return 2;
    }
    if let Err((path, e)) = write(dir, &files) {
        eprintln!(
            "error: cannot write `{}` into `{shown}`: {e}; nothing of the fleet was left there",
            crate::diag::escape::line(&path)
        );
        return 2;
    }
    if !ui.quiet {
        let cd = if dir == Path::new(".") {
            String::new()
        } else {
            format!("cd {}\n  ", crate::cli::shell_word(&dir.display().to_string()))
        };
        let (git, elsewhere) = match &inside {
            Some((_, rel)) => (
                {
                    // From the fleet's folder (the `cd` above), the repository's top.
                    let top = "../".repeat(rel.split('/').count());
                    // Single-quoted: a folder named `x$(id)` is text, not a command.
                    format!(
                        "git add -A . {top}.pre-commit-config.yaml {top}.github && git commit -m {}",
                        crate::cli::shell_word(&format!("Start the fleet in {rel}"))
                    )
                },
                {
                    let written: Vec<String> = (files.iter())
                        .filter(|(base, _, _)| base != dir)
                        .map(|(_, path, _)| path.clone())
                        .collect();
                    let mut also = String::new();
                    if !written.is_empty() {
                        also.push_str(&format!(" (and, at the top of the repository, {})", quoted(&written)));
                    }
                    also
                },
            ),
            // At the top of a repository already: no `git init`. Otherwise a new one on
            // `main`, the branch the workflow runs on for pushes.
            None if std::fs::symlink_metadata(dir.join(".git")).is_ok() => (
                "git add -A && git commit -m \"Start the fleet\"".to_string(),
                String::new(),
            ),
            None => (
                "git init -b main && git add -A && git commit -m \"Start the fleet\"".to_string(),
                String::new(),
            ),
        };
        let mut kept_note = String::new();
        for (file, addition) in &to_add {
            kept_note.push_str(&format!("kept `{file}` as it is; add what fleetgen needs there:\n"));
            for line in addition.lines() {
                kept_note.push_str(&format!("    {line}\n"));
            }
        }
        crate::cli::print(&format!(
            "started fleet `{name}` in {shown}: {}{elsewhere}\n\
             {kept_note}\
             {}\n\
             next:\n  \
             {cd}fleetgen render          # compile it into rendered/\n  \
             {git}\n  \
             pre-commit install       # validate, check and lint before each commit\n",
            crate::diag::count(files.len(), "file"),
            origin.said(&name)
        ));
    }
    0
}

/// What `init` takes of the git repository it starts the fleet in: the URL the GitOps
/// engines clone (its remote's, as https://) and the branch they follow.
#[derive(Default)]
struct Origin {
    /// The URL for fleet.yaml, the remote's name and its URL as git has it.
    url: Option<(String, String, String)>,
    /// The branch, and where it came from.
    branch: Option<(String, &'static str)>,
}

impl Origin {
    /// A scaffold file with the repository's URL and branch in place of the placeholders.
    fn fill(&self, path: &str, name: &str, text: String) -> String {
        let mut text = text;
        if path == crate::layout::FLEET_FILE
            && let Some((url, _, _)) = &self.url
        {
            let placeholder = format!("  url: https://github.com/example/{name}.git\n");
            text = text.replacen(&placeholder, &format!("  url: {url}\n"), 1);
        }
        if let Some((branch, _)) = &self.branch {
            let word = yaml_branch(branch);
            if path == crate::layout::FLEET_FILE {
                text = text.replacen("  branch: main\n", &format!("  branch: {word}\n"), 1);
            } else if path.starts_with(".github/") {
                text = (text.replace("branches: [main]", &format!("branches: [{word}]")))
                    .replace("push to main", &format!("push to {branch}"))
                    .replace("origin/main", &format!("origin/{branch}"));
            }
        }
        text
    }

    /// The report's line on fleet.yaml's `repository`.
    fn said(&self, name: &str) -> String {
        let branch = match &self.branch {
            Some((branch, from)) => format!("branch `{branch}` ({from})"),
            None => "branch `main`".to_string(),
        };
        match &self.url {
            Some((url, remote, raw)) if url == raw => {
                format!("fleet.yaml's repository: `{url}` (git's remote `{remote}`), {branch}")
            }
            Some((url, remote, raw)) => format!(
                "fleet.yaml's repository: `{url}` (git's remote `{remote}` is `{}`: the engines clone it by https, and a private repository needs `repository.auth`), {branch}",
                crate::diag::escape::line(raw)
            ),
            None => format!(
                "fleet.yaml's `repository.url` is a placeholder (`https://github.com/example/{name}.git`): set it to the URL the GitOps engines clone, and `branch` (`main`) to the branch they follow"
            ),
        }
    }
}

/// The git repository `dir` (or the nearest folder of it that exists) is in.
fn repository_of(dir: &Path) -> Option<git2::Repository> {
    let mut at = dir.to_path_buf();
    while std::fs::symlink_metadata(&at).is_err() {
        at = match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
    }
    git2::Repository::discover(&at).ok()
}

/// The repository's remote (`origin`, or its only one) as an https:// URL the engines clone,
/// and the branch: the remote's default (`refs/remotes/<remote>/HEAD`), else the one checked
/// out (HEAD's, even before the first commit). Read from the repository's files only.
fn origin_of(repo: &git2::Repository) -> Origin {
    let remote = match repo.find_remote("origin") {
        Ok(_) => Some("origin".to_string()),
        Err(_) => repo.remotes().ok().and_then(|names| match names.len() {
            1 => names.get(0).ok().flatten().map(str::to_string),
            _ => None,
        }),
    };
    let raw = (remote.as_deref())
        .and_then(|r| repo.find_remote(r).ok())
        .and_then(|r| r.url().ok().map(str::to_string));
    let url = (remote.clone().zip(raw)).and_then(|(remote, raw)| Some((clone_url(&raw)?, remote, raw)));
    let symbolic = |name: &str, prefix: &str| {
        let target = repo.find_reference(name).ok()?.symbolic_target().ok()??.to_string();
        let branch = target.strip_prefix(prefix)?.to_string();
        is_branch(&branch).then_some(branch)
    };
    let default = remote.as_deref().and_then(|r| {
        let prefix = format!("refs/remotes/{r}/");
        symbolic(&format!("{prefix}HEAD"), &prefix).map(|b| (b, "the remote's default"))
    });
    let branch = default.or_else(|| symbolic("HEAD", "refs/heads/").map(|b| (b, "the branch checked out")));
    Origin { url, branch }
}

/// A remote's URL as fleet.yaml's `repository.url` takes it: https:// as written without
/// its credentials, an ssh one (`git@host:owner/repo.git`, `ssh://git@host/owner/repo.git`)
/// as https:// on its host; `None` for anything else (a local path, `file://`, `git://`).
fn clone_url(raw: &str) -> Option<String> {
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (host, path) = if let Some(rest) = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("ssh://")) {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        // A port is https's when the URL was; an ssh port is not.
        let host = match raw.starts_with("ssh://") {
            true => host.split_once(':').map_or(host, |(h, _)| h),
            false => host,
        };
        (host, path)
    } else if !raw.contains("://") {
        let (authority, path) = raw.split_once(':')?;
        if authority.contains('/') {
            return None;
        }
        (authority.rsplit_once('@').map_or(authority, |(_, h)| h), path)
    } else {
        return None;
    };
    let path = path.trim_start_matches('/');
    let url = format!("https://{host}/{path}");
    let sound = !host.is_empty() && !path.is_empty() && url.len() <= 512;
    sound.then_some(url)
}

/// Whether fleet.yaml's `branch` takes `branch` (the schema's pattern).
fn is_branch(branch: &str) -> bool {
    !branch.is_empty()
        && branch.len() <= 255
        && (branch.bytes()).all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
}

/// A branch as a YAML scalar: plain when YAML reads it as that string, else double-quoted
/// (`1.0`, `on`).
fn yaml_branch(branch: &str) -> String {
    let word = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let plain =
        branch.starts_with(|c: char| c.is_ascii_alphabetic()) && !word.contains(&branch.to_lowercase().as_str());
    match plain {
        true => branch.to_string(),
        false => serde_json::to_string(branch).unwrap_or_else(|_| branch.to_string()),
    }
}

/// The folders a scaffold file's path goes through, outermost first (`.github`,
/// `.github/workflows` for the workflow).
fn folders_of(path: &str) -> Vec<PathBuf> {
    let mut folder = PathBuf::new();
    let parts: Vec<_> = Path::new(path).components().collect();
    (parts[..parts.len().saturating_sub(1)].iter())
        .map(|part| {
            folder.push(part);
            folder.clone()
        })
        .collect()
}

/// Whether a scaffold file is one a repository may have already, for itself or another
/// fleet: kept when it is there, with what to add to it said.
fn shared_file(path: &str) -> bool {
    repository_file(path) || path == ".gitignore" || path == ".gitattributes"
}

/// A kept file as the report names it: from the working directory.
fn shown_kept(base: &Path, path: &str) -> String {
    crate::cli::from_cwd(&base.join(path))
}

/// What a kept file needs of the scaffold's `text` for it, given the file as it is
/// (`theirs`): the hooks' repository entry for the pre-commit configuration, to append under
/// its `repos:` (a second `repos:` key would replace the first), indented as its own entries
/// are; the job's permissions, checkout and the action's step for the workflow; the lines that
/// are not comments for `.gitignore` and `.gitattributes`.
fn addition(path: &str, text: &str, theirs: &str) -> String {
    // From the first line starting with `start`, each line `dedent` columns to the left and
    // `indent` to the right.
    let from = |start: &str, dedent: usize, indent: usize| -> String {
        let rest = text.find(start).map_or(text, |at| &text[at..]);
        rest.lines()
            .map(|l| format!("{}{}\n", " ".repeat(indent), l.get(dedent..).unwrap_or(l)))
            .collect()
    };
    match path {
        ".pre-commit-config.yaml" => format!(
            "# append under `repos:`\n{}",
            from("  - repo: ", 2, entry_indent(theirs))
        ),
        p if p.starts_with(".github/") => format!(
            "# in the job: its permissions, the checkout's full history, the action's step\n{}",
            from("    permissions:\n", 4, 0)
        ),
        _ => text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| format!("{l}\n"))
            .collect(),
    }
}

/// How far a pre-commit configuration indents its `- repo:` entries: as its first one is,
/// 2 when it has none. Any spaces may follow the dash: `pre-commit sample-config` writes
/// `-   repo:` at the left margin.
fn entry_indent(config: &str) -> usize {
    (config.lines())
        .find(|l| {
            l.trim_start()
                .strip_prefix('-')
                .is_some_and(|rest| rest.starts_with([' ', '\t']) && rest.trim_start().starts_with("repo:"))
        })
        .map_or(2, |l| l.len() - l.trim_start().len())
}

/// Whether a scaffold file belongs at the top of the git repository (where pre-commit and
/// GitHub Actions read it), not in the fleet's folder.
fn repository_file(path: &str) -> bool {
    path == ".pre-commit-config.yaml" || path.starts_with(".github/")
}

/// The top of the git repository `dir` is inside, below its top, and the fleet's folder
/// relative to it (`infra/fleet`); `None` for a folder that is the top of a repository or
/// in none (a new repository, as `git init` then makes it).
fn enclosing_repository(dir: &Path) -> Option<(PathBuf, String)> {
    // The folder may not exist yet: the nearest that does, and the rest below it.
    let mut existing = dir.to_path_buf();
    let mut below = Vec::new();
    while std::fs::symlink_metadata(&existing).is_err() {
        below.push(existing.file_name()?.to_os_string());
        existing = match existing.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
    }
    let mut at = std::fs::canonicalize(&existing).ok()?;
    for name in below.iter().rev() {
        at.push(name);
    }
    let start = at.clone();
    loop {
        if std::fs::symlink_metadata(at.join(".git")).is_ok() {
            let rel = start.strip_prefix(&at).ok()?.to_str()?.replace('\\', "/");
            return (!rel.is_empty()).then_some((at, rel));
        }
        at = at.parent()?.to_path_buf();
    }
}

/// fleet.yaml for a fleet in folder `rel` of its repository: `repository.path` says so, so
/// that the GitOps engines find `rendered/` there. A folder the schema would refuse (a
/// space, say) is left for the user to name, with a comment saying so.
fn with_repository_path(text: &str, rel: &str) -> String {
    let line = if is_repository_path(rel) {
        format!("  # The fleet's folder in it: the engines' paths start there.\n  path: {rel}\n")
    } else {
        "  # The fleet's folder in it (`path: infra/fleet`): the engines' paths start there.\n".to_string()
    };
    text.replacen("  branch: main\n", &format!("  branch: main\n{line}"), 1)
}

/// Whether `rel` may be fleet.yaml's `repository.path` (the schema's pattern): `/`-separated
/// folders of letters, digits, `.`, `_` and `-`, none of them `.` or `..`.
pub(crate) fn is_repository_path(rel: &str) -> bool {
    rel.split('/').all(|segment| {
        !matches!(segment, "" | "." | "..")
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    })
}

/// `rel` as a YAML scalar, in a flow list or a block: plain when it is a path of plain words
/// (what `repository.path` takes), else double-quoted, so that a folder named with `,`, `]`,
/// ` #` or `: ` is still one string.
fn yaml_word(rel: &str) -> String {
    if is_repository_path(rel) {
        rel.to_string()
    } else {
        serde_json::to_string(rel).unwrap_or_else(|_| rel.to_string())
    }
}

/// A repository-level scaffold file for a fleet in folder `rel` of the repository: the hooks
/// and the action pointed at it.
fn for_subfolder(path: &str, text: &str, rel: &str) -> String {
    if path == ".pre-commit-config.yaml" {
        let mut out = String::new();
        for line in text.lines() {
            out.push_str(line);
            out.push('\n');
            if line.starts_with("      - id: ") {
                out.push_str(&format!("        args: [--repo, {}]\n", yaml_word(rel)));
            }
        }
        out
    } else {
        let mut out = text.to_string();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "        with:\n          path: {} # the fleet's folder\n",
            yaml_word(rel)
        ));
        out
    }
}

/// Writes the files, each new (never over an entry, never through a link), and the folders
/// they need; on a failure removes what it wrote and the folders it made, and says which
/// path failed.
fn write(dir: &Path, files: &[(PathBuf, String, String)]) -> Result<(), (String, std::io::Error)> {
    use std::io::Write as _;
    let mut made: Vec<PathBuf> = Vec::new();
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut attempt = || -> Result<(), (String, std::io::Error)> {
        // The folder itself, when it is new (and its parents, left in place).
        if std::fs::symlink_metadata(dir).is_err() {
            std::fs::create_dir_all(dir).map_err(|e| (".".to_string(), e))?;
            folders.push(dir.to_path_buf());
        }
        for (base, path, text) in files {
            let target = base.join(path);
            for folder in folders_of(path) {
                match std::fs::create_dir(base.join(&folder)) {
                    Ok(()) => folders.push(base.join(&folder)),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err((folder.to_string_lossy().into_owned(), e)),
                }
            }
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(|e| (path.clone(), e))?;
            made.push(target);
            file.write_all(text.as_bytes()).map_err(|e| (path.clone(), e))?;
        }
        Ok(())
    };
    let result = attempt();
    if result.is_err() {
        for file in made.iter().rev() {
            let _ = std::fs::remove_file(file);
        }
        for folder in folders.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The printed entry, appended to a configuration with its entries at column 0 or
    /// indented, keeps the user's hooks and adds fleetgen's.
    #[test]
    fn the_hooks_entry_appended_to_a_configuration_keeps_its_repositories() {
        let (_, hooks) = (scaffold("test").into_iter())
            .find(|(p, _)| p == ".pre-commit-config.yaml")
            .unwrap();
        for theirs in [
            "repos:\n- repo: https://github.com/pre-commit/pre-commit-hooks\n  rev: v4.6.0\n  hooks:\n  - id: trailing-whitespace\n",
            "repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v4.6.0\n    hooks:\n      - id: trailing-whitespace\n",
            "repos:\n    - repo: https://github.com/pre-commit/pre-commit-hooks\n      rev: v4.6.0\n      hooks:\n        - id: trailing-whitespace\n",
            // As `pre-commit sample-config` writes it (pre_commit/commands/sample_config.py).
            "repos:\n-   repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v4.6.0\n    hooks:\n    -   id: trailing-whitespace\n",
        ] {
            let added = addition(".pre-commit-config.yaml", &hooks, theirs);
            assert!(!added.contains("\nrepos:") && !added.starts_with("repos:"), "{added}");
            let both = format!("{theirs}{added}");
            let value: serde_json::Value = serde_saphyr::from_str(&both).expect(&both);
            let repos: Vec<&str> = (value["repos"].as_array().expect(&both).iter())
                .map(|r| r["repo"].as_str().unwrap())
                .collect();
            assert_eq!(
                repos,
                ["https://github.com/pre-commit/pre-commit-hooks", crate::diag::HOME],
                "{both}"
            );
            assert_eq!(value["repos"][1]["hooks"].as_array().map(Vec::len), Some(3), "{both}");
        }
    }

    /// A fleet folder whose name YAML would read otherwise (`,` and `]` in a flow list, ` #`
    /// starting a comment) is one quoted string in the hooks' `args` and the action's `path`.
    #[test]
    fn a_folder_of_any_name_is_one_string_in_the_hooks_and_the_action() {
        for (path, text) in scaffold("test") {
            if path != ".pre-commit-config.yaml" && !path.starts_with(".github/") {
                continue;
            }
            for rel in ["infra/fleet", "odd, name]/x #1"] {
                let written = for_subfolder(&path, &text, rel);
                let value: serde_json::Value = serde_saphyr::from_str(&written).expect(&written);
                let found = if path == ".pre-commit-config.yaml" {
                    value["repos"][0]["hooks"][0]["args"].clone()
                } else {
                    let steps =
                        value["jobs"].as_object().and_then(|jobs| jobs.values().next()).unwrap()["steps"].clone();
                    steps.as_array().unwrap().last().unwrap()["with"]["path"].clone()
                };
                let want = if path == ".pre-commit-config.yaml" {
                    serde_json::json!(["--repo", rel])
                } else {
                    serde_json::json!(rel)
                };
                assert_eq!(found, want, "{written}");
            }
        }
    }

    /// The workflow's addition has what the action needs of its job: the permissions and the
    /// checkout's full history, as the scaffolded workflow has them.
    #[test]
    fn the_workflow_addition_has_the_permissions_and_the_history_the_action_needs() {
        let (_, workflow) = (scaffold("test").into_iter())
            .find(|(p, _)| p.starts_with(".github/"))
            .unwrap();
        let added = addition(".github/workflows/fleetgen.yml", &workflow, "");
        for line in [
            "\npermissions:\n",
            "\n  contents: read\n",
            "\n  security-events: write",
            "\n  pull-requests: write",
            "\nsteps:\n",
            "\n  - uses: actions/checkout@",
            "\n      fetch-depth: 0",
            "\n  - uses: ",
        ] {
            assert!(added.contains(line), "{line:?} in {added}");
        }
        let value: serde_json::Value = serde_saphyr::from_str(&added).expect(&added);
        assert_eq!(value["steps"].as_array().map(Vec::len), Some(2), "{added}");
    }

    /// A remote's URL as the engines clone it: https:// without credentials, ssh forms on
    /// their host by https://, nothing for what no engine clones.
    #[test]
    fn a_remote_url_is_taken_as_https() {
        for (raw, want) in [
            (
                "https://github.com/acme/platform.git",
                Some("https://github.com/acme/platform.git"),
            ),
            (
                "https://user:token@github.com/acme/p.git",
                Some("https://github.com/acme/p.git"),
            ),
            (
                "git@github.com:acme/platform.git",
                Some("https://github.com/acme/platform.git"),
            ),
            (
                "ssh://git@host.example:2222/acme/p.git",
                Some("https://host.example/acme/p.git"),
            ),
            ("/srv/git/p.git", None),
            ("file:///srv/git/p.git", None),
            ("git://host/p.git", None),
            ("../p.git", None),
        ] {
            assert_eq!(clone_url(raw).as_deref(), want, "{raw}");
        }
        assert_eq!(yaml_branch("master"), "master");
        assert_eq!(yaml_branch("1.0"), "\"1.0\"");
        assert_eq!(yaml_branch("on"), "\"on\"");
    }

    #[test]
    fn every_scaffold_input_is_where_fleetgen_reads_its_kind() {
        use crate::layout::{Kind, Role, classify};
        for (path, text) in scaffold("test") {
            if let Role::Input(kind) = classify(&path) {
                let schema = format!("{}.schema.json", kind.name());
                let first = text.lines().next().unwrap_or_default();
                assert!(
                    first.starts_with("# yaml-language-server: $schema=") && first.ends_with(&schema),
                    "{path}: {first}"
                );
                assert_ne!(kind, Kind::PolicyExemption);
            }
        }
    }
}
