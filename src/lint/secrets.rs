//! What the secrets rules share: which keys hold credentials, which strings look like
//! one, where a rendered value came from, and whether an exemption frees a finding.
//!
//! Everything fleetgen renders is committed to git, and so is everything it reads. A
//! password in a values file, a key in a contract's description or a `kind: Secret` in an
//! app template ends up in the repository's history for good. The rules flag them at the
//! source line and say what to use instead; they never print the value itself.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use regex::{Regex, RegexSet};
use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::diag::{Code, Diagnostic, Label};
use crate::lint::Context;
use crate::lint::query::{about, on_clusters};
use crate::load::yaml::{self, Node};
use crate::load::{Doc, Input, Sources};
use crate::source::{FileId, SourceMap, Span};

/// What to use instead, for every secrets finding.
pub const USE_INSTEAD: &str = "keep the value in a secret store and let the cluster fetch it: an ExternalSecret (External Secrets Operator) or a SecretProviderClass (Secrets Store CSI driver, e.g. Azure Key Vault, AWS Secrets Manager); or commit it encrypted, as a SealedSecret";

/// Whether a key (or an environment variable's name) names a credential: `password`,
/// `DB_PASSWORD`, `clientSecret`, `apiKey`, `aws_secret_access_key`, `token` …, but not a
/// reference to one (`existingSecret`, `passwordSecretName`, `tokenPath`, the `read-secret`
/// permission, a key that names a Secret object: see [`names_a_secret`]).
/// Whether a number under `key` is a credential: a password's (`smtpPassword: 48213377`, a
/// PIN), not a token's or a key's, whose numbers are settings (`maxToken: 4096`).
fn is_password_key(key: &str) -> bool {
    let k: String = (key.chars().filter(char::is_ascii_alphanumeric))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    is_credential_key(key)
        && ["password", "passwd", "passphrase", "pwd"]
            .iter()
            .any(|e| k.ends_with(e))
}

pub fn is_credential_key(key: &str) -> bool {
    if names_a_secret(key) {
        return false;
    }
    // The key's ASCII letters and digits, lower-cased (bytes of other characters are never
    // ASCII): on the stack, as lint asks this of every string of every rendered object.
    let mut buf = [0u8; 64];
    let mut len = 0;
    let long: Vec<u8>;
    let k: &[u8] = if key.len() <= buf.len() {
        for b in key.bytes().filter(u8::is_ascii_alphanumeric) {
            buf[len] = b.to_ascii_lowercase();
            len += 1;
        }
        &buf[..len]
    } else {
        long = (key.bytes().filter(u8::is_ascii_alphanumeric))
            .map(|b| b.to_ascii_lowercase())
            .collect();
        &long
    };
    const ENDS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "secret",
        "token",
        "apikey",
        "accesskey",
        "privatekey",
        "connectionstring",
        "credential",
        "credentials",
        "accountkey",
        "sastoken",
    ];
    // `read-secret` (an identity profile's permission) names a secret in a store.
    !k.starts_with(b"existing") && k != b"readsecret" && ENDS.iter().any(|e| k.ends_with(e.as_bytes()))
}

/// Keys that end in `secret` but whose value is the name of a Kubernetes Secret: the
/// ingress-nginx annotations (`nginx.ingress.kubernetes.io/auth-secret`, `auth-tls-secret`,
/// `proxy-ssl-secret`: "the name of the Secret", or `namespace/name`), those of the NGINX
/// Ingress Controller (`nginx.org/basic-auth-secret` …), and Traefik's Middleware
/// `basicAuth.secret` and `digestAuth.secret` (as [`scan_node`] and [`strings`] qualify a
/// `secret` key under `basicAuth` or `digestAuth`).
fn names_a_secret(key: &str) -> bool {
    match key
        .strip_prefix("nginx.ingress.kubernetes.io/")
        .or_else(|| key.strip_prefix("nginx.org/"))
    {
        Some(annotation) => annotation.ends_with("-secret"),
        None => matches!(key, "basicAuth.secret" | "digestAuth.secret"),
    }
}

/// The key a value is judged under: `key`, but a Traefik Middleware's `secret` under
/// `basicAuth` or `digestAuth` (in `parent`) is qualified, as it names a Secret object.
fn qualified<'k>(parent: &str, key: &'k str) -> &'k str {
    match (parent, key) {
        ("basicAuth", "secret") => "basicAuth.secret",
        ("digestAuth", "secret") => "digestAuth.secret",
        _ => key,
    }
}

/// Whether an object (its `apiVersion` and `kind`) is a Bitnami SealedSecret: its
/// `spec.encryptedData` is ciphertext that only the sealed-secrets controller in the cluster
/// can decrypt, made to be committed.
fn is_sealed_secret(api_version: Option<&str>, kind: Option<&str>) -> bool {
    kind == Some("SealedSecret") && api_version.is_some_and(|v| v.starts_with("bitnami.com/"))
}

/// Whether a value is the path of a file (where a program reads the credential from, as
/// `GOOGLE_APPLICATION_CREDENTIALS=/var/run/secrets/gcp/key.json` or a mounted Secret):
/// an absolute path of two segments or more, or a relative one starting `./`, `../` or
/// `~/`, of letters, digits, `.`, `_` and `-`.
fn is_file_path(v: &str) -> bool {
    let (rest, least) = match v
        .strip_prefix("./")
        .or_else(|| v.strip_prefix("../"))
        .or_else(|| v.strip_prefix("~/"))
    {
        Some(rest) => (rest, 1),
        None => match v.strip_prefix('/') {
            Some(rest) => (rest, 2),
            None => return false,
        },
    };
    let segment = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    rest.split('/').all(segment) && rest.split('/').count() >= least
}

/// Whether a credential key's value is the credential itself, not a reference to one kept
/// elsewhere (`${DB_PASSWORD}`, `{{ … }}`, `$(VAR)`, `vault:…`, a Key Vault or Secrets
/// Manager URI, a `<placeholder>`, a masked `****`, the path of a file) nor a value SOPS
/// encrypted (`ENC[AES256_GCM,data:…]`).
pub fn is_plaintext(value: &str) -> bool {
    let v = value.trim();
    if v.chars().count() < 3 || v.chars().all(|c| c == '*' || c == 'x' || c == 'X') {
        return false;
    }
    const REFERENCES: &[&str] = &[
        "${",
        "{{",
        "$(",
        "<",
        "vault:",
        "ref+",
        "secret://",
        "secretref:",
        "akv:",
        "arn:aws:secretsmanager:",
        "arn:aws:ssm:",
        "projects/",
        "ENC[",
    ];
    if REFERENCES.iter().any(|r| v.starts_with(r)) || is_file_path(v) {
        return false;
    }
    !(v.starts_with("https://") && (v.contains(".vault.azure.net/") || v.contains("secretsmanager")))
}

/// Credential-shaped strings, found anywhere: (what it is, pattern).
const PATTERNS: &[(&str, &str)] = &[
    ("an AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    (
        "an AWS secret access key",
        r"(?i)aws.{0,20}secret.{0,20}[:=]\s*[\x22']?[A-Za-z0-9/+]{40}\b",
    ),
    ("a private key", r"-----BEGIN[A-Z ]*PRIVATE KEY[A-Z ]*-----"),
    (
        "a password in a URL",
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:[^\s/@$<{*][^\s/@]*@[^\s/@]",
    ),
    (
        "a password in text",
        r"(?i)\b(?:password|passwd|pwd|passphrase)\b[ \t]*(?:is|=|:)[ \t]*[\x22']?([^\s\x22']+)",
    ),
    (
        "a GitHub token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}\b|github_pat_[A-Za-z0-9_]{22,})",
    ),
    ("a Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    (
        "an Azure storage or Service Bus key",
        r"(?i)\b(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{20,}={0,2}",
    ),
    ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    (
        "a JSON web token",
        r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
    ),
];

fn patterns() -> &'static (RegexSet, Vec<Regex>) {
    static P: OnceLock<(RegexSet, Vec<Regex>)> = OnceLock::new();
    P.get_or_init(|| {
        let set = RegexSet::new(PATTERNS.iter().map(|(_, p)| *p)).expect("the patterns compile");
        let each = PATTERNS
            .iter()
            .map(|(_, p)| Regex::new(p).expect("a pattern compiles"))
            .collect();
        (set, each)
    })
}

/// What credential `text` holds, if it holds one: the kind (e.g. "a private key"), and a
/// password in text only when the password, on the same line, has a digit or a symbol and
/// six characters and is no reference (see [`is_plaintext`]): "password: managed by Key
/// Vault" is prose, "password: https://kv.vault.azure.net/secrets/db" a reference.
pub fn credential_in(text: &str) -> Option<&'static str> {
    let (set, each) = patterns();
    for i in set.matches(text).iter() {
        let (what, _) = PATTERNS[i];
        if what == "a password in text" {
            let real = each[i].captures_iter(text).any(|c| {
                let word = c
                    .get(1)
                    .map_or("", |m| m.as_str())
                    .trim_end_matches([',', ';', '.', ')']);
                word.chars().count() >= 6
                    && !word.starts_with(['$', '<', '{', '*', '('])
                    && word.chars().any(|c| !c.is_alphabetic())
                    && is_plaintext(word)
            });
            if !real {
                continue;
            }
        }
        return Some(what);
    }
    None
}

/// What kind of finding a string is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A plaintext value under a credential key (the key's name).
    Keyed,
    /// A credential-shaped string (its kind).
    Shaped(&'static str),
}

/// A string found in a source file, with the key it is under.
pub struct Found {
    pub key: String,
    pub span: Span,
    pub finding: Finding,
}

/// Every finding in a YAML tree: credential keys with plaintext values, strings or numbers
/// (and `name:`/`value:` pairs, as in environment variables), and credential-shaped strings
/// anywhere but in a SealedSecret's `spec.encryptedData`.
pub fn scan_node(node: &Node, out: &mut Vec<Found>) {
    /// `skip`: a key of this mapping not to read.
    fn visit(node: &Node, key: &str, skip: Option<&str>, out: &mut Vec<Found>) {
        match &node.value {
            yaml::Value::Number(n) if is_password_key(key) && is_plaintext(&n.to_string()) => {
                out.push(Found {
                    key: key.to_string(),
                    span: node.span.clone(),
                    finding: Finding::Keyed,
                });
            }
            yaml::Value::String(s) => {
                if is_credential_key(key) && is_plaintext(s) {
                    out.push(Found {
                        key: key.to_string(),
                        span: node.span.clone(),
                        finding: Finding::Keyed,
                    });
                } else if let Some(what) = credential_in(s) {
                    out.push(Found {
                        key: key.to_string(),
                        span: node.span.clone(),
                        finding: Finding::Shaped(what),
                    });
                }
            }
            yaml::Value::Map(entries) => {
                // `- name: DB_PASSWORD` / `value: …`: the value is keyed by the name.
                let named = node.get_str("name").filter(|n| is_credential_key(n));
                let sealed = is_sealed_secret(node.get_str("apiVersion"), node.get_str("kind"));
                for e in entries.iter().filter(|e| skip != Some(e.key.as_str())) {
                    let k = match (named, e.key.as_str()) {
                        (Some(name), "value") => name,
                        _ => qualified(key, &e.key),
                    };
                    let skip = (sealed && e.key == "spec").then_some("encryptedData");
                    visit(&e.value, k, skip, out);
                }
            }
            yaml::Value::Seq(items) => {
                for item in items {
                    visit(item, key, None, out);
                }
            }
            _ => {}
        }
    }
    visit(node, "", None, out);
}

/// Every string in a rendered object with the key it is under (as [`scan_node`] keys it),
/// and every number under a credential key, but none of a SealedSecret's
/// `spec.encryptedData`.
pub fn strings<'v>(value: &'v Value, key: &'v str, out: &mut Vec<(&'v str, Cow<'v, str>)>) {
    fn visit<'v>(value: &'v Value, key: &'v str, skip: Option<&str>, out: &mut Vec<(&'v str, Cow<'v, str>)>) {
        match value {
            Value::String(s) => out.push((key, Cow::Borrowed(s))),
            Value::Number(n) if is_password_key(key) => out.push((key, Cow::Owned(n.to_string()))),
            Value::Object(map) => {
                let named = map.get("name").and_then(Value::as_str).filter(|n| is_credential_key(n));
                let sealed = is_sealed_secret(
                    map.get("apiVersion").and_then(Value::as_str),
                    map.get("kind").and_then(Value::as_str),
                );
                for (k, v) in map.iter().filter(|(k, _)| skip != Some(k.as_str())) {
                    let skip = (sealed && k == "spec").then_some("encryptedData");
                    let k = match (named, k.as_str()) {
                        (Some(name), "value") => name,
                        _ => qualified(key, k),
                    };
                    visit(v, k, skip, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    visit(item, key, None, out);
                }
            }
            _ => {}
        }
    }
    visit(value, key, None, out);
}

/// What a string is, remembered: a rendered fleet repeats the same keys and strings on
/// every cluster. Whether each key names a credential; by that, then the string, what the
/// string is.
#[derive(Default)]
pub struct Memo {
    keys: FxHashMap<String, bool>,
    strings: [FxHashMap<String, Option<Finding>>; 2],
}

impl Memo {
    pub fn judge(&mut self, key: &str, value: &str) -> Option<Finding> {
        let keyed = match self.keys.get(key) {
            Some(&keyed) => keyed,
            None => {
                let keyed = is_credential_key(key);
                self.keys.insert(key.to_string(), keyed);
                keyed
            }
        };
        let seen = &mut self.strings[usize::from(keyed)];
        if let Some(finding) = seen.get(value) {
            return *finding;
        }
        let finding = if keyed && is_plaintext(value) {
            Some(Finding::Keyed)
        } else {
            credential_in(value).map(Finding::Shaped)
        };
        seen.insert(value.to_string(), finding);
        finding
    }
}

/// An input file of the repository to scan, and whose it is.
pub struct Scanned<'s> {
    pub file: FileId,
    pub node: &'s Node,
    pub app: Option<&'s str>,
    pub cluster: Option<&'s str>,
}

/// Every YAML input file: fleet.yaml, clusters, contracts, profiles, the policy library
/// and Helm values.
pub fn inputs(sources: &Sources) -> Vec<Scanned<'_>> {
    fn docs<'s, T: Input>(docs: &'s [Doc<T>], out: &mut Vec<Scanned<'s>>) {
        out.extend(docs.iter().map(|d| Scanned {
            file: d.file,
            node: &d.node,
            app: None,
            cluster: None,
        }));
    }
    let mut out = Vec::new();
    if let Some(f) = &sources.fleet {
        docs(std::slice::from_ref(f), &mut out);
    }
    out.extend(sources.clusters.iter().map(|d| Scanned {
        file: d.file,
        node: &d.node,
        app: None,
        cluster: Some(d.value.cluster_id.as_str()),
    }));
    out.extend(sources.apps.iter().map(|d| Scanned {
        file: d.file,
        node: &d.node,
        app: Some(d.value.application.name.as_str()),
        cluster: None,
    }));
    docs(&sources.cluster_profiles, &mut out);
    docs(&sources.observability_profiles, &mut out);
    docs(&sources.backup_profiles, &mut out);
    docs(&sources.identity_profiles, &mut out);
    docs(&sources.telemetry_profiles, &mut out);
    docs(&sources.policy_intents, &mut out);
    docs(&sources.policy_profiles, &mut out);
    docs(&sources.policy_exemptions, &mut out);
    // The values files, and a chart's vendored defaults (`apps/<app>/chart/values.yaml`):
    // committed, and rendered into the HelmRelease as the rest.
    out.extend(sources.values.iter().chain(&sources.chart_defaults).map(|v| Scanned {
        file: v.file,
        node: &v.node,
        app: Some(v.app.as_str()),
        cluster: None,
    }));
    out
}

/// The key a finding in a comment is reported under: no key of YAML's reads so.
const IN_A_COMMENT: &str = "#";

/// The comments of a YAML file (or a template of one): each as the byte range of its text
/// after the `#`, to the end of its line. A `#` starts a comment at the start of a line or
/// after a space or tab, outside a quoted scalar (which may run over lines) and outside a
/// block scalar (`|`, `>`: the lines indented under the line that opens it); within a
/// plain scalar, `a#b` is text and `a #b` a comment, as YAML reads them. `strings`: the
/// spans of the file's scalars, where no comment can start (the parse's word on quoting).
pub fn comments(text: &str, strings: &[Span]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    // The quote a scalar opened on an earlier line and has not closed.
    let mut open: Option<u8> = None;
    // The indentation of the line that opened a block scalar, while its lines last.
    let mut block: Option<usize> = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let body = line.trim_end_matches(['\n', '\r']).as_bytes();
        let indent = body.iter().take_while(|&&c| c == b' ').count();
        if let Some(opener) = block {
            if indent == body.len() || indent > opener {
                continue;
            }
            block = None;
        }
        let mut i = 0;
        // Whether a scalar may start here: after the indentation, `- `, `: `, `? `, `[`, `{`, `,`.
        let mut token = true;
        let mut comment = None;
        while i < body.len() {
            let c = body[i];
            if let Some(q) = open {
                match c {
                    b'\\' if q == b'"' => i += 1,
                    b'\'' if q == b'\'' && body.get(i + 1) == Some(&b'\'') => i += 1,
                    _ if c == q => open = None,
                    _ => {}
                }
                i += 1;
                token = false;
                continue;
            }
            match c {
                b'#' if i == 0 || matches!(body[i - 1], b' ' | b'\t') => {
                    let at = start + i;
                    if !strings.iter().any(|s| s.start < at && at < s.end) {
                        comment = Some(i);
                        break;
                    }
                }
                b'"' | b'\'' if token => open = Some(c),
                _ => {}
            }
            token = match c {
                b' ' | b'\t' => token,
                b'[' | b'{' | b',' => true,
                b'-' | b':' | b'?' => body.get(i + 1).is_none_or(|n| matches!(n, b' ' | b'\t')),
                _ => false,
            };
            i += 1;
        }
        let content = &body[..comment.unwrap_or(body.len())];
        if let Some(i) = comment {
            out.push(start + i + 1..start + body.len());
        }
        // A block scalar's indicator ends the line's content: `key: |`, `- >-`, `|2+`.
        let content = content.trim_ascii_end();
        let indicator = content
            .iter()
            .rposition(|&c| c == b'|' || c == b'>')
            .filter(|&p| content[p + 1..].iter().all(|c| matches!(c, b'-' | b'+' | b'0'..=b'9')))
            .filter(|&p| p == 0 || matches!(content[p - 1], b' ' | b'\t'));
        if open.is_none() && indicator.is_some() {
            block = Some(indent);
        }
    }
    out
}

/// The spans of a tree's scalars.
fn scalar_spans(node: &Node, out: &mut Vec<Span>) {
    match &node.value {
        yaml::Value::Map(entries) => {
            for e in entries {
                out.push(e.key_span.clone());
                scalar_spans(&e.value, out);
            }
        }
        yaml::Value::Seq(items) => items.iter().for_each(|n| scalar_spans(n, out)),
        _ => out.push(node.span.clone()),
    }
}

/// The credential-shaped comments of a file, as findings.
fn in_comments(text: &str, strings: &[Span]) -> Vec<Found> {
    (comments(text, strings).into_iter())
        .filter_map(|range| {
            let what = credential_in(&text[range.clone()])?;
            let lead = text[range.clone()].len() - text[range.clone()].trim_start().len();
            Some(Found {
                key: IN_A_COMMENT.to_string(),
                span: range.start + lead..range.end,
                finding: Finding::Shaped(what),
            })
        })
        .collect()
}

/// Where a rendered string came from: the string node of an input file holding exactly
/// it (the contract, the cluster, a values file …), else its first occurrence in the
/// template's text, else the template's `kind:` line.
pub fn locate(files: &SourceMap, inputs: &[Scanned], template: FileId, value: &str, kind_line: &str) -> (FileId, Span) {
    fn find(node: &Node, value: &str) -> Option<Span> {
        match &node.value {
            yaml::Value::String(s) if s == value => Some(node.span.clone()),
            yaml::Value::Number(n) if n.to_string() == value => Some(node.span.clone()),
            yaml::Value::Map(entries) => entries.iter().find_map(|e| find(&e.value, value)),
            yaml::Value::Seq(items) => items.iter().find_map(|n| find(n, value)),
            _ => None,
        }
    }
    for input in inputs {
        if let Some(span) = find(input.node, value) {
            return (input.file, span);
        }
    }
    let text = &files.get(template).text;
    // A block of several lines is indented in the template: look for its first line.
    let first_line = value.lines().next().filter(|l| l.len() >= 8 && *l != value);
    let at = [Some(value), first_line, Some(kind_line)]
        .into_iter()
        .flatten()
        .find_map(|needle| text.find(needle).map(|at| at..at + needle.len()))
        .unwrap_or(0..0);
    (template, at)
}

/// A finding of the secrets rules in one place, before any rule's exemptions: found once
/// for both (FG141 keeps the keyed ones, FG142 the shaped ones).
pub struct Hit<'a> {
    /// Where it is reported: the input file (a rendered value found in an input file is
    /// reported there).
    pub file: FileId,
    pub span: Span,
    pub finding: Finding,
    /// The key it is under.
    pub key: String,
    /// Whose it is, as an exemption targets it.
    pub app: Option<&'a str>,
    pub cluster: Option<&'a str>,
    pub namespace: Option<String>,
    /// Found in a rendered object (rather than in an input file).
    pub rendered: bool,
}

/// Every finding of the secrets rules, in the input files and then in the rendered
/// objects, in their order: the input files scanned when made, the objects as `lint`
/// shows them finished (see [`crate::lint::EachObject`]).
pub struct Collect<'a> {
    sources: &'a Sources,
    inputs: Vec<Scanned<'a>>,
    memo: Memo,
    hits: Vec<Hit<'a>>,
}

impl<'a> Collect<'a> {
    pub fn new(sources: &'a Sources) -> Collect<'a> {
        let inputs = inputs(sources);
        let mut hits = Vec::new();
        for input in &inputs {
            let mut found = Vec::new();
            scan_node(input.node, &mut found);
            // A comment is committed as the values are.
            let mut strings = Vec::new();
            scalar_spans(input.node, &mut strings);
            found.extend(in_comments(&sources.files.get(input.file).text, &strings));
            hits.extend(found.into_iter().map(|h| Hit {
                file: input.file,
                span: h.span,
                finding: h.finding,
                key: h.key,
                app: input.app,
                cluster: input.cluster,
                namespace: None,
                rendered: false,
            }));
        }
        // The templates' own comments (what they render is read as objects).
        for t in &sources.templates {
            hits.extend(
                (in_comments(&sources.files.get(t.file).text, &[]).into_iter()).map(|h| Hit {
                    file: t.file,
                    span: h.span,
                    finding: h.finding,
                    key: h.key,
                    app: t.app.as_deref(),
                    cluster: None,
                    namespace: None,
                    rendered: false,
                }),
            );
        }
        Collect {
            sources,
            inputs,
            memo: Memo::default(),
            hits,
        }
    }

    /// Rendered objects, each with the object finished.
    pub fn objects<'v>(&mut self, objects: impl Iterator<Item = (&'a crate::emit::RenderedObject, &'v Value)>) {
        for (o, object) in objects {
            let mut found_strings = Vec::new();
            strings(object, "", &mut found_strings);
            let namespace = object["metadata"]["namespace"].as_str();
            for (key, value) in found_strings {
                let Some(finding) = self.memo.judge(key, &value) else {
                    continue;
                };
                let kind_line = format!("kind: {}", o.kind());
                let (file, span) = locate(&self.sources.files, &self.inputs, o.template, &value, &kind_line);
                self.hits.push(Hit {
                    file,
                    span,
                    finding,
                    key: key.to_string(),
                    app: Some(&o.app),
                    cluster: Some(&o.cluster),
                    namespace: namespace.map(str::to_string),
                    rendered: true,
                });
            }
        }
    }

    pub fn hits(self) -> Vec<Hit<'a>> {
        self.hits
    }
}

/// Findings `wanted` keeps, in the input files and in the rendered objects, one
/// diagnostic per place (a rendered value found in an input file is reported there).
pub fn report(ctx: &Context, out: &mut Vec<Diagnostic>, code: &'static Code, wanted: impl Fn(Finding) -> bool) {
    let files = &ctx.sources.files;
    // (file, span) → (finding, key, apps, clusters, clusters it is rendered on)
    type Names = BTreeSet<String>;
    type Entry = (Finding, String, Names, Names, Names);
    let mut found: BTreeMap<(FileId, (usize, usize)), Entry> = BTreeMap::new();
    for hit in ctx.secrets() {
        if !wanted(hit.finding) || ctx.exempted(code, hit.app, hit.cluster, hit.namespace.as_deref()) {
            continue;
        }
        let entry = found
            .entry((hit.file, (hit.span.start, hit.span.end)))
            .or_insert_with(|| (hit.finding, hit.key.clone(), Names::new(), Names::new(), Names::new()));
        entry.2.extend(hit.app.map(str::to_string));
        entry.3.extend(hit.cluster.map(str::to_string));
        if hit.rendered {
            entry.4.extend(hit.cluster.map(str::to_string));
        }
    }
    for ((file, (start, end)), (finding, key, apps, clusters, rendered_on)) in found {
        let what = match finding {
            Finding::Keyed => "a plaintext credential".to_string(),
            Finding::Shaped(what) => what.to_string(),
        };
        let under = if key.is_empty() {
            String::new()
        } else if key == IN_A_COMMENT {
            " in a comment".to_string()
        } else {
            format!(" in `{key}`")
        };
        let on = if rendered_on.is_empty() {
            String::new()
        } else {
            format!(" (rendered on {})", on_clusters(&rendered_on))
        };
        let d = Diagnostic::error(
            code,
            files,
            Label::new(file, start..end, "committed to git"),
            format!("{what}{under}{on}; everything fleetgen reads and renders is committed"),
        )
        .with_help(USE_INSTEAD);
        out.push(about(d, &apps, &clusters));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A number is a credential under a password's key only: a token's or a key's numbers
    /// are settings.
    #[test]
    fn numbers_are_credentials_under_password_keys_only() {
        for k in ["smtpPassword", "db_passwd", "PIN_PWD", "adminPassphrase"] {
            assert!(is_password_key(k), "{k}");
        }
        for k in ["maxToken", "apiKey", "clientSecret", "passwordMinLength", "replicas"] {
            assert!(!is_password_key(k), "{k}");
        }
    }

    #[test]
    fn credential_keys_and_references() {
        for k in [
            "password",
            "DB_PASSWORD",
            "clientSecret",
            "apiKey",
            "aws_secret_access_key",
            "token",
            "sasToken",
            "secret",
            "webhook-secret",
        ] {
            assert!(is_credential_key(k), "{k}");
        }
        for k in [
            "existingSecret",
            "passwordSecretName",
            "tokenPath",
            "secretRef",
            "clientId",
            "name",
            "automount",
            "read-secret",
            "nginx.ingress.kubernetes.io/auth-secret",
            "nginx.ingress.kubernetes.io/auth-tls-secret",
            "nginx.org/basic-auth-secret",
            "basicAuth.secret",
            "digestAuth.secret",
        ] {
            assert!(!is_credential_key(k), "{k}");
        }
        for v in ["hunter22", "s3cr3t!", "changeme", "/Xk9+vQ2=", "/hunter22", "48213377"] {
            assert!(is_plaintext(v), "{v}");
        }
        for v in [
            "${DB_PASSWORD}",
            "{{ .Values.x }}",
            "$(PASS)",
            "vault:secret/data/db#password",
            "",
            "****",
            "<password>",
            "https://kv-eastus.vault.azure.net/secrets/db",
            "arn:aws:secretsmanager:us-east-1:1:secret:db",
            "ENC[AES256_GCM,data:q7Vd3XkP1w==,iv:3mZk9Q=,tag:Xy7zA2==,type:str]",
            "/var/run/secrets/gcp/credentials.json",
            "./secrets/db-password",
            "~/.aws/credentials",
        ] {
            assert!(!is_plaintext(v), "{v}");
        }
    }

    /// The comments of a YAML text, as their texts.
    fn comment_texts(text: &str) -> Vec<&str> {
        comments(text, &[]).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn comments_are_found_as_yaml_reads_them() {
        let text = "# top\nkey: value # after\nurl: a#b\nquoted: \"a #b\" # real\nsingle: 'it''s #x'\n";
        assert_eq!(comment_texts(text), [" top", " after", " real"]);
        // A block scalar's lines are its text, `#` and all, until a line indented less.
        let text = "script: |\n  # not a comment\n\n  echo #no\nnext: 1 # yes\nlist:\n  - >-\n    #no\n  # yes too\n";
        assert_eq!(comment_texts(text), [" yes", " yes too"]);
        // A quoted scalar runs over lines; a flow collection's items are scalars too.
        let text = "a: \"one\n  #two\" #three\nb: [\"x #y\", 'z'] # four\nc: x|y # five\n";
        assert_eq!(comment_texts(text), ["three", " four", " five"]);
        // The parse's spans of scalars win where the scanner would guess.
        let text = "k: a #b\n";
        let plain: Vec<Span> = vec![Span { start: 3, end: 7 }];
        assert!(comments(text, &plain).is_empty());
    }

    #[test]
    fn credential_shapes() {
        let cases = [
            ("key AKIAIOSFODNN7EXAMPLE here", Some("an AWS access key id")),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", Some("a private key")),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", Some("a private key")),
            (
                "postgres://app:hunter2@db.internal:5432/orders",
                Some("a password in a URL"),
            ),
            ("the admin password is Hunter2!", Some("a password in text")),
            ("password=Sup3rS3cret", Some("a password in text")),
            ("ghp_0123456789abcdefghijABCDEFGHIJ012345", Some("a GitHub token")),
            (
                "ci uses github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
                Some("a GitHub token"),
            ),
            ("redis://:Xk9vQ2mP7rT4@web-cache:6379/0", Some("a password in a URL")),
            ("redis://:${REDIS_PASSWORD}@web-cache:6379/0", None),
            ("cache:\n  password:\n    fromEnv: CACHE_PASSWORD\n", None),
            (
                "Orders DB password: https://kv-prod.vault.azure.net/secrets/web-db (rotated monthly)",
                None,
            ),
            ("password: /run/secrets/db-password", None),
            (
                "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abcdefghijklmnopqrstuvwxyz0123==",
                Some("an Azure storage or Service Bus key"),
            ),
            ("password: managed by Key Vault", None),
            ("https://user@example.com/path", None),
            ("postgres://app:${DB_PASSWORD}@db:5432", None),
            (
                "registry.example.com/web@sha256:b9bd1f75820c6a6411c58300534b89faef06c015ebb0791ec0b4508e9c77cf49",
                None,
            ),
            ("Rotate the password every 90 days.", None),
            ("http://localhost:8080/healthz", None),
        ];
        for (text, want) in cases {
            assert_eq!(credential_in(text), want, "{text}");
        }
    }
}
