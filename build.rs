//! Records the commit fleetgen is built from, for `fleetgen version`: only when the package
//! is the top of its own git checkout (a clone, `cargo install --git`, a pre-commit hook
//! repository), never the commit of a repository it happens to be vendored in.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").current_dir(dir).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let own_checkout = git(&manifest, &["rev-parse", "--show-toplevel"])
        .and_then(|top| std::fs::canonicalize(top).ok())
        .zip(std::fs::canonicalize(&manifest).ok())
        .is_some_and(|(top, manifest)| top == manifest);
    let (hash, date) = if own_checkout {
        (
            git(&manifest, &["rev-parse", "HEAD"]).unwrap_or_default(),
            git(&manifest, &["log", "-1", "--format=%cs", "HEAD"]).unwrap_or_default(),
        )
    } else {
        Default::default()
    };
    println!("cargo:rustc-env=FLEETGEN_COMMIT_HASH={hash}");
    println!("cargo:rustc-env=FLEETGEN_COMMIT_DATE={date}");
    println!(
        "cargo:rustc-env=FLEETGEN_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
    println!("cargo:rerun-if-changed=build.rs");
    if own_checkout {
        // Run again when HEAD moves: its file (a checkout) and the branch it names (a
        // commit). Only files that exist: cargo runs a script watching a missing one always.
        let dir = |args: &[&str]| git(&manifest, args).map(|d| manifest.join(d));
        let mut watch = Vec::new();
        if let Some(git_dir) = dir(&["rev-parse", "--git-dir"]) {
            watch.push(git_dir.join("HEAD"));
        }
        if let (Some(common), Some(branch)) = (
            dir(&["rev-parse", "--git-common-dir"]),
            git(&manifest, &["symbolic-ref", "-q", "HEAD"]),
        ) {
            watch.push(common.join(&branch));
            watch.push(common.join("packed-refs"));
        }
        for path in watch.into_iter().filter(|p| p.is_file()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
