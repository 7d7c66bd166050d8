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
    // The sources still validate: nothing was written among them.
    assert_eq!(run(fleet.path(), &["validate"]).status.code(), Some(0));
}
