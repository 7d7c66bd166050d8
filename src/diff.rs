//! `fleetgen diff`: what a change does to each cluster, from two rendered trees.
//!
//! Semantic where it matters: a file whose data is the same (keys re-ordered, comments or
//! the digest changed) is no change. Output is grouped by cluster, then app, with a summary
//! first; markdown is sized for a pull-request comment.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use similar::TextDiff;

use crate::emit::RenderedTree;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Modified,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Modified => "modified",
        }
    }
    fn mark(self) -> char {
        match self {
            Change::Added => 'A',
            Change::Removed => 'D',
            Change::Modified => 'M',
        }
    }
}

#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: String,
    /// The cluster folder (or `fleet.yaml`, `_azure`).
    pub cluster: String,
    pub app: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub change: Change,
    pub diff: String,
    pub added_lines: usize,
    pub removed_lines: usize,
    /// A fleet-level template's (`_edge`, `_identity`, `_azure`: ARM or CloudFormation)
    /// changed resources, each with its own diff; then `diff` is theirs, one after another.
    /// Empty for any other file.
    pub resources: Vec<ResourceChange>,
}

/// One resource of a fleet-level template that changed: an ARM `resources[]` entry (by type
/// and name) or a CloudFormation `Resources` key; or a top-level key of the template other
/// than its resources (kind `template`).
#[derive(Debug, Clone)]
pub struct ResourceChange {
    /// The ARM `type` or CloudFormation `Type`.
    pub kind: String,
    /// The ARM `name` or the CloudFormation logical id.
    pub name: String,
    pub change: Change,
    /// The clusters and apps the resource names (an origin or record is named after its app
    /// and cluster, a role after its app): whose change it is.
    pub clusters: Vec<String>,
    pub apps: Vec<String>,
    pub diff: String,
    pub added_lines: usize,
    pub removed_lines: usize,
}

/// What a file holds, without its comment header, for a semantic comparison.
fn data(path: &str, text: &str) -> Option<Value> {
    if path.ends_with(".json") {
        return serde_json::from_str(text).ok();
    }
    serde_saphyr::from_str::<Value>(text).ok()
}

fn body(text: &str) -> &str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if !line.starts_with('#') {
            break;
        }
        at += line.len();
    }
    &text[at..]
}

/// (kind, name) of the object a rendered file holds.
fn describe(path: &str, text: &str) -> (Option<String>, Option<String>) {
    let value = data(path, body(text));
    let field = |k: &str| {
        value
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let name = value
        .as_ref()
        .and_then(|v| v.get("metadata"))
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    (field("kind"), name)
}

/// The placement matrices (`fleet.yaml`, megabytes on a large fleet) of the two trees of a
/// diff, parsed once for everything that reads them.
pub struct Matrices {
    old: Option<Value>,
    new: Option<Value>,
    /// Each cluster's owner team and criticality, from its `cluster.yaml` (the new tree's,
    /// else the old one's): who a change to its cluster-wide files touches.
    clusters: BTreeMap<String, (String, String)>,
    /// The clusters whose `cluster.yaml` changed in more than its `apps` (which lists each
    /// app's version and replicas: an app's change, whose own files say whose it is).
    summaries_changed: BTreeSet<String>,
}

impl Matrices {
    pub fn of(old: &RenderedTree, new: &RenderedTree) -> Matrices {
        let parse = |t: &RenderedTree| t.files.get(MATRIX).and_then(|t| data(MATRIX, body(t)));
        let ((old_matrix, new_matrix), (clusters, summaries_changed)) = rayon::join(
            || rayon::join(|| parse(old), || parse(new)),
            || {
                let (before, after) = (summaries(old), summaries(new));
                let mut clusters = BTreeMap::new();
                for summary in before.values().chain(after.values()) {
                    let field = |k: &str| summary.get(k).and_then(Value::as_str).map(str::to_string);
                    if let (Some(id), Some(team), Some(tier)) =
                        (field("clusterId"), field("ownerTeam"), field("criticality"))
                    {
                        clusters.insert(id, (team, tier));
                    }
                }
                let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
                let changed = ids
                    .into_iter()
                    .filter(|id| before.get(*id) != after.get(*id))
                    .cloned()
                    .collect();
                (clusters, changed)
            },
        );
        Matrices {
            old: old_matrix,
            new: new_matrix,
            clusters,
            summaries_changed,
        }
    }
}

/// Each cluster's `<id>/cluster.yaml` in a tree, read, without its `apps`.
fn summaries(tree: &RenderedTree) -> BTreeMap<String, Value> {
    let files = (tree.files.iter()).filter_map(|(path, text)| Some((path.strip_suffix("/cluster.yaml")?, text)));
    files
        .filter(|(id, _)| is_cluster(id) && !id.contains('/'))
        .filter_map(|(id, text)| {
            let mut value = data("cluster.yaml", body(text))?;
            value.as_object_mut()?.remove("apps");
            Some((id.to_string(), value))
        })
        .collect()
}

const MATRIX: &str = "fleet.yaml";

/// Whether [`Matrices::of`] reads the file at `path` even when it is the same on both sides
/// (the placement matrix, a cluster's `cluster.yaml`): a diff must keep its text.
pub fn summary_reads(path: &str) -> bool {
    path == MATRIX
        || path
            .strip_suffix("/cluster.yaml")
            .is_some_and(|id| is_cluster(id) && !id.contains('/'))
}

/// A unified diff of `before` and `after` with two lines of context: the diff, lines added,
/// lines removed.
fn unified(before: &str, after: &str, from: &str, to: &str) -> (String, usize, usize) {
    let text_diff = TextDiff::from_lines(before, after);
    let (mut plus, mut minus) = (0, 0);
    for op in text_diff.iter_all_changes() {
        match op.tag() {
            similar::ChangeTag::Insert => plus += 1,
            similar::ChangeTag::Delete => minus += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let diff = text_diff.unified_diff().context_radius(2).header(from, to).to_string();
    (diff, plus, minus)
}

/// A template's resources by (kind, name), and its other top-level keys: `None` when the
/// value is neither an ARM template (`resources` array) nor a CloudFormation one
/// (`Resources` object).
type Parts = (BTreeMap<(String, String), Value>, BTreeMap<String, Value>);

fn template_parts(value: &Value) -> Option<Parts> {
    let object = value.as_object()?;
    let mut resources = BTreeMap::new();
    let key = if let Some(list) = object.get("resources").and_then(Value::as_array) {
        for r in list {
            let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            resources.insert((field("type"), field("name")), r.clone());
        }
        "resources"
    } else if let Some(map) = object.get("Resources").and_then(Value::as_object) {
        for (id, r) in map {
            let kind = r.get("Type").and_then(Value::as_str).unwrap_or_default().to_string();
            resources.insert((kind, id.clone()), r.clone());
        }
        "Resources"
    } else {
        return None;
    };
    let rest = (object.iter())
        .filter(|(k, _)| *k != key)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some((resources, rest))
}

/// Whether `text` names `name` as a whole (neither neighbour a letter or digit).
fn names(text: &str, name: &str) -> bool {
    !name.is_empty()
        && text.match_indices(name).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + name.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
}

/// The changed resources of a fleet-level template, `None` when the file is no template.
fn resource_changes(path: &str, a: Option<&str>, b: Option<&str>, known: &Known) -> Option<Vec<ResourceChange>> {
    let parts = |t: Option<&str>| match t {
        None => Some(Default::default()),
        Some(t) => template_parts(&data(path, body(t))?),
    };
    let ((old_res, old_rest), (new_res, new_rest)): (Parts, Parts) = (parts(a)?, parts(b)?);
    let pretty = |v: Option<&Value>| {
        v.map_or(String::new(), |v| {
            format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default())
        })
    };
    let mut out = Vec::new();
    let mut entry = |kind: String, name: String, x: Option<&Value>, y: Option<&Value>| {
        if x == y {
            return;
        }
        let change = match (x, y) {
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
            _ => Change::Modified,
        };
        let (before, after) = (pretty(x), pretty(y));
        let (diff, plus, minus) = unified(
            &before,
            &after,
            &format!("a/{path} {kind} {name}"),
            &format!("b/{path} {kind} {name}"),
        );
        let text = format!("{before}{after}");
        let clusters = (known.clusters.iter()).filter(|c| names(&text, c)).cloned().collect();
        let apps = (known.apps.iter()).filter(|a| names(&text, a)).cloned().collect();
        out.push(ResourceChange {
            kind,
            name,
            change,
            clusters,
            apps,
            diff,
            added_lines: plus,
            removed_lines: minus,
        });
    };
    let keys: BTreeSet<&(String, String)> = old_res.keys().chain(new_res.keys()).collect();
    for key in keys {
        entry(key.0.clone(), key.1.clone(), old_res.get(key), new_res.get(key));
    }
    let keys: BTreeSet<&String> = old_rest.keys().chain(new_rest.keys()).collect();
    for key in keys {
        entry(
            "template".to_string(),
            key.clone(),
            old_rest.get(key),
            new_rest.get(key),
        );
    }
    // Only the resources' order changed: the file's own diff says so.
    (!out.is_empty()).then_some(out)
}

/// The clusters and apps of both trees (from their placement matrices and cluster
/// summaries): what a template's resource may name.
struct Known {
    clusters: BTreeSet<String>,
    apps: BTreeSet<String>,
}

impl Known {
    fn of(matrices: &Matrices) -> Known {
        let placed = placed(matrices);
        Known {
            clusters: (placed.iter().map(|(_, c)| c.clone()))
                .chain(matrices.clusters.keys().cloned())
                .collect(),
            apps: placed.iter().map(|(a, _)| a.clone()).collect(),
        }
    }
}

/// (app, cluster) pairs of either matrix.
fn placed(matrices: &Matrices) -> BTreeSet<(String, String)> {
    let mut all = placements(&matrices.old);
    all.extend(placements(&matrices.new));
    all
}

/// Every file that differs between `old` and `new`, in path order.
pub fn compare(old: &RenderedTree, new: &RenderedTree, matrices: &Matrices) -> Vec<FileChange> {
    let paths: BTreeSet<&String> = old.files.keys().chain(new.files.keys()).collect();
    let known = Known::of(matrices);
    let mut out = Vec::new();
    for path in paths {
        let (a, b) = (old.files.get(path), new.files.get(path));
        let change = match (a, b) {
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (Some(x), Some(y)) => {
                let (bx, by) = (body(x), body(y));
                let same = bx == by
                    || if path == MATRIX {
                        matrices.old.is_some() && matrices.old == matrices.new
                    } else {
                        matches!((data(path, bx), data(path, by)), (Some(p), Some(q)) if p == q)
                    };
                if same {
                    continue;
                }
                Change::Modified
            }
            (None, None) => continue,
        };
        let before = a.map_or("", |t| body(t));
        let after = b.map_or("", |t| body(t));
        let cluster = path.split('/').next().unwrap_or(path).to_string();
        // A fleet-level template: resource by resource, each named, and whose it is.
        let resources = (!is_cluster(&cluster) && path.ends_with(".json"))
            .then(|| resource_changes(path, a.map(String::as_str), b.map(String::as_str), &known))
            .flatten()
            .unwrap_or_default();
        let (diff, plus, minus) = match resources.is_empty() {
            true => unified(before, after, &format!("a/{path}"), &format!("b/{path}")),
            false => joined(&resources),
        };
        let (kind, name) = if path == MATRIX {
            (None, None)
        } else {
            describe(path, b.or(a).map_or("", |s| s.as_str()))
        };
        let app = new.app_of(path).or_else(|| old.app_of(path)).map(str::to_string);
        out.push(FileChange {
            path: path.clone(),
            cluster,
            app,
            kind,
            name,
            change,
            diff,
            added_lines: plus,
            removed_lines: minus,
            resources,
        });
    }
    out
}

/// The diffs of a template's changed resources, one after another, and their lines.
fn joined(resources: &[ResourceChange]) -> (String, usize, usize) {
    (
        resources.iter().map(|r| r.diff.as_str()).collect(),
        resources.iter().map(|r| r.added_lines).sum(),
        resources.iter().map(|r| r.removed_lines).sum(),
    )
}

/// The changes `--cluster` (`clusters`) and `--app` (`apps`) select, none of them meaning
/// all. A file in a cluster's folder is kept as its cluster and app say. A fleet-level
/// template keeps the resources that concern the selection: one that names a selected
/// cluster (or, naming no cluster, an app that a selected cluster runs) and a selected app;
/// a resource that names no cluster (no app) is kept, since nothing says it does not concern
/// them. Other fleet-level files (`fleet.yaml`) are left out under a filter.
pub fn select(changes: Vec<FileChange>, matrices: &Matrices, clusters: &[String], apps: &[String]) -> Vec<FileChange> {
    if clusters.is_empty() && apps.is_empty() {
        return changes;
    }
    let placed = placed(matrices);
    let concerns = |r: &ResourceChange| {
        let cluster_ok = clusters.is_empty()
            || r.clusters.iter().any(|c| clusters.contains(c))
            || (r.clusters.is_empty()
                && (r.apps.is_empty() || (placed.iter()).any(|(a, c)| r.apps.contains(a) && clusters.contains(c))));
        let app_ok = apps.is_empty() || r.apps.is_empty() || r.apps.iter().any(|a| apps.contains(a));
        cluster_ok && app_ok
    };
    changes
        .into_iter()
        .filter_map(|mut c| {
            if is_cluster(&c.cluster) || c.resources.is_empty() {
                let keep = (clusters.is_empty() || clusters.contains(&c.cluster))
                    && (apps.is_empty() || c.app.as_ref().is_some_and(|a| apps.contains(a)));
                return keep.then_some(c);
            }
            c.resources.retain(concerns);
            if c.resources.is_empty() {
                return None;
            }
            (c.diff, c.added_lines, c.removed_lines) = joined(&c.resources);
            Some(c)
        })
        .collect()
}

/// The order the Azure Policy stacks must be deployed in when it is not the usual one: a
/// subscription's template (`_azure/<subscription>/policy-assignments.json`, with hoisting)
/// that no longer holds an assignment it held deletes it when its stack is deployed, so the
/// clusters' stacks, which take it back, go first this time (the README's rule: a stack that
/// adds assignments before one that removes them). One note per such template.
pub fn deploy_order(old: &RenderedTree, new: &RenderedTree) -> Vec<String> {
    let names = |tree: &RenderedTree, path: &str| -> BTreeSet<String> {
        let resources = (tree.files.get(path)).and_then(|t| serde_json::from_str::<Value>(t).ok());
        (resources.iter())
            .flat_map(|t| t["resources"].as_array().cloned().unwrap_or_default())
            .filter(|r| r["type"] == "Microsoft.Authorization/policyAssignments")
            .filter_map(|r| r["name"].as_str().map(str::to_string))
            .collect()
    };
    let mut notes = Vec::new();
    for path in old.files.keys() {
        let Some(sub) = path
            .strip_prefix("_azure/")
            .and_then(|rest| rest.strip_suffix("/policy-assignments.json"))
        else {
            continue;
        };
        let before = names(old, path);
        let after = names(new, path);
        let dropped: Vec<String> = before.difference(&after).map(|n| format!("`{n}`")).collect();
        if dropped.is_empty() {
            continue;
        }
        // One change that moves assignments both ways has no safe order: whichever stacks go
        // first delete what the others have not taken yet.
        let gained: Vec<String> = after.difference(&before).map(|n| format!("`{n}`")).collect();
        if !gained.is_empty() {
            notes.push(format!(
                "{path} no longer holds {} and now holds {}: no order of the stacks keeps every cluster under both (the clusters' stacks delete what the subscription's has not taken yet, or the other way round); split the change into two commits, one for each direction, and deploy each as this note says",
                dropped.join(", "),
                gained.join(", ")
            ));
            continue;
        }
        notes.push(format!(
            "{path} no longer holds {}: deploy the policy stacks of subscription {sub}'s clusters (`fleetgen-policy-<clusterId>`) before its `fleetgen-policy` stack this time, or the clusters that take the assignment back run without it in between",
            dropped.join(", ")
        ));
    }
    notes
}

/// The word after `name` in a deploy command (`--resource-group` → its group).
fn flag(command: &str, name: &str) -> Option<String> {
    let mut words = command.split_whitespace();
    words.by_ref().find(|w| *w == name)?;
    words.next().map(str::to_string)
}

/// The stacks of the identity templates (`_identity/`) a change no longer renders: deploying
/// the other files leaves what such a stack federated and granted in the cloud (a change
/// that only empties a cluster's group, account or region keeps its file, emptied, which
/// deploying takes away; the file goes with its cluster, app or identity profile). One note
/// per file, with the command that deletes its stack and what it holds, read from the
/// file's own deploy command.
pub fn stacks_to_delete(old: &RenderedTree, new: &RenderedTree) -> Vec<String> {
    let mut notes = Vec::new();
    for (path, text) in &old.files {
        if !path.starts_with("_identity/") || !path.ends_with(".json") || new.files.contains_key(path) {
            continue;
        }
        let Ok(template) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let azure = template["metadata"]["deploy"].as_str();
        let aws = template["Metadata"]["fleetgen"]["deploy"].as_str();
        let delete = match (azure, aws) {
            (Some(deploy), _) => (|| {
                Some(format!(
                    "az stack group delete --name {} --subscription {} --resource-group {} --action-on-unmanage deleteResources",
                    flag(deploy, "--name")?,
                    flag(deploy, "--subscription")?,
                    flag(deploy, "--resource-group")?
                ))
            })(),
            (None, Some(deploy)) => (|| {
                Some(format!(
                    "aws cloudformation delete-stack --region {} --stack-name {}",
                    flag(deploy, "--region")?,
                    flag(deploy, "--stack-name")?
                ))
            })(),
            (None, None) => None,
        };
        let Some(delete) = delete else { continue };
        notes.push(format!(
            "{path} is no longer rendered, but its stack still holds what it federated and granted in the cloud: delete the stack (`{delete}`)"
        ));
    }
    notes
}

/// Resources of a fleet-level template that a change deletes and creates again, under a new
/// name, where the cloud refuses the new one beside the old: CloudFormation and deployment
/// stacks create a resource before they delete the one it replaces, so the deployment fails
/// (and CloudFormation rolls the stack back). One note per resource (per name on Route 53),
/// with the two steps that deploy it:
/// - a Route 53 name whose records change routing policy (latency to weighted, say: the
///   records are keyed by region, by cluster, by role or by location, so they are new):
///   Route 53 refuses records of two routing policies on one name;
/// - an Entra federated credential renamed with its issuer and subject kept (a cluster's
///   `clusterId` renamed): Entra refuses two credentials of one issuer and subject on an
///   identity;
/// - an EKS Pod Identity association under a new logical id for the same cluster,
///   namespace and service account: EKS refuses a second association for a service account.
pub fn two_step_deploys(old: &RenderedTree, new: &RenderedTree) -> Vec<String> {
    let mut notes = Vec::new();
    for (path, before) in &old.files {
        let Some(after) = new.files.get(path) else { continue };
        if before == after || !path.ends_with(".json") {
            continue;
        }
        let (Ok(before), Ok(after)) = (
            serde_json::from_str::<Value>(before),
            serde_json::from_str::<Value>(after),
        ) else {
            continue;
        };
        if path.starts_with("_edge/route53/") {
            notes.extend(routing_policy_changes(path, &before, &after));
        } else if path.starts_with("_identity/azure/") {
            notes.extend(renamed_credentials(path, &before, &after));
        } else if path.starts_with("_identity/aws/") {
            notes.extend(moved_associations(path, &before, &after));
        }
    }
    notes
}

/// A template's CloudFormation resources of `kind`, by logical id.
fn cloudformation<'v>(template: &'v Value, kind: &str) -> impl Iterator<Item = (&'v String, &'v Value)> {
    (template["Resources"].as_object().into_iter().flatten()).filter(move |(_, r)| r["Type"] == kind)
}

/// Route 53 names (and types) whose records change routing policy.
fn routing_policy_changes(path: &str, before: &Value, after: &Value) -> Vec<String> {
    let policies = |template: &Value| -> BTreeMap<(String, String), BTreeSet<&'static str>> {
        let mut out: BTreeMap<(String, String), BTreeSet<&'static str>> = BTreeMap::new();
        for (_, r) in cloudformation(template, "AWS::Route53::RecordSet") {
            let p = &r["Properties"];
            let policy = [
                ("Weight", "weighted"),
                ("Region", "latency"),
                ("Failover", "failover"),
                ("GeoLocation", "geolocation"),
            ]
            .into_iter()
            .find(|(key, _)| !p[key].is_null())
            .map_or("simple", |(_, policy)| policy);
            let name = p["Name"]
                .as_str()
                .unwrap_or_default()
                .trim_end_matches('.')
                .to_lowercase();
            let kind = p["Type"].as_str().unwrap_or_default().to_string();
            out.entry((name, kind)).or_default().insert(policy);
        }
        out
    };
    let (was, now) = (policies(before), policies(after));
    let mut notes = Vec::new();
    for ((name, kind), old) in &was {
        let Some(new) = now.get(&(name.clone(), kind.clone())) else {
            continue;
        };
        if old == new {
            continue;
        }
        let said = |set: &BTreeSet<&str>| set.iter().copied().collect::<Vec<_>>().join(" and ");
        notes.push(format!(
            "{path}: the {kind} records of `{name}` change routing policy ({} to {}): CloudFormation creates the new records before it deletes the old ones, and Route 53 refuses records of two routing policies on one name, so the stack's update fails and rolls back. Deploy it in two steps: first without the name (take the hostname off the app, render, deploy: the name does not resolve until the next step), then this change",
            said(old),
            said(new)
        ));
    }
    notes
}

/// Entra federated credentials renamed with their identity, issuer and subject kept.
fn renamed_credentials(path: &str, before: &Value, after: &Value) -> Vec<String> {
    // `[format('{0}/{1}', 'identity', 'credential')]` (or `identity/credential`).
    fn names(name: &str) -> Option<(String, String)> {
        let quoted: Vec<&str> = name.split('\'').skip(1).step_by(2).collect();
        match quoted.as_slice() {
            [_, identity, credential] => Some((identity.to_string(), credential.to_string())),
            _ => {
                let (identity, credential) = name.split_once('/')?;
                Some((identity.to_string(), credential.to_string()))
            }
        }
    }
    let credentials = |template: &Value| -> BTreeMap<(String, String, String), String> {
        (template["resources"].as_array().into_iter().flatten())
            .filter(|r| r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials")
            .filter_map(|r| {
                let (identity, credential) = names(r["name"].as_str()?)?;
                let issuer = r["properties"]["issuer"].as_str()?.to_string();
                let subject = r["properties"]["subject"].as_str()?.to_string();
                Some(((identity.to_lowercase(), issuer, subject), credential))
            })
            .collect()
    };
    let deploy = before["metadata"]["deploy"].as_str().unwrap_or_default();
    let named = |name: &str, unknown: &str| flag(deploy, name).unwrap_or_else(|| unknown.to_string());
    let (was, now) = (credentials(before), credentials(after));
    let mut notes = Vec::new();
    for (key @ (identity, issuer, subject), old) in &was {
        let Some(new) = now.get(key).filter(|new| *new != old) else {
            continue;
        };
        notes.push(format!(
            "{path}: the federated credential of `{identity}` for `{subject}` (issuer {issuer}) is renamed from `{old}` to `{new}`: the deployment stack creates the new one before it deletes the old one, and Microsoft Entra refuses two credentials of one issuer and subject on an identity, so the deployment fails. Delete the old one first (`az identity federated-credential delete --name {old} --identity-name {identity} --resource-group {} --subscription {} --yes`: the pods get no new token until the deployment is done), then deploy",
            named("--resource-group", "<resource group>"),
            named("--subscription", "<subscription>")
        ));
    }
    notes
}

/// EKS Pod Identity associations of one cluster, namespace and service account under a new
/// logical id.
fn moved_associations(path: &str, before: &Value, after: &Value) -> Vec<String> {
    let associations = |template: &Value| -> BTreeMap<(String, String, String), String> {
        cloudformation(template, "AWS::EKS::PodIdentityAssociation")
            .filter_map(|(id, r)| {
                let p = &r["Properties"];
                let at = |key: &str| p[key].as_str().map(str::to_string);
                Some((
                    (at("ClusterName")?, at("Namespace")?, at("ServiceAccount")?),
                    id.clone(),
                ))
            })
            .collect()
    };
    let (was, now) = (associations(before), associations(after));
    let mut notes = Vec::new();
    for (key @ (cluster, namespace, account), old) in &was {
        let Some(new) = now.get(key).filter(|new| *new != old) else {
            continue;
        };
        notes.push(format!(
            "{path}: the Pod Identity association of EKS cluster `{cluster}` for `{namespace}/{account}` moves from logical id `{old}` to `{new}`: CloudFormation creates the new one before it deletes the old one, and EKS refuses a second association for a service account, so the stack's update fails and rolls back. Delete the old one first (`aws eks list-pod-identity-associations --cluster-name {cluster} --namespace {namespace} --service-account {account}` gives its id for `aws eks delete-pod-identity-association`: the pods get no new credentials until the stack is deployed), then deploy"
        ));
    }
    notes
}

/// (app, cluster) pairs of a placement matrix.
fn placements(matrix: &Option<Value>) -> BTreeSet<(String, String)> {
    let Some(value) = matrix else {
        return BTreeSet::new();
    };
    value["placements"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["app"].as_str()?.to_string(), p["cluster"].as_str()?.to_string())))
        .collect()
}

/// The figures at the head of every report.
pub struct Summary {
    pub clusters: BTreeSet<String>,
    pub added: usize,
    pub removed: usize,
    pub modified: usize,
    pub plus: usize,
    pub minus: usize,
    pub teams: BTreeSet<String>,
    pub criticality: BTreeSet<String>,
    pub appeared: Vec<(String, String)>,
    pub disappeared: Vec<(String, String)>,
}

/// `apps`: app name → (owner, criticality), from both revisions. `only_clusters` and
/// `only_apps` (`--cluster`, `--app`) narrow the placements that appeared or disappeared as
/// they narrowed `changes`.
pub fn summary(
    changes: &[FileChange],
    matrices: &Matrices,
    apps: &BTreeMap<String, (String, String)>,
    only_clusters: &[String],
    only_apps: &[String],
) -> Summary {
    let count = |c: Change| changes.iter().filter(|f| f.change == c).count();
    let wanted = |(app, cluster): &(String, String)| {
        (only_apps.is_empty() || only_apps.contains(app))
            && (only_clusters.is_empty() || only_clusters.contains(cluster))
    };
    let (before, after): (BTreeSet<_>, BTreeSet<_>) = (
        placements(&matrices.old).into_iter().filter(wanted).collect(),
        placements(&matrices.new).into_iter().filter(wanted).collect(),
    );
    let mut s = Summary {
        clusters: changes
            .iter()
            .map(|c| c.cluster.clone())
            .filter(|c| is_cluster(c))
            .collect(),
        added: count(Change::Added),
        removed: count(Change::Removed),
        modified: count(Change::Modified),
        plus: changes.iter().map(|c| c.added_lines).sum(),
        minus: changes.iter().map(|c| c.removed_lines).sum(),
        teams: BTreeSet::new(),
        criticality: BTreeSet::new(),
        appeared: after.difference(&before).cloned().collect(),
        disappeared: before.difference(&after).cloned().collect(),
    };
    for c in changes {
        // An app's files touch its team and tier; a cluster's own files (its summary, its
        // GitOps and policy objects) the cluster's.
        let summary_of_apps = c.path.ends_with("/cluster.yaml") && !matrices.summaries_changed.contains(&c.cluster);
        let owner = match &c.app {
            Some(app) => apps.get(app),
            None if summary_of_apps => None,
            None => matrices.clusters.get(&c.cluster),
        };
        // A fleet-level template's resource: the clusters and apps it names.
        let named = (c.resources.iter()).flat_map(|r| {
            let clusters = r.clusters.iter().filter_map(|id| matrices.clusters.get(id));
            clusters.chain(r.apps.iter().filter_map(|a| apps.get(a)))
        });
        for (owner, tier) in owner.into_iter().chain(named) {
            s.teams.insert(owner.clone());
            s.criticality.insert(tier.clone());
        }
    }
    s
}

fn list(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "none".to_string()
    } else {
        set.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
    }
}

fn summary_lines(s: &Summary) -> Vec<String> {
    let mut lines = vec![
        format!("clusters changed: {}", s.clusters.len()),
        format!(
            "files: {} added, {} removed, {} modified (+{} −{} lines)",
            s.added, s.removed, s.modified, s.plus, s.minus
        ),
        format!("owner teams touched: {}", list(&s.teams)),
        format!("criticality tiers touched: {}", list(&s.criticality)),
    ];
    for (verb, list) in [("appeared", &s.appeared), ("disappeared", &s.disappeared)] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|(a, c)| format!("`{a}` → `{c}`")).collect();
            lines.push(format!("placements {verb}: {}", items.join(", ")));
        }
    }
    lines
}

/// A changed resource of a template, on one line: its change, kind, name, and whose it is.
fn resource_line(r: &ResourceChange) -> String {
    let mut line = format!(
        "{} {} `{}` (+{} −{})",
        r.change.mark(),
        r.kind,
        r.name,
        r.added_lines,
        r.removed_lines
    );
    let whose: Vec<String> = (r.clusters.iter().map(|c| format!("cluster `{c}`")))
        .chain(r.apps.iter().map(|a| format!("app `{a}`")))
        .collect();
    if !whose.is_empty() {
        line.push_str(&format!(": {}", whose.join(", ")));
    }
    line
}

/// Lines of diff shown per file.
pub const DIFF_LINES: usize = 60;

fn capped(diff: &str, max: usize) -> String {
    let lines: Vec<&str> = diff.lines().collect();
    if lines.len() <= max {
        return diff.to_string();
    }
    format!("{}\n… {} more lines\n", lines[..max].join("\n"), lines.len() - max)
}

fn by_cluster(changes: &[FileChange]) -> BTreeMap<&str, Vec<&FileChange>> {
    let mut groups: BTreeMap<&str, Vec<&FileChange>> = BTreeMap::new();
    for c in changes {
        groups.entry(c.cluster.as_str()).or_default().push(c);
    }
    for files in groups.values_mut() {
        files.sort_by(|a, b| (&a.app, &a.path).cmp(&(&b.app, &b.path)));
    }
    groups
}

/// The report for a terminal.
pub fn text(changes: &[FileChange], s: &Summary, from: &str, to: &str) -> String {
    let mut out = format!("fleetgen diff {from} → {to}\n");
    for line in summary_lines(s) {
        out.push_str(&format!("  {}\n", line.replace('`', "")));
    }
    for (cluster, files) in by_cluster(changes) {
        out.push_str(&format!("\n{cluster}\n"));
        for f in files {
            out.push_str(&format!(
                "  {} {} (+{} −{})\n",
                f.change.mark(),
                f.path,
                f.added_lines,
                f.removed_lines
            ));
            for r in &f.resources {
                out.push_str(&format!("    {}\n", resource_line(r).replace('`', "")));
            }
            for line in capped(&f.diff, DIFF_LINES).lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    if changes.is_empty() {
        out.push_str("no change to any rendered file\n");
    }
    out
}

/// How a pull-request comment is made.
pub struct Markdown<'a> {
    /// Its first line, from [`marker`].
    pub marker: &'a str,
    /// The command that shows the whole diff, named when the comment is cut.
    pub again: &'a str,
    /// Said under the title (e.g. that committed trees were compared).
    pub note: Option<&'a str>,
    /// The most characters the comment may have.
    pub limit: usize,
}

/// Whether a group of changes is a cluster's (not `fleet.yaml` or a `_fleet` folder).
fn is_cluster(group: &str) -> bool {
    !group.ends_with(".yaml") && !group.starts_with('_')
}

/// The first line of a markdown diff of the fleet at `repo` (`--repo` as given): an HTML
/// comment, invisible on GitHub, by which a CI job finds the comment it wrote before, to
/// edit it. A fleet in a subfolder has its folder in it (`<!-- fleetgen-diff
/// path=infra/fleet -->`, any character but a letter, digit, `.`, `_`, `/` or a single `-`
/// as `%XX`), so that two fleets of one repository keep a comment each; the repository's
/// top (no `--repo`, or `.`) has `<!-- fleetgen-diff -->`.
pub fn marker(repo: Option<&str>) -> String {
    let mut path = repo.unwrap_or_default().trim_end_matches('/');
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.trim_start_matches('/');
    }
    if path.is_empty() || path == "." {
        return "<!-- fleetgen-diff -->".to_string();
    }
    let mut encoded = String::new();
    for byte in path.bytes() {
        let dash_again = byte == b'-' && encoded.ends_with('-');
        if (byte.is_ascii_alphanumeric() || b"._/-".contains(&byte)) && !dash_again {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("<!-- fleetgen-diff path={encoded} -->")
}

/// The command that shows a diff again, as it was asked for: the revisions as given (HEAD
/// when none was), the fleet's folder as given (a fleet in a subfolder is not found from the
/// repository's top, where a CI job runs), and the filters; each argument as `word` quotes
/// it for a shell.
pub fn again(
    revs: &[String],
    repo: Option<&str>,
    clusters: &[String],
    apps: &[String],
    word: impl Fn(&str) -> String,
) -> String {
    let mut command = "fleetgen diff".to_string();
    for rev in revs {
        command.push_str(&format!(" {}", word(rev)));
    }
    if revs.is_empty() {
        command.push_str(" HEAD");
    }
    if let Some(repo) = repo {
        command.push_str(&format!(" --repo {}", word(repo)));
    }
    for cluster in clusters {
        command.push_str(&format!(" --cluster {}", word(cluster)));
    }
    for app in apps {
        command.push_str(&format!(" --app {}", word(app)));
    }
    command
}

/// A pull-request comment: never longer than `md.limit` characters, the summary always
/// there, each cluster folded, truncated with a note when the change is too big.
pub fn markdown(changes: &[FileChange], s: &Summary, from: &str, to: &str, md: &Markdown) -> String {
    let Markdown {
        marker,
        again,
        note,
        limit,
    } = *md;
    // A hidden first line by which a CI job finds the comment it wrote before, to edit it.
    let mut out = format!("{marker}\n## fleetgen diff `{from}` → `{to}`\n\n");
    if let Some(note) = note {
        out.push_str(&format!("> {note}\n\n"));
    }
    for line in summary_lines(s) {
        out.push_str(&format!("- {line}\n"));
    }
    if changes.is_empty() {
        out.push_str("\nNo change to any rendered file.\n");
        return out;
    }
    out.push('\n');
    let groups = by_cluster(changes);
    let total = groups.keys().filter(|g| is_cluster(g)).count();
    let cut = |shown: usize| {
        format!(
            "\n_{shown} of {total} changed clusters shown; the comment is limited to {limit} characters. Run `{again}` for the rest._\n"
        )
    };
    let reserve = cut(total).chars().count() + 16;
    // Each cluster in full (every file's diff) and short (its file list). Every cluster is
    // shown short if they all fit, and then as many as fit in full, in order; only when even
    // the short forms do not all fit are the last clusters left out.
    let sections: Vec<(&&str, String, String)> = groups
        .iter()
        .map(|(cluster, files)| {
            let (plus, minus): (usize, usize) = (
                files.iter().map(|f| f.added_lines).sum(),
                files.iter().map(|f| f.removed_lines).sum(),
            );
            let mut full = format!(
                "<details><summary><code>{cluster}</code>: {} (+{plus} −{minus})</summary>\n\n",
                crate::diag::count(files.len(), "file")
            );
            for f in files {
                full.push_str(&format!("**{}** `{}`\n\n", f.change.as_str(), f.path));
                for r in &f.resources {
                    full.push_str(&format!("- {}\n", resource_line(r)));
                }
                if !f.resources.is_empty() {
                    full.push('\n');
                }
                full.push_str(&format!(
                    "```diff\n{}```\n\n",
                    capped(&f.diff, DIFF_LINES).replace("```", "'''")
                ));
            }
            full.push_str("</details>\n");
            let mut short = format!(
                "<details><summary><code>{cluster}</code>: {} (+{plus} −{minus}), diff omitted</summary>\n\n",
                crate::diag::count(files.len(), "file")
            );
            for f in files {
                short.push_str(&format!("- {} `{}`\n", f.change.as_str(), f.path));
                for r in &f.resources {
                    short.push_str(&format!("  - {}\n", resource_line(r)));
                }
            }
            short.push_str("</details>\n");
            (cluster, full, short)
        })
        .collect();
    let budget = limit.saturating_sub(out.chars().count() + reserve);
    let size = |s: &String| s.chars().count();
    let all_short: usize = sections.iter().map(|(_, _, short)| size(short)).sum();
    let mut used = 0;
    let mut shown = 0;
    let mut left_out = false;
    if all_short <= budget {
        used = all_short;
        let mut full = vec![false; sections.len()];
        for (i, (_, f, short)) in sections.iter().enumerate() {
            if used - size(short) + size(f) <= budget {
                used = used - size(short) + size(f);
                full[i] = true;
            }
        }
        for (i, (cluster, f, short)) in sections.iter().enumerate() {
            out.push_str(if full[i] { f } else { short });
            shown += usize::from(is_cluster(cluster));
        }
    } else {
        for (cluster, _, short) in &sections {
            if used + size(short) > budget {
                left_out = true;
                break;
            }
            used += size(short);
            out.push_str(short);
            shown += usize::from(is_cluster(cluster));
        }
    }
    if left_out {
        out.push_str(&cut(shown));
    }
    out
}

/// The report for machines: every changed object.
pub fn json(changes: &[FileChange], s: &Summary, from: &str, to: &str, note: Option<&str>) -> String {
    let items: Vec<Value> = changes
        .iter()
        .map(|c| {
            let mut item = json!({
                "cluster": c.cluster, "app": c.app, "kind": c.kind, "name": c.name,
                "path": c.path, "change": c.change.as_str(),
                "addedLines": c.added_lines, "removedLines": c.removed_lines, "diff": c.diff,
            });
            if !c.resources.is_empty() {
                item["resources"] = c
                    .resources
                    .iter()
                    .map(|r| {
                        json!({
                            "kind": r.kind, "name": r.name, "change": r.change.as_str(),
                            "clusters": r.clusters, "apps": r.apps,
                            "addedLines": r.added_lines, "removedLines": r.removed_lines, "diff": r.diff,
                        })
                    })
                    .collect();
            }
            item
        })
        .collect();
    let pair = |list: &Vec<(String, String)>| -> Vec<Value> {
        list.iter().map(|(a, c)| json!({"app": a, "cluster": c})).collect()
    };
    let mut value = json!({
        "from": from,
        "to": to,
        "summary": {
            "clustersChanged": s.clusters.iter().collect::<Vec<_>>(),
            "filesAdded": s.added, "filesRemoved": s.removed, "filesModified": s.modified,
            "linesAdded": s.plus, "linesRemoved": s.minus,
            "teams": s.teams.iter().collect::<Vec<_>>(),
            "criticality": s.criticality.iter().collect::<Vec<_>>(),
            "placementsAppeared": pair(&s.appeared),
            "placementsDisappeared": pair(&s.disappeared),
        },
        "changes": items,
    });
    if let Some(note) = note {
        value["note"] = json!(note);
    }
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> RenderedTree {
        RenderedTree::from_files(files.iter().copied())
    }

    /// Un-hoisting: the subscription's template drops an assignment the clusters take back,
    /// so their stacks go first this time; hoisting (the subscription gains it) needs no note.
    #[test]
    fn a_subscription_template_that_drops_an_assignment_says_the_clusters_go_first() {
        let path = "_azure/0000000a-0000-0000-0000-000000000001/policy-assignments.json";
        let template = |names: &[&str]| {
            let resources: Vec<Value> = (names.iter())
                .map(|n| json!({"type": "Microsoft.Authorization/policyAssignments", "name": n}))
                .collect();
            json!({"resources": resources}).to_string()
        };
        let hoisted = template(&["fg-must-run-as-non-root", "fg-b"]);
        let unhoisted = template(&["fg-b"]);
        let notes = deploy_order(&tree(&[(path, &hoisted)]), &tree(&[(path, &unhoisted)]));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with(&format!("{path} no longer holds `fg-must-run-as-non-root`: deploy the policy stacks of subscription 0000000a-0000-0000-0000-000000000001's clusters")),
            "{notes:?}"
        );
        assert_eq!(
            deploy_order(&tree(&[(path, &unhoisted)]), &tree(&[(path, &hoisted)])),
            Vec::<String>::new()
        );
        // Hoisting turned off: the template is gone, and what it held goes back to the clusters.
        assert_eq!(deploy_order(&tree(&[(path, &hoisted)]), &tree(&[])).len(), 1);
        // One assignment leaves the subscription while another moves to it: no order is safe.
        let swapped = template(&["fg-b", "fg-must-declare-resource-requests"]);
        let notes = deploy_order(&tree(&[(path, &hoisted)]), &tree(&[(path, &swapped)]));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("no longer holds `fg-must-run-as-non-root` and now holds `fg-must-declare-resource-requests`: no order of the stacks")
                && notes[0].contains("split the change into two commits"),
            "{notes:?}"
        );
    }

    /// An identity template that a change no longer renders names the command that deletes
    /// its stack (Azure and AWS), from the file's own deploy command; one still rendered, and
    /// a template of another kind, need no note.
    #[test]
    fn a_removed_identity_template_says_to_delete_its_stack() {
        let azure = "_identity/azure/5031f051-8e6d-43d7-9b69-3db73286fd1b/rg-aks-westus3-prod-standby-01.json";
        let azure_text = json!({"metadata": {"deploy": "az stack group create --name fleetgen-identity --subscription 5031f051-8e6d-43d7-9b69-3db73286fd1b --resource-group rg-aks-westus3-prod-standby-01 --template-file x.json --action-on-unmanage deleteResources --deny-settings-mode none"}, "resources": []}).to_string();
        let region = "_identity/aws/777788889999/eu-west-1.json";
        let region_text = json!({"Metadata": {"fleetgen": {"deploy": "aws cloudformation deploy --region eu-west-1 --stack-name fleetgen-identity-eu-west-1 --template-file y.json"}}}).to_string();
        let old = tree(&[
            (azure, &azure_text),
            (region, &region_text),
            ("_edge/route53.json", &region_text),
        ]);
        let notes = stacks_to_delete(&old, &tree(&[]));
        assert_eq!(
            notes,
            [
                format!(
                    "{region} is no longer rendered, but its stack still holds what it federated and granted in the cloud: delete the stack (`aws cloudformation delete-stack --region eu-west-1 --stack-name fleetgen-identity-eu-west-1`)"
                ),
                format!(
                    "{azure} is no longer rendered, but its stack still holds what it federated and granted in the cloud: delete the stack (`az stack group delete --name fleetgen-identity --subscription 5031f051-8e6d-43d7-9b69-3db73286fd1b --resource-group rg-aks-westus3-prod-standby-01 --action-on-unmanage deleteResources`)"
                ),
            ]
        );
        assert!(stacks_to_delete(&old, &old).is_empty());
    }

    /// A renamed federated credential (issuer and subject kept) and a Pod Identity
    /// association under a new logical id (cluster, namespace and service account kept) are
    /// two steps; a credential of a new subject, or an association of another service
    /// account, is not.
    #[test]
    fn a_credential_or_association_renamed_in_place_is_two_steps() {
        let azure = "_identity/azure/5031f051-8e6d-43d7-9b69-3db73286fd1b/rg-fleet-identities.json";
        let credential = |cluster: &str, subject: &str| {
            json!({
                "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
                "name": format!("[format('{{0}}/{{1}}', 'id-web-prod', '{cluster}_web_web')]"),
                "properties": {"issuer": "https://eastus.oic.prod-aks.azure.com/t/c/", "subject": subject},
            })
        };
        let deploy = "az stack group create --name fleetgen-identity --subscription 5031f051-8e6d-43d7-9b69-3db73286fd1b --resource-group rg-fleet-identities --template-file x.json";
        let arm = |resources: Vec<Value>| json!({"metadata": {"deploy": deploy}, "resources": resources}).to_string();
        let aws = "_identity/aws/777788889999/eu-west-1.json";
        let association = |service_account: &str| {
            json!({"Type": "AWS::EKS::PodIdentityAssociation", "Properties": {
                "ClusterName": "eks-euw1-01", "Namespace": "web", "ServiceAccount": service_account, "RoleArn": "arn:aws:iam::777788889999:role/web"}})
        };
        let cfn = |id: &str, a: Value| json!({"Resources": {id: a}}).to_string();
        let subject = "system:serviceaccount:web:web";
        let old_arm = arm(vec![credential("eastus-prod-01", subject)]);
        let old_cfn = cfn("EuWest1Prod01WebWeb", association("web"));
        let old = tree(&[(azure, &old_arm), (aws, &old_cfn)]);
        let (renamed_arm, renamed_cfn) = (
            arm(vec![credential("eastus-prod-1", subject)]),
            cfn("EuWest1Prod1WebWeb", association("web")),
        );
        let notes = two_step_deploys(&old, &tree(&[(azure, &renamed_arm), (aws, &renamed_cfn)]));
        assert_eq!(notes.len(), 2, "{notes:#?}");
        assert!(
            notes[0].starts_with(&format!("{aws}: the Pod Identity association of EKS cluster `eks-euw1-01` for `web/web` moves from logical id `EuWest1Prod01WebWeb` to `EuWest1Prod1WebWeb`")),
            "{}",
            notes[0]
        );
        assert!(
            notes[1].starts_with(&format!("{azure}: the federated credential of `id-web-prod` for `{subject}`"))
                && notes[1].contains("renamed from `eastus-prod-01_web_web` to `eastus-prod-1_web_web`")
                && notes[1].contains("--identity-name id-web-prod --resource-group rg-fleet-identities --subscription 5031f051-8e6d-43d7-9b69-3db73286fd1b"),
            "{}",
            notes[1]
        );
        let (other_arm, other_cfn) = (
            arm(vec![credential("eastus-prod-1", "system:serviceaccount:web:web-2")]),
            cfn("EuWest1Prod1WebWeb2", association("web-2")),
        );
        assert!(two_step_deploys(&old, &tree(&[(azure, &other_arm), (aws, &other_cfn)])).is_empty());
        assert!(two_step_deploys(&old, &old).is_empty());
    }

    /// A Route 53 name whose records change routing policy is two steps; records of the same
    /// policy under new ids (a cluster added) are not.
    #[test]
    fn a_route53_name_that_changes_routing_policy_is_two_steps() {
        let path = "_edge/route53/example.com.json";
        let record = |name: &str, policy: (&str, Value)| {
            let mut p = json!({"Name": name, "Type": "CNAME", "SetIdentifier": "x"});
            p[policy.0] = policy.1;
            json!({"Type": "AWS::Route53::RecordSet", "Properties": p})
        };
        let template = |records: Vec<(&str, Value)>| {
            let resources: serde_json::Map<String, Value> =
                (records.into_iter()).map(|(id, r)| (id.to_string(), r)).collect();
            json!({"Resources": resources}).to_string()
        };
        let latency = template(vec![
            (
                "RecordWwwExampleComUsEast1",
                record("www.example.com", ("Region", json!("us-east-1"))),
            ),
            (
                "RecordApiExampleComUsEast1",
                record("api.example.com", ("Region", json!("us-east-1"))),
            ),
        ]);
        let weighted = template(vec![
            (
                "RecordWwwExampleComUseast1Prod01",
                record("www.example.com", ("Weight", json!(1))),
            ),
            (
                "RecordApiExampleComUsEast1",
                record("api.example.com", ("Region", json!("us-east-1"))),
            ),
            (
                "RecordApiExampleComEuWest1",
                record("api.example.com", ("Region", json!("eu-west-1"))),
            ),
        ]);
        let notes = two_step_deploys(&tree(&[(path, &latency)]), &tree(&[(path, &weighted)]));
        assert_eq!(notes.len(), 1, "{notes:#?}");
        assert!(
            notes[0].starts_with(&format!(
                "{path}: the CNAME records of `www.example.com` change routing policy (latency to weighted)"
            )),
            "{}",
            notes[0]
        );
    }

    #[test]
    fn reordered_keys_and_new_headers_are_no_change() {
        let old = tree(&[(
            "c/apps/a/x.yaml",
            "# digest: 1\nkind: Service\nmetadata:\n  name: a\nspec: {b: 1, c: 2}\n",
        )]);
        let new = tree(&[(
            "c/apps/a/x.yaml",
            "# digest: 2\nmetadata:\n  name: a\nkind: Service\nspec:\n  c: 2\n  b: 1\n",
        )]);
        assert!(compare(&old, &new, &Matrices::of(&old, &new)).is_empty());
        let changed = tree(&[(
            "c/apps/a/x.yaml",
            "kind: Service\nmetadata:\n  name: a\nspec: {b: 2, c: 2}\n",
        )]);
        let c = compare(&old, &changed, &Matrices::of(&old, &changed));
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].cluster.as_str(), c[0].app.as_deref(), c[0].kind.as_deref()),
            ("c", Some("a"), Some("Service"))
        );
    }

    #[test]
    fn markdown_fits_the_limit_and_keeps_the_summary() {
        let markdown_of = |clusters: usize| {
            let mut old = RenderedTree::default();
            let mut new = RenderedTree::default();
            for c in 0..clusters {
                let body: String = (0..50).map(|i| format!("k{i}: {c}\n")).collect();
                old.files.insert(format!("cluster-{c:04}/apps/a/x.yaml"), body.clone());
                new.files
                    .insert(format!("cluster-{c:04}/apps/a/x.yaml"), body.replace(": ", ": v"));
            }
            old.files.insert("fleet.yaml".into(), "placements: []\n".into());
            new.files.insert("fleet.yaml".into(), "placements: [x]\n".into());
            let matrices = Matrices::of(&old, &new);
            let changes = compare(&old, &new, &matrices);
            let s = summary(&changes, &matrices, &BTreeMap::new(), &[], &[]);
            // A fleet in a subfolder, as the action's `path: infra/fleet` diffs it.
            let again = again(&[], Some("infra/fleet"), &[], &["a".to_string()], str::to_string);
            let md = Markdown {
                marker: &marker(Some("infra/fleet")),
                again: &again,
                note: None,
                limit: 65_536,
            };
            markdown(&changes, &s, "HEAD", "working tree", &md)
        };
        // 300 clusters: every one is shown (as its file list when its diff does not fit),
        // the first in full.
        let md = markdown_of(300);
        assert!(md.chars().count() <= 65_536, "{}", md.chars().count());
        assert!(md.contains("clusters changed: 300"));
        assert_eq!(md.matches("<details>").count(), 301, "{md}");
        assert!(
            md.contains("<code>cluster-0000</code>: 1 file (+50 −50)</summary>"),
            "{md}"
        );
        assert!(
            md.contains("<code>cluster-0299</code>: 1 file (+50 −50), diff omitted"),
            "{md}"
        );
        assert!(!md.contains("changed clusters shown"), "{md}");
        // 1,000: not even the file lists fit. The cut names a command that runs (with the
        // filters) and counts clusters only (not fleet.yaml).
        let md = markdown_of(1000);
        assert!(md.chars().count() <= 65_536, "{}", md.chars().count());
        let note = md.lines().rfind(|l| l.contains("changed clusters shown")).unwrap();
        assert!(note.contains(" of 1000 changed clusters shown"), "{note}");
        // From the repository's top, where the job runs: the fleet's folder named.
        assert!(
            note.contains("Run `fleetgen diff HEAD --repo infra/fleet --app a` for the rest"),
            "{note}"
        );
    }

    /// Two fleets of one repository (the action run once for each `path`) comment apart: each
    /// markdown diff starts with a marker naming its fleet's folder (the action matches the
    /// whole first line); the repository's top keeps the plain marker.
    #[test]
    fn the_markdown_of_two_fleets_starts_with_two_markers() {
        let first_line = |repo: Option<&str>| {
            let md = Markdown {
                marker: &marker(repo),
                again: "fleetgen diff HEAD",
                note: None,
                limit: 65_536,
            };
            let (old, new) = (RenderedTree::default(), RenderedTree::default());
            let matrices = Matrices::of(&old, &new);
            let s = summary(&[], &matrices, &BTreeMap::new(), &[], &[]);
            let text = markdown(&[], &s, "HEAD", "working tree", &md);
            text.lines().next().unwrap().to_string()
        };
        let (one, two) = (first_line(Some("infra/fleet")), first_line(Some("infra/fleet2/")));
        assert_eq!(one, "<!-- fleetgen-diff path=infra/fleet -->");
        assert_eq!(two, "<!-- fleetgen-diff path=infra/fleet2 -->");
        for top in [None, Some("."), Some("./")] {
            assert_eq!(first_line(top), "<!-- fleetgen-diff -->");
        }
        assert_eq!(first_line(Some("./a b")), "<!-- fleetgen-diff path=a%20b -->");
        // No `-->` inside the comment ends it early.
        assert_eq!(first_line(Some("x-->y")), "<!-- fleetgen-diff path=x-%2D%3Ey -->");
    }
}
