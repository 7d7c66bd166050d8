//! `fleetgen lint --baseline FILE`: adopt the linter on a fleet that has findings today,
//! and fail only on new ones (as checkov's `--baseline` does). `--write-baseline FILE`
//! records the current findings; a later `--baseline FILE` drops every finding the file
//! records and says how many recorded findings are gone (the file can be rewritten smaller).
//!
//! A finding is recorded by its rule's code, the file it is in, its subject (what it points
//! at in that file and the app it is about, hashed: the text may be a credential) and its
//! message — not its line, so that editing above it does not make it new. A recorded
//! finding whose message has changed is still held by its code, file and subject: messages
//! name the clusters a finding is on, their count, their versions and replicas, which change
//! when the fleet grows or a cluster is upgraded (a platform team adding a cluster failed
//! every baselined finding). Each such entry holds one finding, so a second finding at the
//! same place is new. An entry without a subject (a baseline written before fleetgen
//! recorded them) holds only a finding of the same message.
//!
//! Only rule findings (FG100 and up) and policy findings (FG060–FG071) can be in a
//! baseline: input errors never are. The file is JSON, sorted, one finding per entry:
//! reviewed like any other file.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Value, json};

use crate::diag::Diagnostic;
use crate::source::SourceMap;

/// One finding as a baseline records it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub code: String,
    pub path: String,
    /// What it points at and the app it is about, hashed ([`subject`]); `None` in a
    /// baseline written before fleetgen recorded it.
    pub subject: Option<String>,
    pub message: String,
}

/// Whether a baseline may hold findings of `code`.
pub fn holds(code: &crate::diag::Code) -> bool {
    super::find(code.id).is_some() || crate::policy::exemptions::is_policy_rule(code.id)
}

/// What a finding is about, whatever the fleet's size: the text its primary location
/// spans (its runs of white space made one space) and the app it is about, hashed with
/// BLAKE3 (16 hex digits). The clusters it is on are not part of it.
pub fn subject(d: &Diagnostic, files: &SourceMap) -> String {
    let text = (d.primary.as_ref())
        .and_then(|l| files.get(l.file).text.get(l.span.clone()))
        .unwrap_or_default();
    let mut hasher = blake3::Hasher::new();
    hasher.update(d.app.as_deref().unwrap_or_default().as_bytes());
    for word in text.split_whitespace() {
        hasher.update(b" ");
        hasher.update(word.as_bytes());
    }
    hasher.finalize().to_hex()[..16].to_string()
}

/// A finding as a baseline records it.
pub fn entry(d: &Diagnostic, files: &SourceMap) -> Entry {
    Entry {
        code: d.code.id.to_string(),
        path: d.path.clone(),
        subject: Some(subject(d, files)),
        message: d.message.clone(),
    }
}

/// The baseline file's text for these findings (those a baseline may hold).
pub fn write<'a>(files: &SourceMap, findings: impl IntoIterator<Item = &'a Diagnostic>) -> String {
    let set: BTreeSet<Entry> = findings
        .into_iter()
        .filter(|d| holds(d.code))
        .map(|d| entry(d, files))
        .collect();
    let items: Vec<Value> = set
        .iter()
        .map(|e| json!({"code": e.code, "path": e.path, "subject": e.subject, "message": e.message}))
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({"fleetgenBaseline": 1, "findings": items})).unwrap_or_default();
    text.push('\n');
    text
}

/// Which findings a baseline holds.
pub struct Held {
    /// For each finding, in order, whether the baseline holds it.
    pub held: Vec<bool>,
    /// How many of the baseline's entries hold no finding (fixed, or gone).
    pub gone: usize,
}

/// Which of `findings` the baseline `recorded` holds: first each finding an entry records
/// as it is (code, file, message, and subject when the entry has one), then, one entry
/// each, the findings of an entry's code, file and subject whose message has changed.
pub fn sift(recorded: &BTreeSet<Entry>, findings: &[Diagnostic], files: &SourceMap) -> Held {
    let entries: Vec<&Entry> = recorded.iter().collect();
    let mut used = vec![false; entries.len()];
    let mut held = vec![false; findings.len()];
    let found: Vec<Option<Entry>> = (findings.iter())
        .map(|d| holds(d.code).then(|| entry(d, files)))
        .collect();
    let mut by_message: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_message
            .entry((e.code.as_str(), e.path.as_str(), e.message.as_str()))
            .or_default()
            .push(i);
    }
    for (at, f) in found.iter().enumerate() {
        let Some(f) = f else { continue };
        let same = by_message.get(&(f.code.as_str(), f.path.as_str(), f.message.as_str()));
        let same = same
            .and_then(|all| (all.iter()).find(|&&i| entries[i].subject.is_none() || entries[i].subject == f.subject));
        if let Some(&i) = same {
            held[at] = true;
            used[i] = true;
        }
    }
    let mut by_subject: BTreeMap<(&str, &str, &str), VecDeque<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        if let (false, Some(subject)) = (used[i], &e.subject) {
            by_subject
                .entry((e.code.as_str(), e.path.as_str(), subject.as_str()))
                .or_default()
                .push_back(i);
        }
    }
    for (at, f) in found.iter().enumerate() {
        let Some(f) = f.as_ref().filter(|_| !held[at]) else {
            continue;
        };
        let subject = f.subject.as_deref().unwrap_or_default();
        let free = by_subject.get_mut(&(f.code.as_str(), f.path.as_str(), subject));
        if let Some(i) = free.and_then(VecDeque::pop_front) {
            held[at] = true;
            used[i] = true;
        }
    }
    Held {
        held,
        gone: used.iter().filter(|u| !**u).count(),
    }
}

/// The findings a baseline file records; `Err` says what is wrong with it and where
/// (line and column).
pub fn read(text: &str) -> Result<BTreeSet<Entry>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json counts columns from 1 but says 0 at the start of a line (an empty file,
        // one cut short after a newline); its message repeats the place, said in front here.
        let (line, column) = (e.line(), e.column());
        let message = e.to_string();
        let message = message
            .strip_suffix(&format!(" at line {line} column {column}"))
            .unwrap_or(&message);
        format!("{line}:{}: not JSON: {message}", column.max(1))
    })?;
    if value.get("fleetgenBaseline").and_then(Value::as_u64) != Some(1) {
        return Err("1:1: not a fleetgen baseline (`fleetgenBaseline: 1` is missing); write one with `fleetgen lint --write-baseline FILE`".into());
    }
    let Some(items) = value.get("findings").and_then(Value::as_array) else {
        return Err("1:1: `findings` is not a list".into());
    };
    let mut set = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
        let subject = match item.get("subject") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(format!("finding {}: `subject` must be a string", i + 1)),
        };
        match (field("code"), field("path"), field("message")) {
            (Some(code), Some(path), Some(message)) => {
                set.insert(Entry {
                    code,
                    path,
                    subject,
                    message,
                });
            }
            _ => {
                return Err(format!(
                    "finding {}: `code`, `path` and `message` must be strings",
                    i + 1
                ));
            }
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_json_is_located_from_column_1() {
        assert_eq!(read("").unwrap_err(), "1:1: not JSON: EOF while parsing a value");
        assert_eq!(
            read("{\"a\": 1,\n").unwrap_err(),
            "2:1: not JSON: EOF while parsing a value"
        );
        assert_eq!(read("{bad").unwrap_err(), "1:2: not JSON: key must be a string");
    }

    #[test]
    fn reads_what_it_writes_and_refuses_other_json() {
        let files = SourceMap::default();
        let rule = &crate::lint::find("FG104").unwrap().code;
        let d = Diagnostic::file_error(rule, "apps/web/app.yaml", "one region");
        let input = Diagnostic::file_error(
            crate::diag::codes::find("FG001").unwrap(),
            "apps/x/app.yaml",
            "bad YAML",
        );
        let text = write(&files, [&d, &input]);
        let set = read(&text).unwrap();
        assert_eq!(set.len(), 1, "an input error is never in a baseline: {text}");
        assert!(set.contains(&entry(&d, &files)));
        assert_eq!(text, write(&files, [&input, &d, &d]), "sorted and deduplicated");
        assert!(
            read("{\"findings\": []}")
                .unwrap_err()
                .contains("not a fleetgen baseline")
        );
        assert!(
            read("{\n  \"fleetgenBaseline\": 1,\n  \"findings\": [1]\n}")
                .unwrap_err()
                .contains("finding 1")
        );
        assert!(
            read("{\"fleetgenBaseline\": 1, \"findings\": [{\"code\": \"FG104\", \"path\": \"a\", \"message\": \"b\", \"subject\": 1}]}")
                .unwrap_err()
                .contains("`subject` must be a string")
        );
        assert!(read("{\n  oops").unwrap_err().starts_with("2:"));
    }

    /// A recorded finding is held whatever its message now says of the clusters it is on;
    /// each entry holds one finding of its subject; an entry without a subject (an older
    /// baseline) holds only the finding of its message.
    #[test]
    fn a_finding_whose_message_changed_is_held_once_by_its_subject() {
        let mut files = SourceMap::default();
        let text = "data:\n  URL: redis://:Xk9v@cache:6379\n  OTHER: redis://:Pq7w@cache:6379\n";
        let file = files.add(crate::source::SourceFile::new("apps/web/templates/cm.yaml.j2", text));
        let rule = &crate::lint::find("FG142").unwrap().code;
        let at = |needle: &str, message: &str| {
            let start = text.find(needle).unwrap();
            let label = crate::diag::Label::new(file, start..start + needle.len(), "committed to git");
            Diagnostic::error(rule, &files, label, message).for_app("web")
        };
        let url = "redis://:Xk9v@cache:6379";
        let on_4 = at(url, "a password in a URL in `URL` (rendered on 4 clusters)");
        let on_5 = at(url, "a password in a URL in `URL` (rendered on 5 clusters)");
        let recorded = read(&write(&files, [&on_4])).unwrap();
        let held_of = |findings: &[Diagnostic], recorded: &BTreeSet<Entry>| {
            let held = sift(recorded, findings, &files);
            (held.held, held.gone)
        };
        assert_eq!(held_of(std::slice::from_ref(&on_4), &recorded), (vec![true], 0));
        assert_eq!(held_of(std::slice::from_ref(&on_5), &recorded), (vec![true], 0));
        // Another place, or another app at the same place: new, and the entry is gone.
        let other = at(
            "redis://:Pq7w@cache:6379",
            "a password in a URL in `OTHER` (rendered on 4 clusters)",
        );
        assert_eq!(held_of(std::slice::from_ref(&other), &recorded), (vec![false], 1));
        let api = at(url, "a password in a URL in `URL` (rendered on 5 clusters)").for_app("api");
        assert_eq!(held_of(&[api], &recorded), (vec![false], 1));
        // Two findings of one subject, one entry: the one of the recorded message is held.
        let twin = at(url, "a password in a URL in `URL` (rendered on cluster `x`)");
        assert_eq!(
            held_of(&[twin.clone(), on_4.clone()], &recorded),
            (vec![false, true], 0)
        );
        assert_eq!(held_of(&[twin, on_5.clone()], &recorded), (vec![true, false], 0));
        // A baseline without subjects holds by message only.
        let old = read(
            "{\"fleetgenBaseline\": 1, \"findings\": [{\"code\": \"FG142\", \"path\": \"apps/web/templates/cm.yaml.j2\", \"message\": \"a password in a URL in `URL` (rendered on 4 clusters)\"}]}",
        )
        .unwrap();
        assert_eq!(held_of(std::slice::from_ref(&on_4), &old), (vec![true], 0));
        assert_eq!(held_of(&[on_5], &old), (vec![false], 1));
    }
}
