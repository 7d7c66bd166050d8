//! `fleetgen render`, run as users run it.
//!
//! - Golden trees: `tests/golden/<case>/input/` is laid over `tests/fixtures/base/`, rendered,
//!   and compared file by file with `tests/golden/<case>/expected/`. After a reviewed change,
//!   `FLEETGEN_BLESS=1 cargo test --test render` rewrites the expected trees.
//! - Render errors: `tests/fixtures/render-invalid/<case>/` is laid over the base fleet; the
//!   diagnostics are snapshots, and nothing may be written.
//! - The bundled fleet: `rendered/` is what the sources compile to, byte for byte, from any
//!   working directory and time zone.

mod common;

use common::{copy_tree, fleet_with, fleetgen, read_tree, report, root};

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

fn render(repo: &Path, extra: &[&str]) -> Output {
    fleetgen()
        .args(["render", "--color", "never", "--repo"])
        .arg(repo)
        .args(extra)
        .output()
        .unwrap()
}

fn case_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

/// A readable account of how two trees differ.
fn tree_diff(expected: &BTreeMap<String, String>, actual: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for path in expected.keys().filter(|p| !actual.contains_key(*p)) {
        out.push_str(&format!("missing: {path}\n"));
    }
    for path in actual.keys().filter(|p| !expected.contains_key(*p)) {
        out.push_str(&format!("unexpected: {path}\n"));
    }
    for (path, want) in expected {
        if let Some(got) = actual.get(path)
            && got != want
        {
            out.push_str(&format!("differs: {path}\n"));
            for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
                if w != g {
                    out.push_str(&format!("  line {}:\n  - {w}\n  + {g}\n", i + 1));
                    break;
                }
            }
            if want.lines().count() != got.lines().count() {
                out.push_str(&format!(
                    "  {} lines expected, {} rendered\n",
                    want.lines().count(),
                    got.lines().count()
                ));
            }
        }
    }
    out
}

#[test]
fn golden_trees() {
    let bless = std::env::var_os("FLEETGEN_BLESS").is_some();
    let mut failures = String::new();
    for case in case_dirs(&root().join("tests/golden")) {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let input = case.join("input");
        let fleet = fleet_with(input.exists().then_some(input.as_path()));
        let out = render(fleet.path(), &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", report(&out));
        let actual = read_tree(&fleet.path().join("rendered"));
        let expected_dir = case.join("expected");
        if bless {
            let _ = fs::remove_dir_all(&expected_dir);
            copy_tree(&fleet.path().join("rendered"), &expected_dir);
            continue;
        }
        let expected = read_tree(&expected_dir);
        let diff = tree_diff(&expected, &actual);
        if !diff.is_empty() {
            failures.push_str(&format!("golden case `{name}`:\n{diff}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{failures}\nreview the change, then FLEETGEN_BLESS=1 cargo test --test render"
    );
}

#[test]
fn render_errors_are_located_and_write_nothing() {
    let cases = case_dirs(&root().join("tests/fixtures/render-invalid"));
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let fleet = fleet_with(Some(&case));
        let out = render(fleet.path(), &[]);
        let text = report(&out).replace(&fleet.path().display().to_string(), "<repo>");
        assert_ne!(out.status.code(), Some(0), "{name}: {text}");
        assert!(
            !fleet.path().join("rendered").exists(),
            "{name}: a failed render wrote files"
        );
        insta::assert_snapshot!(format!("render_invalid__{name}"), text);
    }
}

#[test]
fn a_failed_render_leaves_the_previous_tree_untouched() {
    let fleet = fleet_with(None);
    let out = render(fleet.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let before = read_tree(&fleet.path().join("rendered"));
    assert!(before.len() > 10);
    // Fails on the last cluster only: strict mode refuses `cluster.azure` on the AWS cluster.
    let templates = fleet.path().join("apps/api/templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(
        templates.join("vault.yaml.j2"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vault\ndata:\n  name: {{ cluster.azure.keyVault | tojson }}\n",
    )
    .unwrap();
    // A change that would alter the other clusters' files, had the render succeeded.
    let app = fleet.path().join("apps/api/app.yaml");
    let text = fs::read_to_string(&app)
        .unwrap()
        .replace("2026.07.03-1200", "2026.07.04-0800");
    fs::write(&app, text).unwrap();
    let out = render(fleet.path(), &[]);
    let text = report(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("apps/api/templates/vault.yaml.j2:6:"), "{text}");
    assert!(text.contains("useast1-prod-01"), "{text}");
    assert_eq!(read_tree(&fleet.path().join("rendered")), before);
    let leftovers: Vec<String> = fs::read_dir(fleet.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("fleetgen") && n != ".fleetgen") // the cache is meant to stay
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A template is rendered once for each distinct value of what it reads of its context
/// (the render memo): on the bundled fleet and a golden case with app templates, most
/// renders come from it, and with it off (`FLEETGEN_RENDER_MEMO=off`, every template
/// rendered for every placement) the tree is the same, file for file.
#[test]
fn the_render_memo_is_used_and_changes_no_file() {
    let templates = root().join("tests/golden/charts-and-templates");
    let golden = fleet_with(Some(&templates.join("input")));
    for (repo, expected) in [
        (root(), root().join("rendered")),
        (golden.path().to_path_buf(), templates.join("expected")),
    ] {
        let expected = read_tree(&expected);
        for memo in ["on", "off"] {
            let out = tempfile::tempdir().unwrap();
            let run = fleetgen()
                .env("FLEETGEN_RENDER_MEMO", memo)
                .args(["render", "--no-cache", "-v", "--color", "never", "--repo"])
                .arg(&repo)
                .arg("--out")
                .arg(out.path())
                .output()
                .unwrap();
            assert_eq!(run.status.code(), Some(0), "{}", report(&run));
            let stderr = String::from_utf8_lossy(&run.stderr);
            let counts = stderr
                .split("template renders: ")
                .nth(1)
                .and_then(|rest| rest.split(" from the render memo").next())
                .unwrap_or_else(|| panic!("no template counts in {stderr}"));
            let (rendered, reused) = counts.split_once(" rendered, ").unwrap();
            let (rendered, reused): (usize, usize) = (rendered.parse().unwrap(), reused.parse().unwrap());
            match memo {
                "on" => assert!(reused > rendered, "{repo:?}: {counts}"),
                _ => assert_eq!(reused, 0, "{repo:?}: {counts}"),
            }
            let tree = read_tree(out.path());
            let diff = tree_diff(&expected, &tree);
            assert!(diff.is_empty(), "{repo:?}, memo {memo}:\n{diff}");
        }
    }
}

#[test]
fn the_bundled_fleet_renders_to_the_committed_tree_from_anywhere() {
    let committed = read_tree(&root().join("rendered"));
    assert!(!committed.is_empty(), "rendered/ is committed");
    let elsewhere = tempfile::tempdir().unwrap();
    // An absolute repo path from a foreign working directory and time zone …
    let out_a = elsewhere.path().join("a");
    let run = fleetgen()
        .current_dir(elsewhere.path())
        .env("TZ", "Pacific/Kiritimati")
        .env("LC_ALL", "C")
        .args(["render", "--repo"])
        .arg(root())
        .arg("--out")
        .arg(&out_a)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", report(&run));
    // … and a relative one from the repository, in another zone.
    let out_b = elsewhere.path().join("b");
    let run = fleetgen()
        .current_dir(root())
        .env("TZ", "America/St_Johns")
        .args(["render", "--repo", ".", "--out"])
        .arg(&out_b)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", report(&run));
    let a = read_tree(&out_a);
    let b = read_tree(&out_b);
    assert_eq!(a, b, "two renders differ:\n{}", tree_diff(&a, &b));
    let diff = tree_diff(&committed, &a);
    assert!(
        diff.is_empty(),
        "rendered/ is stale; run `cargo run -- render`:\n{diff}"
    );
    for (path, text) in &a {
        assert!(
            !text.contains(&root().display().to_string()),
            "{path} holds an absolute path"
        );
        assert!(!text.contains('\r'), "{path} has CR line endings");
    }
}

#[test]
fn app_selection_renders_one_app_and_says_where_it_lands() {
    let fleet = fleet_with(None);
    render(fleet.path(), &[]);
    let before = read_tree(&fleet.path().join("rendered"));
    let out = render(fleet.path(), &["--app", "web"]);
    let text = report(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("web → eastus-prod-01 (prod, ring prod)"), "{text}");
    assert!(
        text.contains("web → eastus-staging-01 (staging, ring staging)"),
        "{text}"
    );
    assert!(!text.contains("api →"), "{text}");
    // Same sources, so the same tree; the other app's files were kept, not re-rendered away.
    assert_eq!(read_tree(&fleet.path().join("rendered")), before);
    let out = render(fleet.path(), &["--app", "webb"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        report(&out).contains("no app `webb`; did you mean `web`?"),
        "{}",
        report(&out)
    );
}

#[test]
fn cluster_selection_replaces_only_that_cluster() {
    let fleet = fleet_with(None);
    render(fleet.path(), &[]);
    let stale = fleet.path().join("rendered/eastus-staging-01/apps/web/stale.yaml");
    fs::write(&stale, "# Rendered by fleetgen\n").unwrap();
    let kept = fleet.path().join("rendered/eastus-prod-01/apps/web/kept.yaml");
    fs::write(&kept, "# Rendered by fleetgen\n").unwrap();
    let out = render(fleet.path(), &["--cluster", "eastus-staging-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(!stale.exists(), "the selected cluster's folder is replaced whole");
    assert!(kept.exists(), "other clusters are left alone");
}

#[test]
fn stdout_prints_the_stream_and_writes_nothing() {
    let fleet = fleet_with(None);
    let out = render(
        fleet.path(),
        &["--stdout", "--app", "api", "--cluster", "useast1-prod-01"],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(!fleet.path().join("rendered").exists());
    assert!(text.starts_with("---\n# "), "{text}");
    assert!(
        text.contains("# useast1-prod-01/apps/api/deployment-api.yaml\n"),
        "{text}"
    );
    assert!(
        text.contains("eks.amazonaws.com/role-arn: arn:aws:iam::111111111111:role/base-api"),
        "{text}"
    );
    assert!(!text.contains("eastus-prod-01/"), "{text}");
}

#[test]
fn stdout_of_one_app_prints_its_own_gitops_objects_and_no_other_apps() {
    // `pay-api` ends in `-api`: its GitOps objects are not `api`'s.
    let fleet = fleet_with(None);
    let contract = fs::read_to_string(fleet.path().join("apps/api/app.yaml")).unwrap();
    fs::create_dir_all(fleet.path().join("apps/pay-api")).unwrap();
    fs::write(
        fleet.path().join("apps/pay-api/app.yaml"),
        contract.replace("name: api\n", "name: pay-api\n"),
    )
    .unwrap();
    let out = render(fleet.path(), &["--stdout", "--app", "api"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    // Each file is `---`, `# <path>`, its text.
    let files: Vec<&str> = text.split("---\n# ").skip(1).filter_map(|f| f.lines().next()).collect();
    let gitops: Vec<&str> = files.iter().copied().filter(|f| f.contains("/gitops/")).collect();
    assert_eq!(
        gitops,
        [
            "eastus-prod-01/gitops/kustomization-api.yaml",
            "eastus-staging-01/gitops/kustomization-api.yaml",
            "useast1-prod-01/gitops/application-useast1-prod-01-api.yaml"
        ]
    );
    assert!(
        files.iter().all(|f| f.contains("/apps/api/") || f.contains("/gitops/")),
        "{files:?}"
    );
}

#[test]
fn explain_values_names_the_line_of_every_value() {
    let case = root().join("tests/golden/charts-and-templates/input");
    let fleet = fleet_with(Some(&case));
    let out = render(fleet.path(), &["--explain-values", "shop", "eastus-prod-02"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    insta::assert_snapshot!("explain_values_shop", text);
    let out = render(fleet.path(), &["--explain-values", "web", "eastus-prod-02"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(report(&out).contains("has no `chart:`"), "{}", report(&out));
}

#[test]
fn refuses_to_replace_a_folder_it_did_not_write() {
    let fleet = fleet_with(None);
    let precious = fleet.path().join("docs");
    fs::create_dir_all(&precious).unwrap();
    fs::write(precious.join("notes.md"), "mine").unwrap();
    let out = render(fleet.path(), &["--out", precious.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", report(&out));
    assert!(report(&out).contains("was not written by fleetgen"), "{}", report(&out));
    assert_eq!(fs::read_to_string(precious.join("notes.md")).unwrap(), "mine");
}

#[test]
fn exemptions_free_their_target_and_warn_when_unused_or_expiring() {
    let case = root().join("tests/golden/policy-exemptions/input");
    let fleet = fleet_with(Some(&case));
    let out = render(fleet.path(), &["--format", "concise"]);
    let text = report(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("warning[FG092] exemption `digest-leftover` turned no finding off"),
        "{text}"
    );
    assert!(
        text.contains("warning[FG091] exemption `staging-non-root` expires on 2026-11-30 (in 8 days"),
        "{text}"
    );
    assert!(
        !text.contains("FG060") && !text.contains("FG068"),
        "exempted findings are reported: {text}"
    );
    let rendered = fleet.path().join("rendered");
    // A cluster-wide exemption: no admission policy on that cluster, an Azure exemption with expiry.
    assert!(
        !rendered
            .join("eastus-staging-01/policy/validatingadmissionpolicy-fleetgen-must-run-as-non-root.yaml")
            .exists()
    );
    assert!(
        rendered
            .join("eastus-prod-01/policy/validatingadmissionpolicy-fleetgen-must-run-as-non-root.yaml")
            .exists()
    );
    let arm = fs::read_to_string(rendered.join("eastus-staging-01/azure/policy-assignments.json")).unwrap();
    assert!(
        arm.contains("\"Microsoft.Authorization/policyExemptions\"")
            && arm.contains("\"expiresOn\": \"2026-11-30T23:59:59Z\""),
        "{arm}"
    );
    // An app exemption frees the app's namespace in the binding.
    let binding = fs::read_to_string(rendered.join(
        "useast1-prod-01/policy/validatingadmissionpolicybinding-fleetgen-must-not-mount-service-account-token-unless-needed.yaml",
    ))
    .unwrap();
    assert!(binding.contains("- web\n"), "{binding}");
    // The same fleet a day after the expiry: an error, and the finding is back.
    let out = fleetgen()
        .env("FLEETGEN_TODAY", "2026-12-01")
        .args(["render", "--color", "never", "--format", "concise", "--repo"])
        .arg(fleet.path())
        .output()
        .unwrap();
    let text = report(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error[FG090] exemption `staging-non-root` expired on 2026-11-30"),
        "{text}"
    );
}

#[test]
fn quiet_prints_nothing_and_no_progress_reaches_a_pipe() {
    // With the lint base, the fleet lints clean too.
    let fleet = fleet_with(Some(&root().join("tests/fixtures/lint-base")));
    // stderr is a pipe here, as in CI: no progress bar, whatever the size.
    let out = render(fleet.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(out.stderr.is_empty(), "{}", report(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("rendered "));
    let out = render(fleet.path(), &["--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{}", report(&out));
    assert!(fleet.path().join("rendered/fleet.yaml").is_file());
    for command in ["validate", "check", "lint"] {
        let out = fleetgen()
            .args([command, "-q", "--repo"])
            .arg(fleet.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{command}: {}", report(&out));
        assert!(out.stdout.is_empty(), "{command}: {}", report(&out));
    }
}

/// Every SecretProviderClass fleetgen renders (the identity-secrets golden) fits the
/// upstream CRD schema (vendored in tests/data/crd, see its SOURCES.md), and the Deployment
/// mounts the class by name through the Secrets Store CSI driver.
#[test]
fn secret_provider_classes_fit_the_upstream_crd_and_are_mounted() {
    let schema: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(root().join("tests/data/crd/secretproviderclass-v1.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let tree = read_tree(&root().join("tests/golden/identity-secrets/expected"));
    let mut checked = 0;
    for (path, text) in &tree {
        if !path.ends_with("secretproviderclass-api-secrets.yaml") {
            continue;
        }
        let object: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        let errors: Vec<String> = validator.iter_errors(&object).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{path}: {errors:?}");
        assert_eq!(object["apiVersion"], "secrets-store.csi.x-k8s.io/v1", "{path}");
        let provider = object["spec"]["provider"].as_str().unwrap();
        let parameters = &object["spec"]["parameters"];
        match provider {
            "azure" => {
                assert!(
                    parameters["keyvaultName"].as_str().unwrap().starts_with("kv-"),
                    "{path}"
                );
                assert!(
                    parameters["objects"]
                        .as_str()
                        .unwrap()
                        .contains("objectName: api-db-credentials"),
                    "{path}"
                );
            }
            "aws" => {
                assert_eq!(parameters["region"], "us-east-1", "{path}");
                assert!(
                    parameters["objects"]
                        .as_str()
                        .unwrap()
                        .contains("objectName: \"api/db-credentials\""),
                    "{path}"
                );
            }
            other => panic!("{path}: provider {other}"),
        }
        let deployment = path.replace("secretproviderclass-api-secrets.yaml", "deployment-api.yaml");
        let deployment: serde_json::Value = serde_saphyr::from_str(&tree[&deployment]).unwrap();
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(
            pod["volumes"][0]["csi"]["volumeAttributes"]["secretProviderClass"], "api-secrets",
            "{path}"
        );
        assert_eq!(pod["volumes"][0]["csi"]["driver"], "secrets-store.csi.k8s.io", "{path}");
        assert_eq!(
            pod["containers"][0]["volumeMounts"][0]["name"], "secrets-store",
            "{path}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "three clusters run api");
}

/// Every SecretProviderClass of every golden tree and of the bundled fleet's rendered/
/// (plain Deployments and chart apps) fits the upstream CRD schema.
#[test]
fn every_rendered_secret_provider_class_fits_the_upstream_crd() {
    let schema: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(root().join("tests/data/crd/secretproviderclass-v1.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut trees: Vec<PathBuf> = case_dirs(&root().join("tests/golden"))
        .into_iter()
        .map(|c| c.join("expected"))
        .collect();
    trees.push(root().join("rendered"));
    let mut checked = 0;
    for dir in trees {
        for (path, text) in read_tree(&dir) {
            if !path
                .rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with("secretproviderclass-"))
            {
                continue;
            }
            let object: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
            let errors: Vec<String> = validator.iter_errors(&object).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}/{path}: {errors:?}", dir.display());
            checked += 1;
        }
    }
    // identity-secrets (3), identity-pod-identity (2), chart-conventions (2), the bundled fleet.
    assert!(checked > 7 + 10, "only {checked} SecretProviderClasses");
}

/// The bundled fleet: every placement of an app with a cloud identity is trusted by its
/// cloud in rendered/_identity/ — a federated credential for the AKS cluster's issuer, the
/// IRSA role's trust of the cluster's OIDC provider, or a Pod Identity association.
#[test]
fn every_bundled_placement_with_an_identity_is_federated() {
    let tree = read_tree(&root().join("rendered"));
    let json = |path: &str| -> serde_json::Value { serde_json::from_str(&tree[path]).unwrap() };
    let yaml =
        |path: PathBuf| -> serde_json::Value { serde_saphyr::from_str(&fs::read_to_string(path).unwrap()).unwrap() };
    let mut trusted: std::collections::BTreeSet<(String, String)> = Default::default();
    for path in tree.keys().filter(|p| p.starts_with("_identity/")) {
        let template = json(path);
        for r in template["resources"].as_array().into_iter().flatten() {
            if r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials" {
                let p = &r["properties"];
                trusted.insert((
                    p["issuer"].as_str().unwrap().into(),
                    p["subject"].as_str().unwrap().into(),
                ));
            }
        }
        for r in template["Resources"].as_object().into_iter().flat_map(|m| m.values()) {
            let p = &r["Properties"];
            if r["Type"] == "AWS::EKS::PodIdentityAssociation" {
                let subject = format!(
                    "system:serviceaccount:{}:{}",
                    p["Namespace"].as_str().unwrap(),
                    p["ServiceAccount"].as_str().unwrap()
                );
                trusted.insert((p["ClusterName"].as_str().unwrap().into(), subject));
            }
            for s in p["AssumeRolePolicyDocument"]["Statement"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(arn) = s["Principal"]["Federated"].as_str() {
                    let provider = arn.split("oidc-provider/").nth(1).unwrap();
                    for sub in s["Condition"]["StringEquals"][format!("{provider}:sub")]
                        .as_array()
                        .unwrap()
                    {
                        trusted.insert((provider.into(), sub.as_str().unwrap().into()));
                    }
                }
            }
        }
    }
    let mut checked = 0;
    for path in tree
        .keys()
        .filter(|p| p.contains("/apps/") && p.rsplit('/').next().unwrap().starts_with("serviceaccount-"))
    {
        let parts: Vec<&str> = path.split('/').collect();
        let (cluster_id, app) = (parts[0], parts[2]);
        let contract = yaml(root().join(format!("apps/{app}/app.yaml")));
        if contract["identity"]["cloudPermissionsProfile"].is_null() {
            continue;
        }
        let cluster = yaml(root().join(format!("clusters/{cluster_id}.yaml")));
        let sa: serde_json::Value = serde_saphyr::from_str(&tree[path]).unwrap();
        let subject = format!(
            "system:serviceaccount:{}:{app}",
            sa["metadata"]["namespace"].as_str().unwrap()
        );
        let trust = match cluster["identityMode"].as_str().unwrap() {
            "workload-identity" => cluster["azure"]["oidcIssuerUrl"].as_str().unwrap().to_string(),
            "irsa" => cluster["aws"]["oidcProvider"].as_str().unwrap().to_string(),
            _ => cluster["aws"]["clusterName"].as_str().unwrap_or(cluster_id).to_string(),
        };
        assert!(
            trusted.contains(&(trust.clone(), subject.clone())),
            "{cluster_id}: {subject} is not trusted by {trust}"
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} placements with an identity");
}

/// The kinds (`group/kind`) an AppProject of a rendered fleet permits, namespaced ones.
fn project_kinds(fleet: &Path, cluster: &str, project: &str) -> Vec<String> {
    let path = fleet.join(format!("rendered/{cluster}/gitops/appproject-{cluster}-{project}.yaml"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let project: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let list = project["spec"]["namespaceResourceWhitelist"].as_array().unwrap();
    (list.iter())
        .map(|e| format!("{}/{}", e["group"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect()
}

/// A team's Argo CD project keeps permitting every kind its apps' templates can render when
/// an app is drained or its exposure drops its route: Argo CD leaves out of its comparison
/// the live objects of kinds the project does not permit, so it would never prune them.
#[test]
fn a_drain_or_an_exposure_change_leaves_the_project_its_kinds() {
    let id = "useast1-prod-01";
    let fleet = fleet_with(None);
    let app = fleet.path().join("apps/web/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    for changed in [
        format!("{text}gitops: {{ drain: [ {{ cluster: {id}, reason: \"CHG-1: move web off\" }} ] }}\n"),
        text.replace("exposure: public", "exposure: internal"),
    ] {
        fs::write(&app, &changed).unwrap();
        let out = render(fleet.path(), &[]);
        assert_eq!(out.status.code(), Some(0), "{}", report(&out));
        let kinds = project_kinds(fleet.path(), id, "web-team");
        for kind in ["apps/Deployment", "/Service", "gateway.networking.k8s.io/HTTPRoute"] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} not in {kinds:?}");
        }
    }
}

/// A kind the vendored chart's own defaults turn on (an Ingress) is permitted by the app's
/// Argo CD project: Helm merges those defaults, and one refused object fails the sync.
#[test]
fn a_kind_the_charts_defaults_turn_on_is_permitted() {
    let fleet = fleet_with(Some(&root().join("tests/golden/charts-and-templates/input")));
    let shop = fleet.path().join("apps/shop");
    let common = fs::read_to_string(shop.join("values/common.yaml")).unwrap();
    let without = common.replace("ingress:\n  enabled: false\n", "");
    assert_ne!(without, common);
    fs::write(shop.join("values/common.yaml"), without).unwrap();
    fs::create_dir_all(shop.join("chart")).unwrap();
    fs::write(
        shop.join("chart/values.yaml"),
        "replicaCount: 1\ningress:\n  enabled: true\n  hosts:\n    - host: chart-example.local\n",
    )
    .unwrap();
    let out = render(fleet.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let kinds = project_kinds(fleet.path(), "eastus-prod-02", "shop-team");
    assert!(kinds.iter().any(|k| k == "networking.k8s.io/Ingress"), "{kinds:?}");
}

/// A Job's pod template is immutable (Kubernetes' `validateJobUpdate`): a release (a new
/// `version`) that leaves the Job's template as it was leaves its rendered pod template as it
/// was too, which went without the version labels; its own metadata still has them.
#[test]
fn a_release_leaves_a_jobs_pod_template_as_it_was() {
    let fleet = fleet_with(None);
    let templates = fleet.path().join("apps/web/templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(
        templates.join("job.yaml.j2"),
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: web-schema-bootstrap\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      automountServiceAccountToken: false\n      securityContext:\n        runAsNonRoot: true\n        seccompProfile: {type: RuntimeDefault}\n      containers:\n        - name: bootstrap\n          image: registry.example.com/web@sha256:b9bd1f75820c6a6411c58300534b89faef06c015ebb0791ec0b4508e9c77cf49\n          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 128Mi}}\n          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities: {drop: [ALL]}\n",
    )
    .unwrap();
    let jobs = || -> BTreeMap<String, serde_json::Value> {
        let out = render(fleet.path(), &[]);
        assert_eq!(out.status.code(), Some(0), "{}", report(&out));
        read_tree(&fleet.path().join("rendered"))
            .into_iter()
            .filter(|(_, text)| text.contains("\nkind: Job\n"))
            .map(|(path, text)| (path, serde_saphyr::from_str(&text).unwrap()))
            .collect()
    };
    let before = jobs();
    assert!(!before.is_empty());
    let app = fleet.path().join("apps/web/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    fs::write(
        &app,
        text.replace("version: 2026.07.03-1421", "version: 2026.07.10-0900"),
    )
    .unwrap();
    let after = jobs();
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    for (path, job) in &after {
        let template = &job["spec"]["template"];
        assert_eq!(template, &before[path]["spec"]["template"], "{path}");
        let labels = &template["metadata"]["labels"];
        assert!(labels.get("app.kubernetes.io/version").is_none(), "{path}: {labels}");
        assert!(labels.get("fleet.example.com/version").is_none(), "{path}: {labels}");
        assert_eq!(labels["app.kubernetes.io/name"], "web", "{path}: {labels}");
        assert_eq!(
            job["metadata"]["labels"]["app.kubernetes.io/version"], "2026.07.10-0900",
            "{path}"
        );
    }
}

/// `allow-cloud-apis` names the IPv6 addresses too where pods have them: on an IPv6 EKS
/// cluster its pods reach the cloud's APIs over IPv6 and the Pod Identity agent at
/// `[fd00:ec2::23]` (AWS's "Set up the Amazon EKS Pod Identity Agent"), which the IPv4
/// addresses alone would block; they keep the IPv4 ones, which they reach through the node.
#[test]
fn cloud_api_egress_follows_the_clusters_address_family() {
    let file = "useast1-prod-01/apps/api/networkpolicy-allow-cloud-apis.yaml";
    let egress = |family: Option<&str>| -> Vec<Vec<String>> {
        let fleet = fleet_with(Some(&root().join("tests/golden/identity-pod-identity/input")));
        if let Some(family) = family {
            let cluster = fleet.path().join("clusters/useast1-prod-01.yaml");
            let text = fs::read_to_string(&cluster).unwrap();
            let text = text.replace(
                "networkMode: vpc-cni\n",
                &format!("networkMode: vpc-cni\nipFamily: {family}\n"),
            );
            fs::write(&cluster, text).unwrap();
        }
        let out = render(fleet.path(), &[]);
        assert_eq!(out.status.code(), Some(0), "{}", report(&out));
        let policy: serde_json::Value =
            serde_saphyr::from_str(&read_tree(&fleet.path().join("rendered"))[file]).unwrap();
        (policy["spec"]["egress"].as_array().unwrap().iter())
            .map(|rule| {
                (rule["to"].as_array().unwrap().iter())
                    .map(|to| to["ipBlock"]["cidr"].as_str().unwrap().to_string())
                    .collect()
            })
            .collect()
    };
    let strings = |rules: &[&[&str]]| -> Vec<Vec<String>> {
        rules
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    };
    let v4: &[&[&str]] = &[&["0.0.0.0/0"], &["169.254.170.23/32"]];
    assert_eq!(egress(None), strings(v4));
    assert_eq!(egress(Some("ipv4")), strings(v4));
    let both: &[&[&str]] = &[&["0.0.0.0/0", "::/0"], &["169.254.170.23/32", "fd00:ec2::23/128"]];
    assert_eq!(egress(Some("ipv6")), strings(both));
    assert_eq!(egress(Some("dual-stack")), strings(both));
}
