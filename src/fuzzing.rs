//! What the fuzz targets in `fuzz/` run (compiled only with `--cfg fuzzing`, which
//! cargo-fuzz sets). Each function takes arbitrary bytes, runs one part of fleetgen on them
//! as a command would, and panics only where fleetgen broke a promise: a panic anywhere
//! inside, a template render that escaped its limits, a value the YAML writer cannot read
//! back, a file read past the size limit. libFuzzer reports each as a crash.
//!
//! `fuzz/seeds` has the inputs the fuzzers start from, made from the fixtures by
//! `fuzz/make-seeds` (see `fuzz/README.md` for each target's input format).

use std::sync::OnceLock;

use crate::emit::{objects, sandbox, templates, values, yaml as writer};
use crate::layout::{self, Kind};
use crate::load::files::{Files, MAX_FILE_BYTES};
use crate::load::git::GitRevision;
use crate::load::{self, Sources, TemplateFile, yaml};
use crate::resolve::plan::Origin;
use crate::source::{SourceFile, SourceMap};

#[path = "../tests/support/yaml_resolvers.rs"]
mod yaml_resolvers;

// The targets run on libFuzzer's main thread, whose stack `fuzz/run` raises (`ulimit -s`)
// to what fleetgen's parse and render threads get (`load::yaml::PARSER_STACK`): spawning
// such a thread for every input would cost more than the input.

/// An input file of each kind: the first byte picks the kind, the rest is the file. YAML
/// parsing (with its budgets), the kind's JSON Schema and its struct.
pub fn load(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let kind = Kind::ALL[usize::from(pick) % Kind::ALL.len()];
    let path = kind.location().replace(['<', '>'], "").replace("clusterId", "fuzz");
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut map = SourceMap::default();
    let file = map.add(SourceFile::new(path, text));
    let Ok(node) = yaml::parse_here(map.get(file)) else {
        return;
    };
    let json = node.to_json();
    let errors = load::schema::validate(kind, file, &map, &node, &json);
    let typed = load::parse_typed(kind, json);
    // A file the schema accepts must read into its struct (the two agree).
    assert!(
        !errors.is_empty() || typed.is_ok(),
        "the {kind} schema accepts what its struct refuses: {:?}",
        typed.err()
    );
}

/// The context every fuzzed template renders with: the shape of a placement's.
fn context() -> &'static minijinja::Value {
    static CTX: OnceLock<minijinja::Value> = OnceLock::new();
    CTX.get_or_init(|| minijinja::Value::from(minijinja::value::Serde(context_json())))
}

/// [`context`] as JSON.
fn context_json() -> serde_json::Value {
    serde_json::json!({
            "fleet": { "name": "fleet", "repository": "https://git.example.com/fleet.git" },
            "app": { "application": { "name": "web", "owner": "web-team", "version": "1.20" },
                     "traffic": { "hostnames": ["www.example.com"], "port": 8080 } },
            "cluster": { "clusterId": "eastus-prod-01", "provider": "azure", "region": "eastus",
                         "environment": "prod", "azure": { "keyVault": "kv-eastus" } },
            "workload": { "name": "web", "namespace": "web", "image": "registry.example.com/web@sha256:00",
                          "replicas": { "min": 2, "max": 10 }, "port": 8080, "hostnames": ["www.example.com"],
                          "probes": { "readinessPath": "/ready" }, "gateway": null },
            "labels": { "app.kubernetes.io/name": "web", "fleet.example.com/team": "web-team" },
            "podLabels": { "app.kubernetes.io/name": "web" },
            "selector": { "app.kubernetes.io/name": "web" },
    })
}

/// `value` (at `path` of the context) changed wherever a template reading `reads` cannot
/// see it: a value no read reaches is replaced, a map a read goes through gains an entry,
/// and a scalar a read goes through keeps its kind (an attribute of a scalar is undefined
/// whatever its value). What a read names is kept whole.
fn unread(value: &serde_json::Value, path: &mut Vec<String>, reads: &[Vec<String>]) -> serde_json::Value {
    use serde_json::Value as Json;
    if reads.iter().any(|r| path.starts_with(r)) {
        return value.clone();
    }
    let through = reads.iter().any(|r| r.starts_with(path));
    match value {
        Json::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                path.push(k.clone());
                out.insert(k.clone(), unread(v, path, reads));
                path.pop();
            }
            // An entry more, unless a read names it (a template may read a missing entry).
            let named = reads
                .iter()
                .any(|r| r.starts_with(path) && r.get(path.len()).is_some_and(|k| k == "fuzzUnread"));
            if !named {
                out.insert("fuzzUnread".into(), Json::from("x"));
            }
            Json::Object(out)
        }
        Json::Array(_) if through => value.clone(),
        _ if !through => Json::from("unread by the template"),
        Json::String(s) => Json::from(format!("{s}-unread")),
        Json::Number(n) if n.is_f64() => Json::from(n.as_f64().unwrap_or(0.0) + 1.5),
        Json::Number(n) => Json::from(n.as_i64().unwrap_or(0).wrapping_add(7)),
        Json::Bool(b) => Json::from(!b),
        _ => value.clone(),
    }
}

/// The render memo's promise for one template: a context that differs from [`context`]
/// only where the template does not read (by `Engine::reads`) has the same memo key and
/// renders the same (both fail, or both give the same text).
fn same_where_read(
    engine: &templates::Engine,
    files: &SourceMap,
    first: &Result<String, Box<crate::diag::Diagnostic>>,
) {
    let Some(reads) = engine.reads("fuzz.yaml.j2") else {
        return;
    };
    let other = minijinja::Value::from(minijinja::value::Serde(unread(&context_json(), &mut Vec::new(), reads)));
    let key = crate::emit::driver::memo_key(context(), reads);
    if key.is_none() {
        return;
    }
    assert_eq!(
        key,
        crate::emit::driver::memo_key(&other, reads),
        "the key sees what is not read: {reads:?}"
    );
    let second = engine.render("fuzz.yaml.j2", &other, files);
    match (first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "two renders with one memo key differ; reads {reads:?}"),
        (Err(_), Err(_)) => {}
        _ => panic!("one of two renders with one memo key failed; reads {reads:?}: {first:?} / {second:?}"),
    }
}

/// A template: compiled, rendered with a placement's context inside the sandbox's limits,
/// and its output read as objects. A render may fail (FG041), never crash, never write more
/// than the output limit, and never report an engine panic.
pub fn template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    {
        let mut sources = Sources::default();
        let file = sources.files.add(SourceFile::new("templates/fuzz.yaml.j2", text));
        sources.templates.push(TemplateFile {
            app: None,
            name: "fuzz.yaml.j2".to_string(),
            file,
        });
        let (engine, errors) = templates::Engine::new(&sources);
        if !errors.is_empty() {
            return;
        }
        let rendered = engine.render("fuzz.yaml.j2", context(), &sources.files);
        same_where_read(&engine, &sources.files, &rendered);
        match rendered {
            Ok(out) => {
                assert!(out.len() <= sandbox::MAX_OUTPUT, "{} bytes of output", out.len());
                if let Ok(objects) = objects::parse(&out, file, &sources.files) {
                    for o in objects.iter() {
                        let mut written = String::new();
                        writer::write(&mut written, &o.value);
                    }
                }
            }
            Err(d) => assert!(
                !d.message.starts_with("the template engine failed"),
                "the engine panicked: {}",
                d.message
            ),
        }
    }
}

/// Helm values files (up to four layers, separated by a 0xFF byte): parsed, merged as a
/// chart app's layers are, written as `values.yaml` and read back: the same values.
pub fn values(data: &[u8]) {
    {
        let mut files = SourceMap::default();
        let mut merged = values::Tree::Map(Vec::new(), Origin::Default("fuzz"));
        for (i, layer) in data.split(|b| *b == 0xFF).take(4).enumerate() {
            let Ok(text) = std::str::from_utf8(layer) else {
                continue;
            };
            let file = files.add(SourceFile::new(format!("apps/web/values/layer-{i}.yaml"), text));
            let Ok(node) = yaml::parse_here(files.get(file)) else {
                continue;
            };
            if matches!(node.value, yaml::Value::Map(_)) {
                merged.merge(values::Tree::from_node(&node, file));
            }
        }
        let json = merged.to_json();
        let _ = merged.leaves();
        let mut written = String::new();
        writer::write(&mut written, &json);
        let back = SourceFile::new("values.yaml", written.as_str());
        match yaml::parse_here(&back) {
            Ok(node) => assert_eq!(node.to_json(), json, "values.yaml reads back differently:\n{written}"),
            Err(e) => panic!("values.yaml does not parse: {}\n{written}", e.message),
        }
    }
}

/// The YAML writer alone: the input as a string (lossily), written as a value, a key, a
/// list item and a document, must read back as the same string, and a string written
/// plain must be a string to YAML 1.1 and 1.2 readers alike.
pub fn yaml_writer(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    for value in [
        serde_json::json!({ "k": s }),
        serde_json::json!([s]),
        serde_json::json!({ s.as_ref(): 1 }),
        serde_json::json!(s),
    ] {
        let mut doc = String::new();
        writer::write(&mut doc, &value);
        let back: serde_json::Value =
            serde_saphyr::from_str(&doc).unwrap_or_else(|e| panic!("{s:?}: {doc:?} does not parse: {e}"));
        assert_eq!(back, value, "{s:?} was written as {doc:?}");
    }
    let mut doc = String::new();
    writer::write(&mut doc, &serde_json::json!({ "k": s }));
    if let Some(plain) = yaml_resolvers::plain_value(&doc) {
        assert_eq!(
            yaml_resolvers::non_string(plain),
            None,
            "{s:?} written plain as {plain:?}"
        );
    }
}

/// The reader of the subset of YAML that templates write: whatever it reads, serde-saphyr
/// (with `load::yaml`'s options) reads too, to the same value.
pub fn yaml_subset(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(value) = yaml::subset::parse(text) {
        let general = yaml::parse_json_here(&SourceFile::new("t.yaml", text));
        assert_eq!(
            general.as_ref().ok(),
            Some(&value),
            "{text:?}: {:?}",
            general.as_ref().err()
        );
    }
}

/// A bare repository for the git target; every input's objects go into an in-memory pack
/// that is dropped afterwards.
fn repository() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        git2::Repository::init_bare(dir.path()).expect("a bare repository");
        dir
    })
    .path()
}

/// One entry of a fuzzed tree: its mode and its blob (or submodule commit).
type Entry = (String, i32, git2::Oid);

/// A git tree made from records (`kind`, path length, path, content length (2 bytes),
/// content; kind 0 a file, 1 an executable, 2 a symbolic link, 3 a submodule), read by the
/// git reader: every folder listed, every file read (never past the size limit), and the
/// whole load pipeline run over it.
pub fn git(data: &[u8]) {
    {
        let Ok(repo) = git2::Repository::open_bare(repository()) else {
            return;
        };
        // New objects go to an in-memory pack, freed with the repository handle.
        let added = repo.odb().and_then(|odb| odb.add_new_mempack_backend(1000).map(|_| ()));
        if added.is_err() {
            return;
        }
        let Some(tree) = build_tree(&repo, data) else {
            return;
        };
        let Ok(revision) = GitRevision::from_tree(repo, tree, "fuzz") else {
            return;
        };
        for root in layout::ROOTS {
            let walk = revision.walk(root);
            for path in &walk.files {
                if let Ok(bytes) = revision.read(path) {
                    assert!(bytes.len() as u64 <= MAX_FILE_BYTES, "{path}: {} bytes", bytes.len());
                }
            }
        }
        let _ = load::load(&revision, None, None);
    }
}

fn build_tree(repo: &git2::Repository, mut data: &[u8]) -> Option<git2::Oid> {
    use std::collections::BTreeMap;
    let mut dirs: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    dirs.insert(String::new(), Vec::new());
    let take = |n: usize, data: &mut &[u8]| -> Option<Vec<u8>> {
        if data.len() < n {
            return None;
        }
        let (head, rest) = data.split_at(n);
        *data = rest;
        Some(head.to_vec())
    };
    while let Some(kind) = take(1, &mut data).map(|b| b[0] % 4) {
        let path_len = usize::from(take(1, &mut data)?[0] % 96);
        let path = String::from_utf8_lossy(&take(path_len, &mut data)?).into_owned();
        let len = take(2, &mut data).map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))?;
        let content = take(len.min(data.len()), &mut data)?;
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let Some((name, parents)) = parts.split_last() else {
            continue;
        };
        let (mode, id) = match kind {
            0 => (0o100644, repo.blob(&content).ok()?),
            1 => (0o100755, repo.blob(&content).ok()?),
            2 => (0o120000, repo.blob(&content).ok()?),
            _ => (
                0o160000,
                git2::Oid::hash_object(git2::ObjectType::Commit, &content).ok()?,
            ),
        };
        for depth in 0..parents.len() {
            dirs.entry(parents[..=depth].join("/")).or_default();
        }
        dirs.entry(parents.join("/"))
            .or_default()
            .push((name.to_string(), mode, id));
    }
    // Deepest folders first, each written into its parent.
    let mut order: Vec<String> = dirs.keys().cloned().collect();
    order.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count() + usize::from(!d.is_empty())));
    let mut written: BTreeMap<String, git2::Oid> = BTreeMap::new();
    for dir in order {
        let mut builder = repo.treebuilder(None).ok()?;
        for (name, mode, id) in dirs.get(&dir).into_iter().flatten() {
            let _ = builder.insert(name, *id, *mode);
        }
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        for (sub, id) in written.iter().filter(|(d, _)| {
            d.strip_prefix(&prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/') && !d.is_empty())
        }) {
            let name = &sub[prefix.len()..];
            let _ = builder.insert(name, *id, 0o040000);
        }
        let id = builder.write().ok()?;
        written.insert(dir, id);
    }
    written.get("").copied()
}

/// A file of the incremental cache (`.fleetgen/`), which fleetgen reads without trusting
/// it: the first byte's low seven bits pick the file (0–31 the placement store, 32–63 the
/// stat index, 64–95 the schema memo, the rest the parse memo, whose trees are also decoded
/// unframed) and its high bit whether the rest is framed as
/// fleetgen writes it (the file's magic line before it and its checksum after it, so that
/// mutations reach what follows the checksum check). Decoding may refuse; it must not panic, and what it accepts
/// must encode to a file that decodes to the same thing.
pub fn cache(data: &[u8]) {
    use crate::incremental::{self as cache, index, parsed, store};
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let file = |magic: &[u8]| -> Vec<u8> {
        if pick & 0x80 == 0 {
            return rest.to_vec();
        }
        let mut bytes = [magic, rest].concat();
        let sum = xxhash_rust::xxh3::xxh3_128(&bytes).to_le_bytes();
        bytes.extend_from_slice(&sum);
        bytes
    };
    match pick & 0x7F {
        0..=31 => {
            if let Some(decoded) = store::decode(&file(store::MAGIC)) {
                assert_eq!(store::decode(&decoded.encode()).as_ref(), Some(&decoded), "a store");
                // An entry's detail, decoded on demand, may be refused too.
                for entry in decoded.entries.values() {
                    let _ = entry.detail();
                }
            }
        }
        32..=63 => {
            if let Some(decoded) = index::decode(&file(index::MAGIC)) {
                let back = index::decode(&decoded.encode(decoded.recorded_ns)).expect("an index decodes again");
                assert_eq!(
                    (&back.root, back.recorded_ns, &back.files),
                    (&decoded.root, decoded.recorded_ns, &decoded.files),
                    "an index"
                );
            }
        }
        64..=95 => {
            if let Some(decoded) = cache::decode_schema_valid_bytes(&file(cache::VALID_MAGIC)) {
                let mut sorted: Vec<_> = decoded.iter().copied().collect();
                sorted.sort_unstable();
                let bytes = cache::encode_schema_valid(Vec::new(), &sorted).expect("in memory");
                assert_eq!(cache::decode_schema_valid_bytes(&bytes), Some(decoded), "a schema memo");
            }
        }
        _ => {
            if let Some(decoded) = parsed::decode(&file(parsed::MAGIC)) {
                let bytes = parsed::write_to(&decoded, Vec::new()).expect("in memory");
                assert_eq!(parsed::decode(&bytes).as_ref(), Some(&decoded), "a parse memo");
            }
            // Unframed, the bytes are also a tree's encoding, for a text of any length: a
            // tree that decodes is encoded and decoded to itself.
            if let Some(tree) = crate::load::memo::decode_tree(rest, usize::MAX) {
                let again = crate::load::memo::decode_tree(&crate::load::memo::encode_tree(&tree), usize::MAX);
                assert_eq!(again.as_ref(), Some(&tree), "a parsed tree");
            }
        }
    }
}
