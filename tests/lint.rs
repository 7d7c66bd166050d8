//! `fleetgen lint`: one spec folder per rule, `tests/specs/<family>/<rule>/{invalid,valid}/<case>/`,
//! each case laid over the base fleet. Invalid cases must fire the rule (the diagnostic is a
//! reviewed snapshot); valid ones, near-misses included, must stay silent.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{fleet_with, fleetgen, report, root};

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// `fleetgen lint` on the base fleet with a spec laid over it: the output and its report.
fn lint_spec(case: &Path) -> (std::process::Output, String) {
    let fleet = fleet_with(Some(case));
    let out = fleetgen()
        .args(["lint", "--color", "never", "--repo"])
        .arg(fleet.path())
        .output()
        .unwrap();
    let text = report(&out);
    (out, text)
}

#[test]
fn every_rule_fires_on_its_invalid_specs_and_not_on_its_valid_ones() {
    let specs = root().join("tests/specs");
    let mut checked = 0;
    for family in cases(&specs) {
        for rule_dir in cases(&family) {
            let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
            let code = fleetgen::lint::find(&rule)
                .unwrap_or_else(|| panic!("specs for unknown rule {rule}"))
                .code
                .id;
            let invalid = cases(&rule_dir.join("invalid"));
            let valid = cases(&rule_dir.join("valid"));
            assert!(
                !invalid.is_empty() && !valid.is_empty(),
                "{rule}: needs invalid and valid specs"
            );
            for case in invalid {
                let name = case.file_name().unwrap().to_string_lossy().into_owned();
                let (_, text) = lint_spec(&case);
                assert!(text.contains(code), "{rule}/{name} did not fire: {text}");
                insta::assert_snapshot!(format!("{rule}__{name}"), text);
                checked += 1;
            }
            for case in valid {
                let name = case.file_name().unwrap().to_string_lossy().into_owned();
                let (out, text) = lint_spec(&case);
                assert_eq!(out.status.code(), Some(0), "{rule}/{name}: {text}");
                assert!(!text.contains(code), "{rule}/{name} fired on a valid spec: {text}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 4);
}

#[test]
fn the_bundled_fleet_lints_clean() {
    let out = fleetgen()
        .args(["lint", "--color", "never", "--repo"])
        .arg(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
}

#[test]
fn formats_select_and_explain() {
    let case = root().join("tests/specs/active-active/fake-active-active/invalid/weighted-routing-one-writer");
    let fleet = fleet_with(Some(&case));
    let run = |args: &[&str]| {
        fleetgen()
            .args(["lint", "--color", "never", "--repo"])
            .arg(fleet.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--format", "github"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("::error file=apps/web/app.yaml,line="), "{text}");
    assert!(
        text.contains("title=FG100 fake-active-active::fake active-active"),
        "{text}"
    );
    let out = run(&["--format", "json"]);
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items[0]["code"], "FG100");
    assert_eq!(run(&["--ignore", "FG100"]).status.code(), Some(0));
    assert_eq!(run(&["--select", "fake-active-active"]).status.code(), Some(1));
    let out = fleetgen().args(["explain", "FG100"]).output().unwrap();
    let doc = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        doc.contains("## Why is this bad?") && doc.contains("## Use instead"),
        "{doc}"
    );
}
