//! `fleetgen lint`: one spec folder per rule, `tests/specs/<family>/<rule>/{invalid,valid}/<case>/`,
//! each case laid over the base fleet and `tests/fixtures/lint-base` (a staging cluster in
//! the base fleet's EKS region, so that the base fleet itself lints clean). Invalid cases must fire the rule (the diagnostic is a
//! reviewed snapshot); valid ones, near-misses included, must stay silent. The specs run in
//! process, on fleets held in memory, through the same compile and report the binary uses.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{copy_tree, fleet_with, fleetgen, report, root};
use fleetgen::api::{self, Format, Goal, LintFilter, MemoryFiles, Options, Style};

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// `fleetgen lint --format concise` of the fleet in `dir`, with `args`.
fn lint_concise(dir: &Path, args: &[&str]) -> std::process::Output {
    fleetgen()
        .args(["lint", "--color", "never", "--format", "concise", "--repo"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// The base fleet with the lint base and `case` laid over it.
fn lint_fleet(case: Option<&Path>) -> tempfile::TempDir {
    let fleet = fleet_with(Some(&root().join("tests/fixtures/lint-base")));
    if let Some(case) = case {
        copy_tree(case, fleet.path());
    }
    fleet
}

/// `fleetgen lint --color never` on the lint base fleet (with a spec laid over it), in
/// process: the exit code and the report as the binary prints it (`exit: N` and stdout).
fn lint_spec(case: Option<&Path>) -> (u8, String) {
    let mut files = MemoryFiles::from_dir(&root().join("tests/fixtures/base")).unwrap();
    files.add_dir(&root().join("tests/fixtures/lint-base")).unwrap();
    if let Some(case) = case {
        files.add_dir(case).unwrap();
    }
    files.set_today(common::today());
    let compiled = api::compile(&files, &Options::new(Goal::Lint));
    let style = Style::plain(Format::Text);
    let (code, text) = api::lint_report(compiled, &LintFilter::default(), &style, false);
    (code, format!("exit: {code}\n{text}"))
}

#[test]
fn every_rule_fires_on_its_invalid_specs_and_not_on_its_valid_ones() {
    let specs = root().join("tests/specs");
    let mut checked = 0;
    for family in cases(&specs) {
        for rule_dir in cases(&family) {
            let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
            let code = api::rule(&rule)
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
                let (_, text) = lint_spec(Some(&case));
                assert!(text.contains(code), "{rule}/{name} did not fire: {text}");
                insta::assert_snapshot!(format!("{rule}__{name}"), text);
                checked += 1;
            }
            for case in valid {
                let name = case.file_name().unwrap().to_string_lossy().into_owned();
                let (exit, text) = lint_spec(Some(&case));
                assert_eq!(exit, 0, "{rule}/{name}: {text}");
                assert!(!text.contains(code), "{rule}/{name} fired on a valid spec: {text}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 4);
}

#[test]
fn the_lint_base_fleet_has_no_findings() {
    let (code, text) = lint_spec(None);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("no findings"), "{text}");
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
    let fleet = lint_fleet(Some(&case));
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
    // A code that names nothing is echoed with its control characters escaped.
    let out = fleetgen().args(["explain", "FG100\n\u{1b}[2Jx"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: no code `FG100\\n\\u{1b}[2Jx`") && err.lines().count() == 1,
        "{err:?}"
    );
}

/// `docs/rules/`: one page per rule, generated from the rule's doc comment, and an index.
fn rule_docs() -> std::collections::BTreeMap<String, String> {
    let mut pages = std::collections::BTreeMap::new();
    let mut index = String::from(
        "<!-- Generated from src/lint/rules by `FLEETGEN_BLESS=1 cargo test --test lint`. -->\n\
         # fleetgen rules\n\n\
         `fleetgen rules` lists them, `fleetgen explain CODE` prints a page, and fleet.yaml's\n\
         `lint.severity` changes a rule's severity (`error`, `warning` or `off`).\n\n\
         | code | name | family | default | checked by |\n|---|---|---|---|---|\n",
    );
    for rule in api::rules() {
        let file = format!("{}-{}.md", rule.code.id, rule.code.name);
        index.push_str(&format!(
            "| [{}]({file}) | {} | {} | {} | {} |\n",
            rule.code.id,
            rule.code.name,
            rule.family,
            rule.code.default.as_str(),
            rule.stage
        ));
        pages.insert(file, rule.markdown);
    }
    pages.insert("README.md".to_string(), index);
    pages
}

#[test]
fn docs_rules_match_the_rule_doc_comments() {
    let dir = root().join("docs/rules");
    let want = rule_docs();
    if std::env::var_os("FLEETGEN_BLESS").is_some() {
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (name, text) in &want {
            fs::write(dir.join(name), text).unwrap();
        }
    }
    let have = common::read_tree(&dir);
    let stale: Vec<&String> = have.keys().filter(|k| !want.contains_key(*k)).collect();
    let differ: Vec<&String> = want.keys().filter(|k| have.get(*k) != want.get(*k)).collect();
    assert!(
        stale.is_empty() && differ.is_empty(),
        "docs/rules is out of date (stale: {stale:?}, differ: {differ:?}); run FLEETGEN_BLESS=1 cargo test --test lint"
    );
}

#[test]
fn sarif_names_every_rule_and_locates_results_in_sources() {
    let case = root().join("tests/specs/active-active/fake-active-active/invalid/weighted-routing-one-writer");
    let fleet = lint_fleet(Some(&case));
    let out = fleetgen()
        .args(["lint", "--format", "sarif", "--repo"])
        .arg(fleet.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for rule in api::rules() {
        let meta = rules.iter().find(|r| r["id"] == rule.code.id).unwrap();
        assert_eq!(meta["name"], rule.code.name);
        assert_eq!(meta["defaultConfiguration"]["level"], rule.code.default.as_str());
        assert!(
            meta["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## Why is this bad?")
        );
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    let r = &results[0];
    assert_eq!(r["ruleId"], "FG100");
    assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"], "FG100");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "apps/web/app.yaml");
    assert!(loc["region"]["startLine"].as_u64().unwrap() > 1);
    assert!(!r["relatedLocations"].as_array().unwrap().is_empty());
    assert_eq!(r["properties"]["app"], "web");
}

#[test]
fn fleet_yaml_changes_severities() {
    let case = root().join("tests/specs/drift/undocumented-cluster/invalid/no-description");
    let fleet = lint_fleet(Some(&case));
    let path = fleet.path().join("fleet.yaml");
    let base = fs::read_to_string(&path).unwrap();
    let run = || {
        fleetgen()
            .args(["lint", "--color", "never", "--format", "json", "--repo"])
            .arg(fleet.path())
            .output()
            .unwrap()
    };
    let findings = |out: &std::process::Output| -> Vec<(String, String)> {
        let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["code"].as_str().unwrap().to_string(),
                    i["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // The default: a warning, exit 0.
    let out = run();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(findings(&out), [("FG123".to_string(), "warning".to_string())]);
    // Raised to an error by name.
    fs::write(
        &path,
        format!("{base}lint:\n  severity:\n    undocumented-cluster: error\n"),
    )
    .unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(findings(&out), [("FG123".to_string(), "error".to_string())]);
    // Off by code.
    fs::write(&path, format!("{base}lint:\n  severity:\n    FG123: off\n")).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(0));
    assert!(findings(&out).is_empty());
    // A rule that does not exist is an error at its line, with a suggestion.
    fs::write(
        &path,
        format!("{base}lint:\n  severity:\n    undocumented-clusters: off\n"),
    )
    .unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", report(&out));
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &items[0];
    assert_eq!(
        (d["code"].as_str(), d["file"].as_str()),
        (Some("FG023"), Some("fleet.yaml"))
    );
    // The key's line: after the base file, `lint:` and `severity:`.
    let line = base.lines().count() as u64 + 3;
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(line), Some(5)));
    assert_eq!(d["help"], "did you mean `undocumented-cluster`?");
}

#[test]
fn an_exemption_waives_a_lint_finding_for_its_target_until_it_expires() {
    let case = root().join("tests/specs/active-active/critical-single-region/invalid/tier-1-in-one-region");
    let lint = |exemptions: &[(&str, &str)]| {
        let mut files = MemoryFiles::from_dir(&root().join("tests/fixtures/base")).unwrap();
        files.add_dir(&root().join("tests/fixtures/lint-base")).unwrap();
        files.add_dir(&case).unwrap();
        for (name, text) in exemptions {
            files.insert(format!("policy-library/exemptions/{name}.yaml"), text.to_string());
        }
        files.set_today(common::today());
        let compiled = api::compile(&files, &Options::new(Goal::Lint));
        let style = Style::plain(Format::Concise);
        api::lint_report(compiled, &LintFilter::default(), &style, false)
    };
    let waiver = |rule: &str, target: &str, expires: &str| {
        format!(
            "name: web-single-region\nrule: {rule}\ntarget: {target}\nowner: web-team\nreason: \"Second region lands next quarter (WEB-42)\"\nexpires: \"{expires}\"\n"
        )
    };
    let (code, text) = lint(&[]);
    assert!(code == 1 && text.contains("FG104"), "{text}");
    // By name or by code, for the app: waived.
    for rule in ["critical-single-region", "FG104", "fg104"] {
        let (code, text) = lint(&[("web-single-region", &waiver(rule, "{ app: web }", "2027-06-30"))]);
        assert_eq!(code, 0, "{rule}: {text}");
        assert!(!text.contains("FG104") && !text.contains("FG092"), "{rule}: {text}");
    }
    // For another app: the finding stays, and the exemption turned nothing off.
    let (code, text) = lint(&[("web-single-region", &waiver("FG104", "{ app: api }", "2027-06-30"))]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FG104") && text.contains("FG092"), "{text}");
    // Expired: an error that fails the gate (and waives nothing).
    let (code, text) = lint(&[("web-single-region", &waiver("FG104", "{ app: web }", "2026-01-31"))]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FG090"), "{text}");
    // A rule that does not exist is refused.
    let (code, text) = lint(&[(
        "web-single-region",
        &waiver("critical-single-regoin", "{ app: web }", "2027-06-30"),
    )]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FG093") && text.contains("not a policy finding code or a lint rule"),
        "{text}"
    );
}

/// A finding about an app is in the app's namespace: an exemption of the namespace waives
/// it, whether the rule reports a rendered object (FG111), a value of the app's values file
/// (FG141) or a string of its contract (FG142).
#[test]
fn an_exemption_of_a_namespace_waives_the_findings_about_its_apps() {
    let lint = |case: &str, extra: &[(&str, String)], namespace: &str, rule: &str| {
        let mut files = MemoryFiles::from_dir(&root().join("tests/fixtures/base")).unwrap();
        files.add_dir(&root().join("tests/fixtures/lint-base")).unwrap();
        if !case.is_empty() {
            files.add_dir(&root().join("tests/specs").join(case)).unwrap();
        }
        for (path, text) in extra {
            files.insert(path.to_string(), text.clone());
        }
        files.insert(
            "policy-library/exemptions/web-namespace.yaml".to_string(),
            format!(
                "name: web-namespace\nrule: {rule}\ntarget: {{ namespace: {namespace} }}\nowner: web-team\nreason: \"A test account (WEB-7)\"\nexpires: \"2027-06-30\"\n"
            ),
        );
        files.set_today(common::today());
        let compiled = api::compile(&files, &Options::new(Goal::Lint));
        let style = Style::plain(Format::Concise);
        api::lint_report(compiled, &LintFilter::default(), &style, false).1
    };
    let contract = fs::read_to_string(root().join("tests/fixtures/base/apps/web/app.yaml")).unwrap();
    let described = contract.replace(
        "  owner: web-team\n",
        "  owner: web-team\n  description: \"Smoke login: the demo password is Demo-2026\"\n",
    );
    assert_ne!(described, contract);
    let cases = [
        (
            "labels/managed-label-override/invalid/team-label-in-a-template",
            vec![],
            "FG111",
            "managed-label-override",
        ),
        (
            "secrets/plaintext-credential/invalid/password-in-a-values-file",
            vec![],
            "FG141",
            "plaintext-credential",
        ),
        (
            "",
            vec![("apps/web/app.yaml", described)],
            "FG142",
            "credential-pattern",
        ),
    ];
    for (case, extra, code, rule) in cases {
        let text = lint(case, &extra, "web", rule);
        assert!(!text.contains(code) && !text.contains("FG092"), "{rule}: {text}");
        // Another namespace: the finding stays, and the exemption turned nothing off.
        let text = lint(case, &extra, "api", rule);
        assert!(text.contains(code) && text.contains("FG092"), "{rule}: {text}");
    }
}

/// `fleetgen lint --format concise ARGS` on the fleet in `dir`: its exit code and report.
fn lint_code(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = lint_concise(dir, args);
    (out.status.code(), report(&out))
}

#[test]
fn a_baseline_holds_todays_findings_and_fails_only_on_new_ones() {
    let fleet = lint_fleet(Some(
        &root().join("tests/specs/active-active/critical-single-region/invalid/tier-1-in-one-region"),
    ));
    let dir = fleet.path();
    let lint = |args: &[&str]| lint_code(dir, args);
    let baseline = dir.join("lint-baseline.json");
    let baseline = baseline.to_str().unwrap();
    let (code, text) = lint(&[]);
    assert!(code == Some(1) && text.contains("FG104"), "{text}");
    let (code, text) = lint(&["--write-baseline", baseline]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("wrote a baseline of 1 finding to"), "{text}");
    let recorded = fs::read_to_string(baseline).unwrap();
    assert!(
        recorded.contains("\"code\": \"FG104\"") && recorded.contains("apps/web/app.yaml"),
        "{recorded}"
    );
    // Today's finding is held; a finding moved by an edit above it is still the same one.
    let (code, text) = lint(&["--baseline", baseline]);
    assert_eq!(code, Some(0), "{text}");
    let contract = dir.join("apps/web/app.yaml");
    let original = fs::read_to_string(&contract).unwrap();
    fs::write(&contract, format!("# the web front end\n{original}")).unwrap();
    let (code, text) = lint(&["--baseline", baseline]);
    assert_eq!(code, Some(0), "{text}");
    // A new finding fails the gate, alone.
    let api = dir.join("apps/api/app.yaml");
    let text_api = fs::read_to_string(&api).unwrap();
    fs::write(
        &api,
        text_api.replace("[azure:eastus, aws:us-east-1]", "[azure:eastus]"),
    )
    .unwrap();
    let (code, text) = lint(&["--baseline", baseline]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("apps/api/app.yaml") && !text.contains("apps/web/app.yaml"),
        "{text}"
    );
    // The held finding fixed: the baseline says it is out of date.
    fs::write(
        &contract,
        original.replace("criticality: tier-1", "criticality: tier-2"),
    )
    .unwrap();
    let (_, text) = lint(&["--baseline", baseline]);
    assert!(text.contains("1 finding of the baseline"), "{text}");
    // Not a baseline: exit 2, located.
    fs::write(dir.join("bad.json"), "{\n  \"findings\": [\n").unwrap();
    let (code, text) = lint(&["--baseline", dir.join("bad.json").to_str().unwrap()]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("bad.json:3:"), "{text}");
}

/// A platform team adding a cluster does not fail the baselined findings of every app: the
/// message says "rendered on 5 clusters" where the baseline recorded 4, and the finding is
/// still held by its code, file and subject; a new one at another place still fails.
#[test]
fn a_baseline_holds_its_findings_when_a_cluster_is_added() {
    let fleet = lint_fleet(Some(
        &root().join("tests/specs/secrets/credential-pattern/invalid/password-in-a-url"),
    ));
    let dir = fleet.path();
    let lint = |args: &[&str]| lint_code(dir, args);
    let baseline = dir.join("lint-baseline.json");
    let baseline = baseline.to_str().unwrap();
    let (code, text) = lint(&["--write-baseline", baseline]);
    assert_eq!(code, Some(0), "{text}");
    let recorded = fs::read_to_string(baseline).unwrap();
    assert!(
        recorded.contains("(rendered on 4 clusters)") && recorded.contains("\"subject\": \""),
        "{recorded}"
    );
    assert!(
        !recorded.contains("Tr0ub4dor3"),
        "the credential is not copied: {recorded}"
    );
    let first = fs::read_to_string(dir.join("clusters/eastus-prod-01.yaml")).unwrap();
    let second = first
        .replace("eastus-prod-01", "eastus-prod-02")
        .replace("cell: cell-a", "cell: cell-b")
        .replace(
            "00000000-0000-0000-0000-000000000001/",
            "99999999-0000-0000-0000-000000000002/",
        );
    fs::write(dir.join("clusters/eastus-prod-02.yaml"), second).unwrap();
    let (code, text) = lint(&[]);
    assert!(code == Some(1) && text.contains("(rendered on 5 clusters)"), "{text}");
    let (code, text) = lint(&["--baseline", baseline]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("no longer occur"), "{text}");
    // A second credential in the same file is new.
    let template = dir.join("apps/api/templates/settings.yaml.j2");
    let settings = fs::read_to_string(&template).unwrap();
    fs::write(
        &template,
        format!("{settings}  CACHE_URL: redis://api:Xk9vQ2mP7rT4@api-cache:6379/0\n"),
    )
    .unwrap();
    let (code, text) = lint(&["--baseline", baseline]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("CACHE_URL") && !text.contains("DATABASE_URL"), "{text}");
}

#[test]
fn a_baseline_is_never_written_over_a_source_an_output_or_through_a_link() {
    let fleet = lint_fleet(None);
    let dir = fleet.path();
    let write = |target: &Path| {
        let out = fleetgen()
            .args(["lint", "--color", "never", "--repo"])
            .arg(dir)
            .arg("--write-baseline")
            .arg(target)
            .output()
            .unwrap();
        (out.status.code(), report(&out))
    };
    let outside = tempfile::tempdir().unwrap();
    let kept = outside.path().join("kept.txt");
    fs::write(&kept, "not a baseline\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&kept, dir.join("link.json")).unwrap();
    fs::create_dir_all(dir.join("rendered")).unwrap();
    let sources = ["fleet.yaml", "apps/web/app.yaml"].map(|f| (f, fs::read(dir.join(f)).unwrap()));
    for (target, said) in [
        ("fleet.yaml", "/fleet.yaml` exists and is not a fleetgen baseline"),
        ("apps/web/app.yaml", "exists and is not a fleetgen baseline"),
        (
            "clusters/baseline.json",
            "is inside `clusters/`, a folder fleetgen reads",
        ),
        (
            "rendered/baseline.json",
            "is inside `rendered/`, a folder fleetgen writes",
        ),
        #[cfg(unix)]
        ("link.json", "is a symbolic link"),
    ] {
        let (code, text) = write(&dir.join(target));
        assert_eq!(code, Some(2), "{target}: {text}");
        assert!(
            text.contains(said) && text.contains("no baseline written"),
            "{target}: {text}"
        );
    }
    for (file, bytes) in &sources {
        assert_eq!(&fs::read(dir.join(file)).unwrap(), bytes, "{file} changed");
    }
    assert_eq!(fs::read_to_string(&kept).unwrap(), "not a baseline\n");
    assert!(!dir.join("clusters/baseline.json").exists() && !dir.join("rendered/baseline.json").exists());
    // Beside the sources, or outside the fleet: written, and a baseline is written over.
    for target in [dir.join("fleetgen-baseline.json"), outside.path().join("baseline.json")] {
        for _ in 0..2 {
            let (code, text) = write(&target);
            assert_eq!(code, Some(0), "{}: {text}", target.display());
        }
        assert!(fs::read_to_string(&target).unwrap().contains("\"fleetgenBaseline\": 1"));
    }
}

/// A cache folder ignores its files (`.gitignore` `*`): a baseline written there would never
/// be committed. Refused wherever the cache is (`FLEETGEN_CACHE_DIR` outside the fleet), and
/// in the fleet's `.fleetgen/` whichever cache is set.
#[test]
fn a_baseline_is_never_written_into_a_cache_folder() {
    let fleet = lint_fleet(None);
    let dir = fleet.path();
    let outside = tempfile::tempdir().unwrap();
    let cache = outside.path().join("cache");
    fs::create_dir_all(&cache).unwrap();
    fs::create_dir_all(dir.join(".fleetgen")).unwrap();
    for (env, target) in [
        (Some(&cache), cache.join("baseline.json")),
        (Some(&cache), dir.join(".fleetgen/baseline.json")),
        (None, dir.join(".fleetgen/baseline.json")),
    ] {
        let mut command = fleetgen();
        command.args(["lint", "--color", "never", "--repo"]).arg(dir);
        command
            .arg("--write-baseline")
            .arg(&target)
            .env_remove("FLEETGEN_CACHE_DIR");
        if let Some(cache) = env {
            command.env("FLEETGEN_CACHE_DIR", cache);
        }
        let out = command.output().unwrap();
        let text = report(&out);
        assert_eq!(out.status.code(), Some(2), "{}: {text}", target.display());
        assert!(
            text.contains("a folder fleetgen caches in") && text.contains("no baseline written"),
            "{}: {text}",
            target.display()
        );
        assert!(!target.exists(), "{}", target.display());
    }
}

/// `--select` and `--ignore` narrow the rules and policy findings, never the errors that say
/// the fleet cannot be read: a CI job linting one family must not pass a broken fleet.
#[test]
fn select_and_ignore_never_hide_an_input_error() {
    let fleet = lint_fleet(None);
    let dir = fleet.path();
    let app = dir.join("apps/web/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    for (broken, code) in [
        (format!("{text}bogus: 1\n"), "FG010"),
        (format!("{text}extra: [\n"), "FG002"),
    ] {
        fs::write(&app, &broken).unwrap();
        for args in [
            &["--select", "FG1"][..],
            &["--ignore", code][..],
            &["--select", "fake-active-active"][..],
        ] {
            let out = lint_concise(dir, args);
            assert_eq!(out.status.code(), Some(2), "{code} {args:?}: {}", report(&out));
            assert!(
                report(&out).contains(&format!("error[{code}]")),
                "{code} {args:?}: {}",
                report(&out)
            );
        }
    }
    fs::write(&app, text).unwrap();
}
