//! The structs in `src/model` and the schemas in `schemas/` describe the same formats:
//! every example file passes both, and every file in `tests/fixtures/schema-invalid/<kind>/`
//! fails both, each on its own. Which file is of which kind comes from the one table of
//! input folders fleetgen reads by (`layout`, through `api::classify`).

use std::fs;
use std::path::{Path, PathBuf};

use fleetgen::api::{self, Kind, Role};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (schema verdict, struct verdict) for one file: `Ok` when it passes.
fn judge(kind: Kind, path: &Path) -> (Result<(), String>, Result<(), String>) {
    let text = fs::read_to_string(path).unwrap();
    let verdict =
        api::judge_input(kind, &path.to_string_lossy(), &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (verdict.schema, verdict.model)
}

#[test]
fn every_example_file_passes_schema_and_struct() {
    let mut seen = std::collections::BTreeSet::new();
    let mut bases = vec![root(), root().join("tests/fixtures/base")];
    for case in fs::read_dir(root().join("tests/golden")).unwrap() {
        bases.push(case.unwrap().path().join("input"));
    }
    for base in bases {
        // Everything but what is plainly not a fleet's (the build, git, tests, the output).
        let fleet_part = |e: &walkdir::DirEntry| {
            e.depth() != 1
                || !["target", ".git", "tests", "rendered", "expected"].contains(&&*e.file_name().to_string_lossy())
        };
        if !base.exists() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&base).into_iter().filter_entry(fleet_part) {
            let entry = entry.unwrap();
            let rel = entry
                .path()
                .strip_prefix(&base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if !entry.file_type().is_file() {
                continue;
            }
            let Role::Input(kind) = api::classify(&rel) else {
                continue;
            };
            let (by_schema, by_struct) = judge(kind, entry.path());
            assert_eq!(by_schema, Ok(()), "{rel}: schema rejects an example");
            assert_eq!(by_struct, Ok(()), "{rel}: struct rejects an example");
            seen.insert(kind);
        }
    }
    assert_eq!(seen.len(), Kind::ALL.len(), "some kind has no example: {seen:?}");
}

#[test]
fn every_invalid_file_fails_schema_and_struct() {
    let mut count = 0;
    for kind in Kind::ALL {
        let dir = root().join("tests/fixtures/schema-invalid").join(kind.name());
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("no invalid examples for {kind}"))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 2, "{kind}: too few invalid examples");
        for path in files {
            let (by_schema, by_struct) = judge(kind, &path);
            assert!(by_schema.is_err(), "{}: the schema accepts it", path.display());
            assert!(by_struct.is_err(), "{}: the struct accepts it", path.display());
            count += 1;
        }
    }
    assert!(count >= 20);
}

/// An integer field written as a whole float (`10.`, `10.0`, `1e1`) is an integer to JSON
/// Schema, so the struct takes it too; a fraction, or a whole number past the field's
/// `maximum`, fails both. (The `load` fuzz target found `10.` passing one and failing the
/// other.)
#[test]
fn a_whole_number_written_as_a_float_passes_schema_and_struct_alike() {
    let path = root().join("fleet.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let line = "maxReplicasPerRegion: 10\n";
    assert!(text.contains(line), "fleet.yaml no longer sets {line:?}");
    let judged = |written: &str| {
        let edited = text.replacen(line, &format!("maxReplicasPerRegion: {written}\n"), 1);
        let verdict = api::judge_input(Kind::Fleet, "fleet.yaml", &edited).unwrap();
        (verdict.schema.is_ok(), verdict.model.is_ok())
    };
    for whole in ["10", "10.", "10.0", "1e1", "+10.0"] {
        assert_eq!(judged(whole), (true, true), "{whole}");
    }
    for refused in ["10.5", "1e30", "-1.0", "\"10\""] {
        assert_eq!(judged(refused), (false, false), "{refused}");
    }
}
