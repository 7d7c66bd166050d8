//! `fleetgen init [DIR]`: scaffold a fleet repository that validates, lints clean and
//! renders: fleet.yaml, one cluster, one app, its profiles, a policy profile, the schemas
//! its modelines point at, a pre-commit configuration, a CI workflow, a .gitignore and a
//! .gitattributes (rendered/ checked out with LF endings).

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
    let name = match &args.name {
        Some(n) if is_dns_label(n) => n.clone(),
        Some(n) => {
            eprintln!("error: `{n}` is not a valid fleet name: lowercase letters, digits and '-', at most 63");
            return 2;
        }
        None => std::fs::canonicalize(dir)
            .ok()
            .or_else(|| Some(dir.clone()))
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .filter(|n| is_dns_label(n))
            .unwrap_or_else(|| "fleet".to_string()),
    };
    let files = scaffold(&name);
    let taken: Vec<&str> = files
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| dir.join(p).exists())
        .collect();
    if !taken.is_empty() {
        eprintln!(
            "error: `{}` already holds {}; fleetgen init writes nothing over existing files",
            dir.display(),
            crate::suggest::list(&taken.iter().map(|p| p.to_string()).collect::<Vec<_>>())
        );
        return 2;
    }
    if let Err(e) = write(dir, &files) {
        eprintln!("error: cannot write the fleet into `{}`: {e}", dir.display());
        return 2;
    }
    if !ui.quiet {
        let cd = if dir == Path::new(".") {
            String::new()
        } else {
            format!("cd {}\n  ", dir.display())
        };
        crate::cli::print(&format!(
            "started fleet `{name}` in {}: {} files\n\
             next:\n  \
             {cd}fleetgen render          # compile it into rendered/\n  \
             git init && git add -A && git commit -m \"Start the fleet\"\n  \
             pre-commit install       # validate, check and lint before each commit\n",
            dir.display(),
            files.len()
        ));
    }
    0
}

fn write(dir: &Path, files: &[(String, String)]) -> std::io::Result<()> {
    for (path, text) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
