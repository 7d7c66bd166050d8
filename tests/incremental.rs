//! The incremental engine: a placement is rendered again only when an input it is made
//! from changed, and what the cache stands for is exactly what a render without it makes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use fleetgen::api::{self, Compiled, Format, Goal, MemoryFiles, Options, Parsed, Store, Style, Sum};

/// The bundled fleet, held in memory, on the tests' day.
fn bundled() -> MemoryFiles {
    let mut files = MemoryFiles::default();
    for root in ["fleet.yaml", "clusters", "apps", "profiles", "policy-library"] {
        let path = common::root().join(root);
        if path.is_dir() {
            let sub = MemoryFiles::from_dir(&path).unwrap();
            for p in sub.paths() {
                files.insert(format!("{root}/{p}"), sub.get(p).unwrap().to_vec());
            }
        } else {
            files.insert(root, fs::read(path).unwrap());
        }
    }
    files.set_today(common::today());
    files
}

fn compile(files: &MemoryFiles, reuse: Option<&Store>) -> Compiled {
    compile_with(files, reuse, None)
}

/// With the parse memo of an earlier compile too.
fn compile_with(files: &MemoryFiles, reuse: Option<&Store>, parsed: Option<&Parsed>) -> Compiled {
    api::compile(
        files,
        &Options {
            reuse,
            parsed,
            ..Options::new(Goal::Render)
        },
    )
}

/// Every file of a render by content: rendered texts hashed, known files as the cache knows them.
fn sums(c: &Compiled) -> BTreeMap<String, Sum> {
    let tree = c.tree.as_ref().expect("the fleet renders");
    let mut all: BTreeMap<String, Sum> = tree
        .files
        .iter()
        .map(|(p, t)| (p.clone(), Sum::of(t.as_bytes())))
        .collect();
    for (path, sum) in &tree.known {
        assert!(
            all.insert(path.clone(), *sum).is_none(),
            "{path} is both rendered and known"
        );
    }
    all
}

/// The files of a render whose paths `of` admits, by content.
fn sums_of(c: &Compiled, of: impl Fn(&str) -> bool) -> BTreeMap<String, Sum> {
    sums(c).into_iter().filter(|(p, _)| of(p)).collect()
}

/// The paths whose content differs between two renders (or that only one has).
fn differ(a: &BTreeMap<String, Sum>, b: &BTreeMap<String, Sum>) -> Vec<String> {
    let mut paths: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .cloned()
        .collect();
    paths.dedup();
    paths
}

/// The store a compile that was given one made.
fn store_of(c: &Compiled) -> &Store {
    c.tree
        .as_ref()
        .and_then(|t| t.store.as_ref())
        .expect("a cache was asked for")
}

fn report(c: &Compiled) -> String {
    c.report(&Style::plain(Format::Text))
}

fn edit(files: &MemoryFiles, path: &str, from: &str, to: &str) -> MemoryFiles {
    let text = String::from_utf8(files.get(path).unwrap_or_else(|| panic!("{path}")).to_vec()).unwrap();
    assert!(text.contains(from), "{path} has no `{from}`");
    let mut out = files.clone();
    out.insert(path, text.replacen(from, to, 1));
    out
}

#[test]
fn a_warm_cache_renders_byte_for_byte_what_a_cold_one_does_whatever_was_edited() {
    let base = bundled();
    let cold = compile(&base, None);
    let store = cold.tree.as_ref().and_then(|t| t.store.as_ref());
    assert!(store.is_none(), "no cache asked for, none made");
    let first = compile_with(&base, Some(&Store::default()), Some(&Parsed::default()));
    let yaml_files = first.reparsed();
    assert!(yaml_files > 40, "{yaml_files}");
    assert_eq!(first.parsed().len(), yaml_files, "every file parsed, every tree kept");
    let memo = Parsed::of(first.parsed().iter().cloned());
    let store = store_of(&first);
    assert_eq!(differ(&sums(&first), &sums(&cold)), Vec::<String>::new());
    let again = compile_with(&base, Some(store), Some(&memo));
    assert_eq!(differ(&sums(&again), &sums(&cold)), Vec::<String>::new());
    assert_eq!(again.reparsed(), 0, "nothing changed, nothing parsed");
    let stats = again.tree.as_ref().unwrap().stats;
    assert_eq!(stats.rendered, 0, "nothing changed, nothing rendered: {stats:?}");
    assert_eq!(stats.reused, cold.landings.len());

    let mut later = base.clone();
    later.set_today(common::today() + 400);
    let edits: Vec<(&str, MemoryFiles)> = vec![
        (
            "a contract",
            edit(
                &base,
                "apps/catalog-worker/app.yaml",
                "minReplicasPerRegion: 2",
                "minReplicasPerRegion: 4",
            ),
        ),
        (
            "a cluster",
            edit(
                &base,
                "clusters/aws-eu-west-1-prod-platform-01.yaml",
                "kubernetesVersion: \"1.34\"",
                "kubernetesVersion: \"1.35\"",
            ),
        ),
        (
            "fleet.yaml",
            edit(&base, "fleet.yaml", "memory: 128Mi", "memory: 192Mi"),
        ),
        (
            "a profile",
            edit(
                &base,
                "profiles/telemetry/batch-worker.yaml",
                "port: 9102",
                "port: 9103",
            ),
        ),
        (
            "a values file",
            edit(
                &base,
                "apps/storefront-web/values/common.yaml",
                "runAsUser: 10001",
                "runAsUser: 10002",
            ),
        ),
        (
            "an exemption",
            edit(
                &base,
                "policy-library/exemptions/fleet-canary-reads-the-api.yaml",
                "expires: \"2027-06-30\"",
                "expires: \"2026-11-01\"",
            ),
        ),
        // checkout-api calls payments-api: its NetworkPolicy names the callee's port, an
        // input of another app's placement on the same cluster.
        (
            "a dependency's contract",
            edit(&base, "apps/payments-api/app.yaml", "port: 8080", "port: 8443"),
        ),
        // The apps on this cluster share their replicas with their placements on the other
        // clusters of its region: moving it to another region changes those placements as
        // resolved, while no file they read changes (their keys hash the resolved placement;
        // left out, this fails, as the every-line sweep does, not its default share).
        (
            "another cluster's region",
            edit(
                &base,
                "clusters/aws-eu-west-1-prod-platform-01.yaml",
                "region: eu-west-1",
                "region: eu-west-2",
            ),
        ),
        // Not YAML: the same located error, warm or cold.
        (
            "a syntax error",
            edit(
                &base,
                "apps/catalog-worker/app.yaml",
                "minReplicasPerRegion: 2",
                "minReplicasPerRegion: [2",
            ),
        ),
        ("the day", later),
    ];
    for (what, files) in edits {
        let cold = compile(&files, None);
        let warm = compile_with(&files, Some(store), Some(&memo));
        assert_eq!(report(&warm), report(&cold), "{what}: the same findings");
        // Only the edited file is parsed again; the others' trees come from the memo.
        let edited = usize::from(what != "the day");
        assert_eq!(warm.reparsed(), edited, "{what}");
        match (&cold.tree, &warm.tree) {
            (Some(_), Some(_)) => {
                assert_eq!(
                    differ(&sums(&warm), &sums(&cold)),
                    Vec::<String>::new(),
                    "{what}: the same files"
                );
                assert!(
                    !differ(&sums(&cold), &sums(&first)).is_empty(),
                    "{what}: the edit changes the output"
                );
            }
            (None, None) => assert_ne!(cold.exit_code(), 0, "{what}"),
            _ => panic!("{what}: one render failed and the other did not"),
        }
    }
}

/// The clusters `app` is placed on, and how many placements (of any app) those clusters have.
fn clusters_of<'c>(c: &'c Compiled, app: &str) -> (BTreeSet<&'c str>, usize) {
    let clusters: BTreeSet<&str> = c
        .landings
        .iter()
        .filter(|l| l.app == app)
        .map(|l| l.cluster.as_str())
        .collect();
    let on_them = c
        .landings
        .iter()
        .filter(|l| clusters.contains(l.cluster.as_str()))
        .count();
    (clusters, on_them)
}

#[test]
fn editing_one_contract_renders_only_its_placements() {
    let base = bundled();
    let first = compile(&base, Some(&Store::default()));
    let store = first.tree.as_ref().unwrap().store.as_ref().unwrap();
    let edited = edit(&base, "apps/catalog-worker/app.yaml", "memory: 256Mi", "memory: 384Mi");
    let warm = compile(&edited, Some(store));
    let tree = warm.tree.as_ref().unwrap();
    let placements = warm.landings.iter().filter(|l| l.app == "catalog-worker").count();
    assert!(placements > 1);
    assert_eq!(tree.stats.rendered, placements, "{:?}", tree.stats);
    assert_eq!(tree.stats.reused, warm.landings.len() - placements);
    // What was rendered again, of the apps' folders, is catalog-worker's.
    for path in tree.files.keys().filter(|p| p.contains("/apps/")) {
        assert!(path.contains("/apps/catalog-worker/"), "{path} was rendered again");
    }
    // The cluster-wide files of its clusters are made again, but of the GitOps objects of
    // the apps on them only catalog-worker's: the others' are taken from the cache.
    let (clusters, neighbours) = clusters_of(&warm, "catalog-worker");
    assert!(neighbours > placements);
    assert_eq!(tree.stats.objects_made, placements, "{:?}", tree.stats);
    assert_eq!(tree.stats.objects_reused, neighbours - placements, "{:?}", tree.stats);
    let made_again: Vec<&String> = tree.files.keys().filter(|p| p.contains("/gitops/")).collect();
    let of_apps: Vec<Option<&str>> = made_again.iter().map(|p| tree.app_of(p)).collect();
    assert_eq!(of_apps, vec![Some("catalog-worker"); placements], "{made_again:?}");
    // The clusters' own objects (the engine's sources and projects, the admission
    // policies) are taken from the cache, none made again: a set per engine and per
    // cluster with admission policies.
    let policed = (clusters.iter())
        .filter(|c| (warm.tree.as_ref().unwrap().known.keys()).any(|p| p.starts_with(&format!("{c}/policy/"))))
        .count();
    assert!(policed > 0);
    assert_eq!(
        (tree.stats.own_made, tree.stats.own_reused),
        (0, clusters.len() + policed)
    );
    assert!(!tree.files.keys().any(|p| p.contains("/policy/validatingadmission")));
    // Of the placement matrix, only catalog-worker's rows are written again.
    let rows = (tree.stats.rows_written, tree.stats.rows_reused);
    assert_eq!(rows, (placements, warm.landings.len() - placements));
    // And the render is the cold one's.
    let cold = compile(&edited, None);
    assert_eq!(differ(&sums(&cold), &sums(&warm)), Vec::<String>::new());
    // Then another app on one of those clusters changes, with the store this render left
    // (which recorded the objects it took from the cache where the last one had them).
    let other = warm
        .landings
        .iter()
        .find(|l| l.app != "catalog-worker" && clusters.contains(l.cluster.as_str()))
        .map(|l| l.app.clone())
        .expect("catalog-worker shares a cluster");
    let again = edit(
        &edited,
        &format!("apps/{other}/app.yaml"),
        "  version: ",
        "  version: 9",
    );
    let second = compile(&again, Some(store_of(&warm)));
    let stats = second.tree.as_ref().unwrap().stats;
    let (theirs, on_theirs) = clusters_of(&second, &other);
    assert_eq!(stats.objects_made, theirs.len(), "{stats:?}");
    assert_eq!(stats.objects_reused, on_theirs - theirs.len(), "{stats:?}");
    assert_eq!(stats.own_made, 0, "{stats:?}");
    assert!(stats.own_reused >= theirs.len(), "{stats:?}");
    // Rows are written for the placements rendered; the rest are the store's, those the
    // last render took from the one before among them.
    assert_eq!((stats.rows_written, stats.rows_reused), (stats.rendered, stats.reused));
    assert_eq!(
        differ(&sums(&compile(&again, None)), &sums(&second)),
        Vec::<String>::new()
    );
}

/// An app's GitOps object reads of its neighbours only what its own key covers: when
/// checkout-api stops calling payments-api synchronously, storefront-web (which calls
/// checkout-api) moves to an earlier Argo CD sync wave although nothing of its own, nor of
/// the app it calls, changed. (The three share a cluster on Flux in the bundled fleet: here
/// it is on Argo CD.)
#[test]
fn an_app_s_gitops_object_is_made_again_when_its_wave_moves() {
    let cluster = "clusters/azure-eastus-prod-platform-01.yaml";
    let base = edit(&bundled(), cluster, "engine: flux", "engine: argocd");
    let first = compile(&base, Some(&Store::default()));
    let edited = edit(&base, "apps/checkout-api/app.yaml", "call: sync", "call: async");
    let warm = compile(&edited, Some(store_of(&first)));
    let cold = compile(&edited, None);
    assert_eq!(differ(&sums(&cold), &sums(&warm)), Vec::<String>::new());
    let storefront = |c: &Compiled| sums_of(c, |p| p.contains("/gitops/") && p.contains("storefront-web"));
    let (before, after) = (storefront(&first), storefront(&cold));
    assert!(!before.is_empty());
    assert_ne!(before, after, "the edit moves storefront-web's wave");
}

#[test]
fn the_cloud_identity_files_are_made_again_only_when_a_placement_s_identity_changed() {
    let base = bundled();
    let contract = "apps/payments-api/app.yaml";
    // (what, the edit, whether the identity files stay as they were: then taken from the cache)
    let edits = [
        (
            "a version",
            edit(&base, contract, "version: 2026.06.30-0915", "version: 2026.07.01-0800"),
            true,
        ),
        (
            "replicas",
            edit(&base, contract, "minReplicasPerRegion: 3", "minReplicasPerRegion: 4"),
            true,
        ),
        (
            "a drain",
            edit(
                &base,
                contract,
                "observability:",
                "gitops:\n  drain:\n    - cluster: aws-us-east-1-staging-platform-01\n      reason: \"INC-7: drained\"\nobservability:",
            ),
            false,
        ),
        (
            "a permission",
            edit(
                &base,
                "profiles/identity/payments-api.yaml",
                "  - publish-event: payment-events\n",
                "",
            ),
            false,
        ),
        (
            "an identity profile dropped",
            edit(
                &base,
                contract,
                "identity:\n  cloudPermissionsProfile: payments-api\n",
                "",
            ),
            false,
        ),
    ];
    let edits = edits.map(|(what, files, same)| (what, files, same, !same));
    follows_its_key(&base, |p| p.starts_with("_identity/"), edits);
}

/// A fleet backend's files (those `of` admits) after each edit of `base`: (what, the edited
/// files, whether a warm render takes them from the cache, whether they change). The warm
/// render is the cold one in every case.
fn follows_its_key<const N: usize>(
    base: &MemoryFiles,
    of: impl Fn(&str) -> bool + Copy,
    edits: [(&str, MemoryFiles, bool, bool); N],
) {
    let first = compile(base, Some(&Store::default()));
    let files = |c: &Compiled| sums_of(c, of);
    assert!(files(&first).len() > 3, "{:?}", files(&first));
    for (what, edited, taken, changes) in edits {
        let cold = compile(&edited, None);
        assert!(cold.tree.is_some(), "{what}: {}", report(&cold));
        let warm = compile(&edited, Some(store_of(&first)));
        assert_eq!(differ(&sums(&warm), &sums(&cold)), Vec::<String>::new(), "{what}");
        assert_eq!(made_again(&warm, of), !taken, "{what}: made again");
        assert_eq!(files(&cold) != files(&first), changes, "{what}: the files changed");
    }
}

/// Whether a warm render made files of a fleet backend again (texts), rather than taking
/// them from the cache (sums); it asserts that it did one or the other, not both.
fn made_again(warm: &Compiled, of: impl Fn(&str) -> bool) -> bool {
    let tree = warm.tree.as_ref().expect("the fleet renders");
    let made = tree.files.keys().any(|p| of(p));
    let taken = tree.known.keys().any(|p| of(p));
    assert!(made != taken, "made {made}, taken from the cache {taken}");
    made
}

/// The edits that a key of the fleet-wide files, cluster file `cluster` and the namespaces
/// of the apps exemptions name answers, as (what, the edited files, whether the files are
/// taken from the cache, whether they change): fleet-canary's version (none of those:
/// taken), its namespace (its exemption frees that namespace: made again, changed), a
/// comment in the cluster's file (made again, the same).
fn exemption_reader_edits(base: &MemoryFiles, cluster: &str) -> [(&'static str, MemoryFiles, bool, bool); 3] {
    let canary = "apps/fleet-canary/app.yaml";
    [
        (
            "a version",
            edit(base, canary, "version: 2026.06.27-1200", "version: 2026.06.28-1200"),
            true,
            false,
        ),
        (
            "the exempted app's namespace",
            edit(base, canary, "  version: 2026", "  namespace: canary\n  version: 2026"),
            false,
            true,
        ),
        (
            "a cluster's file",
            edit(
                base,
                &format!("clusters/{cluster}.yaml"),
                "clusterId:",
                "# edited\nclusterId:",
            ),
            false,
            false,
        ),
    ]
}

/// The Azure Policy files are made from fleet-wide inputs, the AKS clusters' files and the
/// namespaces of the apps exemptions name.
#[test]
fn the_azure_policy_files_are_made_again_only_when_what_they_read_changed() {
    let base = bundled();
    // `<clusterId>/azure/…` and `_azure/<subscription>/…` (not `_identity/azure/…`).
    let azure = |p: &str| p.starts_with("_azure/") || (!p.starts_with('_') && p.split('/').nth(1) == Some("azure"));
    let edits = exemption_reader_edits(&base, "azure-westus3-prod-standby-01");
    follows_its_key(&base, azure, edits);
}

/// A cluster's admission policies are made from fleet-wide inputs, the cluster's file and
/// the namespaces on it of the apps exemptions name: a version of fleet-canary (on the
/// cluster) renders the cluster again but takes its policies from the cache.
#[test]
fn a_cluster_s_admission_policies_are_made_again_only_when_what_they_read_changed() {
    let base = bundled();
    let cluster = "aws-eu-west-1-prod-platform-01";
    let policy = |p: &str| p.starts_with(&format!("{cluster}/policy/")) && p.contains("validatingadmissionpolicy");
    follows_its_key(&base, policy, exemption_reader_edits(&base, cluster));
}

/// An Argo CD cluster's projects are made from fleet-wide inputs, the cluster's file, what
/// the other backends deliver there and, of each app on it, its owner team, chart
/// repository, namespace and kinds: a new version of one of its apps renders the cluster
/// again but takes its projects from the cache.
#[test]
fn an_argo_cd_cluster_s_projects_are_made_again_only_when_what_they_read_changed() {
    let base = bundled();
    let cluster = "aws-eu-west-1-prod-platform-01";
    let projects = |p: &str| p.starts_with(&format!("{cluster}/gitops/appproject-"));
    let contract = "apps/catalog-worker/app.yaml";
    let edits = [
        (
            "a version",
            edit(&base, contract, "version: 2026.07.03-0955", "version: 2026.07.04-0955"),
            true,
            false,
        ),
        (
            "an app's owner team",
            edit(&base, contract, "owner: catalog-team", "owner: search-team"),
            false,
            true,
        ),
        (
            "an app's namespace",
            edit(
                &base,
                contract,
                "  owner: catalog-team",
                "  namespace: search\n  owner: catalog-team",
            ),
            false,
            true,
        ),
        (
            "a cluster's file",
            edit(
                &base,
                &format!("clusters/{cluster}.yaml"),
                "clusterId:",
                "# edited\nclusterId:",
            ),
            false,
            false,
        ),
    ];
    follows_its_key(&base, projects, edits);
}

/// A cache folder this machine's fleetgen did not make (committed to git and checked out,
/// or copied with the repository) is not read: a doctored one could pair real keys with a
/// doctored tree. It is emptied before use, and the next run trusts what it wrote.
#[test]
fn a_cache_folder_from_elsewhere_is_not_trusted() {
    let original = tempfile::tempdir().unwrap();
    common::copy_tree(&common::root().join("tests/fixtures/base"), original.path());
    let check = |dir: &std::path::Path| {
        let out = common::fleetgen()
            .current_dir(dir)
            .args(["check", "--verbose"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let render = common::fleetgen()
        .current_dir(original.path())
        .args(["render", "--quiet"])
        .output()
        .unwrap();
    assert!(render.status.success());
    let warm = check(original.path());
    assert!(
        warm.contains("placements (0 rendered, "),
        "a warm cache is used: {warm}"
    );
    // A copy carries the cache's files, but it is another folder.
    let copy = tempfile::tempdir().unwrap();
    common::copy_tree(original.path(), copy.path());
    assert!(copy.path().join(".fleetgen/placements").is_file());
    let first = check(copy.path());
    assert!(first.contains(" rendered, 0 from the cache)"), "{first}");
    assert!(!first.contains("placements (0 rendered, "), "{first}");
    let then = check(copy.path());
    assert!(then.contains("placements (0 rendered, "), "{then}");
    // A cache file written into a trusted folder by something else (git writes over ignored
    // files on checkout) is not read either, even a store that holds the right keys.
    fs::copy(
        original.path().join(".fleetgen/placements"),
        copy.path().join(".fleetgen/placements"),
    )
    .unwrap();
    let replaced = check(copy.path());
    assert!(replaced.contains(" rendered, 0 from the cache)"), "{replaced}");
    assert!(!replaced.contains("placements (0 rendered, "), "{replaced}");

    // A cache folder of the user's choosing that holds other things: only fleetgen's own
    // files are ever removed from it.
    let chosen = tempfile::tempdir().unwrap();
    fs::write(chosen.path().join("notes.txt"), "precious").unwrap();
    fs::create_dir(chosen.path().join("tool")).unwrap();
    fs::write(chosen.path().join("tool/state"), "precious").unwrap();
    // Names fleetgen uses too: a folder that is not fleetgen's is not adopted at all.
    fs::write(chosen.path().join(".gitignore"), "build/\n").unwrap();
    fs::create_dir(chosen.path().join("shadow")).unwrap();
    fs::write(chosen.path().join("shadow/notes.txt"), "precious").unwrap();
    fs::copy(
        original.path().join(".fleetgen/placements"),
        chosen.path().join("placements"),
    )
    .unwrap();
    let out = common::fleetgen()
        .current_dir(original.path())
        .env("FLEETGEN_CACHE_DIR", chosen.path())
        .args(["check", "--verbose"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains(" rendered, 0 from the cache)"), "{text}");
    assert_eq!(fs::read_to_string(chosen.path().join("notes.txt")).unwrap(), "precious");
    assert_eq!(
        fs::read_to_string(chosen.path().join("tool/state")).unwrap(),
        "precious"
    );
    assert_eq!(
        fs::read_to_string(chosen.path().join(".gitignore")).unwrap(),
        "build/\n"
    );
    assert_eq!(
        fs::read_to_string(chosen.path().join("shadow/notes.txt")).unwrap(),
        "precious"
    );
    assert!(text.contains("is not used as the cache"), "{text}");
}

#[test]
fn check_uses_the_cache_and_the_stat_index_and_says_so_with_verbose() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&common::root().join("tests/fixtures/base"), dir.path());
    let run = |args: &[&str]| common::fleetgen().current_dir(dir.path()).args(args).output().unwrap();
    assert!(run(&["render", "--quiet", "--no-cache"]).status.success());
    let check = |args: &[&str]| {
        let out = run(&[&["check", "--verbose"], args].concat());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, cold, _) = check(&[]);
    assert_eq!(code, Some(0), "{cold}");
    assert!(cold.contains("0 from the cache"), "{cold}");
    let cache = dir.path().join(".fleetgen");
    assert_eq!(
        fs::read_to_string(cache.join(".gitignore")).unwrap().lines().last(),
        Some("*")
    );
    assert!(
        fs::read_to_string(cache.join("CACHEDIR.TAG"))
            .unwrap()
            .starts_with("Signature: 8a477f597d28d172789f06886806bc55")
    );
    // Files written more than the racy window ago are then known by their stat.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for entry in walkdir::WalkDir::new(dir.path().join("rendered")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            fs::File::options()
                .write(true)
                .open(entry.path())
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
    }
    let (_, _, _) = check(&[]);
    let (code, warm, _) = check(&[]);
    assert_eq!(code, Some(0), "{warm}");
    assert!(warm.contains("(0 rendered"), "{warm}");
    assert!(warm.contains(": 0 read"), "{warm}");
    // The first check found every AWS role's policies within IAM's limits (FG039): the
    // next ones do not measure them again for the same seats.
    assert!(!cold.contains("IAM policy sizes"), "{cold}");
    assert!(
        warm.contains("IAM policy sizes (FG039): the seats are those the cache knows within IAM's limits"),
        "{warm}"
    );
    // A hand edit with the size and times kept is still found: the inode or ctime moved.
    let deployment = walkdir::WalkDir::new(dir.path().join("rendered"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.to_string_lossy().contains("/apps/") && p.to_string_lossy().contains("deployment-"))
        .unwrap();
    let text = fs::read_to_string(&deployment).unwrap();
    assert!(text.contains("kind: Deployment\n"));
    fs::write(
        &deployment,
        text.replacen("kind: Deployment\n", "kind: Deploymenx\n", 1),
    )
    .unwrap();
    fs::File::options()
        .write(true)
        .open(&deployment)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let (code, edited, out) = check(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("edited by hand"), "{out}");
    // Saying how the file differs takes the text it should have: only the placement it
    // belongs to is rendered again, not the fleet.
    assert!(
        edited.contains("1 cached files differ: rendering what they belong to again"),
        "{edited}"
    );
    assert!(edited.contains("(1 rendered, "), "{edited}");
    // That placement's files are not stored as they should be, since the tree does not
    // hold them: the next check renders it again at once, with nothing else to narrow.
    let (code, again, _) = check(&[]);
    assert_eq!(code, Some(1), "{again}");
    assert!(!again.contains("cached files differ"), "{again}");
    assert!(again.contains("(1 rendered, "), "{again}");
    // --no-cache neither reads nor writes it.
    fs::remove_dir_all(&cache).unwrap();
    let (code, _, out) = check(&["--no-cache"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(!cache.exists());
}

/// The identity of every file under `dir`, by relative path: its inode and change time (an
/// inode freed by a removal may be the next new file's).
fn inodes(dir: &std::path::Path) -> BTreeMap<String, (u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let meta = e.metadata().unwrap();
            (rel, (meta.ino(), meta.ctime(), meta.ctime_nsec()))
        })
        .collect()
}

/// The folder of the first app a fleet folder lists.
fn first_app(fleet: &std::path::Path) -> std::path::PathBuf {
    fs::read_dir(fleet.join("apps"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

/// How many files a render's `--verbose` says it wrote or copied into the shadow.
fn writes(verbose: &str) -> usize {
    let line = verbose
        .lines()
        .find(|l| l.contains(" files written or copied"))
        .unwrap_or_else(|| panic!("no shadow write: {verbose}"));
    let words = line.rsplit(": ").next().unwrap_or_default();
    words.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn render_after_a_contract_edit_renders_its_placements_and_rewrites_only_changed_files() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&common::root().join("tests/fixtures/base"), dir.path());
    let run = |args: &[&str]| common::fleetgen().current_dir(dir.path()).args(args).output().unwrap();
    let render = || {
        let out = run(&["render", "--verbose"]);
        assert!(out.status.success(), "{}", common::report(&out));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let cold = render();
    assert!(cold.contains("0 from the cache"), "{cold}");
    let rendered = dir.path().join("rendered");
    let first = inodes(&rendered);
    // The second render keeps the first tree as the cache's shadow, and fills it: every
    // file is written or copied once.
    let again = render();
    assert!(again.contains("(0 rendered, "), "{again}");
    assert_eq!(writes(&again), first.len(), "{again}");
    let contract = first_app(dir.path());
    let app = contract.file_name().unwrap().to_string_lossy().into_owned();
    let path = contract.join("app.yaml");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("version: "), "{text}");
    fs::write(&path, text.replacen("version: ", "version: 9", 1)).unwrap();
    let warm = render();
    let files = api::MemoryFiles::from_dir(dir.path()).unwrap();
    let placements = compile(&files, None).landings.iter().filter(|l| l.app == app).count();
    assert!(placements > 0);
    assert!(warm.contains(&format!("({placements} rendered, ")), "{app}: {warm}");
    // The shadow was the first tree: the other apps' files are its files, untouched; the
    // app's are new, and so are cluster-wide files that list its version.
    let after = inodes(&rendered);
    assert_eq!(first.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    let rewritten: Vec<&String> = after.iter().filter(|(p, i)| first[*p] != **i).map(|(p, _)| p).collect();
    assert!(
        rewritten.iter().any(|p| p.contains(&format!("/apps/{app}/"))),
        "{rewritten:?}"
    );
    for p in &rewritten {
        assert!(
            p.contains(&format!("/apps/{app}/")) || !p.contains("/apps/"),
            "{p} was rewritten though its app did not change"
        );
    }
    assert_eq!(writes(&warm), rewritten.len(), "{warm}");
    let out = run(&["check", "--no-cache"]);
    assert!(out.status.success(), "{}", common::report(&out));
    // The shadow is now the second tree, which lacks the edit; after one more render, it
    // has it, and a render writes nothing.
    assert_eq!(writes(&render()), rewritten.len());
    assert_eq!(writes(&render()), 0);
    let out = run(&["check", "--no-cache"]);
    assert!(out.status.success(), "{}", common::report(&out));
    // A `check` that finds the edit stale keeps of its render what the tree backs: the
    // edited placements' files, which no tree holds yet, are not stored. A second check
    // (a pre-commit hook run again) and the render after it each render those placements,
    // once, and take the rest from the cache; neither finds a cached file missing.
    fs::write(&path, text.replacen("version: ", "version: 8", 1)).unwrap();
    assert_eq!(run(&["check"]).status.code(), Some(1));
    let again = run(&["check", "--verbose"]);
    assert_eq!(again.status.code(), Some(1), "{}", common::report(&again));
    let again = String::from_utf8_lossy(&again.stderr).into_owned();
    for verbose in [&again, &render()] {
        assert!(!verbose.contains("cached files differ"), "{verbose}");
        assert!(verbose.contains(&format!("({placements} rendered, ")), "{verbose}");
    }
    let out = run(&["check", "--no-cache"]);
    assert!(out.status.success(), "{}", common::report(&out));
}

#[test]
fn objects_claimed_twice_are_reported_by_every_warm_render_as_by_a_cold_one() {
    let base = bundled();
    let first = compile(&base, Some(&Store::default()));
    let store = first.tree.as_ref().unwrap().store.as_ref().unwrap();
    let cases = [
        // An app's template renders the ServiceAccount fleetgen renders for it.
        (
            {
                let mut files = base.clone();
                let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: catalog-worker\n";
                files.insert("apps/catalog-worker/templates/serviceaccount.yaml.j2", sa);
                files
            },
            "is rendered twice",
        ),
        // checkout-api moves into catalog-worker's namespace, whose placements the cache holds.
        (
            edit(
                &base,
                "apps/checkout-api/app.yaml",
                "  version: 2026.07.03-1421\n",
                "  version: 2026.07.03-1421\n  namespace: catalog-worker\n",
            ),
            "both use namespace",
        ),
    ];
    for (files, says) in cases {
        let cold = compile(&files, None);
        assert!(report(&cold).contains(says), "{}", report(&cold));
        for run in ["first", "second"] {
            let warm = compile(&files, Some(store));
            assert_eq!(report(&warm), report(&cold), "{says}: the {run} warm render");
            assert_eq!(warm.exit_code(), cold.exit_code());
        }
    }
}

/// Input files a run found valid against their schema are not validated again while fleetgen
/// and their text are the same; an edited file is, and its schema errors are reported as
/// without the cache.
#[test]
fn files_known_valid_are_not_validated_again_and_an_edited_one_is() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&common::root().join("tests/fixtures/base"), dir.path());
    let run = |args: &[&str]| common::fleetgen().current_dir(dir.path()).args(args).output().unwrap();
    assert!(run(&["render", "--quiet"]).status.success());
    // What the last check said of parsing (`--verbose`).
    let notes = std::cell::RefCell::new(None::<String>);
    let check = |args: &[&str]| {
        let out = run(&[&["check", "--verbose", "--color", "never"], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let note = stderr
            .lines()
            .find_map(|l| l.strip_prefix("fleetgen: schema: "))
            .map(str::to_string);
        let parsed = stderr
            .lines()
            .find_map(|l| l.strip_prefix("fleetgen: parse: YAML files: "))
            .map(str::to_string);
        *notes.borrow_mut() = parsed;
        // What it reports, without the timings.
        let report: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("fleetgen: ")).collect();
        let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), report.join("\n"));
        (out.status.code(), note, report)
    };
    let inputs = api::MemoryFiles::from_dir(dir.path()).unwrap();
    let kinds = compile(&inputs, None).schema_valid().len();
    assert!(kinds > 5, "{kinds}");
    let yaml = compile_with(&inputs, None, Some(&Parsed::default())).parsed().len();
    let (code, note, _) = check(&[]);
    assert_eq!(
        (code, note.as_deref()),
        (
            Some(0),
            Some(format!("input files: 0 validated, {kinds} known valid").as_str())
        )
    );
    // Nor parsed: the trees come from the parse memo.
    let from_memo = |parsed: usize| Some(format!("{parsed} parsed, {} from the parse memo", yaml - parsed));
    assert_eq!(notes.borrow().clone(), from_memo(0));
    // A contract with a field its schema does not allow: validated again, and reported.
    let contract = first_app(dir.path());
    let path = contract.join("app.yaml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, format!("{text}notAField: 1\n")).unwrap();
    let (code, note, out) = check(&[]);
    assert_eq!(notes.borrow().clone(), from_memo(1));
    let (cold_code, _, cold) = check(&["--no-cache"]);
    assert_eq!(code, Some(2), "{out}");
    assert_eq!(
        note.as_deref(),
        Some(format!("input files: 1 validated, {} known valid", kinds - 1).as_str())
    );
    assert!(out.contains("notAField"), "{out}");
    assert_eq!((code, &out), (cold_code, &cold));
    // `--no-cache` asks for no memo and says nothing of one.
    assert_eq!(notes.borrow().clone(), None);
    // Not YAML: parsed again, and the same located error as without the cache.
    fs::write(&path, format!("{text}notAField: [1\n")).unwrap();
    let (code, _, out) = check(&[]);
    assert_eq!(notes.borrow().clone(), from_memo(1));
    let (cold_code, _, cold) = check(&["--no-cache"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("app.yaml:"), "{out}");
    assert_eq!((code, &out), (cold_code, &cold));
    // Put back: known valid again, without validating; and not parsed, since a run that
    // failed left the memo as it was.
    fs::write(&path, text).unwrap();
    let (code, note, _) = check(&[]);
    assert_eq!(
        (code, note.as_deref()),
        (
            Some(0),
            Some(format!("input files: 0 validated, {kinds} known valid").as_str())
        )
    );
    assert_eq!(notes.borrow().clone(), from_memo(0));
}

/// One scalar of a YAML line changed, as a person editing the file would: a number moved
/// by one, a boolean flipped, a string's last digit moved (a quantity, a version, a date) or
/// else a letter added. `None` for a line with no plain scalar.
fn mutate_line(line: &str) -> Option<String> {
    let (head, value) = match line.split_once(": ") {
        Some((key, value)) => (format!("{key}: "), value),
        None => {
            let item = line.trim_start().strip_prefix("- ")?;
            (line[..line.len() - item.len()].to_string(), item)
        }
    };
    let value = value.trim_end();
    if value.is_empty() || value.starts_with(['|', '>', '&', '*', '{', '[', '#', '!']) || value.contains(" #") {
        return None;
    }
    let new = if let Ok(n) = value.parse::<i64>() {
        (n + 1).to_string()
    } else if value == "true" || value == "false" {
        (value != "true").to_string()
    } else if value.contains(": ") {
        return None;
    } else if let Some(at) = value.rfind(|c: char| c.is_ascii_digit()) {
        let digit = value.as_bytes()[at] - b'0';
        let moved = if digit == 9 { 8 } else { digit + 1 };
        format!("{}{moved}{}", &value[..at], &value[at + 1..])
    } else if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        format!("\"{inner}x\"")
    } else {
        format!("{value}x")
    };
    Some(format!("{head}{new}"))
}

/// Whatever one scalar of whatever input file becomes, a render reusing the cache of the
/// unedited fleet makes what a render without a cache makes (the same files, the same
/// findings): a cache key that leaves out something a placement reads fails here, for the
/// field that was left out. Every scalar line of the apps' files is edited (what one
/// placement reads of another's contract is where a key can fall short), and every fifth of
/// the other input files; `FLEETGEN_SWEEP=all` edits every line of every file and also
/// removes each (2,134 edits, two minutes of a debug build on two cores). Each key checked by
/// leaving something out: a callee's port from its callers' keys, the cluster file from a
/// placement's, the seats from the cloud identity files' (each fails here).
#[test]
fn a_warm_cache_renders_what_a_cold_one_does_after_any_one_scalar_edit() {
    let base = bundled();
    let first = compile_with(&base, Some(&Store::default()), Some(&Parsed::default()));
    let memo = Parsed::of(first.parsed().iter().cloned());
    let store = store_of(&first);
    let before = sums(&first);
    let all = std::env::var("FLEETGEN_SWEEP").as_deref() == Ok("all");
    let mut edits = Vec::new();
    let mut paths: Vec<&str> = base.paths().filter(|p| p.ends_with(".yaml")).collect();
    paths.sort_unstable();
    let mut others = 0;
    for path in paths {
        let text = std::str::from_utf8(base.get(path).unwrap()).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        for (at, line) in lines.iter().enumerate() {
            let Some(new) = mutate_line(line) else { continue };
            if !path.starts_with("apps/") {
                others += 1;
                if !all && others % 5 != 1 {
                    continue;
                }
            }
            let mut edited = lines.clone();
            edited[at] = &new;
            let what = format!("{path}:{} `{}` → `{}`", at + 1, line.trim(), new.trim());
            edits.push((what, path, edited.join("\n")));
            if all {
                // And the line gone (an optional field left out, a list one shorter).
                edited.remove(at);
                let what = format!("{path}:{} `{}` removed", at + 1, line.trim());
                edits.push((what, path, edited.join("\n")));
            }
        }
    }
    assert!(edits.len() > 300, "{} edits", edits.len());
    let started = std::time::Instant::now();
    // Per edit: whether the output changed (`None`: both renders refused the fleet). On
    // two threads with the stack a compile has in the binary (a test thread's is smaller).
    let one = |(what, path, text): &(String, &str, String)| -> Option<bool> {
        let mut files = base.clone();
        files.insert(*path, text.clone().into_bytes());
        let cold = compile(&files, None);
        let warm = compile_with(&files, Some(store), Some(&memo));
        assert_eq!(report(&warm), report(&cold), "{what}: the same findings");
        match (&cold.tree, &warm.tree) {
            (Some(_), Some(_)) => {
                let (warm, cold) = (sums(&warm), sums(&cold));
                assert_eq!(differ(&warm, &cold), Vec::<String>::new(), "{what}: the same files");
                Some(!differ(&cold, &before).is_empty())
            }
            (None, None) => None,
            _ => panic!("{what}: one render failed and the other did not"),
        }
    };
    let changed: Vec<Option<bool>> = std::thread::scope(|scope| {
        let halves: Vec<_> = (0..2)
            .map(|half| {
                let (edits, one) = (&edits, &one);
                std::thread::Builder::new()
                    .stack_size(256 << 20)
                    .spawn_scoped(scope, move || {
                        edits.iter().skip(half).step_by(2).map(one).collect::<Vec<_>>()
                    })
                    .unwrap()
            })
            .collect();
        let results: Vec<Vec<_>> = halves
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        results.concat()
    });
    let rendered = changed.iter().filter(|c| **c == Some(true)).count();
    let refused = changed.iter().filter(|c| c.is_none()).count();
    eprintln!(
        "{} edits in {:.1?}: {rendered} changed the output, {} did not, {refused} refused",
        edits.len(),
        started.elapsed(),
        edits.len() - rendered - refused
    );
    // Edits must reach the output, or the sweep tests little. With every line also removed,
    // about half the edits leave a fleet both renders refuse: those do not count.
    let counted = if all { edits.len() - refused } else { edits.len() };
    assert!(
        rendered * 3 > counted,
        "{rendered} of {counted} edits changed the output"
    );
}
