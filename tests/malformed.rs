//! The malformed corpus (`tests/malformed/<group>/<case>/`, written by
//! `tests/malformed/make`): every input kind broken the same ways (its YAML and its
//! schema), Helm values, and hostile or broken templates. Each case is laid over the base
//! fleet, whose `rendered/` is already there, and rendered by the binary. It must exit with
//! the code its `expect.txt` documents (2 unless it says otherwise) and name a
//! `file:line:col`, within a minute and within an address-space limit of 2 GiB (inherited
//! from this test), and leave `rendered/` byte-identical.
//!
//! `FLEETGEN_BLESS=1 cargo test --test malformed` rewrites the `expect.txt` files; review
//! the change like a snapshot.

mod common;

use common::{copy_tree, fleet_with, fleetgen, read_tree, root};

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The address space a case's render may use (inherited by the binary from this process).
const MEMORY: u64 = 2 * 1024 * 1024 * 1024;
const TIME: Duration = Duration::from_secs(60);

fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for group in fs::read_dir(root().join("tests/malformed")).unwrap() {
        let group = group.unwrap().path();
        if !group.is_dir() {
            continue;
        }
        for case in fs::read_dir(&group).unwrap() {
            out.push(case.unwrap().path());
        }
    }
    out.sort();
    out
}

/// What a case did: its exit code, the first error's `file:line:col` and code.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    exit: i32,
    at: String,
    code: String,
}

impl Outcome {
    fn text(&self) -> String {
        format!("exit: {}\nat: {}\ncode: {}\n", self.exit, self.at, self.code)
    }
}

/// The first `file:line:col: error[FG…]` line of concise output.
fn first_error(output: &str) -> Option<(String, String)> {
    output.lines().find_map(|line| {
        let (place, rest) = line.split_once(": error[")?;
        let code = rest.split(']').next()?.to_string();
        let mut parts = place.rsplitn(3, ':');
        let (col, line_no, file) = (parts.next()?, parts.next()?, parts.next()?);
        (col.parse::<u32>().is_ok() && line_no.parse::<u32>().is_ok() && !file.is_empty())
            .then(|| (place.to_string(), code))
    })
}

fn run_case(case: &Path, base: &Path) -> Result<Outcome, String> {
    let fleet = tempfile::tempdir().unwrap();
    copy_tree(base, fleet.path());
    for entry in walkdir::WalkDir::new(case) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(case).unwrap();
        if rel == Path::new("expect.txt") || rel == Path::new("pad.txt") {
            continue;
        }
        let target = fleet.path().join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
    if let Ok(pad) = fs::read_to_string(case.join("pad.txt")) {
        let path = fleet.path().join(pad.trim());
        let mut text = fs::read(&path).unwrap();
        while text.len() <= 1024 * 1024 {
            text.extend_from_slice(b"# padding: an input file over 1 MiB is refused before it is read\n");
        }
        fs::write(&path, text).unwrap();
    }
    let before = read_tree(&fleet.path().join("rendered"));
    let started = Instant::now();
    let out = fleetgen()
        .args(["render", "--format", "concise", "--color", "never", "--repo"])
        .arg(fleet.path())
        .timeout(TIME)
        .output()
        .unwrap();
    let took = started.elapsed();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if took >= TIME {
        return Err(format!("took {took:?}"));
    }
    if read_tree(&fleet.path().join("rendered")) != before {
        return Err(format!("rendered/ changed:\n{shown}"));
    }
    let exit = out
        .status
        .code()
        .ok_or_else(|| format!("killed by a signal:\n{shown}"))?;
    let (at, code) = first_error(&shown).ok_or_else(|| format!("exit {exit} without a located error:\n{shown}"))?;
    Ok(Outcome { exit, at, code })
}

fn parse_expect(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn every_malformed_case_fails_located_bounded_and_leaves_rendered_whole() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let now = getrlimit(Resource::As);
        let limit = now.maximum.map_or(MEMORY, |m| m.min(MEMORY));
        setrlimit(
            Resource::As,
            Rlimit {
                current: Some(limit),
                maximum: now.maximum,
            },
        )
        .unwrap();
    }
    let bless = std::env::var_os("FLEETGEN_BLESS").is_some();
    // The base fleet with its rendered tree, copied for every case.
    let base = fleet_with(None);
    let out = fleetgen()
        .args(["render", "--color", "never", "--repo"])
        .arg(base.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::report(&out));
    let cases = cases();
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    let next = Mutex::new(cases.iter());
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let Some(case) = next.lock().unwrap().next() else { break };
                    let name = case
                        .strip_prefix(root().join("tests/malformed"))
                        .unwrap()
                        .display()
                        .to_string();
                    let expect = case.join("expect.txt");
                    let result = run_case(case, base.path());
                    let problem = match result {
                        Err(e) => Some(e),
                        Ok(got) if bless => {
                            fs::write(&expect, got.text()).unwrap();
                            (got.exit == 0).then(|| "exit 0: the case is not malformed".to_string())
                        }
                        Ok(got) => {
                            let want = parse_expect(&fs::read_to_string(&expect).unwrap_or_default());
                            let wanted_exit = want.get("exit").map_or("2", String::as_str);
                            if got.exit.to_string() != wanted_exit
                                || want.get("at") != Some(&got.at)
                                || want.get("code") != Some(&got.code)
                            {
                                Some(format!(
                                    "expected\n{}got\n{}",
                                    fs::read_to_string(&expect).unwrap_or_default(),
                                    got.text()
                                ))
                            } else {
                                None
                            }
                        }
                    };
                    if let Some(p) = problem {
                        failures.lock().unwrap().push(format!("{name}: {p}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed (FLEETGEN_BLESS=1 rewrites expect.txt):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
