//! `fleetgen check`: the committed tree against what the sources compile to.

mod common;

use common::{fleet_with, fleetgen, root};

use std::fs;
use std::path::Path;
use std::process::Output;

fn run(repo: &Path, command: &str, extra: &[&str]) -> Output {
    fleetgen()
        .args([command, "--color", "never", "--repo"])
        .arg(repo)
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_up_to_date_tree_passes_and_nothing_is_written() {
    let fleet = fleet_with(None);
    assert_eq!(run(fleet.path(), "render", &[]).status.code(), Some(0));
    let before = fs::read_dir(fleet.path()).unwrap().count();
    let out = run(fleet.path(), "check", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("is up to date"), "{}", stdout(&out));
    assert_eq!(fs::read_dir(fleet.path()).unwrap().count(), before);
}

/// One drift on a freshly rendered copy of the base fleet.
fn drifted(case: &str) -> tempfile::TempDir {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    let rendered = repo.join("rendered");
    match case {
        // A source changed without a new render.
        "stale" => {
            let app = repo.join("apps/api/app.yaml");
            let text = fs::read_to_string(&app)
                .unwrap()
                .replace("minReplicasPerRegion: 3", "minReplicasPerRegion: 4");
            fs::write(&app, text).unwrap();
        }
        "edited-by-hand" => {
            let hpa = rendered.join("useast1-prod-01/apps/web/horizontalpodautoscaler-web.yaml");
            let text = fs::read_to_string(&hpa)
                .unwrap()
                .replace("maxReplicas: 10", "maxReplicas: 50");
            fs::write(&hpa, text).unwrap();
        }
        "missing" => fs::remove_file(rendered.join("eastus-prod-01/apps/web/service-web.yaml")).unwrap(),
        // A cluster that no longer exists left its files.
        "orphaned" => {
            fs::create_dir_all(rendered.join("retired-cluster/apps/web")).unwrap();
            fs::write(rendered.join("retired-cluster/apps/web/deployment-web.yaml"), "# old\n").unwrap();
        }
        other => panic!("no case {other}"),
    }
    fleet
}

#[test]
fn each_kind_of_drift_is_reported_with_its_diff() {
    for case in ["stale", "edited-by-hand", "missing", "orphaned"] {
        let fleet = drifted(case);
        let repo = fleet.path();
        let before = common::read_tree(&repo.join("rendered"));
        let out = run(repo, "check", &[]);
        let report = stdout(&out).replace(&repo.display().to_string(), "<repo>");
        assert_eq!(out.status.code(), Some(1), "{case}: {report}");
        insta::assert_snapshot!(format!("check_{case}"), report);
        assert_eq!(common::read_tree(&repo.join("rendered")), before, "{case}: check wrote");
        let out = run(repo, "check", &["--format", "json"]);
        let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let want = case.replace('-', " ");
        assert!(
            items.as_array().unwrap().iter().any(|i| i["status"] == want.as_str()),
            "{case}: {items}"
        );
        // A render fixes it.
        assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
        assert_eq!(run(repo, "check", &[]).status.code(), Some(0), "{case}");
    }
}

/// Every rendered file checked out with CRLF line endings (git's `core.autocrlf` on
/// Windows; git commits them with LF): `check` passes, with the cache that knows the files
/// by their LF contents and without one, and a render writes LF back.
/// A rendered file edited in another encoding (bytes that are not UTF-8) is drift, said
/// alike on every run: once the stat index knew the file, a later `check` read it strictly
/// and failed with exit 2 naming only the folder.
#[test]
fn a_file_that_is_not_utf8_is_drift_on_every_run() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    let hpa = repo.join("rendered/useast1-prod-01/apps/web/horizontalpodautoscaler-web.yaml");
    let mut bytes = fs::read(&hpa).unwrap();
    bytes.extend_from_slice(b"# caf\xe9\n");
    fs::write(&hpa, bytes).unwrap();
    let runs: Vec<(Option<i32>, String)> = (0..3)
        .map(|_| {
            let out = run(repo, "check", &["--format", "concise"]);
            (out.status.code(), stdout(&out))
        })
        .collect();
    assert_eq!(runs[0].0, Some(1), "{}", runs[0].1);
    assert!(
        runs[0]
            .1
            .contains("useast1-prod-01/apps/web/horizontalpodautoscaler-web.yaml"),
        "{}",
        runs[0].1
    );
    assert!(runs.iter().all(|r| *r == runs[0]), "{runs:?}");
}

#[test]
fn a_tree_checked_out_with_crlf_line_endings_is_up_to_date() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    let rendered = repo.join("rendered");
    let lf = common::read_tree(&rendered);
    for (path, text) in &lf {
        fs::write(rendered.join(path), text.replace('\n', "\r\n")).unwrap();
    }
    // With the cache, nothing is rendered again to tell: the files it knows are read as LF.
    let out = run(repo, "check", &["-v"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let verbose = String::from_utf8_lossy(&out.stderr);
    assert!(verbose.contains("placements (0 rendered, "), "{verbose}");
    assert!(!verbose.contains("rendering what they belong to again"), "{verbose}");
    let read_as_lf = format!(
        "{} files differ from the cache only in their CRLF line endings",
        lf.len()
    );
    assert!(verbose.contains(&read_as_lf), "{verbose}");
    for extra in [&[][..], &["--no-cache"][..]] {
        let out = run(repo, "check", extra);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", stdout(&out));
    }
    // A real edit besides the line endings is still found.
    let hpa = rendered.join("useast1-prod-01/apps/web/horizontalpodautoscaler-web.yaml");
    let text = fs::read_to_string(&hpa)
        .unwrap()
        .replace("maxReplicas: 10", "maxReplicas: 50");
    fs::write(&hpa, text).unwrap();
    let out = run(repo, "check", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("-  maxReplicas: 50\n"), "{}", stdout(&out));
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    assert_eq!(common::read_tree(&rendered), lf);
}

#[test]
fn the_bundled_fleet_is_up_to_date() {
    let out = run(&root(), "check", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// `concise`, `github` and `json` name a drifted file as `lint` names files: from the top of
/// the git repository, or after `--path-prefix` (JSON as `file`, beside `path` in the output
/// folder); the text report names it from the fleet.
#[test]
fn machine_formats_name_files_from_the_repository_root() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    fs::write(
        repo.join("rendered/eastus-prod-01/apps/web/service-web.yaml"),
        "edited: by hand\n",
    )
    .unwrap();
    let file = "eastus-prod-01/apps/web/service-web.yaml";
    let prefix = ["--path-prefix", "infra/fleet/"];
    let concise = run(repo, "check", &[&["--format", "concise"][..], &prefix].concat());
    assert!(
        stdout(&concise).starts_with(&format!("infra/fleet/rendered/{file}: ")),
        "{}",
        stdout(&concise)
    );
    let github = run(repo, "check", &[&["--format", "github"][..], &prefix].concat());
    assert!(
        stdout(&github).contains(&format!("file=infra/fleet/rendered/{file},")),
        "{}",
        stdout(&github)
    );
    let json = run(repo, "check", &[&["--format", "json"][..], &prefix].concat());
    let items: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(items[0]["path"], file, "{items}");
    assert_eq!(items[0]["file"], format!("infra/fleet/rendered/{file}"), "{items}");
    let text = run(repo, "check", &prefix);
    assert!(stdout(&text).contains(&format!("rendered/{file}")), "{}", stdout(&text));
    assert!(!stdout(&text).contains("infra/fleet/"), "{}", stdout(&text));
}

/// What `render` never writes in the output folder (a symbolic link, a FIFO) is drift too:
/// listed, never followed or opened, with and without the cache, and a render removes it.
#[cfg(unix)]
#[test]
fn a_link_or_fifo_in_the_output_folder_is_drift_never_followed() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    let cluster = repo.join("rendered/eastus-prod-01");
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.yaml"), "password: hunter2\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), cluster.join("extra.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.path(), cluster.join("apps/linked")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(cluster.join("fifo.yaml"))
        .status();
    assert!(fifo.is_ok_and(|s| s.success()));
    // A rendered file replaced by a link to a copy of itself: the same text, not a file.
    let service = cluster.join("apps/web/service-web.yaml");
    fs::copy(&service, outside.path().join("service.yaml")).unwrap();
    fs::remove_file(&service).unwrap();
    std::os::unix::fs::symlink(outside.path().join("service.yaml"), &service).unwrap();
    for extra in [&[][..], &["--no-cache"][..]] {
        let out = run(repo, "check", &[&["--format", "json"][..], extra].concat());
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stdout(&out));
        let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let status = |path: &str| {
            let found = items.as_array().unwrap().iter().find(|i| i["path"] == path);
            found.map(|i| i["status"].as_str().unwrap().to_string())
        };
        for odd in ["extra.yaml", "apps/linked", "fifo.yaml"] {
            let path = format!("eastus-prod-01/{odd}");
            assert_eq!(status(&path).as_deref(), Some("orphaned"), "{extra:?} {odd}: {items}");
        }
        let path = "eastus-prod-01/apps/web/service-web.yaml";
        assert_eq!(status(path).as_deref(), Some("stale"), "{extra:?}: {items}");
        let text = items.to_string();
        assert!(
            text.contains("a symbolic link; fleetgen writes regular files only"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    assert_eq!(run(repo, "check", &[]).status.code(), Some(0));
    assert!(fs::symlink_metadata(&service).unwrap().is_file());
}

/// A rendered file given an executable bit (git records it: `100755`) is stale, with and
/// without the cache, whatever its content; a render through the cache (twice: the second
/// exchanges the first's tree back) leaves no file with the bit, as a render without it.
/// Where git does not record the bit (`core.fileMode` off, as `git init` sets it on a file
/// system that shows every file as executable), it is no drift.
#[cfg(unix)]
#[test]
fn an_executable_bit_is_drift_and_a_render_drops_it() {
    use std::os::unix::fs::PermissionsExt;
    let fleet = fleet_with(None);
    let repo = fleet.path();
    let git = git2::Repository::init(repo).unwrap();
    git.config().unwrap().set_bool("core.fileMode", true).unwrap();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    // Staged (a rendered file git does not track is drift of its own).
    let mut index = git.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let service = repo.join("rendered/eastus-prod-01/apps/web/service-web.yaml");
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let plain = mode(&service);
    fs::set_permissions(&service, fs::Permissions::from_mode(plain | 0o111)).unwrap();
    for extra in [&[][..], &["--no-cache"][..]] {
        let out = run(repo, "check", &[&["--format", "json"][..], extra].concat());
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stdout(&out));
        let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let found = items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"] == "eastus-prod-01/apps/web/service-web.yaml");
        assert_eq!(
            found.map(|i| &i["status"]),
            Some(&serde_json::json!("stale")),
            "{extra:?}: {items}"
        );
    }
    for _ in 0..2 {
        assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
        assert_eq!(mode(&service), plain);
        assert_eq!(run(repo, "check", &[]).status.code(), Some(0));
    }
    git.config().unwrap().set_bool("core.fileMode", false).unwrap();
    fs::set_permissions(&service, fs::Permissions::from_mode(plain | 0o111)).unwrap();
    for extra in [&[][..], &["--no-cache"][..]] {
        let out = run(repo, "check", extra);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", stdout(&out));
    }
}

/// An output folder `render` would refuse to write is refused by `check` too (exit 2),
/// rather than compared: a file, a folder fleetgen reads, one it did not write.
#[test]
fn check_refuses_an_output_folder_render_refuses() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    let stranger = tempfile::tempdir().unwrap();
    fs::write(stranger.path().join("notes.txt"), "mine\n").unwrap();
    let stranger = stranger.path().to_str().unwrap().to_string();
    let apps = repo.join("apps").to_str().unwrap().to_string();
    fs::write(repo.join("rendered"), "a file\n").unwrap();
    for (args, said) in [
        (&[][..], "exists and is not a folder"),
        (&["--out", apps.as_str()][..], "a folder fleetgen reads"),
        (&["--out", stranger.as_str()][..], "was not written by fleetgen"),
    ] {
        for command in ["check", "render"] {
            let out = run(repo, command, args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {args:?}: {}{err}", stdout(&out));
            assert!(err.contains(said), "{command} {args:?}: {err}");
        }
    }
    assert_eq!(fs::read_to_string(repo.join("rendered")).unwrap(), "a file\n");
    // Run in the fleet: its own folder is said so (not blamed on a FLEETGEN_CACHE_DIR nobody
    // set), and a folder inside the cache, whose shadow a later render would take it for, is
    // refused; so are one in git's own folder and one inside the fleet's output folder, which
    // the next render of that folder would remove.
    fs::remove_file(repo.join("rendered")).unwrap();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    for (out, said) in [
        (".", "`.` cannot be an output folder"),
        (".fleetgen/shadow", "inside the cache folder"),
        (".git/rendered", "is inside `.git`, git's own folder"),
        (
            "rendered/preview",
            "`rendered/preview` is inside `rendered`, an output folder of fleetgen's",
        ),
        (
            "rendered/_edge/x",
            "is inside `rendered`, an output folder of fleetgen's",
        ),
    ] {
        for command in ["check", "render"] {
            let run = fleetgen()
                .current_dir(repo)
                .args([command, "--out", out])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(2), "{command} {out}: {}{err}", stdout(&run));
            assert!(err.contains(said), "{command} {out}: {err}");
        }
    }
    assert!(!repo.join(".fleetgen/shadow").exists());
    assert!(!repo.join(".git/rendered").exists() && !repo.join("rendered/preview").exists());
    assert_eq!(run(repo, "check", &[]).status.code(), Some(0));
}

/// `--quiet`: the findings and nothing else (no count, no advice), for check and lint alike.
#[test]
fn quiet_prints_the_findings_without_summary_lines() {
    let fleet = drifted("edited-by-hand");
    let repo = fleet.path();
    for format in ["text", "concise"] {
        let out = run(repo, "check", &["--quiet", "--format", format]);
        assert_eq!(out.status.code(), Some(1));
        let text = stdout(&out);
        assert!(text.contains("horizontalpodautoscaler-web.yaml"), "{format}: {text}");
        assert!(
            !text.contains("is not what the sources compile to") && !text.contains("run `fleetgen render`"),
            "{format}: {text}"
        );
    }
    let app = repo.join("apps/web/app.yaml");
    fs::write(&app, fs::read_to_string(&app).unwrap() + "bogus: 1\n").unwrap();
    for format in ["text", "concise"] {
        let out = run(repo, "lint", &["--quiet", "--format", format]);
        assert_eq!(out.status.code(), Some(2));
        let text = stdout(&out);
        assert!(text.contains("FG010"), "{format}: {text}");
        assert!(!text.contains("1 error"), "{format}: {text}");
    }
}

/// An app that leaves a cluster where its sync is stopped (the committed matrix has it
/// `suspended` there: a freeze) is warning FG051 of `render`, `check` and `lint`, at the
/// contract's `placement`, in JSON too: the root removes its Kustomization or Application,
/// which the freeze does not hold back. Nothing is said when the freeze comes with the
/// removal (nothing was suspended yet), for an app that stays, or once the removal is
/// rendered.
#[test]
fn an_app_leaving_a_frozen_ring_is_said() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    let app = repo.join("apps/web/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    let narrowed = text.replace("regions: [azure:eastus, aws:us-east-1]", "regions: [azure:eastus]");
    assert_ne!(narrowed, text);
    let said = |out: &Output| format!("{}{}", stdout(out), String::from_utf8_lossy(&out.stderr));
    let fleet_yaml = repo.join("fleet.yaml");
    let mut frozen = fs::read_to_string(&fleet_yaml).unwrap();
    frozen.push_str("switches:\n  freeze:\n    - rings: [prod]\n      reason: \"INC-7: outage\"\n      owner: sre\n");
    fs::write(&fleet_yaml, &frozen).unwrap();
    // The freeze and the removal in one change: the app was never suspended there.
    fs::write(&app, &narrowed).unwrap();
    assert!(!said(&run(repo, "check", &[])).contains("leaves cluster"));
    // The freeze rendered first, then the removal.
    fs::write(&app, &text).unwrap();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    fs::write(&app, &narrowed).unwrap();
    for command in ["check", "lint", "render"] {
        let out = run(repo, command, &["--format", "concise"]);
        let text = said(&out);
        assert!(
            text.contains("apps/web/app.yaml:8:1: warning[FG051] `web` leaves cluster `useast1-prod-01`, where its sync is stopped (suspended in the committed rendered/fleet.yaml): Argo CD deletes its Application"),
            "{command}: {text}"
        );
        assert!(!text.contains("leaves cluster `eastus-prod-01`"), "{command}: {text}");
        if command == "lint" {
            let json = stdout(&run(repo, "lint", &["--format", "json"]));
            assert!(
                json.contains("\"FG051\"") && json.contains("leaves cluster `useast1-prod-01`"),
                "{json}"
            );
        }
    }
    // Rendered: the committed matrix no longer has it, and nothing more is said.
    let out = run(repo, "check", &[]);
    assert!(!said(&out).contains("leaves cluster"), "{}", said(&out));
}

/// The fixture's fleet.yaml with `switches:` appended.
fn switches(repo: &Path, yaml: &str) {
    let fleet_yaml = repo.join("fleet.yaml");
    let text = fs::read_to_string(&fleet_yaml).unwrap();
    let text = text.split("switches:\n").next().unwrap().to_string();
    let switches = if yaml.is_empty() {
        String::new()
    } else {
        format!("switches:\n{yaml}")
    };
    fs::write(&fleet_yaml, format!("{text}{switches}")).unwrap();
}

const FREEZE: &str = "  freeze:\n    - rings: [prod]\n      reason: \"INC-1: hold\"\n      owner: sre\n";

/// Lifting a scale-down or a drain while a freeze holds the app's sync there, or a first
/// deployment under it, would not reach the cluster, where the app stays down while the edge
/// sends it traffic again: FG051 (an error of `render`, `check` and `lint`, at the freeze
/// entry), against the committed matrix; nothing is written. Without a committed matrix
/// (`--out` elsewhere) nothing is said.
#[test]
fn lifting_a_switch_under_a_freeze_is_refused() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    let said = |out: &Output| format!("{}{}", stdout(out), String::from_utf8_lossy(&out.stderr));
    let scaled = "  scaleDown:\n    - app: web\n      clusters: [eastus-prod-01]\n      reason: \"INC-2: crash\"\n      owner: web-team\n";
    switches(repo, &format!("{FREEZE}{scaled}"));
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    let matrix = fs::read_to_string(repo.join("rendered/fleet.yaml")).unwrap();
    // The scale-down lifted, the freeze kept.
    switches(repo, FREEZE);
    for command in ["check", "lint", "render"] {
        let out = run(repo, command, &["--format", "concise"]);
        let text = said(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {text}");
        assert!(
            text.contains("fleet.yaml:49:7: error[FG051] lifting its scale-down does not reach `web` on cluster `eastus-prod-01` (scaled-down in the committed rendered/fleet.yaml): its sync is stopped (ring `prod` frozen: INC-1: hold), so it stays down there, while the edge sends it traffic"),
            "{command}: {text}"
        );
        assert!(!text.contains("`api` on cluster"), "{command}: {text}");
    }
    assert_eq!(fs::read_to_string(repo.join("rendered/fleet.yaml")).unwrap(), matrix);
    let json = stdout(&run(repo, "lint", &["--format", "json"]));
    assert!(
        json.contains("\"FG051\"") && json.contains("lifting its scale-down"),
        "{json}"
    );
    // The app's own sync suspended there as well: lifting the freeze alone would not do, and
    // the help names both stops.
    let app = repo.join("apps/web/app.yaml");
    let contract = fs::read_to_string(&app).unwrap();
    let suspended = "gitops:\n  suspend:\n    reason: \"INC-4: hold web\"\n    clusters: [eastus-prod-01]\n";
    fs::write(&app, format!("{contract}{suspended}")).unwrap();
    let json = stdout(&run(repo, "lint", &["--format", "json"]));
    assert!(
        json.contains("lift the freeze of ring `prod` and `gitops.suspend` of `web` on cluster `eastus-prod-01` first"),
        "{json}"
    );
    fs::write(&app, &contract).unwrap();
    // No committed matrix there: nothing said.
    let elsewhere = tempfile::tempdir().unwrap();
    let other = elsewhere.path().join("out");
    let out = run(repo, "render", &["--out", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));

    // A drain lifted under the freeze.
    let app = repo.join("apps/web/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    let drained = format!("{text}gitops:\n  drain:\n    - cluster: eastus-prod-01\n      reason: \"INC-3: drain\"\n");
    switches(repo, "");
    fs::write(&app, &drained).unwrap();
    let out = run(repo, "render", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    switches(repo, FREEZE);
    let out = run(repo, "render", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the drain passes the freeze: {}",
        said(&out)
    );
    fs::write(&app, &text).unwrap();
    let out = run(repo, "check", &["--format", "concise"]);
    assert!(
        said(&out).contains("error[FG051] lifting its drain does not reach `web` on cluster `eastus-prod-01` (drained in the committed rendered/fleet.yaml)"),
        "{}",
        said(&out)
    );

    // A first deployment under the freeze: `contract` rendered without us-east-1 and
    // committed, then placed there anew while the freeze holds; what `command` says.
    let first_deployment = |contract: &str, command: &str| {
        switches(repo, "");
        let without = contract.replace("regions: [azure:eastus, aws:us-east-1]", "regions: [azure:eastus]");
        assert_ne!(without, contract);
        fs::write(&app, without).unwrap();
        assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
        switches(repo, FREEZE);
        fs::write(&app, contract).unwrap();
        run(repo, command, &["--format", "concise"])
    };
    // web is public: the edge would send its users to useast1-prod-01, where nothing runs.
    let out = first_deployment(&text, "lint");
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("error[FG051] its first deployment does not reach `web` on cluster `useast1-prod-01` (not placed there in the committed rendered/fleet.yaml)"),
        "{}",
        said(&out)
    );
    // The same for an app the edge does not serve (internal): it stays down there until the
    // freeze is lifted, which is what a freeze holds back, so a warning, and the render is
    // written.
    let internal = text.replace("exposure: public", "exposure: internal");
    assert_ne!(internal, text);
    let out = first_deployment(&internal, "render");
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(
        said(&out).contains("warning[FG051] its first deployment does not reach `web` on cluster `useast1-prod-01`"),
        "{}",
        said(&out)
    );
    fs::write(&app, &text).unwrap();
    // The freeze lifted first: nothing said.
    switches(repo, "");
    let out = run(repo, "check", &["--format", "concise"]);
    assert!(!said(&out).contains("FG051"), "{}", said(&out));
}

/// An identity revocation passes a freeze (the app's Kustomization there is not suspended),
/// and on a cluster whose sync is suspended by hand it is FG051: it would not arrive.
#[test]
fn a_revocation_under_a_suspended_sync_is_refused() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    let said = |out: &Output| format!("{}{}", stdout(out), String::from_utf8_lossy(&out.stderr));
    let revoke = "  revokeIdentity:\n    - app: api\n      clusters: [eastus-prod-01]\n      reason: \"INC-4: leak\"\n      owner: api-team\n";
    switches(repo, &format!("{FREEZE}{revoke}"));
    let out = run(repo, "render", &["--format", "concise"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let kustomization = fs::read_to_string(repo.join("rendered/eastus-prod-01/gitops/kustomization-api.yaml")).unwrap();
    assert!(!kustomization.contains("suspend: true"), "{kustomization}");
    // Through the freeze it takes the app's whole sync there: said, as a warning.
    assert!(
        said(&out).contains("warning[FG051] the revocation lifts the freeze of ring `prod` (INC-1: hold) for `api` on cluster `eastus-prod-01`"),
        "{}",
        said(&out)
    );
    // The revocation lifted while the freeze holds: the suspended sync would never give the
    // service account its identity back.
    switches(repo, FREEZE);
    let out = run(repo, "check", &["--format", "concise"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("error[FG051] lifting its identity revocation does not reach `api` on cluster `eastus-prod-01` (its identity revoked in the committed rendered/fleet.yaml): its sync is stopped (ring `prod` frozen: INC-1: hold), so it keeps running without its identity there"),
        "{}",
        said(&out)
    );
    switches(repo, revoke);
    let cluster = repo.join("clusters/eastus-prod-01.yaml");
    let text = fs::read_to_string(&cluster).unwrap();
    let suspended = text.replace("  engine: flux\n", "  engine: flux\n  suspend:\n    reason: CHG-7\n");
    assert_ne!(suspended, text);
    fs::write(&cluster, suspended).unwrap();
    let out = run(repo, "lint", &["--format", "concise"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("fleet.yaml:50:18: error[FG051] sync of `api` on cluster `eastus-prod-01` is suspended, so the revoked identity would not reach it"),
        "{}",
        said(&out)
    );
}

/// A rendered file git does not track is left out of the commit: under a pre-commit hook
/// (which stashes only unstaged changes to tracked files) it is on disk, yet the commit's
/// kustomizations list a file the commit lacks. `check` under a commit hook (pre-commit's
/// PRE_COMMIT, git's GIT_INDEX_FILE) names each as not staged (exit 1), in every format,
/// until it is staged; one git ignores is not a commit's business. Outside a hook the file
/// may yet be staged, and nothing is said.
#[test]
fn a_rendered_file_git_does_not_track_is_not_staged() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    let plain = |repo: &Path, command: &str, extra: &[&str]| run(repo, command, extra);
    let run = |repo: &Path, command: &str, extra: &[&str]| {
        let mut cmd = fleetgen();
        cmd.args([command, "--color", "never", "--repo"]).arg(repo).args(extra);
        if command == "check" {
            cmd.env("PRE_COMMIT", "1");
        }
        cmd.output().unwrap()
    };
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    let git = git2::Repository::init(repo).unwrap();
    let stage = |add: &[&str], update: bool| {
        let mut index = git.index().unwrap();
        if update {
            index.update_all(["*"], None).unwrap();
        }
        if !add.is_empty() {
            index.add_all(add, git2::IndexAddOption::DEFAULT, None).unwrap();
        }
        index.write().unwrap();
    };
    stage(&["*"], false);
    assert_eq!(run(repo, "check", &[]).status.code(), Some(0));
    // A new app, rendered, then "stage what changed": `git add -u && git add apps/web2`.
    fs::create_dir_all(repo.join("apps/web2")).unwrap();
    let app = fs::read_to_string(repo.join("apps/web/app.yaml"))
        .unwrap()
        .replace("name: web\n", "name: web2\n")
        .replace("www.example.com", "www2.example.com");
    fs::write(repo.join("apps/web2/app.yaml"), app).unwrap();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    stage(&["apps/web2"], true);
    let new = "eastus-prod-01/apps/web2/deployment-web2.yaml";
    assert!(repo.join("rendered").join(new).is_file());
    for extra in [&[][..], &["--no-cache"][..]] {
        let out = run(repo, "check", extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stdout(&out));
        let text = stdout(&out);
        assert!(text.contains(&format!("not staged: rendered/{new}\n")), "{text}");
        assert!(text.contains("git does not track"), "{text}");
        // Only the new files: the tracked ones changed by the render are staged.
        assert!(
            text.lines()
                .filter(|l| l.starts_with("not staged: "))
                .all(|l| l.contains("web2")),
            "{text}"
        );
    }
    let json = run(repo, "check", &["--format", "json"]);
    let items: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let found = items.as_array().unwrap().iter().find(|i| i["path"] == new);
    assert_eq!(
        found.map(|i| &i["status"]),
        Some(&serde_json::json!("not staged")),
        "{items}"
    );
    let concise = stdout(&run(repo, "check", &["--format", "concise"]));
    assert!(concise.contains(&format!("rendered/{new}: not staged\n")), "{concise}");
    // git's own hook environment: the index being committed, named from the top of the work
    // tree, where the hook starts (here it moved into a folder below it).
    let out = fleetgen()
        .current_dir(repo.join("apps"))
        .args(["check", "--format", "concise", "--repo", ".."])
        .env("GIT_INDEX_FILE", ".git/index")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let said = stdout(&out);
    assert!(said.contains(&format!("rendered/{new}: not staged\n")), "{said}");
    assert!(
        said.lines()
            .filter(|l| l.contains("not staged"))
            .all(|l| l.contains("web2")),
        "{said}"
    );
    // Outside a commit hook, nothing is said of git.
    let out = plain(repo, "check", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let github = stdout(&run(repo, "check", &["--format", "github"]));
    assert!(
        github.contains(&format!("file=rendered/{new},title=fleetgen check::not staged: ")),
        "{github}"
    );
    // Ignored, it is not said; staged, the tree is up to date.
    fs::write(repo.join(".gitignore"), "/rendered/**/*web2*\n").unwrap();
    assert_eq!(run(repo, "check", &[]).status.code(), Some(0));
    fs::remove_file(repo.join(".gitignore")).unwrap();
    assert_eq!(run(repo, "check", &[]).status.code(), Some(1));
    stage(&["rendered"], false);
    let out = run(repo, "check", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// Sources with errors stop `check` before any comparison: the machine formats print their
/// diagnostics on stdout, as `lint` does (a CI job's `check --format json > check.json` got
/// an empty file), with the exit code kept; text keeps them on stderr.
#[test]
fn the_sources_errors_are_on_stdout_in_the_machine_formats() {
    let fleet = fleet_with(None);
    let repo = fleet.path();
    assert_eq!(run(repo, "render", &[]).status.code(), Some(0));
    let path = repo.join("fleet.yaml");
    fs::write(&path, format!("{}bogus: 1\n", fs::read_to_string(&path).unwrap())).unwrap();
    for rendered in [true, false] {
        if !rendered {
            fs::remove_dir_all(repo.join("rendered")).unwrap();
        }
        let json = run(repo, "check", &["--format", "json"]);
        assert_eq!(json.status.code(), Some(2), "{}", stdout(&json));
        let items: serde_json::Value =
            serde_json::from_slice(&json.stdout).unwrap_or_else(|_| panic!("{}", stdout(&json)));
        assert!(items.to_string().contains("bogus"), "{items}");
        let github = run(repo, "check", &["--format", "github"]);
        assert!(
            stdout(&github).starts_with("::error file=fleet.yaml"),
            "{}",
            stdout(&github)
        );
        let text = run(repo, "check", &[]);
        assert_eq!(text.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&text.stderr).contains("bogus"));
    }
}
