//! The `fleetgen` binary, run as users run it.
//!
//! `tests/fixtures/invalid/<case>/` holds files laid over the valid fleet in
//! `tests/fixtures/base/`; each case breaks one thing, and its diagnostic (rendered without
//! colour at width 80) is kept as a snapshot in `tests/snapshots/`.

mod common;

use common::{copy_tree, fleetgen, report, root};

use std::fs;
use std::path::Path;
use std::process::Output;

/// A temporary fleet: the base fixture with `case`'s files laid over it.
fn fleet_with(case: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/base"), dir.path());
    if let Some(case) = case {
        copy_tree(&root().join("tests/fixtures/invalid").join(case), dir.path());
    }
    dir
}

fn validate(repo: &Path, extra: &[&str]) -> Output {
    fleetgen()
        .args(["validate", "--color", "never", "--repo"])
        .arg(repo)
        .args(extra)
        .output()
        .unwrap()
}

fn cases() -> Vec<String> {
    let mut cases: Vec<String> = fs::read_dir(root().join("tests/fixtures/invalid"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    cases
}

#[test]
fn bundled_fleet_is_valid() {
    let out = fleetgen()
        .current_dir(root())
        .args(["validate", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("fleet is valid: "));
}

#[test]
fn base_fixture_is_valid() {
    let dir = fleet_with(None);
    let out = validate(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
}

#[test]
fn every_invalid_fixture_gives_its_located_diagnostic() {
    let cases = cases();
    assert!(cases.len() >= 20, "expected the invalid fixtures, found {cases:?}");
    for case in &cases {
        let dir = fleet_with(Some(case));
        let out = validate(dir.path(), &[]);
        let code = out.status.code();
        let text = report(&out);
        // Only a stray file is a warning; everything else must fail, located.
        if case == "stray-file" {
            assert_eq!(code, Some(0), "{case}: {text}");
        } else {
            assert!(matches!(code, Some(1 | 2)), "{case}: {text}");
        }
        let json = validate(dir.path(), &["--format", "json"]);
        let diags: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let diags = diags.as_array().unwrap();
        assert!(!diags.is_empty(), "{case}: no diagnostics");
        for d in diags {
            assert!(d["line"].as_u64().unwrap() >= 1, "{case}: not located: {d}");
            assert!(d["column"].as_u64().unwrap() >= 1, "{case}: not located: {d}");
        }
        insta::assert_snapshot!(format!("invalid__{case}"), text);
    }
}

#[test]
fn every_snapshot_belongs_to_a_test() {
    let cases = cases();
    for entry in fs::read_dir(root().join("tests/snapshots")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(case) = name
            .strip_prefix("cli__invalid__")
            .and_then(|n| n.strip_suffix(".snap"))
        {
            assert!(cases.iter().any(|c| c == case), "snapshot {name} has no fixture");
        } else if let Some(case) = name
            .strip_prefix("render__render_invalid__")
            .and_then(|n| n.strip_suffix(".snap"))
        {
            let fixture = root().join("tests/fixtures/render-invalid").join(case);
            assert!(fixture.is_dir(), "snapshot {name} has no fixture");
        } else {
            assert!(
                (name.starts_with("cli__")
                    || name.starts_with("render__")
                    || name.starts_with("check__")
                    || name.starts_with("lint__"))
                    && name.ends_with(".snap"),
                "unexpected file in tests/snapshots: {name}"
            );
        }
    }
}

#[test]
fn a_link_out_of_the_repository_is_refused() {
    let dir = fleet_with(None);
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.yaml");
    fs::write(&secret, "clusterId: stolen\n").unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("clusters/stolen.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("profiles/cluster/elsewhere")).unwrap();
    let out = validate(dir.path(), &["--format", "concise"]);
    let text = report(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("clusters/stolen.yaml:1:1: error[FG006] symbolic link points outside the repository"),
        "{text}"
    );
    assert!(text.contains("profiles/cluster/elsewhere:1:1: error[FG006]"), "{text}");
    assert!(!text.contains("stolen`"), "the linked file was read: {text}");
}

/// A folder that cannot be read is one error: what its files would have defined is not
/// reported missing too (the clusters' profiles, the app another depends on).
#[test]
fn an_unreadable_folder_is_one_error_not_a_cascade() {
    let dir = fleet_with(None);
    let outside = tempfile::tempdir().unwrap();
    for folder in ["profiles/cluster", "apps/api"] {
        let path = dir.path().join(folder);
        fs::rename(&path, outside.path().join(folder.replace('/', "-"))).unwrap();
        std::os::unix::fs::symlink(outside.path(), &path).unwrap();
    }
    let out = validate(dir.path(), &["--format", "concise"]);
    let text = report(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.contains(": error[")).collect();
    assert_eq!(
        errors,
        [
            "apps/api:1:1: error[FG006] symbolic link points outside the repository; fleetgen does not follow it",
            "profiles/cluster:1:1: error[FG006] symbolic link points outside the repository; fleetgen does not follow it",
        ],
        "{text}"
    );
}

#[test]
fn a_link_inside_the_repository_is_followed() {
    let dir = fleet_with(None);
    let clusters = dir.path().join("clusters");
    fs::rename(
        clusters.join("eastus-prod-01.yaml"),
        dir.path().join("shared-eastus.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../shared-eastus.yaml", clusters.join("eastus-prod-01.yaml")).unwrap();
    let out = validate(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read() {
    let dir = fleet_with(None);
    let big = format!("name: big\ndescription: x\n# {}\n", "x".repeat(2 * 1024 * 1024));
    fs::write(dir.path().join("profiles/telemetry/big.yaml"), big).unwrap();
    let out = validate(dir.path(), &["--format", "concise"]);
    let text = report(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("profiles/telemetry/big.yaml:1:1: error[FG005] file is larger than 1024 KiB"),
        "{text}"
    );
}

#[test]
fn a_folder_without_fleet_yaml_or_no_folder_at_all_exits_2() {
    let empty = tempfile::tempdir().unwrap();
    let out = validate(empty.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(report(&out).contains("no fleet.yaml"));
    let out = validate(&empty.path().join("missing"), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open repository"));
    // A folder named fleet.yaml, found from a folder below it: that fleet, and what is wrong.
    fs::create_dir_all(empty.path().join("fleet.yaml")).unwrap();
    fs::create_dir_all(empty.path().join("apps/web")).unwrap();
    let out = fleetgen()
        .current_dir(empty.path().join("apps/web"))
        .args(["validate", "--color", "never", "--format", "concise"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(
        report(&out).contains("fleet.yaml:1:1: error[FG001] this is a folder, not a regular file"),
        "{}",
        report(&out)
    );
}

#[test]
fn no_fleet_found_is_said_in_the_format_asked_for_and_nothing_is_written() {
    let empty = tempfile::tempdir().unwrap();
    for command in ["validate", "lint", "check", "render"] {
        // Found from the working directory up: none there.
        let out = fleetgen()
            .current_dir(empty.path())
            .args([command, "--color", "never", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}: {}", report(&out));
        // (render keeps stdout for `--stdout`: its diagnostics go to stderr in every format)
        let printed = if command == "render" { &out.stderr } else { &out.stdout };
        let json: serde_json::Value = serde_json::from_slice(printed)
            .unwrap_or_else(|e| panic!("{command}: stdout is not JSON ({e}): {}", report(&out)));
        assert_eq!(json[0]["code"], "FG001", "{command}: {json}");
        assert_eq!(json[0]["file"], "fleet.yaml", "{command}: {json}");
        // The text report keeps its own words.
        let out = fleetgen()
            .current_dir(empty.path())
            .args([command, "--color", "never"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}: {}", report(&out));
        assert!(
            report(&out).contains("or any folder above it"),
            "{command}: {}",
            report(&out)
        );
        // Given with --repo: a render or check of a folder that is not a fleet makes no
        // cache folder there.
        let out = fleetgen()
            .args([command, "--color", "never", "--repo"])
            .arg(empty.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}: {}", report(&out));
        let left: Vec<_> = fs::read_dir(empty.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{command} wrote {left:?}");
    }
}

#[test]
#[cfg(target_os = "linux")]
fn a_failed_write_to_stdout_is_exit_2_and_a_closed_pipe_is_not() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let full = || Stdio::from(fs::OpenOptions::new().write(true).open("/dev/full").unwrap());
    let fleetgen = || {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("fleetgen"));
        cmd.env("FLEETGEN_TODAY", common::TODAY);
        cmd
    };
    for args in [
        &["lint", "--format", "sarif"][..],
        &["render", "--stdout"],
        &["validate", "--format", "junit"],
        &["schema", "app"],
    ] {
        let out = fleetgen()
            .args(args)
            .args(["--color", "never"])
            .current_dir(root())
            .stdout(full())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", report(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("error: cannot write standard output"),
            "{args:?}: {stderr}"
        );
    }
    // `fleetgen render --stdout | head -c 100`: the reader goes away early, fine.
    let mut child = fleetgen()
        .args(["render", "--stdout", "--color", "never"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn unknown_flags_and_subcommands_exit_2_and_help_exits_0() {
    let out = fleetgen().args(["validate", "--strict"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = fleetgen().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = fleetgen().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Exit codes:") && help.contains("2  the input or the command could not be used"));
}

#[test]
fn json_output_carries_code_severity_and_location() {
    let dir = fleet_with(Some("unknown-profile"));
    let out = validate(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let diags: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &diags[0];
    assert_eq!(d["code"], "FG023");
    assert_eq!(d["name"], "unknown-reference");
    assert_eq!(d["severity"], "error");
    assert!(d["file"].as_str().unwrap().starts_with("clusters/"), "{d}");
    assert!(d["line"].as_u64().unwrap() > 1 && d["column"] == 10, "{d}");
    assert!(
        d["help"].as_str().unwrap().contains("did you mean `aks-standard`?"),
        "{d}"
    );
}

#[test]
fn output_is_the_same_from_any_working_directory_and_run() {
    let dir = fleet_with(Some("profile-contradiction"));
    let first = validate(dir.path(), &[]);
    let again = fleetgen()
        .current_dir(dir.path().join("clusters"))
        .args(["validate", "--color", "never", "--repo", ".."])
        .env("TZ", "Pacific/Chatham")
        .output()
        .unwrap();
    assert_eq!(first.stdout, again.stdout);
    assert!(!String::from_utf8_lossy(&first.stdout).contains(&*dir.path().to_string_lossy()));
}

#[test]
fn all_problems_of_a_run_are_reported_sorted_by_file_and_line() {
    let dir = fleet_with(Some("unknown-profile"));
    copy_tree(&root().join("tests/fixtures/invalid/unknown-dependency"), dir.path());
    copy_tree(&root().join("tests/fixtures/invalid/duplicate-key"), dir.path());
    let out = validate(dir.path(), &["--format", "concise"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let places: Vec<&str> = text.lines().filter(|l| l.contains(": error[")).collect();
    assert!(places.len() >= 3, "{text}");
    let mut sorted = places.clone();
    sorted.sort_by_key(|l| {
        let mut parts = l.splitn(3, ':');
        let file = parts.next().unwrap().to_string();
        let line: usize = parts.next().unwrap().parse().unwrap_or(0);
        (file, line)
    });
    assert_eq!(places, sorted);
    assert_eq!(out.status.code(), Some(2), "an input error wins over reference errors");
}

#[test]
fn schema_lists_kinds_and_prints_the_files_in_schemas() {
    let out = fleetgen().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let list = String::from_utf8_lossy(&out.stdout);
    for kind in fleetgen::api::Kind::ALL {
        assert!(list.contains(kind.name()), "{list}");
        let out = fleetgen().args(["schema", kind.name()]).output().unwrap();
        let on_disk = fs::read(root().join("schemas").join(format!("{}.schema.json", kind.name()))).unwrap();
        assert_eq!(out.stdout, on_disk, "{kind}");
        assert_eq!(fleetgen::api::schema(kind).as_bytes(), on_disk, "{kind}");
    }
    let out = fleetgen().args(["schema", "clustr"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `cluster`?"));
}

#[test]
fn every_example_file_names_its_schema_for_editors() {
    let mut checked = 0;
    let mut bases = vec![root(), root().join("tests/fixtures/base")];
    for case in fs::read_dir(root().join("tests/golden")).unwrap() {
        bases.push(case.unwrap().path().join("input"));
    }
    for base in bases {
        for dir in ["fleet.yaml", "clusters", "apps", "profiles", "policy-library"] {
            if !base.join(dir).exists() {
                continue;
            }
            for entry in walkdir::WalkDir::new(base.join(dir)) {
                let entry = entry.unwrap();
                let path = entry.path();
                let rel = path.strip_prefix(&base).unwrap().to_string_lossy().into_owned();
                // Helm values (and a chart's vendored defaults) are the chart's format, not fleetgen's.
                if !rel.ends_with(".yaml") || rel.contains("/values/") || rel.contains("/chart/") {
                    continue;
                }
                let text = fs::read_to_string(path).unwrap();
                let first = text.lines().next().unwrap_or_default();
                let schema = first
                    .strip_prefix("# yaml-language-server: $schema=")
                    .unwrap_or_else(|| panic!("{rel}: first line is not a $schema modeline"));
                let target = path.parent().unwrap().join(schema);
                assert!(target.is_file(), "{rel}: {schema} does not exist");
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "checked only {checked} files");
}

#[test]
fn a_broken_file_is_reported_once_not_again_by_every_file_naming_it() {
    let dir = fleet_with(None);
    let profile = dir.path().join("profiles/cluster/aks-standard.yaml");
    let text = fs::read_to_string(&profile).unwrap();
    fs::write(&profile, format!("{text}provider: azure\n")).unwrap();
    let out = validate(dir.path(), &["--format", "concise"]);
    let text = report(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("error[FG003] duplicate key `provider`"), "{text}");
    assert!(
        !text.contains("FG023"),
        "clusters naming the broken profile were blamed: {text}"
    );
}

/// Every run of the binary has transparent huge pages off (Linux; see `cli::small_pages`):
/// a `lint` waiting for its file on standard input is looked at from outside, in
/// `/proc/<pid>/status`.
#[cfg(target_os = "linux")]
#[test]
fn a_run_has_transparent_huge_pages_off() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let fleet = fleet_with(None);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("fleetgen"))
        .current_dir(fleet.path())
        .args(["lint", "--color", "never", "-", "--stdin-filename", "apps/web/app.yaml"])
        .env("FLEETGEN_TODAY", common::TODAY)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let thp = || {
        let text = fs::read_to_string(&status).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("THP_enabled:"))
            .map(|v| v.trim().to_string())
    };
    // The setting is made when the run starts; the process then waits for its input.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = thp();
    while seen.as_deref() != Some("0") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        seen = thp();
    }
    drop(child.stdin.take());
    let _ = child.wait();
    assert_eq!(seen.as_deref(), Some("0"), "THP_enabled of the running binary");
}

/// A CIDR is held to what the API server parses for a NetworkPolicy's `ipBlock.cidr` (an
/// address of its family, a prefix it can have), not to its shape alone: `10.225.0.0/99`
/// and `300.1.1.1/24` are located FG012s, IPv6 ranges pass.
#[test]
fn a_cidr_must_be_an_address_and_a_prefix_the_api_server_takes() {
    let dir = fleet_with(None);
    let profile = dir.path().join("profiles/cluster/aks-standard.yaml");
    let base = fs::read_to_string(&profile).unwrap();
    let with = |ranges: &str| {
        let text = base.replace(
            "  sourceRanges: [10.225.0.0/24]\n",
            &format!("  sourceRanges: {ranges}\n"),
        );
        assert_ne!(text, base);
        fs::write(&profile, text).unwrap();
        validate(dir.path(), &["--format", "concise"])
    };
    let out = with("[10.225.0.0/24, 'fd00:10::/48', '::ffff:10.0.0.0/104']");
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    for bad in [
        "10.225.0.0/99",
        "300.1.1.1/24",
        "010.0.0.0/8",
        "10.0.0.0/08",
        "fd00::10::/48",
        "fd00::/129",
    ] {
        let out = with(&format!("['10.1.0.0/16', '{bad}']"));
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", report(&out));
        let line = base
            .lines()
            .position(|l| l == "  sourceRanges: [10.225.0.0/24]")
            .unwrap()
            + 1;
        let want =
            format!("profiles/cluster/aks-standard.yaml:{line}:33: error[FG012] `{bad}` is not a valid `sourceRanges`");
        assert!(report(&out).contains(&want), "{bad}: {}", report(&out));
    }
}

/// An app cannot take a namespace of the platform (Kubernetes', the GitOps engine's, the
/// policy agents', its cluster profile's `platformNamespaces`): its default-deny policy would
/// cut the engine off, a prune of the app would delete it, and no policy applies there.
#[test]
fn an_app_cannot_take_a_namespace_of_the_platform() {
    let dir = fleet_with(None);
    let contract = dir.path().join("apps/api/app.yaml");
    let base = fs::read_to_string(&contract).unwrap();
    let profile = dir.path().join("profiles/cluster/aks-standard.yaml");
    let profile_text = fs::read_to_string(&profile).unwrap();
    fs::write(&profile, format!("{profile_text}platformNamespaces: [mesh-system]\n")).unwrap();
    assert_eq!(validate(dir.path(), &[]).status.code(), Some(0));
    for namespace in ["flux-system", "argocd", "kube-system", "default", "mesh-system"] {
        let text = base.replace(
            "  version: 2026.07.03-1200\n",
            &format!("  version: 2026.07.03-1200\n  namespace: {namespace}\n"),
        );
        fs::write(&contract, text).unwrap();
        let out = validate(dir.path(), &["--format", "concise"]);
        assert_eq!(out.status.code(), Some(1), "{namespace}: {}", report(&out));
        let want = format!("apps/api/app.yaml:8:14: error[FG032] app `api` would take namespace `{namespace}`");
        assert!(report(&out).contains(&want), "{namespace}: {}", report(&out));
    }
    fs::write(
        &contract,
        base.replace(
            "  version: 2026.07.03-1200\n",
            "  version: 2026.07.03-1200\n  namespace: api-v2\n",
        ),
    )
    .unwrap();
    assert_eq!(validate(dir.path(), &[]).status.code(), Some(0));
}

/// An internal app's hostnames would go on the cluster's gateway; where that gateway is the
/// edge's public origin (`edge.origin`), the route would be reachable from the internet
/// without the origin lock public routes carry: refused, at the exposure, on that cluster.
#[test]
fn an_internal_app_is_not_routed_on_a_public_gateway() {
    let dir = fleet_with(None);
    let cluster = dir.path().join("clusters/eastus-prod-01.yaml");
    let text = fs::read_to_string(&cluster).unwrap();
    fs::write(
        &cluster,
        format!("{text}edge:\n  origin: e7b1c9d2.fz41.alb.azure.com\n"),
    )
    .unwrap();
    assert_eq!(
        validate(dir.path(), &[]).status.code(),
        Some(0),
        "{}",
        report(&validate(dir.path(), &[]))
    );
    let contract = dir.path().join("apps/api/app.yaml");
    let base = fs::read_to_string(&contract).unwrap();
    let with_hostnames = base.replace(
        "  exposure: internal\n",
        "  exposure: internal\n  hostnames: [api.internal.example.com]\n",
    );
    assert_ne!(with_hostnames, base);
    fs::write(&contract, with_hostnames).unwrap();
    let out = validate(dir.path(), &["--format", "concise"]);
    assert_eq!(out.status.code(), Some(1), "{}", report(&out));
    let shown = report(&out);
    assert!(shown.contains("apps/api/app.yaml:12:13: error[FG033] `api` is internal, but the gateway of cluster `eastus-prod-01` is public"), "{shown}");
    // Only where the gateway is the edge's origin.
    assert!(
        !shown.contains("cluster `useast1-prod-01`") && !shown.contains("`eastus-staging-01`"),
        "{shown}"
    );
    fs::write(&cluster, text).unwrap();
    assert_eq!(
        validate(dir.path(), &[]).status.code(),
        Some(0),
        "{}",
        report(&validate(dir.path(), &[]))
    );
}

/// A repository git refuses because another user owns it (`safe.directory`, as in a CI
/// container running as another user) is said on stderr, not silently dropped from the
/// paths of machine formats. Needs the right to give a folder away (root): skipped without.
#[cfg(unix)]
#[test]
fn a_repository_git_refuses_for_its_owner_is_said() {
    let top = tempfile::tempdir().unwrap();
    git2::Repository::init(top.path()).unwrap();
    let fleet = top.path().join("infra/fleet");
    copy_tree(&root().join("tests/fixtures/base"), &fleet);
    let home = tempfile::tempdir().unwrap();
    let run = || {
        let mut cmd = fleetgen();
        cmd.env("HOME", home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("XDG_CONFIG_HOME", home.path())
            .args(["validate", "--format", "concise", "--repo"])
            .arg(&fleet);
        cmd.output().unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("safe.directory"),
        "{}",
        report(&out)
    );
    for entry in walk_dirs(top.path()) {
        if std::os::unix::fs::lchown(&entry, Some(4242), Some(4242)).is_err() {
            eprintln!("skipped: cannot give the repository to another user here");
            return;
        }
    }
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: git refuses the repository"),
        "{}",
        report(&out)
    );
    assert!(stderr.contains("safe.directory"), "{}", report(&out));
    // `diff` needs the repository: it says why git refuses it, not that there is none.
    let out = fleetgen()
        .env("HOME", home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("XDG_CONFIG_HOME", home.path())
        .args(["diff", "--color", "never", "--repo"])
        .arg(&fleet)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("git refuses the repository") && stderr.contains("safe.directory"),
        "{}",
        report(&out)
    );
}

/// Every folder and file under `dir`, `dir` included.
fn walk_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for entry in fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk_dirs(&entry.path()));
        } else {
            out.push(entry.path());
        }
    }
    out
}
