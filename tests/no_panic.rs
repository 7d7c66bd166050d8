//! No input makes fleetgen panic: every file of the base fleet, cut short and corrupted in
//! many places, goes through the whole validate pipeline (and, when it still validates,
//! through rendering) and comes back as diagnostics. Hostile templates too.

use std::path::Path;

use fleetgen::api::{self, Goal, MemoryFiles, Options};

/// A small deterministic generator (xorshift), so failures are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const NASTY: &[&str] = &[
    "",
    "\n",
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "!!binary ",
    "? ",
    "---\n",
    "...\n",
    "\t",
    "'",
    "\"",
    "|",
    ">",
    "<<: *a\n",
    "~",
    "null",
    "1e999",
    "-0",
    "0x1F",
    "0o17",
    "é",
    "\u{feff}",
    "#",
    "%YAML 1.2\n",
    "!custom ",
    "99999999999999999999999",
];

fn check(files: &MemoryFiles, what: &str) {
    let result = std::panic::catch_unwind(|| {
        let _ = api::compile(files, &Options::new(Goal::Lint));
    });
    assert!(result.is_ok(), "validate or render panicked on {what}");
}

#[test]
fn corrupted_inputs_give_diagnostics_not_panics() {
    let base = MemoryFiles::from_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/base")
            .as_path(),
    )
    .unwrap();
    let paths: Vec<String> = base.paths().map(str::to_string).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // The cases first (the generator is sequential), then judged on every core.
    let mut cases: Vec<(String, MemoryFiles)> = Vec::new();
    for path in &paths {
        let original = base.get(path).unwrap().to_vec();
        for round in 0..40 {
            let mut bytes = original.clone();
            match round % 4 {
                0 => bytes.truncate(rng.below(bytes.len() + 1)),
                1 => {
                    let at = rng.below(bytes.len() + 1);
                    let insert = NASTY[rng.below(NASTY.len())].as_bytes();
                    bytes.splice(at..at, insert.iter().copied());
                }
                2 => {
                    if !bytes.is_empty() {
                        let at = rng.below(bytes.len());
                        bytes[at] = (rng.next() & 0xff) as u8;
                    }
                }
                _ => {
                    // Swap two lines: keys land under the wrong parent.
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let mut lines: Vec<&str> = text.lines().collect();
                    if lines.len() > 2 {
                        let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                        lines.swap(a, b);
                    }
                    bytes = lines.join("\n").into_bytes();
                }
            }
            let mut files = base.clone();
            files.insert(path.clone(), bytes);
            cases.push((format!("{path} round {round}"), files));
        }
    }
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = cases.len().div_ceil(workers);
    std::thread::scope(|s| {
        for part in cases.chunks(chunk) {
            s.spawn(move || {
                for (what, files) in part {
                    check(files, what);
                }
            });
        }
    });
}

#[test]
fn hostile_documents_are_refused_without_panicking() {
    let base = MemoryFiles::from_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/base")
            .as_path(),
    )
    .unwrap();
    let mut laughs = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        .windows(2)
        .map(|w| (w[0], w[1]))
    {
        laughs.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 9].join(",")
        ));
    }
    let hostile = [
        laughs,
        format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000)),
        format!("a: {}\n", "{b: ".repeat(5_000)),
        "- ".repeat(10_000),
        "a: *missing\n".to_string(),
        "a: &x\n  b: *x\n".to_string(),
        "\u{0}\u{1}\u{2}".to_string(),
        "application: !!binary aGVsbG8=\n".to_string(),
        "? [a, b]\n: c\n".to_string(),
    ];
    for (i, text) in hostile.iter().enumerate() {
        for path in ["clusters/eastus-prod-01.yaml", "apps/web/app.yaml", "fleet.yaml"] {
            let mut files = base.clone();
            files.insert(path, text.clone());
            let compiled = api::compile(&files, &Options::new(Goal::Validate));
            assert!(
                !compiled.diagnostics().is_empty(),
                "hostile document {i} in {path} was accepted"
            );
        }
    }
}

#[test]
fn hostile_templates_are_stopped_with_diagnostics() {
    let base = MemoryFiles::from_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/base")
            .as_path(),
    )
    .unwrap();
    let hostile = [
        // Output nested past the YAML depth budget.
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {}{}\n", "[".repeat(5_000), "]".repeat(5_000)),
        // An alias bomb in the output.
        "{% set s = 'a: &a [x,x,x,x,x,x,x,x]\\n' %}{{ s }}{% for n in 'bcdefghij' %}{{ n }}: &{{ n }} [{% for i in range(9) %}*{{ loop.previtem if false else 'a' }},{% endfor %}]\n{% endfor %}".to_string(),
        // Output far over the size limit.
        "{% for i in range(200000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}".to_string(),
        "{{ 'x' * 100000000 }}".to_string(),
        "{% include 'missing.yaml.j2' %}".to_string(),
        "{% include 'deployment.yaml.j2' %}{% include 'deployment.yaml.j2' %}".to_string(),
        "{% extends 'namespace.yaml.j2' %}".to_string(),
        "{{ cluster.clusterId[1000] }}".to_string(),
        "{{ 1 / 0 }}".to_string(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a, b]\n".to_string(),
        "apiVersion: 7\nkind: {a: b}\nmetadata: x\n".to_string(),
        "\u{0}\u{1}".to_string(),
    ];
    for (i, text) in hostile.iter().enumerate() {
        let mut files = base.clone();
        files.insert("apps/web/templates/hostile.yaml.j2", text.clone());
        // `validate` renders in memory too, so it stops the template as `render` does.
        for goal in [Goal::Validate, Goal::Render] {
            let outcome = std::panic::catch_unwind(|| api::compile(&files, &Options::new(goal)).exit_code());
            match outcome {
                Ok(code) => assert_ne!(code, 0, "hostile template {i} passed {goal:?}"),
                Err(_) => panic!("hostile template {i} made {goal:?} panic"),
            }
        }
    }
}
