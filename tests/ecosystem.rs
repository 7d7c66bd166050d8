//! fleetgen in a team's daily tools: `init`, root discovery, shell completions and the man
//! page, `version`, the schemas for editors, colour and width per stream, the CI formats
//! (GitHub annotations with end positions, JUnit, paths from the git root), `check`'s
//! formats, `diff --exit-code` and its fallback, `lint` of given files or stdin.

mod common;

use common::{copy_tree, fleet_with, fleetgen, report, root};

use std::fs;
use std::path::Path;
use std::process::Output;

use git2::{Repository, Signature};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    fleetgen().current_dir(dir).args(args).output().unwrap()
}

/// A fresh fleet from `fleetgen init`.
fn init() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = fleetgen()
        .args(["init", "--name", "acme"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    dir
}

fn commit_all(repo: &Repository, message: &str) {
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::new("fleetgen test", "test@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents).unwrap();
}

// ---------------------------------------------------------------------------------------
// Install and start

#[test]
fn init_writes_a_fleet_that_validates_lints_clean_renders_and_checks() {
    let dir = init();
    let fleet = dir.path();
    for file in [
        "fleet.yaml",
        "clusters/azure-eastus-staging-01.yaml",
        "apps/hello/app.yaml",
        "policy-library/profiles/restricted.yaml",
        ".pre-commit-config.yaml",
        ".github/workflows/fleetgen.yml",
        ".gitignore",
        ".gitattributes",
        "schemas/common.schema.json",
        "schemas/app.schema.json",
    ] {
        assert!(fleet.join(file).is_file(), "init did not write {file}");
    }
    let out = run_in(fleet, &["validate", "--color", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let out = run_in(fleet, &["lint", "--color", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(stdout(&out).starts_with("no findings"), "{}", report(&out));
    let out = run_in(fleet, &["render", "--color", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    // One of each, said in the singular.
    assert!(
        stdout(&out).starts_with("rendered 1 placement on 1 cluster: "),
        "{}",
        report(&out)
    );
    let out = run_in(fleet, &["validate", "--color", "never"]);
    assert!(
        stdout(&out).starts_with("fleet is valid: 1 cluster, 1 app, "),
        "{}",
        report(&out)
    );
    let out = run_in(fleet, &["check", "--color", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    // Every modeline points at a schema init wrote, and the schemas are fleetgen's own.
    for entry in walkdir::WalkDir::new(fleet) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(fleet).unwrap().to_string_lossy().into_owned();
        if rel.starts_with("rendered") || !rel.ends_with(".yaml") || rel.starts_with('.') {
            continue;
        }
        let text = fs::read_to_string(entry.path()).unwrap();
        let schema = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# yaml-language-server: $schema="))
            .unwrap_or_else(|| panic!("{rel} has no modeline"));
        assert!(entry.path().parent().unwrap().join(schema).is_file(), "{rel}: {schema}");
    }
    for kind in fleetgen::api::Kind::ALL {
        let written = fs::read_to_string(fleet.join(format!("schemas/{}.schema.json", kind.name()))).unwrap();
        assert_eq!(written, fleetgen::api::schema(kind));
    }
    // The pre-commit configuration names this fleetgen's hooks at its release tag.
    let hooks = fs::read_to_string(fleet.join(".pre-commit-config.yaml")).unwrap();
    assert!(
        hooks.contains(&format!("rev: v{}", env!("CARGO_PKG_VERSION"))),
        "{hooks}"
    );
    for id in ["fleetgen-validate", "fleetgen-check", "fleetgen-lint"] {
        assert!(hooks.contains(&format!("id: {id}")), "{hooks}");
    }
}

#[test]
fn init_keeps_rendered_files_lf_in_a_checkout_that_converts_to_crlf() {
    // A Windows checkout (core.autocrlf): the fleet's own files come out with CRLF endings,
    // rendered/ with LF as rendered (init's .gitattributes), so a check has nothing to
    // forgive and no file to read again.
    let dir = init();
    let fleet = dir.path();
    let out = run_in(fleet, &["render", "--color", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let repo = Repository::init(fleet).unwrap();
    commit_all(&repo, "init");
    repo.config().unwrap().set_bool("core.autocrlf", true).unwrap();
    let deployment = "rendered/azure-eastus-staging-01/apps/hello/deployment-hello.yaml";
    for file in ["apps/hello/app.yaml", deployment] {
        fs::remove_file(fleet.join(file)).unwrap();
    }
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    let contract = fs::read_to_string(fleet.join("apps/hello/app.yaml")).unwrap();
    assert!(contract.contains("\r\n"), "autocrlf did not convert the contract");
    let rendered = fs::read_to_string(fleet.join(deployment)).unwrap();
    assert!(
        rendered.contains("kind: Deployment") && !rendered.contains('\r'),
        "{rendered}"
    );
    let out = run_in(fleet, &["check", "--color", "never", "-v"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(!stderr(&out).contains("CRLF"), "{}", report(&out));
}

#[test]
fn init_writes_nothing_over_an_existing_fleet() {
    let dir = init();
    let before = common::read_tree(dir.path());
    let out = fleetgen().arg("init").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(stderr(&out).contains("already holds"), "{}", report(&out));
    assert_eq!(common::read_tree(dir.path()), before);
    let out = fleetgen()
        .args(["init", "--name", "Not_A_Label"])
        .arg(dir.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(!dir.path().join("other").exists());
}

/// `init` writes nothing through a link (a folder's, or a dangling one where a file goes),
/// and when it cannot write a file it leaves nothing of the fleet behind and names the path.
#[cfg(unix)]
#[test]
fn init_writes_nothing_through_links_and_leaves_nothing_half_written() {
    let outside = tempfile::tempdir().unwrap();
    // A folder that is a link out of the target, and a dangling link where fleet.yaml goes.
    let linked = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), linked.path().join(".github")).unwrap();
    let dangling = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path().join("fleet.yaml"), dangling.path().join("fleet.yaml")).unwrap();
    for (dir, says) in [(&linked, "must be a folder"), (&dangling, "already holds")] {
        let out = fleetgen().arg("init").arg(dir.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", report(&out));
        assert!(stderr(&out).contains(says), "{}", report(&out));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "{}", report(&out));
    }
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    // A file where a folder goes: refused before anything is written.
    let file = tempfile::tempdir().unwrap();
    std::fs::write(file.path().join("schemas"), "").unwrap();
    let out = fleetgen().arg("init").arg(file.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(stderr(&out).contains("`schemas` must be a folder"), "{}", report(&out));
    assert_eq!(std::fs::read_dir(file.path()).unwrap().count(), 1);
    // A folder it cannot write into (not as root, which may write anywhere): what it wrote
    // is removed, and the error names the path.
    let locked = tempfile::tempdir().unwrap();
    let schemas = locked.path().join("schemas");
    std::fs::create_dir(&schemas).unwrap();
    std::fs::set_permissions(&schemas, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
    if std::fs::write(schemas.join("probe"), "").is_err() {
        let out = fleetgen().arg("init").arg(locked.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", report(&out));
        assert!(stderr(&out).contains("cannot write `schemas/"), "{}", report(&out));
        assert_eq!(std::fs::read_dir(locked.path()).unwrap().count(), 1, "{}", report(&out));
    }
    std::fs::set_permissions(&schemas, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// A fleet started in a folder of an existing repository: the pre-commit configuration and
/// the workflow go to the repository's top, where pre-commit and GitHub read them, pointed
/// at the fleet's folder; a second fleet leaves them as they are and says what to add.
#[test]
fn init_in_a_repository_s_subfolder_points_the_hooks_and_action_at_it() {
    let top = tempfile::tempdir().unwrap();
    git2::Repository::init(top.path()).unwrap();
    let out = run_in(top.path(), &["init", "infra/fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(!stdout(&out).contains("git init"), "{}", report(&out));
    let hooks = std::fs::read_to_string(top.path().join(".pre-commit-config.yaml")).unwrap();
    assert_eq!(hooks.matches("args: [--repo, infra/fleet]").count(), 3, "{hooks}");
    let workflow = std::fs::read_to_string(top.path().join(".github/workflows/fleetgen.yml")).unwrap();
    assert!(
        workflow.ends_with("        with:\n          path: infra/fleet # the fleet's folder\n"),
        "{workflow}"
    );
    for file in [".pre-commit-config.yaml", ".github"] {
        assert!(!top.path().join("infra/fleet").join(file).exists(), "{file}");
    }
    let out = run_in(top.path(), &["validate", "--repo", "infra/fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    // The engines read paths from the repository's top: fleet.yaml says where the fleet is,
    // and the rendered GitOps objects start there.
    let fleet = std::fs::read_to_string(top.path().join("infra/fleet/fleet.yaml")).unwrap();
    // (The branch is the repository's: `git2::Repository::init`'s, `master` by default.)
    assert!(fleet.contains("\n  # The fleet's folder in it"), "{fleet}");
    assert!(fleet.contains("\n  path: infra/fleet\n"), "{fleet}");
    let out = run_in(top.path(), &["render", "--repo", "infra/fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let gitops = top.path().join("infra/fleet/rendered/azure-eastus-staging-01/gitops");
    let root = std::fs::read_to_string(gitops.join("kustomization-fleet-root.yaml")).unwrap();
    assert!(
        root.contains("path: \"./infra/fleet/rendered/azure-eastus-staging-01\""),
        "{root}"
    );
    assert!(top.path().join("infra/fleet/rendered/azure-eastus-staging-01").is_dir());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("repository.path"),
        "{}",
        report(&out)
    );
    // Without it (a fleet from before, or moved), the commands say where the engines would
    // look, and what to set.
    let without = fleet.replace("\n  path: infra/fleet\n", "\n");
    std::fs::write(top.path().join("infra/fleet/fleet.yaml"), without).unwrap();
    let out = run_in(top.path(), &["validate", "--repo", "infra/fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("set `repository.path: infra/fleet`"), "{}", report(&out));
    std::fs::write(top.path().join("infra/fleet/fleet.yaml"), &fleet).unwrap();
    let out = run_in(top.path(), &["init", "infra/other"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    // What to add to the kept files, pointed at this fleet.
    assert!(
        stdout(&out).contains("add what fleetgen needs there:\n    # append under `repos:`\n      - repo: ")
            && stdout(&out).contains("\n            args: [--repo, infra/other]\n"),
        "{}",
        report(&out)
    );
    assert!(
        stdout(&out).contains("\n    steps:\n      - uses: actions/checkout@")
            && stdout(&out).contains("\n          fetch-depth: 0")
            && stdout(&out).contains("\n      pull-requests: write")
            && stdout(&out).contains("\n          path: infra/other # the fleet's folder\n"),
        "{}",
        report(&out)
    );
    assert_eq!(
        std::fs::read_to_string(top.path().join(".pre-commit-config.yaml")).unwrap(),
        hooks
    );
}

/// `init .` at the top of an existing repository keeps the repository's own .gitignore and
/// pre-commit configuration, as a fleet in a subfolder does, and says what to add to them.
#[test]
fn init_at_the_top_of_a_repository_keeps_its_files_and_says_what_to_add() {
    let top = tempfile::tempdir().unwrap();
    git2::Repository::init(top.path()).unwrap();
    fs::write(top.path().join(".gitignore"), "target/\n").unwrap();
    fs::write(top.path().join(".pre-commit-config.yaml"), "repos: []\n").unwrap();
    let out = run_in(top.path(), &["init", ".", "--name", "acme"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert_eq!(fs::read_to_string(top.path().join(".gitignore")).unwrap(), "target/\n");
    assert_eq!(
        fs::read_to_string(top.path().join(".pre-commit-config.yaml")).unwrap(),
        "repos: []\n"
    );
    assert!(top.path().join("fleet.yaml").is_file());
    assert!(top.path().join(".gitattributes").is_file());
    let said = stdout(&out);
    assert!(
        said.contains("kept `.gitignore` as it is; add what fleetgen needs there:\n    /.rendered.fleetgen-*\n"),
        "{said}"
    );
    assert!(
        said.contains(
            "kept `.pre-commit-config.yaml` as it is; add what fleetgen needs there:\n    # append under `repos:`\n      - repo: "
        ),
        "{said}"
    );
    assert!(said.contains("\n          - id: fleetgen-check"), "{said}");
    // A repository already: no `git init`.
    assert!(!said.contains("git init"), "{said}");
    let out = run_in(top.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
}

/// The printed commit command single-quotes its message: a folder named `x$(id)` is text in
/// it, not a command the shell runs.
#[test]
fn init_quotes_the_commit_message_it_prints() {
    let top = tempfile::tempdir().unwrap();
    git2::Repository::init(top.path()).unwrap();
    let out = run_in(top.path(), &["init", "sub/x$(id)"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let said = stdout(&out);
    assert!(
        said.contains(" && git commit -m 'Start the fleet in sub/x$(id)'\n"),
        "{said}"
    );
}

/// A fleet in a folder whose name `repository.path` cannot hold (a space): `init` leaves the
/// field for the user to name, and the warning asks for the folder to be renamed rather
/// than for a value the schema refuses.
#[test]
fn a_fleet_folder_repository_path_cannot_name_is_said_so() {
    let top = tempfile::tempdir().unwrap();
    git2::Repository::init(top.path()).unwrap();
    let out = run_in(top.path(), &["init", "my fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let fleet = std::fs::read_to_string(top.path().join("my fleet/fleet.yaml")).unwrap();
    assert!(
        fleet.contains("  # The fleet's folder in it (`path: infra/fleet`)"),
        "{fleet}"
    );
    assert!(!fleet.contains("\n  path:"), "{fleet}");
    let out = run_in(top.path(), &["validate", "--repo", "my fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("rename the fleet's folder"), "{}", report(&out));
    assert!(!said.contains("set `repository.path: my fleet`"), "{}", report(&out));
}

#[test]
fn the_fleet_root_is_found_from_a_subfolder() {
    let fleet = fleet_with(None);
    let deep = fleet.path().join("apps/web");
    let out = run_in(&deep, &["validate", "--color", "never", "--format", "concise"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(
        stdout(&out).starts_with("fleet is valid: 3 clusters"),
        "{}",
        report(&out)
    );
    // render from a subfolder writes the fleet's rendered/, not one in the subfolder.
    let out = run_in(
        &fleet.path().join("clusters"),
        &["render", "--color", "never", "--quiet"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(fleet.path().join("rendered/fleet.yaml").is_file());
    assert!(!fleet.path().join("clusters/rendered").exists());
    // Inside the output folder, its fleet.yaml (the placement matrix, with fleetgen's header)
    // is not taken for the fleet's: the search goes on up.
    for dir in ["rendered", "rendered/eastus-prod-01/apps"] {
        let inside = fleet.path().join(dir);
        let out = run_in(&inside, &["validate", "--color", "never", "--format", "concise"]);
        assert_eq!(out.status.code(), Some(0), "{dir}: {}", report(&out));
        let out = run_in(&inside, &["check", "--color", "never"]);
        assert_eq!(out.status.code(), Some(0), "{dir}: {}", report(&out));
        assert!(
            stdout(&out).starts_with("rendered/ is up to date"),
            "{dir}: {}",
            report(&out)
        );
    }
    // Inside the output folder, a stale tree's hint stages the folder by a name git takes.
    common::scale_web(fleet.path());
    let out = run_in(&fleet.path().join("rendered"), &["check", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1), "{}", report(&out));
    assert!(stdout(&out).contains("(`git add .`)"), "{}", report(&out));
    // A render from there replaces the folder the shell is in: it says how to see the new one.
    let out = run_in(&fleet.path().join("rendered"), &["render", "--color", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(stderr(&out).contains("which this render replaced"), "{}", report(&out));
    // Output rendered with `--out` into another fleet's folder is not that fleet's: said,
    // not checked against the wrong sources.
    let other = fleet_with(None);
    let out = fleetgen()
        .args(["render", "--quiet", "--repo"])
        .arg(other.path())
        .arg("--out")
        .arg(fleet.path().join("out-b"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let out = run_in(&fleet.path().join("out-b"), &["validate", "--color", "never"]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(
        stderr(&out).contains("is the placement matrix fleetgen rendered, not a fleet"),
        "{}",
        report(&out)
    );
    // Only fleetgen's whole header line marks the matrix: a fleet.yaml of the user's that
    // starts alike is the fleet.
    let own = fs::read_to_string(other.path().join("fleet.yaml")).unwrap();
    fs::write(
        other.path().join("fleet.yaml"),
        format!("# Rendered by fleetgen-bootstrap once\n{own}"),
    )
    .unwrap();
    let out = run_in(&other.path().join("apps"), &["validate", "--color", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    // Diagnostics name files from the fleet's root, wherever it was found from.
    fs::write(deep.join("app.yaml"), "application: [\n").unwrap();
    let out = run_in(&deep, &["validate", "--color", "never", "--format", "concise"]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(stdout(&out).starts_with("apps/web/app.yaml:"), "{}", report(&out));
    let nowhere = tempfile::tempdir().unwrap();
    let out = run_in(nowhere.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(
        stderr(&out).contains("no fleet.yaml in `") && stderr(&out).contains("fleetgen init"),
        "{}",
        report(&out)
    );
}

#[test]
fn completions_generate_for_every_shell_and_know_the_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = fleetgen().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", report(&out));
        let text = stdout(&out);
        for word in ["init", "validate", "render", "lint", "format"] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
        // The shells that complete values are offered every format.
        if ["bash", "zsh", "fish"].contains(&shell) {
            assert!(text.contains("sarif") && text.contains("junit"), "{shell}");
        }
    }
    // The bash script is valid bash.
    let out = fleetgen().args(["completions", "bash"]).output().unwrap();
    let script = tempfile::NamedTempFile::new().unwrap();
    fs::write(script.path(), &out.stdout).unwrap();
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(script.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = fleetgen().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_man_page_is_roff_and_one_is_written_per_command() {
    let out = fleetgen().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH fleetgen 1"),
        "{page}"
    );
    assert!(
        page.contains(".TH fleetgen 1") && page.contains("fleetgen\\-lint"),
        "{page}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = fleetgen().args(["man", "--out"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    for page in ["fleetgen.1", "fleetgen-lint.1", "fleetgen-init.1", "fleetgen-diff.1"] {
        let text = fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".SH NAME"), "{page}");
    }
}

/// `man --out` and `schema --write` write no file through a link a pull request planted
/// (a page or a schema linked elsewhere, or the folder itself a link): refused, exit 2,
/// the link's target untouched and nothing written.
#[test]
fn man_and_schema_writers_never_write_through_a_link() {
    for (command, name) in [("man", "fleetgen-lint.1"), ("schema", "app.schema.json")] {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        fs::write(&victim, "precious").unwrap();
        let out_dir = dir.path().join("out");
        fs::create_dir(&out_dir).unwrap();
        std::os::unix::fs::symlink(&victim, out_dir.join(name)).unwrap();
        let linked = dir.path().join("linked");
        std::os::unix::fs::symlink(&out_dir, &linked).unwrap();
        let flag = if command == "man" { "--out" } else { "--write" };
        for target in [&out_dir, &linked] {
            let out = fleetgen().args([command, flag]).arg(target).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(2),
                "{command} {}: {}",
                target.display(),
                report(&out)
            );
            assert!(stderr(&out).contains("symbolic link"), "{}", report(&out));
        }
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious", "{command}");
        assert_eq!(fs::read_dir(&out_dir).unwrap().count(), 1, "{command}: nothing written");
        // The link gone, the writer writes.
        fs::remove_file(out_dir.join(name)).unwrap();
        let out = fleetgen().args([command, flag]).arg(&out_dir).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{command}: {}", report(&out));
        assert!(out_dir.join(name).is_file(), "{command}");
    }
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = fleetgen().args(["version", "--verbose"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            .to_string()
    };
    assert_eq!(field("release"), env!("CARGO_PKG_VERSION"));
    // Built from this checkout (tests run from one): the commit is git's HEAD.
    let head = Repository::open(root())
        .ok()
        .and_then(|r| Some(r.head().ok()?.peel_to_commit().ok()?.id().to_string()));
    if let Some(head) = head {
        assert_eq!(field("commit-hash"), head, "{text}");
        let short = stdout(&fleetgen().arg("version").output().unwrap());
        assert!(
            short.starts_with(&format!("fleetgen {} ({}", env!("CARGO_PKG_VERSION"), &head[..9])),
            "{short}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Schemas

#[test]
fn schema_write_writes_every_schema_and_ajv_style_ids_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let out = fleetgen()
        .args(["schema", "--write"])
        .arg(dir.path().join("schemas"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let written = common::read_tree(&dir.path().join("schemas"));
    let bundled = common::read_tree(&root().join("schemas"));
    assert_eq!(written, bundled);
    // Each schema's $id is its own file name: references between the files resolve
    // against it in any validator, and against the file's place in an editor.
    for (file, text) in &bundled {
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(doc["$id"], file.as_str(), "{file}");
    }
}

/// The JSON Schema keywords under which a property's own schema is *not* user-facing: the
/// conditions of `if`/`then`/`else` and `not` only restate properties defined elsewhere.
const CONDITIONS: &[&str] = &["if", "then", "else", "not"];

fn described(
    docs: &std::collections::BTreeMap<String, serde_json::Value>,
    file: &str,
    schema: &serde_json::Value,
) -> bool {
    if schema.get("description").is_some() {
        return true;
    }
    let Some(reference) = schema.get("$ref").and_then(|r| r.as_str()) else {
        return false;
    };
    let (target_file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
    let target_file = if target_file.is_empty() { file } else { target_file };
    let target = docs[target_file]
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{file}: {reference}"));
    described(docs, target_file, target)
}

fn undescribed(
    docs: &std::collections::BTreeMap<String, serde_json::Value>,
    file: &str,
    node: &serde_json::Value,
    path: &str,
    missing: &mut Vec<String>,
    total: &mut usize,
) {
    match node {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                for (name, schema) in props {
                    *total += 1;
                    if !described(docs, file, schema) {
                        missing.push(format!("{file}: {path}/properties/{name}"));
                    }
                }
            }
            for (key, value) in map {
                if !CONDITIONS.contains(&key.as_str()) {
                    undescribed(docs, file, value, &format!("{path}/{key}"), missing, total);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                undescribed(docs, file, item, &format!("{path}/{i}"), missing, total);
            }
        }
        _ => {}
    }
}

/// Editors show a property's description on hover and in completion: every property a
/// user can write has one (its own, or its definition's), so a new field without one fails.
#[test]
fn every_user_facing_schema_property_has_a_description() {
    let docs: std::collections::BTreeMap<String, serde_json::Value> = common::read_tree(&root().join("schemas"))
        .into_iter()
        .map(|(file, text)| (file, serde_json::from_str(&text).unwrap()))
        .collect();
    let (mut missing, mut total) = (Vec::new(), 0);
    for (file, doc) in &docs {
        undescribed(&docs, file, doc, "", &mut missing, &mut total);
    }
    assert!(total > 150, "only {total} properties found");
    assert!(
        missing.is_empty(),
        "properties without a description:\n{}",
        missing.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Terminal conventions

fn has_ansi(text: &str) -> bool {
    text.contains("\u{1b}[")
}

#[test]
fn colour_is_decided_per_stream_and_by_the_usual_variables() {
    let fleet = fleet_with(Some(&root().join("tests/fixtures/invalid/unknown-profile")));
    let validate = |vars: &[(&str, &str)]| {
        let mut cmd = fleetgen();
        cmd.args(["validate", "--repo"]).arg(fleet.path());
        cmd.env_remove("FORCE_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env("TERM", "xterm");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        stdout(&cmd.output().unwrap())
    };
    // Not a terminal: no colour, unless forced.
    assert!(!has_ansi(&validate(&[])));
    assert!(has_ansi(&validate(&[("FORCE_COLOR", "1")])));
    assert!(has_ansi(&validate(&[("CLICOLOR_FORCE", "1")])));
    assert!(!has_ansi(&validate(&[("CLICOLOR_FORCE", "0")])));
    // Forcing wins over NO_COLOR; an empty NO_COLOR does not disable colour.
    assert!(has_ansi(&validate(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")])));
    assert!(has_ansi(&validate(&[("FORCE_COLOR", "1"), ("NO_COLOR", "")])));
}

/// Runs `command` (a shell command line) with a terminal as its stderr and a file as its
/// stdout, through util-linux's `script`; `None` where `script` is missing.
fn on_a_terminal(command: &str, env: &[(&str, &str)]) -> Option<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("stdout");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &format!("{command} > {}", out_file.display()), "/dev/null"])
        .stdin(std::process::Stdio::null());
    cmd.env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm")
        .env("COLUMNS", "80")
        .env("FLEETGEN_TODAY", common::TODAY);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().ok()?;
    let terminal = String::from_utf8_lossy(&out.stdout).into_owned();
    Some((fs::read_to_string(out_file).unwrap_or_default(), terminal))
}

#[test]
fn diagnostics_on_a_terminal_stderr_are_coloured_while_stdout_to_a_file_is_not() {
    let fleet = fleet_with(Some(&root().join("tests/fixtures/invalid/unknown-profile")));
    let bin = env!("CARGO_BIN_EXE_fleetgen");
    // render prints diagnostics on stderr (the terminal) and nothing on stdout.
    let Some((file, terminal)) = on_a_terminal(&format!("{bin} render --repo {}", fleet.path().display()), &[]) else {
        eprintln!("util-linux `script` is missing: skipped");
        return;
    };
    assert!(has_ansi(&terminal), "stderr on a terminal is not coloured: {terminal}");
    assert!(terminal.contains("FG023"), "{terminal}");
    assert!(file.is_empty(), "{file}");
    // validate prints them on stdout, here a file: not coloured though stderr is a terminal.
    let (file, _) = on_a_terminal(&format!("{bin} validate --repo {}", fleet.path().display()), &[]).unwrap();
    assert!(file.contains("FG023") && !has_ansi(&file), "{file}");
    // TERM=dumb and NO_COLOR turn colour off on a terminal too.
    for env in [("TERM", "dumb"), ("NO_COLOR", "1")] {
        let (_, terminal) = on_a_terminal(&format!("{bin} render --repo {}", fleet.path().display()), &[env]).unwrap();
        assert!(
            terminal.contains("FG023") && !has_ansi(&terminal),
            "{env:?}: {terminal}"
        );
    }
}

#[test]
fn lint_check_and_diff_show_progress_on_a_terminal_only() {
    let fleet = fleet_with(None);
    let bin = env!("CARGO_BIN_EXE_fleetgen");
    let repo = fleet.path().display().to_string();
    assert_eq!(
        fleetgen()
            .args(["render", "--quiet", "--repo", &repo])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    Repository::init(fleet.path()).map(|r| commit_all(&r, "fleet")).unwrap();
    let now = [("FLEETGEN_PROGRESS_AFTER_MS", "0")];
    for (command, doing) in [
        (format!("{bin} lint --repo {repo}"), "linting ["),
        (format!("{bin} check --repo {repo}"), "checking ["),
        (format!("{bin} diff --repo {repo}"), "compiling "),
    ] {
        let Some((_, terminal)) = on_a_terminal(&command, &now) else {
            eprintln!("util-linux `script` is missing: skipped");
            return;
        };
        assert!(terminal.contains(doing), "{command}: {terminal}");
        // Never in a log: stderr to a pipe shows no bar.
        let piped = fleetgen()
            .env("FLEETGEN_PROGRESS_AFTER_MS", "0")
            .args(command.split(' ').skip(1))
            .output()
            .unwrap();
        assert!(!stderr(&piped).contains(doing.trim()), "{command}: {}", report(&piped));
    }
}

#[test]
fn text_wraps_at_the_terminal_width_without_columns() {
    let fleet = fleet_with(Some(&root().join("tests/fixtures/invalid/id-mismatch")));
    let bin = env!("CARGO_BIN_EXE_fleetgen");
    let render = format!("{bin} render --repo {}", fleet.path().display());
    // render prints its diagnostics on stderr, here a terminal 50 or 120 columns wide.
    let at = |cols: usize| {
        on_a_terminal(
            &format!("stty cols {cols} rows 40; unset COLUMNS; {render}"),
            &[("NO_COLOR", "1")],
        )
        .map(|(_, terminal)| terminal)
    };
    let Some(narrow) = at(50) else {
        eprintln!("util-linux `script` is missing: skipped");
        return;
    };
    let wide = at(120).unwrap();
    let title = |text: &str| {
        text.lines()
            .skip_while(|l| !l.contains('×'))
            .take_while(|l| !l.contains("╭"))
            .count()
    };
    assert!(narrow.contains("FG021") && wide.contains("FG021"), "{narrow}{wide}");
    assert!(title(&narrow) > 1, "not wrapped at 50 columns: {narrow}");
    assert_eq!(title(&wide), 1, "wrapped on 120 columns: {wide}");
}

#[test]
fn text_wraps_at_the_width_and_never_splits_an_id() {
    let fleet = fleet_with(Some(&root().join("tests/fixtures/invalid/id-mismatch")));
    let at = |width: usize| {
        let out = fleetgen()
            .env("COLUMNS", width.to_string())
            .args(["validate", "--color", "never", "--repo"])
            .arg(fleet.path())
            .output()
            .unwrap();
        stdout(&out)
    };
    for width in [50, 60, 72, 80] {
        let text = at(width);
        assert!(
            text.contains("`eastus-staging-02`") && text.contains("`eastus-staging-01`"),
            "{width}: an id was split: {text}"
        );
        for line in text.lines() {
            assert!(!line.trim_end().ends_with('-'), "{width}: split at a hyphen: {line}");
        }
    }
    // The message is wrapped at the width it is given: one line at 120, more at 50.
    let title = |text: &str| {
        text.lines()
            .skip_while(|l| !l.contains('×'))
            .take_while(|l| !l.contains("╭"))
            .count()
    };
    assert_eq!(title(&at(120)), 1, "{}", at(120));
    assert!(title(&at(50)) > 1, "{}", at(50));
}

// ---------------------------------------------------------------------------------------
// CI formats

fn lint_case(case: &str) -> tempfile::TempDir {
    let dir = fleet_with(Some(&root().join("tests/fixtures/lint-base")));
    copy_tree(&root().join(case), dir.path());
    dir
}

const FAKE_ACTIVE_ACTIVE: &str = "tests/specs/active-active/fake-active-active/invalid/weighted-routing-one-writer";

#[test]
fn github_annotations_span_the_problem_and_carry_the_help() {
    let fleet = lint_case(FAKE_ACTIVE_ACTIVE);
    let out = fleetgen()
        .args(["lint", "--format", "github", "--repo"])
        .arg(fleet.path())
        .output()
        .unwrap();
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("FG100"))
        .unwrap_or_else(|| panic!("{text}"));
    // `routing: weighted-global` on line 13, columns 12 to 27.
    assert!(
        line.starts_with(
            "::error file=apps/web/app.yaml,line=13,endLine=13,col=12,endColumn=27,title=FG100 fake-active-active::"
        ),
        "{line}"
    );
    assert!(line.contains("%0Ahelp: route with `routing: failover`"), "{line}");
}

#[test]
fn junit_is_well_formed_with_one_failing_case_per_problem() {
    let fleet = lint_case(FAKE_ACTIVE_ACTIVE);
    let out = fleetgen()
        .args(["lint", "--format", "junit", "--repo"])
        .arg(fleet.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", report(&out));
    let xml = stdout(&out);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert!(!cases.is_empty());
    assert_eq!(suites.attribute("tests"), Some(cases.len().to_string().as_str()));
    let fake = cases
        .iter()
        .find(|c| {
            c.attribute("name")
                .unwrap()
                .starts_with("FG100 fake-active-active at apps/web/app.yaml:13:12")
        })
        .unwrap_or_else(|| panic!("{xml}"));
    let failure = fake.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(failure.attribute("type"), Some("error"));
    assert!(failure.text().unwrap().contains("help: route with"), "{xml}");
    // A clean run is one passing case.
    let out = fleetgen()
        .current_dir(root())
        .args(["lint", "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let xml = stdout(&out);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("testcase")).count(), 1);
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("failure")).count(), 0);
}

/// A warning does not fail the run (exit 0), so it is no failure in the report either (a
/// failure makes Jenkins mark the build unstable): a passing case with its text in
/// `system-out`; with `--deny-warnings`, which exits 1, a failure.
#[test]
fn junit_warnings_fail_only_with_deny_warnings() {
    let fleet = lint_case("tests/specs/drift/undocumented-cluster/invalid/no-description");
    let junit = |extra: &[&str]| {
        let out = fleetgen()
            .args(["lint", "--format", "junit", "--repo"])
            .arg(fleet.path())
            .args(extra)
            .output()
            .unwrap();
        let xml = stdout(&out);
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
        let count = |tag: &str| doc.descendants().filter(|n| n.has_tag_name(tag)).count();
        let failures = doc.root_element().attribute("failures").unwrap().to_string();
        (
            out.status.code(),
            count("testcase"),
            count("failure"),
            count("system-out"),
            failures,
            xml.clone(),
        )
    };
    let (code, cases, failures, outs, attribute, xml) = junit(&[]);
    assert_eq!(
        (code, cases, failures, outs, attribute.as_str()),
        (Some(0), 1, 0, 1, "0"),
        "{xml}"
    );
    assert!(
        xml.contains("<system-out>warning: clusters/eastus-prod-01.yaml:8:10-"),
        "{xml}"
    );
    let (code, cases, failures, outs, attribute, xml) = junit(&["--deny-warnings"]);
    assert_eq!(
        (code, cases, failures, outs, attribute.as_str()),
        (Some(1), 1, 1, 0, "1"),
        "{xml}"
    );
}

/// A fleet in `infra/fleet/` of a git repository: machine formats name files from the git
/// root, so that code scanning and annotations land on the right files.
#[test]
fn paths_are_relative_to_the_git_root_or_the_given_prefix() {
    let top = tempfile::tempdir().unwrap();
    let fleet = top.path().join("infra/fleet");
    fs::create_dir_all(&fleet).unwrap();
    copy_tree(&root().join("tests/fixtures/base"), &fleet);
    copy_tree(&root().join("tests/fixtures/lint-base"), &fleet);
    copy_tree(&root().join(FAKE_ACTIVE_ACTIVE), &fleet);
    Repository::init(top.path()).unwrap();
    let lint = |args: &[&str]| stdout(&run_in(&fleet, &[&["lint"], args].concat()));
    assert!(lint(&["--format", "concise"]).contains("infra/fleet/apps/web/app.yaml:13:12: error[FG100]"));
    assert!(lint(&["--format", "github"]).contains("file=infra/fleet/apps/web/app.yaml,"));
    let sarif: serde_json::Value = serde_json::from_str(&lint(&["--format", "sarif"])).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "infra/fleet/apps/web/app.yaml"
    );
    let json: serde_json::Value = serde_json::from_str(&lint(&["--format", "json"])).unwrap();
    assert_eq!(json[0]["file"], "infra/fleet/apps/web/app.yaml");
    let has_line = |text: String, start: &str| text.lines().any(|l| l.starts_with(start));
    assert!(has_line(
        lint(&["--format", "concise", "--path-prefix", "x"]),
        "x/apps/web/app.yaml:13:12"
    ));
    assert!(has_line(
        lint(&["--format", "concise", "--path-prefix", "x/"]),
        "x/apps/web/app.yaml:13:12"
    ));
    assert!(has_line(
        lint(&["--format", "concise", "--path-prefix", ""]),
        "apps/web/app.yaml:13:12"
    ));
    // Text reports stay relative to the fleet, with its source lines.
    assert!(lint(&["--color", "never"]).contains("╭─[apps/web/app.yaml:13:12]"));
}

#[test]
fn sarif_has_help_in_markdown_links_and_the_run_described() {
    let fleet = lint_case(FAKE_ACTIVE_ACTIVE);
    let out = fleetgen()
        .args(["lint", "--format", "sarif", "--repo"])
        .arg(fleet.path())
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert!(run["originalUriBaseIds"]["SRCROOT"]["description"]["text"].is_string());
    let rule = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "FG100")
        .unwrap();
    let markdown = rule["help"]["markdown"].as_str().unwrap();
    let text = rule["help"]["text"].as_str().unwrap();
    assert!(markdown.contains("## Why is this bad?"), "{markdown}");
    assert!(!text.contains("## ") && text.contains("Why is this bad?:"), "{text}");
    assert!(
        rule["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("/docs/rules/FG100-fake-active-active.md")
    );
    for rule in driver["rules"].as_array().unwrap() {
        assert!(
            rule["helpUri"].is_string() && rule["help"]["markdown"].is_string(),
            "{rule}"
        );
    }
}

/// Input errors stop the compile before the lint rules run: the SARIF log says its run did
/// not succeed, and why, so that code scanning does not take it for "no findings" and close
/// every open rule alert.
#[test]
fn sarif_of_a_run_whose_rules_did_not_run_says_it_did_not_succeed() {
    let fleet = fleet_with(None);
    fs::write(fleet.path().join("apps/web/app.yaml"), "application: [\n").unwrap();
    let out = fleetgen()
        .args(["lint", "--format", "sarif", "--repo"])
        .arg(fleet.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(stderr(&out).contains("the lint rules did not run"), "{}", report(&out));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "{invocation}");
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{invocation}");
    assert_eq!(notes[0]["level"], "error");
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("the lint rules did not run"),
        "{invocation}"
    );
    // The input error itself is still a result.
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
    // The action does not upload such a log: it looks for this very text.
    let action = fs::read_to_string(common::root().join("action.yml")).unwrap();
    let looked_for = "\"executionSuccessful\": false";
    assert!(stdout(&out).contains(looked_for));
    assert!(
        action.contains(&format!("grep -q '{looked_for}' \"$sarif\"")),
        "{action}"
    );
}

// ---------------------------------------------------------------------------------------
// check and diff

#[test]
fn check_honours_its_formats_and_a_missing_tree_is_one_line() {
    let fleet = fleet_with(None);
    let check = |args: &[&str]| {
        fleetgen()
            .args(["check", "--color", "never", "--repo"])
            .arg(fleet.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(1));
    // The render to run is said with the `--repo` this check was given.
    assert_eq!(
        stdout(&out),
        format!(
            "rendered/ does not exist: run `fleetgen render --repo {}` to create it\n",
            fleet.path().display()
        )
    );
    // Sources that do not parse are said first (exit 2), not "run render", which fails.
    let app = fleet.path().join("apps/web/app.yaml");
    let app_text = fs::read_to_string(&app).unwrap();
    fs::write(&app, "application: [\n").unwrap();
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(stderr(&out).contains("apps/web/app.yaml"), "{}", report(&out));
    assert!(!stdout(&out).contains("does not exist"), "{}", report(&out));
    fs::write(&app, app_text).unwrap();
    let out = fleetgen()
        .args(["render", "--quiet", "--repo"])
        .arg(fleet.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let hpa = fleet
        .path()
        .join("rendered/eastus-prod-01/apps/web/horizontalpodautoscaler-web.yaml");
    fs::write(
        &hpa,
        fs::read_to_string(&hpa)
            .unwrap()
            .replace("maxReplicas: 10", "maxReplicas: 11"),
    )
    .unwrap();
    let out = check(&["--format", "concise"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("rendered/eastus-prod-01/apps/web/horizontalpodautoscaler-web.yaml: edited by hand\n"),
        "{}",
        report(&out)
    );
    // What to run, from where this check ran, and to stage the result (a pre-commit hook
    // checks what is staged).
    let repo = fleet.path().display();
    assert!(
        stdout(&out).ends_with(&format!(
            "\nrun `fleetgen render --repo {repo}` and stage `{repo}/rendered/` (`git add {repo}/rendered`) to bring it up to date\n"
        )),
        "{}",
        report(&out)
    );
    let out = check(&["--format", "github"]);
    assert!(
        stdout(&out).starts_with(&format!("::error file=rendered/eastus-prod-01/apps/web/horizontalpodautoscaler-web.yaml,title=fleetgen check::edited by hand: run `fleetgen render --repo {repo}` and commit the result")),
        "{}",
        report(&out)
    );
    // From the top of a monorepo, as pre-commit and CI run it: the paths as given.
    let top = fleet.path().parent().unwrap();
    let name = fleet.path().file_name().unwrap().to_str().unwrap();
    for format in ["text", "concise"] {
        let out = run_in(top, &["check", "--color", "never", "--repo", name, "--format", format]);
        assert!(
            stdout(&out).ends_with(&format!(
                "\nrun `fleetgen render --repo {name}` and stage `{name}/rendered/` (`git add {name}/rendered`) to bring it up to date\n"
            )),
            "{format}: {}",
            report(&out)
        );
    }
    // Found from the working directory: a plain `render`, and the folder from there.
    let out = run_in(&fleet.path().join("apps"), &["check", "--color", "never"]);
    assert!(
        stdout(&out).ends_with(
            "\nrun `fleetgen render` and stage `../rendered/` (`git add ../rendered`) to bring it up to date\n"
        ),
        "{}",
        report(&out)
    );
    for format in ["sarif", "junit"] {
        let out = check(&["--format", format]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(
            stderr(&out).contains("fleetgen lint --format sarif"),
            "{}",
            report(&out)
        );
    }
}

/// The base fleet with its rendered tree, committed; then `web` scaled up and re-rendered,
/// committed.
fn two_rendered_commits() -> (tempfile::TempDir, Repository) {
    let dir = fleet_with(None);
    let repo = Repository::init(dir.path()).unwrap();
    let render = || {
        let out = fleetgen()
            .args(["render", "--quiet", "--repo"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    };
    render();
    commit_all(&repo, "base");
    common::scale_web(dir.path());
    render();
    commit_all(&repo, "scale web");
    (dir, repo)
}

fn diff(repo: &Path, args: &[&str]) -> Output {
    fleetgen()
        .args(["diff", "--color", "never", "--repo"])
        .arg(repo)
        .args(args)
        .output()
        .unwrap()
}

/// The pull request that adds the fleet: the base revision has none. Every file is added,
/// with a note, rather than an error that fails the request's CI; so in a monorepo, where
/// the fleet's folder does not exist at the base.
#[test]
fn diff_against_a_revision_without_the_fleet_adds_every_file() {
    for folder in ["", "infra/fleet"] {
        let top = tempfile::tempdir().unwrap();
        let repo = Repository::init(top.path()).unwrap();
        fs::write(top.path().join("README"), "before the fleet\n").unwrap();
        commit_all(&repo, "before the fleet");
        let fleet = top.path().join(folder);
        common::copy_tree(&common::root().join("tests/fixtures/base"), &fleet);
        let out = diff(&fleet, &["HEAD", "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{folder}: {}", report(&out));
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let summary = &value["summary"];
        assert!(summary["filesAdded"].as_u64().unwrap() > 0, "{summary}");
        assert_eq!(summary["filesRemoved"], 0, "{summary}");
        assert_eq!(summary["filesModified"], 0, "{summary}");
        assert!(
            stderr(&out).starts_with("note: there is no fleet at `HEAD`"),
            "{folder}: {}",
            report(&out)
        );
        // `--quiet --exit-code` answers with the exit code alone, the note too.
        let out = diff(&fleet, &["HEAD", "--quiet", "--exit-code"]);
        assert_eq!(out.status.code(), Some(1), "{folder}: {}", report(&out));
        assert_eq!((stdout(&out), stderr(&out)), (String::new(), String::new()), "{folder}");
        commit_all(&repo, "the fleet");
        // The other way round: every file removed.
        let out = diff(&fleet, &["HEAD", "HEAD~1", "--exit-code"]);
        assert_eq!(out.status.code(), Some(1), "{folder}: {}", report(&out));
        assert!(stdout(&out).contains("removed"), "{folder}: {}", report(&out));
        // A folder with no fleet at either revision (a misspelt `--repo`) is an error, not
        // "no change".
        let out = diff(&fleet.join("apps"), &["HEAD~1", "HEAD", "--exit-code"]);
        assert_eq!(out.status.code(), Some(2), "{folder}: {}", report(&out));
        assert!(
            stderr(&out).contains("there is no fleet at `HEAD~1` nor at `HEAD`"),
            "{folder}: {}",
            report(&out)
        );
        // A fleet.yaml deleted by mistake, the rest of the fleet there, does not compile.
        fs::remove_file(fleet.join("fleet.yaml")).unwrap();
        commit_all(&repo, "fleet.yaml deleted");
        let out = diff(&fleet, &["HEAD~1", "HEAD"]);
        assert_eq!(out.status.code(), Some(2), "{folder}: {}", report(&out));
        assert!(stderr(&out).contains("FG001"), "{folder}: {}", report(&out));
    }
}

/// The action edits its own pull-request comment, found by the marker fleetgen's markdown
/// diff starts with, not the bot's last comment (other workflows comment as the same bot);
/// the marker names the fleet's folder, so two fleets of one repository keep a comment each
/// (and a code-scanning category each: one category uploaded twice in a job is refused).
#[test]
fn the_action_finds_its_comment_by_the_marker_the_markdown_diff_starts_with() {
    let (dir, _repo) = two_rendered_commits();
    // As the action runs it, from the repository's top: `--repo "$FLEET"`, `.` by default.
    let marker_of = |repo: &str| {
        let out = fleetgen()
            .current_dir(dir.path())
            .args([
                "diff", "--color", "never", "--repo", repo, "HEAD~1", "HEAD", "--format", "markdown",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", report(&out));
        stdout(&out).lines().next().unwrap().to_string()
    };
    assert_eq!(marker_of("."), "<!-- fleetgen-diff -->");
    assert_eq!(marker_of("./"), "<!-- fleetgen-diff -->");
    let action = fs::read_to_string(common::root().join("action.yml")).unwrap();
    // Found by its whole first line and by its author, the bot GH_TOKEN (github.token) acts
    // as: a person's comment that starts with the marker is not overwritten.
    assert!(action.contains("marker=$(head -n 1 \"$comment\")"), "{action}");
    assert!(
        action.contains(
            r#"--jq '.[] | select(.user.login == "github-actions[bot]") | "\(.id) \((.body // "") | split("\n") | .[0] | rtrimstr("\r"))"' |"#
        ),
        "{action}"
    );
    assert!(
        action.contains(r#"while read -r cid first; do if [[ $first == "$marker" ]]; then echo "$cid"; fi; done | tail -n 1) || id="#),
        "{action}"
    );
    assert!(
        action.contains("category: ${{ (inputs.path == '.' || inputs.path == './' || inputs.path == '') && 'fleetgen' || format('fleetgen/{0}', inputs.path) }}"),
        "{action}"
    );
    assert!(action.contains("GH_TOKEN: ${{ github.token }}"), "{action}");
    assert!(!action.contains("--edit-last"), "{action}");
    // A diff that fails warns; it does not fail the job.
    assert!(
        action.contains("if ! fleetgen diff --repo \"$FLEET\" --base \"origin/$BASE_REF\" --format markdown"),
        "{action}"
    );
}

/// The action keeps its build in the Actions cache (a GitHub-hosted runner's tool cache is
/// empty each job) under the key the build is kept under in the tool cache, restored to the
/// folder the install step builds into; every action it uses is pinned by commit.
#[test]
fn the_action_caches_its_build_under_its_source_key_and_pins_what_it_uses() {
    let action = fs::read_to_string(common::root().join("action.yml")).unwrap();
    let uses: Vec<&str> = action
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("uses: "))
        .collect();
    // Restored before the build and saved right after it when it was not restored:
    // `actions/cache` alone saves only when the whole job succeeds (not for a fleet with
    // lint errors).
    assert!(!uses.iter().any(|u| u.starts_with("actions/cache@")), "{action}");
    let restore = action.find("uses: actions/cache/restore@").expect("a restore step");
    let build = action.find("cargo install --locked").unwrap();
    let save = action.find("uses: actions/cache/save@").expect("a save step");
    assert!(restore < build && build < save, "{action}");
    assert!(action[..restore].ends_with("      id: cache\n      if: steps.locate.outputs.on-path != 'true'\n      "));
    assert!(
        action[..save].ends_with(
            "      if: steps.locate.outputs.on-path != 'true' && steps.cache.outputs.cache-hit != 'true'\n      "
        ),
        "{action}"
    );
    let pins: Vec<&str> = (uses.iter())
        .filter(|u| u.starts_with("actions/cache/"))
        .map(|u| u.split('@').nth(1).unwrap())
        .collect();
    assert!(pins.len() == 2 && pins[0] == pins[1], "{pins:?}");
    assert_eq!(
        action
            .matches("        key: fleetgen-${{ runner.os }}-${{ runner.arch }}-${{ steps.locate.outputs.key }}\n")
            .count(),
        2,
        "{action}"
    );
    for u in &uses {
        let pin = u.split('@').nth(1).unwrap_or_default();
        assert!(
            pin.len() > 41 && pin[..40].bytes().all(|b| b.is_ascii_hexdigit()) && pin[40..].starts_with(" # v"),
            "not pinned by commit: {u}"
        );
    }
    assert!(
        action.contains("        path: ${{ steps.locate.outputs.root }}\n"),
        "{action}"
    );
    assert!(action.contains("key: fleetgen-${{ runner.os }}-${{ runner.arch }}-${{ steps.locate.outputs.key }}"));
    assert!(action.contains("ROOT: ${{ steps.locate.outputs.root }}"), "{action}");
    assert!(
        action.contains(r#"echo "root=$TOOL_CACHE/fleetgen/$commit" >> "$GITHUB_OUTPUT""#),
        "{action}"
    );
}

#[test]
fn diff_exit_code_and_app_filter_reach_the_summary() {
    let (dir, _repo) = two_rendered_commits();
    assert_eq!(diff(dir.path(), &["HEAD~1", "HEAD"]).status.code(), Some(0));
    assert_eq!(
        diff(dir.path(), &["HEAD~1", "HEAD", "--exit-code"]).status.code(),
        Some(1)
    );
    assert_eq!(diff(dir.path(), &["HEAD", "--exit-code"]).status.code(), Some(0));
    // `--quiet --exit-code` answers with the exit code alone, as `git diff --quiet`.
    let out = diff(dir.path(), &["HEAD~1", "HEAD", "--exit-code", "--quiet"]);
    assert_eq!(
        (out.status.code(), stdout(&out).as_str()),
        (Some(1), ""),
        "{}",
        report(&out)
    );
    let out = diff(dir.path(), &["HEAD~1", "HEAD", "--quiet"]);
    assert!(stdout(&out).contains("clusters changed"), "{}", report(&out));
    // `api` did not change: with --app api nothing is counted, placements included.
    let out = diff(
        dir.path(),
        &["HEAD~1", "HEAD", "--app", "api", "--exit-code", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["summary"]["clustersChanged"].as_array().unwrap().len(), 0);
    assert_eq!(value["summary"]["teams"].as_array().unwrap().len(), 0);
}

#[test]
fn diff_falls_back_to_the_committed_trees_when_a_revision_no_longer_compiles() {
    let (dir, repo) = two_rendered_commits();
    // The old revision holds a field this fleetgen does not know (as after a schema change).
    let app = dir.path().join("apps/api/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    fs::write(&app, format!("{text}retiredField: true\n")).unwrap();
    commit_all(&repo, "a field of an older schema");
    fs::write(&app, text).unwrap();
    let web = dir.path().join("apps/web/app.yaml");
    let web_text = fs::read_to_string(&web).unwrap();
    fs::write(
        &web,
        web_text.replace("maxReplicasPerRegion: 20", "maxReplicasPerRegion: 30"),
    )
    .unwrap();
    let out = fleetgen()
        .args(["render", "--quiet", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    commit_all(&repo, "scale web again");
    let out = diff(dir.path(), &["HEAD~1", "HEAD", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let md = stdout(&out);
    assert!(md.contains("> `HEAD~1` does not compile with this fleetgen"), "{md}");
    assert!(
        md.contains("comparing the rendered trees committed at `HEAD~1` and at `HEAD` instead"),
        "{md}"
    );
    assert!(md.contains("+  maxReplicas: 30"), "{md}");
    assert!(
        stderr(&out).starts_with("note: `HEAD~1` does not compile"),
        "{}",
        report(&out)
    );
    // And why it does not: its diagnostics, under the note.
    assert!(
        stderr(&out).contains("FG010") && stderr(&out).contains("retiredField"),
        "{}",
        report(&out)
    );
    // The text report leads with the note too (it said "no change" or the changes alone).
    let out = diff(dir.path(), &["HEAD~1", "HEAD"]);
    assert!(
        stdout(&out).starts_with("note: `HEAD~1` does not compile with this fleetgen"),
        "{}",
        report(&out)
    );
    // With --exit-code an older side that does not compile changes nothing by itself: api
    // did not change between the committed trees.
    let out = diff(dir.path(), &["HEAD~1", "HEAD", "--app", "api", "--exit-code"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    // But a newer side that does not compile is not "nothing changed", though its
    // committed tree is the same as the older one's.
    let out = diff(dir.path(), &["HEAD~2", "HEAD~1", "--exit-code"]);
    assert!(
        stderr(&out).starts_with("note: `HEAD~1` does not compile"),
        "{}",
        report(&out)
    );
    assert!(stdout(&out).contains("no change"), "{}", report(&out));
    assert_eq!(out.status.code(), Some(1), "{}", report(&out));
}

// ---------------------------------------------------------------------------------------
// Editors: lint of given files, or of stdin

#[test]
fn lint_reports_on_the_given_files_with_the_fleet_as_context() {
    let fleet = lint_case(FAKE_ACTIVE_ACTIVE);
    let lint = |args: &[&str], input: Option<&str>| {
        let mut cmd = fleetgen();
        cmd.current_dir(fleet.path())
            .args(["lint", "--format", "concise"])
            .args(args);
        if let Some(input) = input {
            cmd.write_stdin(input.to_string());
        }
        cmd.output().unwrap()
    };
    let out = lint(&["apps/web/app.yaml"], None);
    assert_eq!(out.status.code(), Some(1), "{}", report(&out));
    assert!(
        stdout(&out).contains("apps/web/app.yaml:13:12: error[FG100]"),
        "{}",
        report(&out)
    );
    // Another file of the fleet has nothing to say.
    let out = lint(&["clusters/"], None);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(!stdout(&out).contains("FG100"), "{}", report(&out));
    // The editor's unsaved buffer, on stdin: the fix is seen before it is written.
    let fixed = fs::read_to_string(fleet.path().join("apps/web/app.yaml"))
        .unwrap()
        .replace("routing: weighted-global", "routing: failover");
    let out = lint(&["-", "--stdin-filename", "apps/web/app.yaml"], Some(&fixed));
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(!stdout(&out).contains("FG100"), "{}", report(&out));
    let broken = "application: [\n";
    let out = lint(&["-", "--stdin-filename", "apps/web/app.yaml"], Some(broken));
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(stdout(&out).starts_with("apps/web/app.yaml:"), "{}", report(&out));
    let out = lint(&["-"], Some(broken));
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    let out = lint(&["/etc/passwd"], None);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(stderr(&out).contains("is not inside the fleet"), "{}", report(&out));
    // A path that names nothing (a typo) is refused, not reported as "no findings".
    let out = lint(&["apps/wbe/app.yaml"], None);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(
        stderr(&out).contains("cannot lint `apps/wbe/app.yaml`"),
        "{}",
        report(&out)
    );
    assert!(stdout(&out).is_empty(), "{}", report(&out));
    // The rules ran above; an error that stops the compile before it renders stops them,
    // and the FG100 they would find is missing: lint says so rather than look complete.
    let out = lint(&[], None);
    assert!(!stderr(&out).contains("did not run"), "{}", report(&out));
    let cluster = fleet.path().join("clusters/eastus-prod-01.yaml");
    let text = fs::read_to_string(&cluster).unwrap();
    fs::write(&cluster, text.replace("profile: aks-standard", "profile: aks-standrad")).unwrap();
    let out = lint(&[], None);
    assert_eq!(out.status.code(), Some(1), "{}", report(&out));
    assert!(
        stdout(&out).contains("FG023") && !stdout(&out).contains("FG100"),
        "{}",
        report(&out)
    );
    assert!(
        stderr(&out).contains("note: the lint rules did not run"),
        "{}",
        report(&out)
    );
    // The same error outside the linted file: its FG100 is not found either, so the lint of
    // that file is not clean (exit 1, no "no findings"), from the disk and from stdin.
    let contract = fs::read_to_string(fleet.path().join("apps/web/app.yaml")).unwrap();
    for (args, input) in [
        (&["apps/web/app.yaml"][..], None),
        (
            &["-", "--stdin-filename", "apps/web/app.yaml"][..],
            Some(contract.as_str()),
        ),
    ] {
        let out = lint(args, input);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", report(&out));
        assert!(!stdout(&out).contains("no findings"), "{args:?}: {}", report(&out));
        assert!(
            stderr(&out).contains("the lint rules did not run"),
            "{args:?}: {}",
            report(&out)
        );
    }
}

#[test]
fn a_partial_render_says_what_it_wrote() {
    let fleet = fleet_with(None);
    let render = |args: &[&str]| {
        fleetgen()
            .args(["render", "--color", "never", "--repo"])
            .arg(fleet.path())
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(render(&[]).status.code(), Some(0));
    let out = render(&["--app", "web"]);
    let text = stdout(&out);
    assert!(
        text.contains("rendered 3 placements on 3 clusters: wrote ")
            && text.contains(" files of 3 clusters (0 changed) in "),
        "{text}"
    );
    assert!(text.contains("kept "), "{text}");
    // A selection with no placement says so (web kept out of staging).
    let contract = fleet.path().join("apps/web/app.yaml");
    let original = fs::read_to_string(&contract).unwrap();
    fs::write(
        &contract,
        original.replace("environments: [staging, prod]", "environments: [prod]"),
    )
    .unwrap();
    assert_eq!(render(&[]).status.code(), Some(0));
    let note = "note: no selected app lands on a selected cluster";
    for (cluster, lands) in [("eastus-staging-01", false), ("eastus-prod-01", true)] {
        let out = render(&["--app", "web", "--cluster", cluster]);
        assert_eq!(out.status.code(), Some(0), "{}", report(&out));
        assert_eq!(
            stdout(&out).contains("rendered 0 placements"),
            !lands,
            "{}",
            report(&out)
        );
        assert_eq!(stderr(&out).contains(note), !lands, "{cluster}: {}", report(&out));
        // The clusters the app lands on, and those whose files were written.
        let said = if lands {
            "1 placement on 1 cluster"
        } else {
            "0 placements on 0 clusters"
        };
        assert!(
            stdout(&out).contains(&format!("rendered {said}: wrote "))
                && stdout(&out).contains(" files of 1 cluster ("),
            "{cluster}: {}",
            report(&out)
        );
    }
}

// ---------------------------------------------------------------------------------------
// The README, followed as a newcomer would

/// The fenced block that follows the first line containing `marker` in the README.
fn readme_block(marker: &str) -> String {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let at = readme.find(marker).unwrap_or_else(|| panic!("README has no {marker}"));
    let rest = &readme[at..];
    let start = rest.find("```").unwrap();
    let body = &rest[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_string()
}

#[test]
fn the_readme_start_commands_work_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut cwd = dir.path().to_path_buf();
    let mut ran = 0;
    for line in readme_block("## Start a fleet repository").lines() {
        let command = line.split('#').next().unwrap().trim();
        if let Some(folder) = command.strip_prefix("cd ") {
            cwd = cwd.join(folder);
        } else if let Some(args) = command.strip_prefix("fleetgen ") {
            let out = run_in(&cwd, &args.split_whitespace().collect::<Vec<_>>());
            assert_eq!(out.status.code(), Some(0), "`{command}`: {}", report(&out));
            ran += 1;
        }
    }
    assert!(ran >= 3, "only {ran} fleetgen commands in the README's start");
    assert!(cwd.join("rendered/fleet.yaml").is_file());
}

#[test]
fn the_readme_shows_the_workflow_init_writes() {
    let dir = init();
    let written = fs::read_to_string(dir.path().join(".github/workflows/fleetgen.yml")).unwrap();
    // init pins the action by commit with the tag as a comment; the README shows the tag.
    let written: String = written
        .lines()
        .map(|l| match l.split_once("fleetgen/fleetgen@") {
            Some((head, pin)) => match pin.split_once(" # ") {
                Some((_, tag)) => format!("{head}fleetgen/fleetgen@{tag}\n"),
                None => format!("{l}\n"),
            },
            None => format!("{l}\n"),
        })
        .collect();
    assert_eq!(readme_block("<!-- the workflow fleetgen init writes"), written);
    // And the pre-commit configuration it shows names the hooks init configures.
    let config = readme_block("This repository is a pre-commit hook repository");
    for id in ["fleetgen-validate", "fleetgen-check", "fleetgen-lint"] {
        assert!(config.contains(&format!("id: {id}")));
    }
}

/// `init` in a repository with a remote takes its URL (an ssh one as https://, said) and its
/// branch for fleet.yaml and the workflow (they named example/<name> and `main`, which lint
/// accepted, so the clusters followed a repository that is not theirs); without a remote it
/// says the URL is a placeholder.
#[test]
fn init_in_a_repository_takes_its_remote_and_branch() {
    let top = tempfile::tempdir().unwrap();
    let repo =
        git2::Repository::init_opts(top.path(), git2::RepositoryInitOptions::new().initial_head("master")).unwrap();
    let out = run_in(top.path(), &["init", "bare-fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(
        stdout(&out).contains("`repository.url` is a placeholder (`https://github.com/example/bare-fleet.git`)"),
        "{}",
        report(&out)
    );
    repo.remote("origin", "git@github.com:acme/platform.git").unwrap();
    let out = run_in(top.path(), &["init", "infra/fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let fleet = std::fs::read_to_string(top.path().join("infra/fleet/fleet.yaml")).unwrap();
    assert!(
        fleet.contains("\n  url: https://github.com/acme/platform.git\n"),
        "{fleet}"
    );
    assert!(fleet.contains("\n  branch: master\n"), "{fleet}");
    assert!(
        stdout(&out).contains(
            "`https://github.com/acme/platform.git` (git's remote `origin` is `git@github.com:acme/platform.git`"
        ),
        "{}",
        report(&out)
    );
    // The workflow of the first fleet, at the repository's top, runs on pushes to master.
    let workflow = std::fs::read_to_string(top.path().join(".github/workflows/fleetgen.yml")).unwrap();
    assert!(workflow.contains("branches: [master]"), "{workflow}");
    let out = run_in(top.path(), &["validate", "--repo", "infra/fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
}
