//! The pipeline's shape, checked: a module imports only modules of earlier stages (and the
//! foundation beneath them), never a later one, so that each stage can be read, tested and
//! changed knowing only what comes before it. `docs/architecture.md` draws the same picture.

use std::fs;
use std::path::{Path, PathBuf};

/// Modules by stage, earliest first. The foundation (rank 0) may use itself.
const STAGES: &[(usize, &[&str])] = &[
    (
        0,
        &[
            "source", "diag", "suggest", "layout", "model", "kube", "clock", "trace", "sorted",
        ],
    ),
    (1, &["load"]),
    (2, &["resolve"]),
    (3, &["policy", "incremental"]),
    (4, &["emit"]),
    (5, &["lint"]),
    (6, &["check", "diff", "write"]),
    (7, &["api", "fuzzing"]),
    (8, &["cli"]),
];

fn rank(module: &str) -> Option<usize> {
    STAGES
        .iter()
        .find(|(_, modules)| modules.contains(&module))
        .map(|(r, _)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn no_module_imports_a_later_stage() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" || module == "main" {
            continue;
        }
        let own = rank(&module).unwrap_or_else(|| panic!("module `{module}` has no stage in tests/architecture.rs"));
        let text = fs::read_to_string(file).unwrap();
        for (at, _) in text.match_indices("crate::") {
            let used: String = text[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if used == module {
                continue;
            }
            let Some(theirs) = rank(&used) else { continue };
            checked += 1;
            let allowed = theirs < own || (theirs == 0 && own == 0);
            if !allowed {
                let line = text[..at].lines().count();
                problems.push(format!(
                    "{}:{line}: `{module}` (stage {own}) uses `{used}` (stage {theirs})",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(checked > 100, "checked only {checked} uses");
    assert!(problems.is_empty(), "imports of later stages:\n{}", problems.join("\n"));
}

/// A backend knows no other backend: the driver alone combines them.
#[test]
fn backends_do_not_use_each_other() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/emit/backends");
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "mod.rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        let text = fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
        for other in names.iter().filter(|o| *o != name) {
            assert!(
                !text.contains(&format!("super::{other}")) && !text.contains(&format!("backends::{other}")),
                "backend `{name}` uses backend `{other}`"
            );
        }
    }
}
