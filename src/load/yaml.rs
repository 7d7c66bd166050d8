//! YAML into a tree that remembers where every key and value came from.
//!
//! serde-saphyr does the parsing (YAML 1.2 booleans, duplicate keys refused, alias and
//! depth budgets); the tree keeps byte spans so that schema errors, found by JSON pointer,
//! can be shown at the exact key or value in the file.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use crate::diag::{Code, codes};
use crate::source::{SourceFile, Span};

pub mod subset;

/// A YAML node with its span in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry: the key, its span, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

/// A YAML error with its place in the file.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub code: &'static Code,
    pub message: String,
    pub span: Span,
}

impl Node {
    /// The entry for `key` when this node is a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The string value of `key`, if it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self.get(key).map(|n| &n.value) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn index(&self, i: usize) -> Option<&Node> {
        match &self.value {
            Value::Seq(items) => items.get(i),
            _ => None,
        }
    }

    /// What a type error should call this value.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The same data as JSON, for schema validation and typed deserialization.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => J::Number(n.clone()),
            Value::String(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect()),
        }
    }
}

/// Stack for the parser thread. serde-saphyr's deserializer needs more than the 2 MiB a
/// test or worker thread gets when a document nests up to its depth budget; the stack is
/// reserved, not committed, so this costs nothing for ordinary files.
pub const PARSER_STACK: usize = 64 * 1024 * 1024;

/// Whether rayon's global pool is the parser pool (see [`make_global_pool`]).
static GLOBAL_IS_PARSER_POOL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes rayon's global pool the parser pool: as many threads as cores, each with a
/// [`PARSER_STACK`] stack. The command line does this first, so that a process has one
/// pool: with a second pool beside rayon's (four threads on two cores, each with its own
/// allocator pages), a render after a one-contract change at 20 × 50 took 45 ms instead of
/// 40. Without it (the tests), [`on_pool`] makes a pool of its own.
pub fn make_global_pool() {
    if parser_pool().build_global().is_ok() {
        GLOBAL_IS_PARSER_POOL.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The parser pool's threads: [`PARSER_STACK`] stacks, named `fleetgen-N`.
fn parser_pool() -> rayon::ThreadPoolBuilder {
    rayon::ThreadPoolBuilder::new()
        .stack_size(PARSER_STACK)
        .thread_name(|i| format!("fleetgen-{i}"))
}

/// Runs `f` on the parser pool: as many threads as cores, each with a [`PARSER_STACK`]
/// stack: rayon's global pool when [`make_global_pool`] made it so, else a pool made once
/// per process (render uses it too); on the current thread, as [`parse`] falls back, when
/// no thread can be made.
pub fn on_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if GLOBAL_IS_PARSER_POOL.load(std::sync::atomic::Ordering::Relaxed) {
        // Called from outside the pool, a scope runs its closure on one of the pool's threads.
        return rayon::scope(|_| f());
    }
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| parser_pool().build().ok());
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Parses one YAML document. An empty file gives a `Null` node.
pub fn parse(file: &SourceFile) -> Result<Node, YamlError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("yaml-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse_here(file))
            .map_or_else(
                |_| parse_here(file),
                |handle| handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
    })
}

/// Parses on the current thread, which needs a large stack (see [`PARSER_STACK`]).
pub fn parse_here(file: &SourceFile) -> Result<Node, YamlError> {
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(&file.text, options(file)) {
        Ok(raw) => Ok(convert(raw, file)),
        Err(e) => Err(yaml_error(&e, file)),
    }
}

/// `parse_here(file)?.to_json()` for text whose values need no location (template output:
/// its errors point at the template): the same parser, options and scalars, without a
/// location recorded for every node and the tree copied once more (16% of parsing a
/// render's template output). Most template output is read by [`subset::parse`] first.
pub fn parse_json_here(file: &SourceFile) -> Result<serde_json::Value, YamlError> {
    match serde_saphyr::from_str_with_options::<Json>(&file.text, options(file)) {
        Ok(Json(value)) => Ok(value),
        Err(e) => Err(yaml_error(&e, file)),
    }
}

fn options(file: &SourceFile) -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
        budget: Some(budget_for(file.text.len())),
    }
}

/// What a file of `len` bytes may expand to: nodes and events in proportion to its size
/// (16 nodes a byte past a floor of 10,000, under serde-saphyr's own caps), so that an
/// alias bomb is refused after work on the order of the file's size, not a million events
/// whatever its size. Hand-written YAML makes at most about one node per byte; anchors
/// and merge keys in ordinary use stay far below sixteen.
pub fn budget_for(len: usize) -> serde_saphyr::Budget {
    let defaults = serde_saphyr::Budget::default();
    let nodes = len.saturating_mul(16).saturating_add(10_000).min(defaults.max_nodes);
    // Every node is one event, every collection one more (its end), and a document four.
    let events = nodes.saturating_mul(2).saturating_add(64).min(defaults.max_events);
    let bytes = len.saturating_mul(64).saturating_add(1 << 16);
    let mut budget = defaults.clone();
    budget.max_nodes = nodes;
    budget.max_events = events;
    budget.max_recorded_anchor_events = events.min(defaults.max_recorded_anchor_events);
    budget.max_recorded_anchor_bytes = bytes.min(defaults.max_recorded_anchor_bytes);
    budget.max_total_scalar_bytes = bytes.min(defaults.max_total_scalar_bytes);
    budget
}

fn yaml_error(e: &serde_saphyr::Error, file: &SourceFile) -> YamlError {
    let text = e.to_string();
    // The message ends with " at line L, column C"; the location is given separately.
    let message = match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let (code, message) = if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        let key = key.split(',').next().unwrap_or(key).trim();
        (codes::DUPLICATE_KEY, format!("duplicate key `{key}`"))
    } else if message.starts_with("budget breached") {
        (codes::YAML_LIMIT, budget_message(&message))
    } else if message.starts_with("cannot deserialize null into string") || message == "expected string scalar" {
        // Only keys are read as strings (values take any shape): a null, list or mapping key.
        let found = if message == "expected string scalar" {
            "a list or mapping"
        } else {
            "null"
        };
        let help = match found {
            "null" => " (quote it if it is one: \"null\")",
            _ => "",
        };
        (
            codes::WRONG_TYPE,
            format!("a mapping key must be a string, found {found}{help}"),
        )
    } else if message.starts_with("recursive references require") {
        (
            codes::YAML_SYNTAX,
            "an alias refers to a node it is part of: a recursive structure, which fleetgen does not read".to_string(),
        )
    } else if let Some(rest) = message.strip_prefix("non-finite float `") {
        // `.inf`, `-.Inf`, `.nan`: no field of an input takes one.
        let written = rest.split('`').next().unwrap_or(rest);
        (
            codes::INVALID_VALUE,
            format!(
                "`{written}` is not a finite number, which no field of fleetgen's inputs takes (quote it if it is text: \"{written}\")"
            ),
        )
    } else if message.starts_with("!!binary scalar is not valid UTF-8") {
        // The library's advice names an option of its own, which no user can set.
        (
            codes::INVALID_VALUE,
            "a `!!binary` value must decode to UTF-8 text, which this does not; write the text itself".to_string(),
        )
    } else if message.starts_with(UNKNOWN_TAG) {
        (codes::INVALID_VALUE, message)
    } else if message.starts_with("invalid boolean (strict mode") {
        (
            codes::WRONG_TYPE,
            "a `!!bool` value must be `true` or `false`".to_string(),
        )
    } else if message.starts_with("multiple YAML documents") {
        (
            codes::YAML_SYNTAX,
            "the file holds more than one YAML document; fleetgen reads one per file".to_string(),
        )
    } else {
        (codes::YAML_SYNTAX, message)
    };
    let span = match e.location() {
        Some(loc) => location_span(&loc, file),
        None => 0..0,
    };
    if code == codes::YAML_SYNTAX
        && let Some((message, span)) = indentation(&message, &span, file)
    {
        return YamlError { code, message, span };
    }
    YamlError { code, message, span }
}

/// A line of the file: its start offset, its indentation (leading spaces and tabs) and text.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    text.split_inclusive('\n').scan(0, |at, line| {
        let start = *at;
        *at += line.len();
        let line = line.trim_end_matches(['\n', '\r']);
        let body = line.trim_start_matches([' ', '\t']);
        Some((start, &line[..line.len() - body.len()], body))
    })
}

/// The key a line starts with (`scrapeInterval` of `scrapeInterval: 30s`), if any.
fn key_of(body: &str) -> Option<&str> {
    let body = body.strip_prefix("- ").unwrap_or(body);
    let end = body.find(':')?;
    let key = &body[..end];
    (!key.is_empty() && !key.contains(' ') && !key.starts_with('#')).then_some(key)
}

fn spaces(n: usize) -> String {
    format!("{n} space{}", if n == 1 { "" } else { "s" })
}

/// Indentation mistakes the parser reports in its own terms (and, for a tab, on the line
/// before): said in words, at the line that is wrong.
fn indentation(message: &str, span: &Span, file: &SourceFile) -> Option<(String, Span)> {
    let text = &*file.text;
    let at = span.start.min(text.len());
    let all: Vec<(usize, &str, &str)> = lines(text).collect();
    let here = all.iter().rposition(|(start, _, _)| *start <= at)?;
    if message.contains("tab") {
        // The tab is in the indentation of this line or of the next one with content.
        let (start, indent, _) = all[here..]
            .iter()
            .find(|(_, indent, body)| indent.contains('\t') && !body.is_empty())?;
        let tab = start + indent.find('\t')?;
        return Some((
            "a tab indents this line; YAML indents with spaces only".to_string(),
            tab..tab + 1,
        ));
    }
    let wrong_key = message.contains("did not find expected key");
    if !wrong_key && !message.contains("mapping values are not allowed") {
        return None;
    }
    let (start, indent, body) = all[here];
    let key = key_of(body)?;
    let above = all[..here]
        .iter()
        .rev()
        .find(|(_, _, b)| !b.is_empty() && !b.starts_with('#'))?;
    let (mine, theirs) = (indent.len(), above.1.len());
    let span = start + mine..start + mine + key.len();
    let neighbour = key_of(above.2).map_or_else(|| "the line above".to_string(), |k| format!("`{k}` above"));
    if mine < theirs && wrong_key {
        return Some((
            format!(
                "`{key}` is indented less than its siblings: {} where {neighbour} has {}",
                spaces(mine),
                theirs
            ),
            span,
        ));
    }
    if mine > theirs && !wrong_key && !above.2.trim_end().ends_with(':') {
        return Some((
            format!(
                "`{key}` is indented more than {neighbour} ({} against {}), but {neighbour} has a value on its line, so nothing can be nested under it",
                spaces(mine),
                theirs
            ),
            span,
        ));
    }
    None
}

fn budget_message(message: &str) -> String {
    if message.contains("Depth") {
        "the YAML nests deeper than 64 levels".to_string()
    } else if ["Nodes", "Alias", "Anchor", "Events", "ScalarBytes"]
        .iter()
        .any(|w| message.contains(w))
    {
        "the YAML expands to too many nodes (an alias bomb?); fleetgen refuses it".to_string()
    } else {
        format!("the YAML exceeds a safety limit ({message})")
    }
}

fn location_span(loc: &Location, file: &SourceFile) -> Span {
    let len = usize::try_from(loc.span().len()).unwrap_or(0);
    file.span_at(
        usize::try_from(loc.line()).unwrap_or(0),
        usize::try_from(loc.column()).unwrap_or(0),
        len,
    )
}

fn convert(raw: Spanned<RawNode>, file: &SourceFile) -> Node {
    let span = location_span(&raw.referenced, file);
    let value = match raw.value {
        RawNode::Null => Value::Null,
        RawNode::Bool(b) => Value::Bool(b),
        RawNode::Number(n) => Value::Number(n),
        RawNode::String(s) => Value::String(s),
        RawNode::Seq(items) => Value::Seq(items.into_iter().map(|n| convert(n, file)).collect()),
        RawNode::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| Entry {
                    key_span: location_span(&k.referenced, file),
                    key: k.value,
                    value: convert(v, file),
                })
                .collect(),
        ),
    };
    Node { value, span }
}

/// The tree as serde-saphyr hands it over, before spans become byte ranges.
enum RawNode {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<String>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let serde_saphyr::Tagged(Bare(node), tag) = Deserialize::deserialize(d)?;
        known_tag(tag.as_deref())?;
        Ok(node)
    }
}

/// A node read without its tag (which [`RawNode`] reads first).
struct Bare(RawNode);

impl<'de> Deserialize<'de> for Bare {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor).map(Bare)
    }
}

/// The start of the error [`known_tag`] gives (matched by [`yaml_error`]).
const UNKNOWN_TAG: &str = "unknown YAML tag ";

/// Refuses a tag other than YAML's core ones (`!!str`, `!!int`, `!!float`, `!!bool`,
/// `!!null`, `!!seq`, `!!map`, `!!binary`): fleetgen resolves no tag of its own, and the
/// parser reads the value under a local tag (`!include other.yaml`, CloudFormation's `!Ref`)
/// as if it had none, which is not what its writer meant. (It refuses other `!!` tags,
/// `!!timestamp`, itself.)
fn known_tag<E: de::Error>(tag: Option<&str>) -> Result<(), E> {
    let Some(tag) = tag else { return Ok(()) };
    let core = tag
        .strip_prefix("tag:yaml.org,2002:")
        .or_else(|| tag.strip_prefix("!!"))
        .or_else(|| {
            tag.strip_prefix("!<tag:yaml.org,2002:")
                .and_then(|t| t.strip_suffix('>'))
        });
    match core {
        Some("str" | "int" | "float" | "bool" | "null" | "seq" | "map" | "binary") => Ok(()),
        // `!` alone: a non-specific tag, the value a string or collection as written.
        _ if tag == "!" => Ok(()),
        _ => Err(E::custom(format!(
            "{UNKNOWN_TAG}`{tag}`: fleetgen resolves no tags (no includes, no references) and would read the value as if it had none; write the value itself"
        ))),
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
        d.deserialize_any(RawVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
        number(v).map(RawNode::Number)
    }
    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(RawNode::Map(entries))
    }
}

/// A float as a number both visitors take: JSON has no infinity and no NaN.
fn number<E: de::Error>(v: f64) -> Result<serde_json::Number, E> {
    serde_json::Number::from_f64(v).ok_or_else(|| E::custom("infinite or NaN numbers are not allowed"))
}

/// A YAML value as JSON, read as [`RawVisitor`] reads it (the same scalars; merge keys and
/// repeated keys are the parser's business, before either visitor sees a map).
struct Json(serde_json::Value);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let serde_saphyr::Tagged(BareJson(value), tag) = Deserialize::deserialize(d)?;
        known_tag(tag.as_deref())?;
        Ok(Json(value))
    }
}

/// A value read without its tag (which [`Json`] reads first).
struct BareJson(serde_json::Value);

impl<'de> Deserialize<'de> for BareJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor).map(BareJson)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        RawVisitor.expecting(f)
    }
    fn visit_unit<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<serde_json::Value, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<serde_json::Value, E> {
        number(v).map(serde_json::Value::Number)
    }
    fn visit_str<E>(self, v: &str) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<serde_json::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Json(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<serde_json::Value, A::Error> {
        let mut entries = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Json(value) = map.next_value()?;
            entries.insert(key, value);
        }
        Ok(serde_json::Value::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<(Node, SourceFile), YamlError> {
        let file = SourceFile::new("t.yaml", text);
        parse(&file).map(|n| (n, file))
    }

    /// The span-less parse of template output reads every document as the spanned parse
    /// does, errors included.
    #[test]
    fn json_parse_is_the_spanned_parse_without_spans() {
        let texts = [
            "a: 1\nb:\n  name: café\n",
            "a: yes\nb: NO\nc: 012345678901\nd: true\ne: ~\nf: 1.5\ng: -3\nh: 18446744073709551615\n",
            "list: [1, two, {three: 3}]\nflow: {k: v, n: null}\nempty: []\n",
            "base: &b {x: 1, y: 2}\nmerged:\n  <<: *b\n  y: 3\nalias: *b\n",
            "1: one\ntrue: yes\n0755: octal\n",
            "text: |\n  two\n  lines\nfolded: >\n  one\n  line\nquoted: '0x1F'\n",
            "tagged: !!str 123\nbinary: 0b101\nhex: 0x1F\nexp: 1e3\ninf: .inf\n",
            "a: !include other.yaml\n",
            "a:\n  b: !Ref Bucket\n",
            "a: ! text\nb: !!int 3\nc: !<tag:yaml.org,2002:str> 4\nd: !!map {k: v}\n",
            "a: !!timestamp 2026-12-08\n",
            "list: !custom [1, 2]\n",
            "",
            "# only a comment\n",
            "- a\n- - b\n  - c\n",
            "a: 1\na: 2\n",
            "x: &x {k: 1, m: 1}\ny: &y {k: 2, n: 2}\nz:\n  <<: [*x, *y]\n  m: 3\n",
            "x: &x {k: 1}\nz: {<<: *x, k: 2, <<: {k: 3}}\n",
            "a: [1, 2\n",
            "key: value\n  bad: indent\n",
        ];
        for text in texts {
            let file = SourceFile::new("t.yaml", text);
            let spanned = parse_here(&file).map(|n| n.to_json()).map_err(|e| (e.message, e.span));
            let plain = parse_json_here(&file).map_err(|e| (e.message, e.span));
            assert_eq!(plain, spanned, "{text:?}");
        }
    }

    /// A tag fleetgen does not resolve is refused where it is written, in a mapping or a
    /// list, on a scalar or a collection; YAML's core tags read as before.
    #[test]
    fn tags_other_than_the_core_ones_are_refused_where_they_are() {
        for (text, tag, line) in [
            ("a: !include other.yaml\n", "!include", 1),
            ("a:\n  b: !Ref Bucket\n", "!Ref", 2),
            ("a: 1\nlist:\n  - x\n  - !custom [1, 2]\n", "!custom", 4),
        ] {
            let err = parse_str(text).unwrap_err();
            assert_eq!(err.code, codes::INVALID_VALUE, "{text:?}: {}", err.message);
            assert!(
                err.message
                    .starts_with(&format!("unknown YAML tag `{tag}`: fleetgen resolves no tags")),
                "{text:?}: {}",
                err.message
            );
            let file = SourceFile::new("t.yaml", text);
            assert_eq!(file.line_col(err.span.start).0, line, "{text:?}: {:?}", err.span);
        }
        let (node, _) = parse_str("a: ! text\nb: !!int 3\nc: !<tag:yaml.org,2002:str> 4\nd: !!map {k: v}\n").unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": "text", "b": 3, "c": "4", "d": {"k": "v"}})
        );
    }

    #[test]
    fn keys_and_values_keep_their_spans() {
        let (node, file) = parse_str("a: 1\nb:\n  name: café\n").unwrap();
        let entry = node.get("b").unwrap().entry("name").unwrap();
        assert_eq!(&file.text[entry.key_span.clone()], "name");
        assert_eq!(&file.text[entry.value.span.clone()], "café");
        assert_eq!(node.to_json(), serde_json::json!({"a": 1, "b": {"name": "café"}}));
    }

    #[test]
    fn yaml_1_1_booleans_and_leading_zeros_stay_strings() {
        let (node, _) = parse_str("a: yes\nb: NO\nc: 012345678901\nd: true\n").unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": "yes", "b": "NO", "c": "012345678901", "d": true})
        );
    }

    #[test]
    fn duplicate_keys_are_refused_at_the_second_key() {
        let err = parse_str("a: 1\nb:\n  c: 1\n  c: 2\n").unwrap_err();
        assert_eq!(err.code, codes::DUPLICATE_KEY);
        assert_eq!(err.message, "duplicate key `c`");
        let file = SourceFile::new("t.yaml", "a: 1\nb:\n  c: 1\n  c: 2\n");
        assert_eq!(file.line_col(err.span.start), (4, 3));
    }

    #[test]
    fn alias_bombs_and_deep_nesting_hit_the_budget() {
        let mut bomb = String::from("a: &a [1,1,1,1,1,1,1,1,1]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
        for pair in names.windows(2) {
            let refs = vec![format!("*{}", pair[0]); 9].join(",");
            bomb.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
        }
        assert_eq!(parse_str(&bomb).unwrap_err().code, codes::YAML_LIMIT);
        let deep = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert_eq!(parse_str(&deep).unwrap_err().code, codes::YAML_LIMIT);
    }

    #[test]
    fn the_budget_grows_with_the_file_so_a_small_bomb_is_refused_early() {
        // 130 bytes expanding to 4^6 = 4,096 lists of four: under serde-saphyr's own caps
        // (250,000 nodes) but far over what 130 bytes may become.
        let mut bomb = String::from("a: &a [1,1,1,1]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g"];
        for pair in names.windows(2) {
            bomb.push_str(&format!("{1}: &{1} [*{0},*{0},*{0},*{0}]\n", pair[0], pair[1]));
        }
        assert!(bomb.len() < 200);
        let err = parse_str(&bomb).unwrap_err();
        assert_eq!(err.code, codes::YAML_LIMIT);
        assert!(err.message.contains("alias bomb"), "{}", err.message);
        // The same shape one level shallower (1,365 nodes) is ordinary YAML.
        let cut = bomb.lines().take(6).collect::<Vec<_>>().join("\n");
        assert!(parse_str(&cut).is_ok());
        // Anchors and merge keys in ordinary use: 90 services sharing one block (serde-saphyr refuses more than ten aliases an anchor past 100).
        let mut shared = String::from("defaults: &defaults {replicas: 2, port: 8080, probe: /ready, tier: 1}\n");
        for i in 0..90 {
            shared.push_str(&format!("s{i}:\n  <<: *defaults\n  name: s{i}\n"));
        }
        assert!(parse_str(&shared).is_ok());
        assert_eq!(budget_for(2 << 20).max_nodes, serde_saphyr::Budget::default().max_nodes);
    }

    #[test]
    fn syntax_errors_and_several_documents_are_located() {
        let err = parse_str("a: 1\nb: [1, 2\n").unwrap_err();
        assert_eq!(err.code, codes::YAML_SYNTAX);
        let err = parse_str("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.message.contains("more than one YAML document"), "{}", err.message);
    }

    #[test]
    fn a_key_that_is_not_a_string_and_a_recursive_alias_are_said_in_words() {
        for (text, code, said, at) in [
            (
                "a: 1\nnull: 2\n",
                codes::WRONG_TYPE,
                "a mapping key must be a string, found null",
                5,
            ),
            ("a: 1\n~: 2\n", codes::WRONG_TYPE, "found null (quote it", 5),
            (
                "a: 1\n[x]: 2\n",
                codes::WRONG_TYPE,
                "a mapping key must be a string, found a list or mapping",
                5,
            ),
            (
                "a: &r [*r]\n",
                codes::YAML_SYNTAX,
                "an alias refers to a node it is part of",
                7,
            ),
            (
                "zones: .inf\n",
                codes::INVALID_VALUE,
                "`.inf` is not a finite number",
                7,
            ),
            (
                "a: 1\nzones: -.Inf\n",
                codes::INVALID_VALUE,
                "`-.Inf` is not a finite number",
                12,
            ),
            (
                "cell: !!binary /w==\n",
                codes::INVALID_VALUE,
                "a `!!binary` value must decode to UTF-8 text",
                15,
            ),
            ("on: !!bool yes\n", codes::WRONG_TYPE, "must be `true` or `false`", 11),
        ] {
            let file = SourceFile::new("t.yaml", text);
            for err in [parse(&file).unwrap_err(), parse_json_here(&file).unwrap_err()] {
                assert_eq!(err.code, code, "{text:?}: {}", err.message);
                assert!(err.message.contains(said), "{text:?}: {}", err.message);
                assert!(
                    !err.message.contains("Option<") && !err.message.contains("weak"),
                    "{}",
                    err.message
                );
                assert_eq!(err.span.start, at, "{text:?}: {}", err.message);
            }
        }
    }

    #[test]
    fn indentation_mistakes_are_said_in_words_at_the_line_that_is_wrong() {
        let at = |text: &str| {
            let file = SourceFile::new("t.yaml", text);
            let err = parse(&file).unwrap_err();
            let (line, column) = file.line_col(err.span.start);
            (err.message, line, column)
        };
        // A tab indenting a line used to be reported at the end of the line before.
        let (message, line, column) = at("metrics:\n  backend: prometheus\n\tscrapeInterval: 30s\n");
        assert_eq!(message, "a tab indents this line; YAML indents with spaces only");
        assert_eq!((line, column), (3, 1));
        let (message, line, _) = at("metrics:\n\tbackend: prometheus\n");
        assert_eq!(message, "a tab indents this line; YAML indents with spaces only");
        assert_eq!(line, 2);
        let (message, line, column) = at("metrics:\n  backend: prometheus\n scrapeInterval: 30s\nlogs: {}\n");
        assert_eq!(
            message,
            "`scrapeInterval` is indented less than its siblings: 1 space where `backend` above has 2"
        );
        assert_eq!((line, column), (3, 2));
        let (message, line, column) = at("metrics:\n  backend: prometheus\n    scrapeInterval: 30s\n");
        assert_eq!(
            message,
            "`scrapeInterval` is indented more than `backend` above (4 spaces against 2), but `backend` above has a value on its line, so nothing can be nested under it"
        );
        assert_eq!((line, column), (3, 5));
        // Other syntax errors keep the parser's words.
        let (message, _, _) = at("a: b: c\n");
        assert!(message.contains("mapping values are not allowed"), "{message}");
    }

    #[test]
    fn empty_file_is_null() {
        assert_eq!(parse_str("").unwrap().0.value, Value::Null);
        assert_eq!(parse_str("# only a comment\n").unwrap().0.value, Value::Null);
    }
}
