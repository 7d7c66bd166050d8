//! The reliability run of issue 20, one test per finding: templates that crashed or hung
//! every command, an output folder that could be a symbolic link, a swap that could leave
//! no tree, predictable temporary folders, git revisions read whole, and the smaller ones.
//! Each test failed before its fix.

mod common;

use common::{fleet_with, fleetgen, read_tree, report};

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Runs a command of the binary on `repo`, killed after a minute (a hang fails the test).
fn run(repo: &Path, args: &[&str]) -> Output {
    let (command, rest) = args.split_first().expect("a command");
    fleetgen()
        .arg(command)
        .args(["--color", "never", "--repo"])
        .arg(repo)
        .args(rest)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------------------------------
// Templates: crashes and hangs

/// The base fleet, rendered once, with `template` added as an app template afterwards.
fn fleet_with_template(template: &str) -> tempfile::TempDir {
    let fleet = fleet_with(None);
    let out = run(fleet.path(), &["render"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let dir = fleet.path().join("apps/web/templates");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("hostile.yaml.j2"), template).unwrap();
    fleet
}

/// Templates from the reliability run, each with the line its diagnostic must name.
const HOSTILE_TEMPLATES: &[(&str, &str, usize)] = &[
    (
        "indent-width-u64-max",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ \"x\" | indent(width=18446744073709551615) }}\n",
        6,
    ),
    ("indent-width-1e11", "{{ \"x\" | indent(width=100000000000) }}\n", 1),
    (
        "string-doubling",
        "{% set ns = namespace(s=\"x\") %}\n{% for i in range(64) %}\n{% set ns.s = ns.s ~ ns.s %}\n{% endfor %}\n{{ ns.s }}\n",
        3,
    ),
    (
        "list-doubling",
        "{% set ns = namespace(l=[1]) %}\n{% for i in range(40) %}\n{% set ns.l = ns.l + ns.l %}\n{% endfor %}\n{{ ns.l | length }}\n",
        3,
    ),
    (
        "capture-doubling",
        "{% set ns = namespace(s=\"x\") %}\n{% for i in range(64) %}\n{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}\n{% endfor %}\n",
        3,
    ),
    ("slice-1e12", "{{ [1, 2] | slice(1000000000000) }}\n", 1),
    ("format-width", "x: {{ \"%999999999d\" | format(1) }}\n", 1),
    (
        "output-200mb",
        "{% for i in range(200) %}\n{{ \"x\" * 1000000 }}\n{% endfor %}\n",
        2,
    ),
];

#[test]
fn hostile_templates_stop_every_command_with_fg041_at_their_line() {
    for (name, template, line) in HOSTILE_TEMPLATES {
        let fleet = fleet_with_template(template);
        let rendered = fleet.path().join("rendered");
        let before = read_tree(&rendered);
        let at = format!("apps/web/templates/hostile.yaml.j2:{line}:");
        for command in ["validate", "render", "check", "lint"] {
            let out = run(fleet.path(), &[command, "--format", "concise"]);
            let text = report(&out);
            assert_eq!(out.status.code(), Some(2), "{name}, {command}: {text}");
            assert!(
                text.contains(&at) && text.contains("FG041"),
                "{name}, {command}: {text}"
            );
            assert!(!text.contains("panicked"), "{name}, {command}: {text}");
        }
        // `diff` renders both sides: the template committed, and in the working tree.
        commit_all(fleet.path());
        let out = run(fleet.path(), &["diff", "HEAD"]);
        let text = report(&out);
        assert_eq!(out.status.code(), Some(2), "{name}, diff: {text}");
        assert!(text.contains(&at) && text.contains("FG041"), "{name}, diff: {text}");
        assert!(!text.contains("panicked"), "{name}, diff: {text}");
        assert_eq!(read_tree(&rendered), before, "{name}: the old tree changed");
    }
}

#[test]
fn validate_renders_templates_so_template_errors_fail_it() {
    for (template, what) in [
        ("x: {{ workload.nmae }}\n", "undefined value"),
        ("x: {{ workload.name | frobnicate }}\n", "unknown filter"),
        ("x: [\n", "not YAML"),
    ] {
        let fleet = fleet_with_template(template);
        let out = run(fleet.path(), &["validate"]);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", report(&out));
        assert!(stderr(&out).is_empty(), "{what}: {}", report(&out));
        assert!(
            report(&out).contains("apps/web/templates/hostile.yaml.j2:1:"),
            "{what}: {}",
            report(&out)
        );
    }
}

// ---------------------------------------------------------------------------------------
// The output folder

#[cfg(unix)]
#[test]
fn an_output_folder_that_is_a_symbolic_link_is_neither_emptied_nor_read() {
    let fleet = fleet_with(None);
    // A folder outside the repository that looks like fleetgen's output.
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("fleet.yaml"), "# Rendered by fleetgen\n").unwrap();
    for i in 0..20 {
        fs::write(outside.path().join(format!("file-{i}.txt")), "not fleetgen's").unwrap();
    }
    let before = read_tree(outside.path());
    std::os::unix::fs::symlink(outside.path(), fleet.path().join("rendered")).unwrap();
    for command in ["render", "check"] {
        let out = run(fleet.path(), &[command]);
        let text = report(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {text}");
        assert!(text.contains("is a symbolic link"), "{command}: {text}");
        assert!(
            !text.contains("not fleetgen's"),
            "{command} printed what the link points to: {text}"
        );
    }
    assert_eq!(read_tree(outside.path()), before);
}

/// The cache folder `.fleetgen` as a link (a pull request can commit one) is refused by the
/// commands that write the cache: nothing is written where it points (the old tree was
/// moved there as the shadow, and what was there removed). A lock file that is a link is
/// replaced, not followed.
#[cfg(unix)]
#[test]
fn a_cache_folder_that_is_a_link_is_refused_and_nothing_written_through_it() {
    let fleet = fleet_with(None);
    let out = run(fleet.path(), &["render"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let outside = tempfile::tempdir().unwrap();
    fs::create_dir_all(outside.path().join("shadow/notes")).unwrap();
    fs::write(outside.path().join("shadow/notes/todo.txt"), "precious").unwrap();
    fs::write(outside.path().join("placements"), "precious").unwrap();
    let before = read_tree(outside.path());
    fs::remove_dir_all(fleet.path().join(".fleetgen")).unwrap();
    std::os::unix::fs::symlink(outside.path(), fleet.path().join(".fleetgen")).unwrap();
    let rendered = read_tree(&fleet.path().join("rendered"));
    for command in ["render", "check"] {
        let out = run(fleet.path(), &[command]);
        let text = report(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {text}");
        assert!(text.contains("writes nothing through a link"), "{command}: {text}");
    }
    // Nor through another spelling of its path.
    for spelling in [
        ".fleetgen".to_string(),
        fleet.path().join(".fleetgen").display().to_string(),
    ] {
        for command in ["render", "check"] {
            let out = fleetgen()
                .current_dir(fleet.path())
                .env("FLEETGEN_CACHE_DIR", &spelling)
                .args([command, "--color", "never"])
                .timeout(Duration::from_secs(60))
                .output()
                .unwrap();
            let text = report(&out);
            assert_eq!(out.status.code(), Some(2), "{command} {spelling}: {text}");
            assert!(text.contains("writes nothing through a link"), "{command}: {text}");
        }
    }
    // Without the cache, nothing is written there either (not even the lock).
    for args in [&["render", "--no-cache"][..], &["check", "--no-cache"]] {
        let out = run(fleet.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", report(&out));
    }
    assert_eq!(read_tree(outside.path()), before);
    assert_eq!(read_tree(&fleet.path().join("rendered")), rendered);

    // A real cache folder whose owner file is a link to an endless file, and whose lock is
    // a folder (git can put both there: the cache folder is ignored): neither is followed,
    // and the lock still holds.
    fs::remove_file(fleet.path().join(".fleetgen")).unwrap();
    let out = run(fleet.path(), &["render"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    fs::remove_file(fleet.path().join(".fleetgen/owner")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", fleet.path().join(".fleetgen/owner")).unwrap();
    fs::remove_file(fleet.path().join(".fleetgen/lock")).unwrap();
    fs::create_dir_all(fleet.path().join(".fleetgen/lock/keep")).unwrap();
    let out = run(fleet.path(), &["check", "-v"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(!report(&out).contains("not locked"), "{}", report(&out));
    assert!(fleet.path().join(".fleetgen/lock").is_file());
    // And lock files that are links to files that do not exist.
    for lock in ["lock", "shadow.lock", "CACHEDIR.TAG"] {
        let path = fleet.path().join(".fleetgen").join(lock);
        let _ = fs::remove_file(&path);
        std::os::unix::fs::symlink(outside.path().join(format!("made-{lock}")), &path).unwrap();
    }
    fs::write(fleet.path().join("apps/web/app.yaml"), {
        let text = fs::read_to_string(fleet.path().join("apps/web/app.yaml")).unwrap();
        text + "# changed\n"
    })
    .unwrap();
    for command in ["render", "check"] {
        let out = run(fleet.path(), &[command]);
        assert_eq!(out.status.code(), Some(0), "{command}: {}", report(&out));
    }
    assert_eq!(
        read_tree(outside.path()),
        before,
        "a lock file was made through its link"
    );
}

/// Runs that read and write the output folder and the cache's account of it take the cache
/// folder's lock, one at a time: a render waits while another run holds it (two renders at
/// once paired one tree's stats with the other's contents, and `check` then trusted a stale
/// file). It says it waits, but under `--quiet`.
#[cfg(unix)]
#[test]
fn a_render_waits_for_the_lock_another_run_holds() {
    let fleet = fleet_with(None);
    let out = run(fleet.path(), &["render"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let lock = fs::OpenOptions::new()
        .write(true)
        .open(fleet.path().join(".fleetgen/lock"))
        .expect("a render leaves the lock file");
    lock.lock().unwrap();
    for args in [
        &["render"][..],
        &["render", "--no-cache"],
        &["check"],
        &["check", "--quiet"],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fleetgen"))
            .args(args)
            .arg("--repo")
            .arg(fleet.path())
            .env("FLEETGEN_TODAY", common::TODAY)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Far longer than the run takes unlocked (a few milliseconds in a debug build).
        std::thread::sleep(Duration::from_millis(1500));
        let waited = child.try_wait().unwrap().is_none();
        // Then it runs, once the lock is let go, and says it waited.
        lock.unlock().unwrap();
        let out = child.wait_with_output().unwrap();
        lock.lock().unwrap();
        assert!(waited, "{args:?} ran while another run held the lock");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        // `--quiet` prints diagnostics only.
        let said = String::from_utf8_lossy(&out.stderr);
        let quiet = args.contains(&"--quiet");
        assert_eq!(
            said.contains("waiting for another fleetgen run"),
            !quiet,
            "{args:?}: {said}"
        );
        assert!(!quiet || said.is_empty(), "{args:?}: {said}");
    }
    lock.unlock().unwrap();
    let out = run(fleet.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
}

#[test]
fn an_output_folder_inside_the_input_folders_is_refused() {
    let fleet = fleet_with(None);
    for inside in [
        "clusters/rendered",
        "apps/web/out",
        "profiles/out",
        "policy-library/out",
        "templates",
    ] {
        let out = run(
            fleet.path(),
            &["render", "--out", &fleet.path().join(inside).display().to_string()],
        );
        let text = report(&out);
        assert_eq!(out.status.code(), Some(2), "{inside}: {text}");
        assert!(text.contains("a folder fleetgen reads"), "{inside}: {text}");
        assert!(!fleet.path().join(inside).join("fleet.yaml").exists(), "{inside}");
    }
    // Nor over the fleet's own fleet.yaml, said as what it is.
    let fleet_file = fleet.path().join("fleet.yaml").display().to_string();
    let out = run(fleet.path(), &["render", "--out", &fleet_file]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(
        report(&out).contains("is the fleet's `fleet.yaml`, which fleetgen reads"),
        "{}",
        report(&out)
    );
    // The sources still validate: nothing was written among them.
    assert_eq!(run(fleet.path(), &["validate"]).status.code(), Some(0));
}

/// `FLEETGEN_CACHE_DIR` where fleetgen reads its inputs or writes its output is refused by
/// the commands that write the cache (its shadow, a copy of the whole tree, would be read as
/// sources or be part of the output); elsewhere it serves.
#[test]
fn a_cache_folder_among_the_sources_or_in_the_output_is_refused() {
    let fleet = fleet_with(None);
    let with_cache = |dir: &str, command: &str| {
        fleetgen()
            .args([command, "--color", "never", "--repo"])
            .arg(fleet.path())
            .env("FLEETGEN_CACHE_DIR", dir)
            .output()
            .unwrap()
    };
    let inside = |p: &str| fleet.path().join(p).display().to_string();
    for (dir, said) in [
        (
            inside("clusters/cache"),
            "is inside `clusters`, a folder fleetgen reads",
        ),
        (inside("rendered/.cache"), "is inside the output folder"),
        (inside(""), "is the repository or holds it"),
    ] {
        for command in ["render", "check"] {
            let out = with_cache(&dir, command);
            assert_eq!(out.status.code(), Some(2), "{command} {dir}: {}", report(&out));
            assert!(report(&out).contains(said), "{command} {dir}: {}", report(&out));
        }
    }
    assert!(!fleet.path().join("clusters/cache").exists() && !fleet.path().join("rendered").exists());
    assert_eq!(run(fleet.path(), &["validate"]).status.code(), Some(0));
    let elsewhere = tempfile::tempdir().unwrap();
    let out = with_cache(&elsewhere.path().join("c").display().to_string(), "render");
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
}

// ---------------------------------------------------------------------------------------
// Git revisions, and what is not a regular file

/// Commits everything under `dir` (a new repository, or the next commit of one).
fn commit_all(dir: &Path) -> git2::Repository {
    let repo = git2::Repository::open(dir)
        .or_else(|_| git2::Repository::init(dir))
        .unwrap();
    {
        let mut index = repo.index().unwrap();
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "x", &tree, &parents).unwrap();
    }
    repo
}

/// The concise report of `validate` on the working tree and on `HEAD` of the same folder.
fn both_readers(dir: &Path) -> (String, String) {
    use fleetgen::api::{self, Format, GitRevision, Goal, Options, Style, WorkTree};
    let style = Style::plain(Format::Concise);
    let tree = WorkTree::open(dir).unwrap();
    let head = GitRevision::open(dir, "HEAD").unwrap();
    (
        api::compile(&tree, &Options::new(Goal::Validate)).report(&style),
        api::compile(&head, &Options::new(Goal::Validate)).report(&style),
    )
}

#[test]
fn an_input_folder_that_is_a_file_is_reported_the_same_in_both_readers() {
    let fleet = fleet_with(None);
    fs::remove_dir_all(fleet.path().join("clusters")).unwrap();
    fs::write(fleet.path().join("clusters"), "clusterId: x\n").unwrap();
    commit_all(fleet.path());
    let (tree, head) = both_readers(fleet.path());
    assert!(
        tree.contains("clusters:1:1: error[FG001] this is a file; fleetgen reads a folder of input files here"),
        "{tree}"
    );
    assert_eq!(tree, head);
    assert_eq!(run(fleet.path(), &["validate"]).status.code(), Some(2));
}

/// A folder where fleetgen reads a file (`apps/web/app.yaml/`) is an error at it, not an
/// app gone without a word; an app folder whose contract is gone (values left behind) is a
/// warning. The same in both readers.
#[test]
fn a_folder_for_a_contract_and_an_app_folder_without_one_are_said_in_both_readers() {
    let fleet = fleet_with(None);
    let web = fleet.path().join("apps/web");
    fs::remove_file(web.join("app.yaml")).unwrap();
    // git keeps no empty folder: something inside it.
    fs::create_dir_all(web.join("app.yaml")).unwrap();
    fs::write(web.join("app.yaml/notes.txt"), "moved\n").unwrap();
    fs::create_dir_all(fleet.path().join("apps/old/values")).unwrap();
    fs::write(fleet.path().join("apps/old/values/prod.yaml"), "replicas: 2\n").unwrap();
    commit_all(fleet.path());
    let (tree, head) = both_readers(fleet.path());
    assert!(
        tree.contains("apps/web/app.yaml:1:1: error[FG001] this is a folder, not a regular file"),
        "{tree}"
    );
    assert!(
        tree.contains("apps/old/:1:1: warning[FG020] an app folder without `app.yaml`"),
        "{tree}"
    );
    // The app that failed to load is not reported missing where others name it.
    assert!(!tree.contains("unknown app"), "{tree}");
    assert!(!tree.contains("apps/web/:"), "{tree}");
    assert_eq!(tree, head);
    assert_eq!(run(fleet.path(), &["validate"]).status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_reported_the_same_in_both_readers() {
    use std::os::unix::ffi::OsStrExt;
    let fleet = fleet_with(None);
    let name = std::ffi::OsStr::from_bytes(b"clusters/caf\xe9.yaml");
    fs::copy(
        fleet.path().join("clusters/eastus-prod-01.yaml"),
        fleet.path().join(name),
    )
    .unwrap();
    commit_all(fleet.path());
    let (tree, head) = both_readers(fleet.path());
    assert!(
        tree.contains("clusters/caf\u{fffd}.yaml:1:1: error[FG001] the file name is not valid UTF-8"),
        "{tree}"
    );
    assert_eq!(tree, head);
}

#[cfg(unix)]
#[test]
fn a_fifo_where_an_input_file_belongs_is_reported_not_opened() {
    let fleet = fleet_with(None);
    let fifo = fleet.path().join("clusters/pipe.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Opening a FIFO for reading waits for a writer: the timeout in `run` catches a hang.
    let out = run(fleet.path(), &["validate", "--format", "concise"]);
    let text = report(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("clusters/pipe.yaml:1:1: error[FG001] this is a FIFO, not a regular file"),
        "{text}"
    );
    // fleet.yaml itself.
    let fleet = fleet_with(None);
    fs::remove_file(fleet.path().join("fleet.yaml")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(fleet.path().join("fleet.yaml"))
        .status()
        .unwrap();
    assert!(made.success());
    let out = run(fleet.path(), &["validate", "--format", "concise"]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(
        report(&out).contains("fleet.yaml:1:1: error[FG001] this is a FIFO"),
        "{}",
        report(&out)
    );
}

#[test]
fn a_revision_reads_only_the_files_fleetgen_reads_and_no_large_link_whole() {
    let fleet = fleet_with(None);
    // A large asset fleetgen never reads, and a "link" whose target is a 16 MB path.
    let assets = fleet.path().join("apps/web/assets");
    fs::create_dir_all(&assets).unwrap();
    fs::write(assets.join("model.bin"), vec![7u8; 64 * 1024 * 1024]).unwrap();
    let repo = commit_all(fleet.path());
    let big_link = repo.blob(&vec![b'a'; 16 * 1024 * 1024]).unwrap();
    let head = repo.head().unwrap().peel_to_tree().unwrap();
    let mut web_assets = repo
        .treebuilder(Some(
            &repo
                .find_tree(head.get_path(Path::new("apps/web/assets")).unwrap().id())
                .unwrap(),
        ))
        .unwrap();
    web_assets.insert("link", big_link, 0o120000).unwrap();
    let assets_id = web_assets.write().unwrap();
    let mut web = repo
        .treebuilder(Some(
            &repo
                .find_tree(head.get_path(Path::new("apps/web")).unwrap().id())
                .unwrap(),
        ))
        .unwrap();
    web.insert("assets", assets_id, 0o040000).unwrap();
    let web_id = web.write().unwrap();
    let mut apps = repo
        .treebuilder(Some(
            &repo.find_tree(head.get_path(Path::new("apps")).unwrap().id()).unwrap(),
        ))
        .unwrap();
    apps.insert("web", web_id, 0o040000).unwrap();
    let apps_id = apps.write().unwrap();
    let mut top = repo.treebuilder(Some(&head)).unwrap();
    top.insert("apps", apps_id, 0o040000).unwrap();
    let top = repo.find_tree(top.write().unwrap()).unwrap();
    let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "big link", &top, &[&parent])
        .unwrap();
    let started = std::time::Instant::now();
    let revision = fleetgen::api::GitRevision::open(fleet.path(), "HEAD").unwrap();
    use fleetgen::api::Files;
    let walk = revision.walk("apps");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!walk.files.iter().any(|f| f.contains("assets")), "{:?}", walk.files);
    assert_eq!(walk.problems.len(), 1, "{:?}", walk.problems);
    let (path, problem) = &walk.problems[0];
    assert_eq!(path, "apps/web/assets/link");
    assert_eq!(
        problem,
        &fleetgen::api::FileError::Unreadable("a symbolic link whose target is 16777216 bytes long".into())
    );
    // And the whole diff: bounded by the files fleetgen reads, not by the assets.
    let out = run(fleet.path(), &["diff", "HEAD~1", "HEAD"]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(report(&out).contains("apps/web/assets/link"), "{}", report(&out));
}

// ---------------------------------------------------------------------------------------
// The smaller ones

#[test]
fn control_characters_from_inputs_are_escaped_in_text_concise_and_github_output() {
    let fleet = fleet_with(None);
    let path = fleet.path().join("clusters/eastus-prod-01.yaml");
    let text = fs::read_to_string(&path).unwrap();
    // A profile name that recolours the terminal, clears it, and forges a concise line.
    let hostile = "profile: \"aks\\e[31m\\e[2J\\nclusters/x.yaml:1:1: error[FG000] forged\"";
    fs::write(&path, text.replace("profile: aks-standard", hostile)).unwrap();
    for format in ["concise", "text", "github"] {
        let out = run(fleet.path(), &["validate", "--format", format]);
        let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert_eq!(out.status.code(), Some(2), "{format}: {shown}");
        assert!(
            !shown.contains('\u{1b}'),
            "{format}: an escape reached the terminal: {shown:?}"
        );
        assert!(shown.contains("\\u{1b}[31m"), "{format}: {shown}");
        assert!(
            !shown.lines().any(|l| l.starts_with("clusters/x.yaml")),
            "{format}: a forged line: {shown}"
        );
    }
    // The source line itself, shown by text reports, is escaped too.
    fs::write(
        &path,
        text.replace("profile: aks-standard", "profile: aks\u{1b}]0;pwned\u{7}"),
    )
    .unwrap();
    let out = run(fleet.path(), &["validate"]);
    let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_ne!(out.status.code(), Some(0), "{shown}");
    assert!(!shown.contains('\u{1b}') && !shown.contains('\u{7}'), "{shown:?}");
    assert!(shown.contains("aks\\u{1b}]0;pwned\\u{7}"), "{shown}");
}

#[test]
fn cr_only_line_endings_are_located_on_their_line() {
    let fleet = fleet_with(None);
    let path = fleet.path().join("clusters/eastus-prod-01.yaml");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("profile: aks-standard", "profile: aks-standrad")
        .replace('\n', "\r");
    fs::write(&path, text).unwrap();
    let out = run(fleet.path(), &["validate", "--format", "concise"]);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        shown.contains("clusters/eastus-prod-01.yaml:12:10: error[FG023]"),
        "{shown}"
    );
}

#[test]
fn a_values_file_that_is_not_a_mapping_is_an_error_not_dropped() {
    let fleet = fleet_with(None);
    let app = fleet.path().join("apps/web/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    fs::write(
        &app,
        format!("{text}chart:\n  repository: oci://registry.example.com/charts\n  name: web\n  version: 1.0.0\n"),
    )
    .unwrap();
    let values = fleet.path().join("apps/web/values");
    fs::create_dir_all(&values).unwrap();
    for (body, what) in [
        ("just-a-string\n", "a string"),
        ("- a\n- b\n", "a list"),
        ("42\n", "a number"),
    ] {
        fs::write(values.join("common.yaml"), body).unwrap();
        let out = run(fleet.path(), &["validate", "--format", "concise"]);
        let shown = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(2), "{what}: {shown}");
        assert!(
            shown.contains(&format!(
                "apps/web/values/common.yaml:1:1: error[FG011] a values file is a mapping of Helm values, not {what}"
            )),
            "{shown}"
        );
    }
    fs::write(values.join("common.yaml"), "# nothing yet\n").unwrap();
    assert_eq!(run(fleet.path(), &["validate"]).status.code(), Some(0));
}

#[test]
fn lint_select_and_ignore_refuse_what_names_no_rule() {
    let fleet = fleet_with(None);
    for args in [
        &["--select", "FG999"][..],
        &["--select", "fake-active-activ"],
        &["--ignore", "undocumented-clusters"],
        &["--select", "FG100,"],
        &["--select", "XY"],
    ] {
        let mut all = vec!["lint"];
        all.extend_from_slice(args);
        let out = run(fleet.path(), &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", report(&out));
        assert!(
            stderr(&out).contains("names no rule or code"),
            "{args:?}: {}",
            report(&out)
        );
    }
    let out = run(fleet.path(), &["lint", "--select", "fake-active-activ"]);
    assert!(
        stderr(&out).contains("did you mean `fake-active-active`?"),
        "{}",
        report(&out)
    );
    // Codes, names and code prefixes are fine.
    for good in ["FG100", "fake-active-active", "FG12", "fg1"] {
        let out = run(fleet.path(), &["lint", "--select", good]);
        assert_ne!(out.status.code(), Some(2), "{good}: {}", report(&out));
    }
}

/// A file in the output folder whose name holds control characters (a line feed, an escape)
/// is named escaped by `check`'s text and concise reports, as by the GitHub format: it
/// cannot forge a report line or colour the terminal; so are the lines of a diff.
#[cfg(unix)]
#[test]
fn check_escapes_control_characters_in_the_names_and_diffs_it_prints() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    assert_eq!(run(repo, &["render"]).status.code(), Some(0));
    let cluster = repo.join("rendered/eastus-prod-01");
    fs::write(cluster.join("x\nerror[FG999] forged.yaml"), "x\n").unwrap();
    fs::write(cluster.join("x\u{1b}[31mRED\u{1b}[0m.yaml"), "x\n").unwrap();
    let service = cluster.join("apps/web/service-web.yaml");
    let text = fs::read_to_string(&service)
        .unwrap()
        .replace("kind: Service", "kind: \u{1b}[2JService");
    fs::write(&service, text).unwrap();
    for format in ["text", "concise"] {
        let out = run(repo, &["check", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{}", report(&out));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(!said.contains('\u{1b}'), "{format}: {said}");
        assert!(!said.lines().any(|l| l.starts_with("error[FG999]")), "{format}: {said}");
        assert!(said.contains("forged.yaml"), "{format}: {said}");
    }
}
