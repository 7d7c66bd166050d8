//! `fleetgen diff` over small git repositories built with git2.

mod common;

use common::{copy_tree, fleetgen, root, scale_web};

use std::fs;
use std::path::Path;
use std::process::Output;

use git2::{Repository, Signature};

fn diff(repo: &Path, args: &[&str]) -> Output {
    fleetgen()
        .args(["diff", "--color", "never", "--repo"])
        .arg(repo)
        .args(args)
        .output()
        .unwrap()
}

/// `fleetgen diff` in `repo` with `args`, which must succeed: what it shows.
fn shown(repo: &Path, args: &[&str]) -> String {
    let out = diff(repo, args);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn commit(repo: &Repository, message: &str) {
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

/// The base fixture fleet, committed; then `web` scaled up, committed.
fn two_commits() -> (tempfile::TempDir, Repository) {
    two_commits_after(|_| {})
}

/// [`two_commits`], `before_base` run on the fleet before the first commit.
fn two_commits_after(before_base: impl Fn(&Path)) -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/base"), dir.path());
    let repo = Repository::init(dir.path()).unwrap();
    before_base(dir.path());
    commit(&repo, "base");
    scale_web(dir.path());
    commit(&repo, "scale web");
    (dir, repo)
}

#[test]
fn a_change_is_summarised_and_grouped_by_cluster() {
    let (dir, _repo) = two_commits();
    let text = shown(dir.path(), &["HEAD~1", "HEAD"]);
    assert!(text.starts_with("fleetgen diff HEAD~1 → HEAD\n"), "{text}");
    assert!(text.contains("clusters changed: 3"), "{text}");
    assert!(text.contains("owner teams touched: web-team"), "{text}");
    assert!(text.contains("criticality tiers touched: tier-1"), "{text}");
    assert!(
        text.contains("-  maxReplicas: 10\n") || text.contains("-  maxReplicas: 10"),
        "{text}"
    );
    assert!(text.contains("+  maxReplicas: 20"), "{text}");
    // Grouped: every cluster heading comes before its files.
    let eastus = text.find("\neastus-prod-01\n").unwrap();
    assert!(
        text[eastus..].contains("M eastus-prod-01/apps/web/horizontalpodautoscaler-web.yaml"),
        "{text}"
    );
    // The working tree was never touched.
    let repo = Repository::open(dir.path()).unwrap();
    let status = repo.statuses(None).unwrap();
    assert_eq!(status.iter().filter(|s| !s.status().is_ignored()).count(), 0);
}

/// A change to a cluster's own files (its summary, its GitOps and policy objects) touches
/// the cluster's owner team and criticality tier, as an app's files touch the app's.
#[test]
fn a_cluster_wide_change_touches_the_clusters_team_and_tier() {
    let (dir, repo) = two_commits();
    let cluster = dir.path().join("clusters/eastus-prod-01.yaml");
    let text = std::fs::read_to_string(&cluster).unwrap();
    let text = text.replace("ownerTeam: platform", "ownerTeam: platform-east");
    std::fs::write(&cluster, text.replace("criticality: tier-1", "criticality: tier-0")).unwrap();
    commit(&repo, "eastus-prod-01 is tier-0, owned by platform-east");
    let text = shown(dir.path(), &["HEAD~1", "HEAD"]);
    assert!(text.contains("M eastus-prod-01/cluster.yaml"), "{text}");
    assert!(text.contains("owner teams touched: platform-east"), "{text}");
    assert!(text.contains("criticality tiers touched: tier-0"), "{text}");
}

#[test]
fn an_app_or_cluster_neither_side_has_is_refused_not_shown_as_no_change() {
    let (dir, _repo) = two_commits();
    // A typo must not pass a `--exit-code` gate as "no change" (web changed on 3 clusters).
    for (args, said) in [
        (&["--app", "wbe"][..], "error: no app `wbe`; apps: `api` or `web`"),
        (
            &["--cluster", "eastus-prod-1"][..],
            "error: no cluster `eastus-prod-1`; did you mean `eastus-prod-01`?",
        ),
    ] {
        let out = diff(dir.path(), &[&["HEAD~1", "HEAD", "--exit-code"][..], args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}{err}", stdout(&out));
        assert!(err.contains(said), "{args:?}: {err}");
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
    }
    // Names either side has are taken: the change is shown and `--exit-code` says so.
    let out = diff(
        dir.path(),
        &[
            "HEAD~1",
            "HEAD",
            "--exit-code",
            "--app",
            "web",
            "--cluster",
            "eastus-prod-01",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("eastus-prod-01/apps/web/"), "{}", stdout(&out));
    // An app only the older side has (removed by the change) is a name diff knows.
    fs::remove_dir_all(dir.path().join("apps/web")).unwrap();
    let out = diff(dir.path(), &["HEAD", "--exit-code", "--app", "web"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("D "), "{}", stdout(&out));
}

#[test]
fn a_revision_against_itself_is_no_change() {
    let (dir, _repo) = two_commits();
    let out = diff(dir.path(), &["HEAD", "HEAD", "-v"]);
    assert!(
        stdout(&out).contains("no change to any rendered file"),
        "{}",
        stdout(&out)
    );
    // The second side is all from the first's store, the placement matrix included (its
    // text is the first side's): nothing is compiled a second time.
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("(0 rendered, 6 from the cache)"), "{said}");
    assert!(!said.contains("compiling again"), "{said}");
    // Default: HEAD against the (clean) working tree.
    let out = diff(dir.path(), &[]);
    assert!(
        stdout(&out).contains("fleetgen diff HEAD → working tree"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("no change to any rendered file"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn json_lists_every_changed_object_and_markdown_folds_clusters() {
    let (dir, _repo) = two_commits();
    let out = diff(dir.path(), &["--base", "HEAD~1", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = value["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "HorizontalPodAutoscaler" && c["app"] == "web" && c["change"] == "modified")
    );
    assert_eq!(value["summary"]["clustersChanged"].as_array().unwrap().len(), 3);
    let out = diff(
        dir.path(),
        &["HEAD~1", "HEAD", "--format", "markdown", "--cluster", "useast1-prod-01"],
    );
    let md = stdout(&out);
    assert!(md.contains("<details><summary><code>useast1-prod-01</code>"), "{md}");
    assert!(!md.contains("<code>eastus-prod-01</code>"), "{md}");
}

#[test]
fn a_revision_that_does_not_compile_is_reported_with_its_diagnostics() {
    let (dir, repo) = two_commits();
    fs::write(
        dir.path().join("clusters/eastus-prod-01.yaml"),
        "clusterId: [unclosed\n",
    )
    .unwrap();
    commit(&repo, "break a cluster");
    let out = diff(dir.path(), &["HEAD~1", "HEAD"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    // Bad YAML: the input cannot be used, exit 2 as for every other command.
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the sources at `HEAD` do not compile"), "{err}");
    assert!(err.contains("clusters/eastus-prod-01.yaml"), "{err}");
    let out = diff(dir.path(), &["no-such-revision"]);
    assert_eq!(out.status.code(), Some(2));
    // An unknown profile: the files parse but do not fit together, exit 1.
    let text = fs::read_to_string(root().join("tests/fixtures/base/clusters/eastus-prod-01.yaml")).unwrap();
    fs::write(
        dir.path().join("clusters/eastus-prod-01.yaml"),
        text.replace("profile: aks-standard", "profile: aks-standrad"),
    )
    .unwrap();
    commit(&repo, "unknown profile");
    let out = diff(dir.path(), &["HEAD~2", "HEAD"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("FG023"), "{err}");
}

/// One argument may be a range, read as `git diff` reads it: `A..B` is `A B`, `A...B`
/// starts at the merge base, and a side left out is HEAD; a range beside a revision is
/// refused.
#[test]
fn a_range_is_read_as_git_diff_reads_it() {
    let (dir, repo) = two_commits();
    let two = stdout(&diff(dir.path(), &["HEAD~1", "HEAD"]));
    assert!(two.contains("clusters changed: "), "{two}");
    for range in ["HEAD~1..HEAD", "HEAD~1.."] {
        let out = diff(dir.path(), &[range]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{range}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout(&out), two, "{range}");
    }
    // A branch from the base that changes something else; main moves on meanwhile.
    let trunk = repo.head().unwrap().shorthand().unwrap().to_string();
    let base = repo.revparse_single("HEAD~1").unwrap().peel_to_commit().unwrap();
    repo.branch("topic", &base, false).unwrap();
    repo.set_head("refs/heads/topic").unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    let app = dir.path().join("apps/api/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    fs::write(
        &app,
        text.replace("version: 2026.07.03-1200", "version: 2026.07.04-0900"),
    )
    .unwrap();
    commit(&repo, "api released");
    // From the merge base: the branch's change alone, not main's scaling undone.
    let three = stdout(&diff(dir.path(), &[&format!("{trunk}...topic")]));
    let merge_base = base.id().to_string();
    assert!(
        three.starts_with(&format!("fleetgen diff {} → topic", &merge_base[..12])),
        "{three}"
    );
    assert!(three.contains("2026.07.04-0900"), "{three}");
    assert!(!three.contains("maxReplicas"), "{three}");
    let two_dot = stdout(&diff(dir.path(), &[&format!("{trunk}..topic")]));
    assert!(
        two_dot.contains("maxReplicas") && two_dot.contains("2026.07.04-0900"),
        "{two_dot}"
    );
    let out = diff(dir.path(), &["HEAD~1..HEAD", "HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a range, which takes the place of both revisions"));
}

/// A bare repository (a server's, for a pre-receive hook) diffs two revisions of the fleet
/// at its top; the working tree, which it has none of, is refused with what to give.
#[test]
fn a_bare_repository_diffs_two_revisions() {
    let (dir, _repo) = two_commits();
    let bare = tempfile::tempdir().unwrap();
    git2::build::RepoBuilder::new()
        .bare(true)
        .clone(dir.path().to_str().unwrap(), bare.path())
        .unwrap();
    let out = diff(bare.path(), &["HEAD~1", "HEAD"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout(&out), stdout(&diff(dir.path(), &["HEAD~1", "HEAD"])));
    let out = diff(bare.path(), &["HEAD~1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is a bare git repository, which has no working tree: give two revisions"),
        "{err}"
    );
    // A fleet in a folder of the repository: the path under the bare folder names it.
    let mono = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/base"), &mono.path().join("infra/fleet"));
    let repo = Repository::init(mono.path()).unwrap();
    commit(&repo, "base");
    scale_web(&mono.path().join("infra/fleet"));
    commit(&repo, "scale web");
    let bare = tempfile::tempdir().unwrap();
    git2::build::RepoBuilder::new()
        .bare(true)
        .clone(mono.path().to_str().unwrap(), bare.path())
        .unwrap();
    let out = diff(&bare.path().join("infra/fleet"), &["HEAD~1", "HEAD"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout(&out), stdout(&diff(dir.path(), &["HEAD~1", "HEAD"])));
}

/// A revision a shallow clone (actions/checkout's default) does not hold says how to
/// fetch it, not only libgit2's words.
#[test]
fn a_shallow_clone_says_how_to_fetch_a_missing_revision() {
    let (dir, repo) = two_commits();
    let head = repo.head().unwrap().peel_to_commit().unwrap().id();
    // What `git clone --depth 1` leaves: HEAD listed as a shallow commit (its parents cut).
    fs::write(dir.path().join(".git/shallow"), format!("{head}\n")).unwrap();
    let out = diff(dir.path(), &["HEAD~1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown revision `HEAD~1`"), "{err}");
    assert!(err.contains("help: this clone is shallow"), "{err}");
    assert!(err.contains("fetch-depth: 0"), "{err}");
}

/// A submodule among the inputs (an app folder that is another repository) holds files the
/// revision's objects do not: it is reported, not silently left out of the compile.
#[test]
fn a_submodule_among_the_inputs_is_reported_not_left_out() {
    let (dir, repo) = two_commits();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let mut index = repo.index().unwrap();
    index
        .add(&git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o160000,
            uid: 0,
            gid: 0,
            file_size: 0,
            id: head.id(),
            flags: 0,
            flags_extended: 0,
            path: b"apps/sub-app".to_vec(),
        })
        .unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::new("fleetgen test", "test@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "a submodule app", &tree, &[&head])
        .unwrap();
    let out = diff(dir.path(), &["HEAD~1", "HEAD"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("apps/sub-app: this is a git submodule"), "{err}");
}

/// One symbolic-link rule for the working tree and a git revision: a link that stays in the
/// fleet is followed in both, one that leaves it is refused in both, with the same words.
#[cfg(unix)]
#[test]
fn a_revision_follows_the_links_the_working_tree_follows() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/base"), dir.path());
    // The web contract lives in a shared folder fleetgen does not read; apps/web links to it.
    fs::create_dir_all(dir.path().join("shared")).unwrap();
    fs::rename(dir.path().join("apps/web/app.yaml"), dir.path().join("shared/web.yaml")).unwrap();
    std::os::unix::fs::symlink("../../shared/web.yaml", dir.path().join("apps/web/app.yaml")).unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    commit(&repo, "linked");
    let validate = fleetgen()
        .args(["validate", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(validate.status.code(), Some(0), "{}", common::report(&validate));
    let out = diff(dir.path(), &["HEAD"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::report(&out));
    assert!(stdout(&out).contains("no change"), "{}", stdout(&out));

    // A link out of the repository: refused by both, in the same words.
    let outside = tempfile::tempdir().unwrap();
    fs::write(
        outside.path().join("web.yaml"),
        fs::read(dir.path().join("shared/web.yaml")).unwrap(),
    )
    .unwrap();
    fs::remove_file(dir.path().join("apps/web/app.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("web.yaml"), dir.path().join("apps/web/app.yaml")).unwrap();
    commit(&repo, "linked out");
    let message = "apps/web/app.yaml:1:1: error[FG006] symbolic link points outside the repository";
    let validate = fleetgen()
        .args(["validate", "--format", "concise", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        common::report(&validate).contains(message),
        "{}",
        common::report(&validate)
    );
    let out = diff(dir.path(), &["HEAD", "HEAD"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an input error exits 2: {}",
        common::report(&out)
    );
    assert!(
        common::report(&out).contains("symbolic link points outside the repository"),
        "{}",
        common::report(&out)
    );
}

/// A release walks the rings by data alone: the new release at the top reaches staging, the
/// pin holds prod; deleting the pin promotes it. Each step's diff is that ring's clusters.
#[test]
fn a_release_walks_the_rings_one_diff_per_ring() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/base"), dir.path());
    let repo = Repository::init(dir.path()).unwrap();
    commit(&repo, "base: api 2026.07.03-1200 everywhere");
    let app = dir.path().join("apps/api/app.yaml");
    let base = fs::read_to_string(&app).unwrap();
    let old = "registry.example.com/api@sha256:dce143d4703ddf2236dcbc0d7157803858db96a44eaf371a9df06f3e14642c52";
    let new = format!("registry.example.com/api@sha256:{}", "ab".repeat(32));
    // Step 1: the new release at the top, prod pinned to the old one.
    let step1 = base.replace(old, &new).replace(
        "  version: 2026.07.03-1200\n",
        &format!(
            "  version: 2026.07.04-0800\n  rings:\n    prod:\n      image: {old}\n      version: 2026.07.03-1200\n"
        ),
    );
    fs::write(&app, &step1).unwrap();
    commit(&repo, "api 07.04 to staging");
    // Step 2: promote to prod (delete the pin).
    fs::write(
        &app,
        base.replace(old, &new).replace("2026.07.03-1200", "2026.07.04-0800"),
    )
    .unwrap();
    commit(&repo, "api 07.04 to prod");

    let text = shown(dir.path(), &["HEAD~2", "HEAD~1"]);
    assert!(text.contains("clusters changed: 1"), "{text}");
    assert!(text.contains("\neastus-staging-01\n"), "{text}");
    assert!(
        !text.contains("eastus-prod-01/apps") && !text.contains("useast1-prod-01/apps"),
        "{text}"
    );
    assert!(
        text.contains("+          image: registry.example.com/api@sha256:abab"),
        "{text}"
    );

    let out = diff(dir.path(), &["HEAD~1", "HEAD"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("clusters changed: 2"), "{text}");
    assert!(
        text.contains("\neastus-prod-01\n") && text.contains("\nuseast1-prod-01\n"),
        "{text}"
    );
    assert!(!text.contains("eastus-staging-01/apps"), "{text}");
    assert!(
        text.contains("+    app.kubernetes.io/version: \"2026.07.04-0800\""),
        "{text}"
    );
}

fn render(repo: &Path) {
    let out = fleetgen()
        .args(["render", "--quiet", "--color", "never", "--repo"])
        .arg(repo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `diff` with the cache and with `--no-cache`: the same output in every format, and what
/// `-v` said of the cached one.
fn same_with_and_without_cache(repo: &Path, revs: &[&str]) -> String {
    let mut said = String::new();
    for format in ["text", "json", "markdown"] {
        let args: Vec<&str> = revs.iter().copied().chain(["--format", format]).collect();
        let cold = diff(repo, &[&args[..], &["--no-cache"]].concat());
        let warm = diff(repo, &[&args[..], &["-v"]].concat());
        assert_eq!(cold.status.code(), Some(0), "{}", String::from_utf8_lossy(&cold.stderr));
        assert_eq!(warm.status.code(), Some(0), "{}", String::from_utf8_lossy(&warm.stderr));
        assert_eq!(stdout(&warm), stdout(&cold), "{format}");
        assert!(stdout(&cold).contains("maxReplicas"), "{format}: {}", stdout(&cold));
        said = String::from_utf8_lossy(&warm.stderr).into_owned();
    }
    said
}

/// How many placements the `-v` lines say were taken from the cache, per side.
fn from_the_cache(verbose: &str) -> Vec<usize> {
    verbose
        .lines()
        .filter(|l| l.contains("fleetgen: render "))
        .flat_map(|l| l.split("; "))
        .filter_map(|part| {
            let (_, after) = part.split_once(" rendered, ")?;
            after.split_whitespace().next()?.parse().ok()
        })
        .collect()
}

#[test]
fn the_cache_a_render_left_spares_a_diff_its_renders_and_changes_nothing_it_shows() {
    let (dir, _repo) = two_commits_after(render);
    assert!(dir.path().join(".fleetgen/placements").is_file(), "render made a cache");

    // The cache is the first revision's: the first side is all from it (texts of the files
    // that changed read from rendered/), the second renders web's placements only.
    let said = same_with_and_without_cache(dir.path(), &["HEAD~1", "HEAD"]);
    let reused = from_the_cache(&said);
    assert_eq!(reused.len(), 2, "{said}");
    assert!(reused[0] > 0 && reused[1] > 0, "{said}");
    assert!(!said.contains("compiling again"), "{said}");

    // The cache is the second revision's, and the working tree's.
    render(dir.path());
    let said = same_with_and_without_cache(dir.path(), &["HEAD~1", "HEAD"]);
    assert!(from_the_cache(&said).iter().all(|n| *n > 0), "{said}");
    let said = same_with_and_without_cache(dir.path(), &["HEAD~1"]);
    assert!(from_the_cache(&said).iter().all(|n| *n > 0), "{said}");

    // rendered/ checked out with CRLF line endings (git's core.autocrlf): its texts are read
    // as LF, as check reads them, and the cache still serves.
    let rendered = dir.path().join("rendered");
    for (path, text) in common::read_tree(&rendered) {
        fs::write(rendered.join(path), text.replace('\n', "\r\n")).unwrap();
    }
    let said = same_with_and_without_cache(dir.path(), &["HEAD", "HEAD~1"]);
    assert!(from_the_cache(&said).iter().all(|n| *n > 0), "{said}");
    assert!(!said.contains("compiling again"), "{said}");

    // A rendered file the change made, edited by hand since: the text the cache stands for
    // is nowhere, and both sides are compiled again without it, as with --no-cache.
    render(dir.path());
    let edited = walkdir::WalkDir::new(&rendered)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file() && p.to_string_lossy().contains("/apps/web/"))
        .find(|p| fs::read_to_string(p).unwrap().contains("maxReplicas: 20"))
        .expect("a file the change made");
    let body = fs::read_to_string(&edited).unwrap();
    // (The same size: only its content says it is not what the cache stands for.)
    fs::write(&edited, body.replace("maxReplicas: 20", "maxReplicas: 29")).unwrap();
    let said = same_with_and_without_cache(dir.path(), &["HEAD", "HEAD~1"]);
    assert!(said.contains("compiling again"), "{said}");
}

/// A change to every cluster's policy objects, diffed with the cache a `check` left: each
/// unchanged `cluster.yaml` is known by hash only, yet the summary still names the clusters'
/// owner teams and tiers (it read them from those files, which the cache had dropped).
#[test]
fn a_warm_cache_still_names_the_teams_and_tiers_of_a_change_to_clusters_own_files() {
    let (dir, repo) = two_commits();
    render(dir.path());
    commit(&repo, "rendered");
    let out = fleetgen()
        .args(["check", "--quiet", "--color", "never", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let intent = dir.path().join("policy-library/intents/must-run-as-non-root.yaml");
    let text = fs::read_to_string(&intent).unwrap();
    fs::write(
        &intent,
        text.replace("title: Containers must", "title: Every container must"),
    )
    .unwrap();
    let cold = shown(dir.path(), &["--format", "json", "--no-cache"]);
    let warm = shown(dir.path(), &["--format", "json"]);
    assert_eq!(warm, cold);
    let json: serde_json::Value = serde_json::from_str(&warm).unwrap();
    let summary = &json["summary"];
    assert!(!summary["clustersChanged"].as_array().unwrap().is_empty(), "{warm}");
    assert!(
        summary["teams"].as_array().unwrap().contains(&"platform".into()),
        "{warm}"
    );
    assert!(!summary["criticality"].as_array().unwrap().is_empty(), "{warm}");
}

/// A switch in fleet.yaml taking a region out of traffic changes only the fleet-level edge
/// templates (`_edge/`), no cluster's folder: a diff filtered to a cluster or an app there
/// shows each changed origin, named, and is a change for `--exit-code`; the JSON names every
/// changed resource and whose it is, and the summary its team and tier.
#[test]
fn a_region_taken_out_of_rotation_is_a_change_of_its_clusters_and_apps_by_resource() {
    let dir = common::fleet_with(Some(&root().join("tests/golden/edge-switches/input")));
    let repo = Repository::init(dir.path()).unwrap();
    commit(&repo, "base");
    let fleet = dir.path().join("fleet.yaml");
    let text = fs::read_to_string(&fleet).unwrap();
    let switch = "edge:\n  outOfRotation:\n    - { region: aws:eu-west-1, reason: \"INC-1\" }\n";
    fs::write(&fleet, text.replacen("edge:\n", switch, 1)).unwrap();
    commit(&repo, "eu-west-1 out of rotation");
    let origin = "afd-prod/web/web-euwest1-prod-01";
    for filter in [&["--cluster", "euwest1-prod-01"][..], &["--app", "web"][..]] {
        let args = [&["HEAD~1", "HEAD", "--exit-code"][..], filter].concat();
        let out = diff(dir.path(), &args);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{filter:?}: {text}");
        assert!(!text.contains("no change to any rendered file"), "{filter:?}: {text}");
        assert!(
            text.contains(&format!(
                "M Microsoft.Cdn/profiles/originGroups/origins {origin} (+1 −1)"
            )),
            "{filter:?}: {text}"
        );
        assert!(text.contains("\"enabledState\": \"Disabled\""), "{filter:?}: {text}");
        let json = shown(
            dir.path(),
            &[&["HEAD~1", "HEAD", "--format", "json"][..], filter].concat(),
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let resources: Vec<&serde_json::Value> = (value["changes"].as_array().unwrap().iter())
            .flat_map(|c| c["resources"].as_array().into_iter().flatten())
            .collect();
        let changed = (resources.iter())
            .find(|r| r["name"] == origin)
            .unwrap_or_else(|| panic!("{filter:?}: {json}"));
        assert_eq!(changed["kind"], "Microsoft.Cdn/profiles/originGroups/origins", "{json}");
        assert_eq!(changed["clusters"], serde_json::json!(["euwest1-prod-01"]), "{json}");
        assert_eq!(changed["apps"], serde_json::json!(["web"]), "{json}");
        // Every resource is the selection's: none of another cluster's or app's.
        for r in &resources {
            let (clusters, apps) = (r["clusters"].as_array().unwrap(), r["apps"].as_array().unwrap());
            assert!(
                clusters.is_empty() || clusters.contains(&"euwest1-prod-01".into()) || filter[0] == "--app",
                "{json}"
            );
            assert!(
                apps.is_empty() || apps.contains(&"web".into()) || filter[0] == "--cluster",
                "{json}"
            );
        }
        assert!(!value["summary"]["teams"].as_array().unwrap().is_empty(), "{json}");
    }
}

/// An app whose Route 53 records change routing policy (latency to weighted) gets a note:
/// CloudFormation would create the new records beside the old and Route 53 refuse them.
#[test]
fn a_route53_routing_policy_change_says_to_deploy_in_two_steps() {
    let dir = common::fleet_with(Some(&root().join("tests/golden/edge-route53/input")));
    let repo = Repository::init(dir.path()).unwrap();
    commit(&repo, "base");
    let app = dir.path().join("apps/web/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    fs::write(&app, text.replacen("routing: latency", "routing: weighted-global", 1)).unwrap();
    commit(&repo, "web weighted");
    let out = diff(dir.path(), &["HEAD~1", "HEAD"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains("change routing policy")).collect();
    // Web's two names: the apex (alias A records) and www.
    assert_eq!(notes.len(), 2, "{stderr}");
    for (note, name) in notes
        .iter()
        .zip(["A records of `example.com`", "CNAME records of `www.example.com`"])
    {
        assert!(
            note.starts_with(&format!(
                "note: _edge/route53/example.com.json: the {name} change routing policy (latency to weighted)"
            )),
            "{stderr}"
        );
    }
    // Leading the report too.
    assert!(
        stdout(&out).contains("change routing policy (latency to weighted)"),
        "{}",
        stdout(&out)
    );
}
