//! Helpers the integration tests share: the binary, fixture fleets, trees of files.
#![allow(dead_code)] // each test crate uses its own subset

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fixed day tests run on: exemption expiry is judged against it, so outputs do not age.
pub const TODAY: &str = "2026-11-22";

/// [`TODAY`] as a day, for fleets held in memory.
pub fn today() -> fleetgen::api::Day {
    fleetgen::api::parse_date(TODAY).unwrap()
}

/// The binary, without colour, at width 80, on [`TODAY`].
pub fn fleetgen() -> Command {
    let mut cmd = Command::cargo_bin("fleetgen").unwrap();
    cmd.env("COLUMNS", "80")
        .env_remove("NO_COLOR")
        .env("FLEETGEN_TODAY", TODAY);
    cmd
}

pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temporary fleet: the base fixture with `overlay`'s files laid over it.
pub fn fleet_with(overlay: Option<&Path>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/base"), dir.path());
    if let Some(o) = overlay {
        copy_tree(o, dir.path());
    }
    dir
}

/// Every file under `dir`, by `/`-separated relative path.
pub fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return files;
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap();
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.insert(rel.join("/"), fs::read_to_string(entry.path()).unwrap());
        }
    }
    files
}

/// Exit code, stdout and stderr, for assertion messages and snapshots.
pub fn report(out: &Output) -> String {
    format!(
        "exit: {}\n{}{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The change the diff tests commit: the base fixture's `web` may scale to 20 replicas per
/// region (`fleet` holds the fixture).
pub fn scale_web(fleet: &Path) {
    let app = fleet.join("apps/web/app.yaml");
    let text = fs::read_to_string(&app).unwrap();
    assert!(text.contains("  port: 8080\n"), "{text}");
    fs::write(
        &app,
        text.replace("  port: 8080\n", "  port: 8080\nruntime:\n  maxReplicasPerRegion: 20\n"),
    )
    .unwrap();
}
