//! The structs in `src/model` and the schemas in `schemas/` describe the same formats:
//! every example file passes both, and every file in `tests/fixtures/schema-invalid/<kind>/`
//! fails both, each on its own.

use std::fs;
use std::path::{Path, PathBuf};

use fleetgen::load::{parse_typed, yaml};
use fleetgen::schema::{self, Kind};
use fleetgen::source::{SourceFile, SourceMap};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (schema verdict, struct verdict) for one file: `Ok` when it passes.
fn judge(kind: &Kind, path: &Path) -> (Result<(), String>, Result<(), String>) {
    let mut map = SourceMap::default();
    let file = map.add(SourceFile::new(
        path.to_string_lossy(),
        fs::read_to_string(path).unwrap(),
    ));
    let node = yaml::parse(map.get(file)).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
    let json = node.to_json();
    let errors = schema::validate(kind, file, &map, &node, &json);
    let by_schema = if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; "))
    };
    let by_struct = parse_typed(kind, &json).map(|_| ()).map_err(|e| e.to_string());
    (by_schema, by_struct)
}

fn kind_of(rel: &str) -> Option<&'static Kind> {
    let parts: Vec<&str> = rel.split('/').collect();
    Some(match parts.as_slice() {
        ["fleet.yaml"] => schema::FLEET,
        ["clusters", ..] => schema::CLUSTER,
        ["apps", _, "app.yaml"] => schema::APP,
        ["profiles", "cluster", ..] => schema::CLUSTER_PROFILE,
        ["profiles", "observability", ..] => schema::OBSERVABILITY_PROFILE,
        ["profiles", "backup", ..] => schema::BACKUP_PROFILE,
        ["profiles", "identity", ..] => schema::IDENTITY_PROFILE,
        ["profiles", "telemetry", ..] => schema::TELEMETRY_PROFILE,
        ["policy-library", "intents", ..] => schema::POLICY_INTENT,
        ["policy-library", "profiles", ..] => schema::POLICY_PROFILE,
        ["policy-library", "exemptions", ..] => schema::POLICY_EXEMPTION,
        _ => return None,
    })
}

#[test]
fn every_example_file_passes_schema_and_struct() {
    let mut seen = std::collections::BTreeSet::new();
    let mut bases = vec![root(), root().join("tests/fixtures/base")];
    for case in fs::read_dir(root().join("tests/golden")).unwrap() {
        bases.push(case.unwrap().path().join("input"));
    }
    for base in bases {
        for top in ["fleet.yaml", "clusters", "apps", "profiles", "policy-library"] {
            if !base.join(top).exists() {
                continue;
            }
            for entry in walkdir::WalkDir::new(base.join(top)) {
                let entry = entry.unwrap();
                let rel = entry.path().strip_prefix(&base).unwrap().to_string_lossy().into_owned();
                let Some(kind) = kind_of(&rel).filter(|_| rel.ends_with(".yaml")) else {
                    continue;
                };
                let (by_schema, by_struct) = judge(kind, entry.path());
                assert_eq!(by_schema, Ok(()), "{rel}: schema rejects an example");
                assert_eq!(by_struct, Ok(()), "{rel}: struct rejects an example");
                seen.insert(kind.name);
            }
        }
    }
    assert_eq!(seen.len(), schema::KINDS.len(), "some kind has no example: {seen:?}");
}

#[test]
fn every_invalid_file_fails_schema_and_struct() {
    let mut count = 0;
    for kind in schema::KINDS {
        let dir = root().join("tests/fixtures/schema-invalid").join(kind.name);
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("no invalid examples for {}", kind.name))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 2, "{}: too few invalid examples", kind.name);
        for path in files {
            let (by_schema, by_struct) = judge(kind, &path);
            assert!(by_schema.is_err(), "{}: the schema accepts it", path.display());
            assert!(by_struct.is_err(), "{}: the struct accepts it", path.display());
            count += 1;
        }
    }
    assert!(count >= 20);
}
