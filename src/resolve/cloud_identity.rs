//! The cloud side of an app's identity on one cluster: how the cloud trusts the cluster's
//! service account ([`Federation`]) and what the identity may do there ([`Grant`]), from the
//! identity profile, the cluster registry and fleet.yaml `permissions` (the provider
//! mapping of capability words). The fleet backend `cloud_identity` renders them: ARM
//! templates of federated credentials and role assignments, CloudFormation templates of IAM
//! roles and Pod Identity associations.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

use crate::diag::{Diagnostic, codes};
use crate::load::{Doc, Sources};
use crate::model::common::IdentityMode;
// IAM Sids are alphanumeric: `orders-created` → `OrdersCreated`.
use crate::model::common::pascal_case as sid;
use crate::model::profiles::{Capability, IdentityProfile, field_path};
use crate::model::{Cluster, Provider};

use super::plan::{Identity, Placement, key_vault_name};

/// The audience of AKS workload identity's federated credentials.
pub const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The most federated identity credentials Microsoft Entra takes on one user-assigned
/// managed identity.
pub const AZURE_CREDENTIAL_LIMIT: usize = 20;

/// How the cloud trusts the app's service account on one cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Federation {
    /// AKS workload identity: a federated identity credential on the user-assigned managed
    /// identity for the cluster's OIDC issuer.
    Azure { identity: AzureIdentityId, issuer: String },
    /// EKS Pod Identity: an association of the cluster for the service account.
    PodIdentity {
        account_id: String,
        region: String,
        cluster_name: String,
        role_name: String,
    },
    /// EKS IRSA: the role's trust policy names the cluster's IAM OIDC provider.
    Irsa {
        account_id: String,
        oidc_provider: String,
        role_name: String,
    },
}

/// The cloud identity a federation makes a service account act as, compared as its cloud
/// compares it: Azure resource names and ids and IAM role names are case-insensitive
/// (`ID-Ledger-API` is `id-ledger-api`), so every part is lowercased.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentityKey {
    /// (subscription, resource group, name) of a user-assigned managed identity.
    Azure(String, String, String),
    /// (account, role name) of an IAM role.
    Aws(String, String),
}

impl Federation {
    /// The identity it federates with, as its cloud tells identities apart, and its name as
    /// written.
    pub fn identity_key(&self) -> (IdentityKey, &str) {
        match self {
            Federation::Azure { identity, .. } => (
                IdentityKey::Azure(
                    identity.subscription_id.to_lowercase(),
                    identity.resource_group.to_lowercase(),
                    identity.name.to_lowercase(),
                ),
                identity.name.as_str(),
            ),
            Federation::PodIdentity {
                account_id, role_name, ..
            }
            | Federation::Irsa {
                account_id, role_name, ..
            } => (
                IdentityKey::Aws(account_id.clone(), role_name.to_lowercase()),
                role_name.as_str(),
            ),
        }
    }
}

/// A user-assigned managed identity's resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AzureIdentityId {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
}

impl AzureIdentityId {
    pub fn resource_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            self.subscription_id, self.resource_group, self.name
        )
    }
}

/// One required permission, as the cluster's cloud grants it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Grant {
    pub capability: Capability,
    pub target: String,
    pub cloud: CloudGrant,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CloudGrant {
    /// A role assignment for the identity on a resource of the cluster's resource group.
    Azure {
        identity: AzureIdentityId,
        role: String,
        role_definition_id: String,
        subscription_id: String,
        resource_group: String,
        /// Relative to the resource group: `Microsoft.KeyVault/vaults/kv/secrets/name`.
        scope: String,
    },
    /// A statement of the app role's policy in the cluster's account.
    Aws {
        account_id: String,
        role_name: String,
        actions: Vec<String>,
        resources: Vec<String>,
        condition: BTreeMap<String, BTreeMap<String, String>>,
    },
}

/// Fills `{name}` placeholders of a mapping's scope or ARN; the first name `var` does not
/// know is the error.
pub fn fill(template: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            return Err(after.to_string());
        };
        let name = &after[..j];
        out.push_str(&var(name).ok_or_else(|| name.to_string())?);
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Resolves the federation and grants of `profile` for an app on `cluster` into `id`.
pub(super) fn resolve(
    sources: &Sources,
    cluster: &Doc<Cluster>,
    profile: &Doc<IdentityProfile>,
    id: &mut Identity,
    out: &mut Vec<Diagnostic>,
    ok: &mut bool,
) {
    let files = &sources.files;
    let c = &cluster.value;
    let name = profile.value.name.as_str();
    let failed = std::cell::Cell::new(false);
    let fail = |out: &mut Vec<Diagnostic>, what: String, primary, secondary: Option<crate::diag::Label>| {
        failed.set(true);
        let mut d = Diagnostic::error(
            codes::IDENTITY_UNAVAILABLE,
            files,
            primary,
            format!(
                "identity profile `{name}` cannot be wired on cluster `{}`: {what}",
                c.cluster_id
            ),
        );
        if let Some(s) = secondary {
            d = d.with_secondary(s);
        }
        out.push(d);
    };
    // The environment's own identity, else the profile's.
    let (azure, azure_at) = profile.value.azure_in(c.environment);
    let (aws, aws_at) = profile.value.aws_in(c.environment);
    let azure_identity = azure.and_then(|z| {
        Some(AzureIdentityId {
            subscription_id: z.subscription_id.clone()?,
            resource_group: z.resource_group.clone()?,
            name: z.name.clone()?,
        })
    });
    // Federation.
    match (c.provider, c.identity_mode) {
        (Provider::Azure, IdentityMode::WorkloadIdentity) => {
            if let Some(identity) = &azure_identity {
                match c.azure.as_ref().and_then(|z| z.oidc_issuer_url.as_ref()) {
                    Some(issuer) => {
                        id.federation = Some(Federation::Azure {
                            identity: identity.clone(),
                            issuer: issuer.clone(),
                        })
                    }
                    None => fail(
                        out,
                        "it has no OIDC issuer for the federated credential".into(),
                        cluster.label(&["clusterId"], "this cluster has no `azure.oidcIssuerUrl`"),
                        Some(profile.label(&field_path(&azure_at, "name"), "federated with each cluster")),
                    ),
                }
            }
        }
        (Provider::Aws, mode) => {
            if let (Some(role), Some(account)) = (aws, c.aws.as_ref()) {
                if mode == IdentityMode::EksPodIdentity {
                    id.federation = Some(Federation::PodIdentity {
                        account_id: account.account_id.clone(),
                        region: c.region.clone(),
                        cluster_name: account.cluster_name.clone().unwrap_or_else(|| c.cluster_id.to_string()),
                        role_name: role.role_name.clone(),
                    });
                } else {
                    match &account.oidc_provider {
                        Some(provider) => {
                            id.federation = Some(Federation::Irsa {
                                account_id: account.account_id.clone(),
                                oidc_provider: provider.clone(),
                                role_name: role.role_name.clone(),
                            })
                        }
                        None => fail(
                            out,
                            "the role's trust policy needs the cluster's IAM OIDC provider".into(),
                            cluster.label(&["clusterId"], "this cluster has no `aws.oidcProvider`"),
                            Some(profile.label(&field_path(&aws_at, "roleName"), "trusts each IRSA cluster")),
                        ),
                    }
                }
            }
        }
        _ => {}
    }
    // Grants.
    let Some(fleet) = sources.fleet.as_ref() else {
        if failed.get() {
            *ok = false;
        }
        return;
    };
    for (i, permission) in profile.value.required_permissions.iter().enumerate() {
        let at = |text: &str| profile.item_label(&["requiredPermissions"], i, text.to_string());
        let mapping = fleet.value.permissions.get(&permission.capability);
        // One report per capability word (the first permission naming it); the same report
        // from every cluster of the cloud is merged.
        let first_of_word = profile.value.required_permissions[..i]
            .iter()
            .all(|q| q.capability != permission.capability);
        let unmapped = |out: &mut Vec<Diagnostic>| {
            if !first_of_word {
                return;
            }
            out.push(
                Diagnostic::error(
                    codes::UNMAPPED_PERMISSION,
                    files,
                    at(&format!("no {} mapping", c.provider)),
                    format!(
                        "`{}` has no {} mapping in fleet.yaml `permissions`, and identity profile `{name}` is used on {} clusters",
                        permission.capability, c.provider, c.provider
                    ),
                )
                .with_help(format!(
                    "add `permissions.{}.{}` to fleet.yaml: the {} that grant it",
                    permission.capability,
                    c.provider,
                    match c.provider {
                        Provider::Azure => "role and scope",
                        Provider::Aws => "IAM actions and resources",
                    }
                )),
            );
        };
        let target = permission.target.clone();
        let target_name = key_vault_name(&target);
        match c.provider {
            Provider::Azure => {
                let Some(grant) = mapping.and_then(|m| m.azure.as_ref()) else {
                    failed.set(true);
                    unmapped(out);
                    continue;
                };
                let Some(identity) = &azure_identity else {
                    failed.set(true);
                    if azure.is_some() && first_of_word {
                        // A fault of the profile alone: one report, whichever cluster.
                        out.push(Diagnostic::error(
                            codes::IDENTITY_UNAVAILABLE,
                            files,
                            profile.label(&azure_at, "no `name`, `resourceGroup` and `subscriptionId`"),
                            format!(
                                "identity profile `{name}` needs `{}` on Azure but does not name its managed identity's resource, which the roles are assigned to",
                                permission.capability
                            ),
                        ));
                    }
                    continue;
                };
                let Some(az) = c.azure.as_ref() else { continue };
                let var = |n: &str| -> Option<String> {
                    match n {
                        "target" => Some(target.clone()),
                        "targetName" => Some(target_name.clone()),
                        "region" => Some(c.region.clone()),
                        "subscriptionId" => Some(az.subscription_id.clone()),
                        "resourceGroup" => Some(az.resource_group.clone()),
                        "keyVault" => az.key_vault.clone(),
                        other => az.resources.get(other).cloned(),
                    }
                };
                if grant.scope.contains("{target}") && target.contains('/') {
                    fail(
                        out,
                        format!(
                            "its `{}` target `{target}` has a `/`, which would split the Azure resource path of the scope",
                            permission.capability
                        ),
                        at("a `/` in an Azure resource name"),
                        Some(fleet.label(
                            &["permissions", permission.capability.as_str(), "azure", "scope"],
                            "`{target}` here; `{targetName}` replaces `/` by `-`",
                        )),
                    );
                    continue;
                }
                match fill(&grant.scope, &var) {
                    Ok(scope) if let Some(problem) = azure_name_problem(&scope) => fail(
                        out,
                        format!("its `{}` scope `{scope}` {problem}", permission.capability),
                        at("not a name Azure takes"),
                        None,
                    ),
                    Ok(scope) => id.grants.push(Grant {
                        capability: permission.capability,
                        target: target.clone(),
                        cloud: CloudGrant::Azure {
                            identity: identity.clone(),
                            role: grant.role.clone(),
                            role_definition_id: grant.role_definition_id.to_ascii_lowercase(),
                            subscription_id: az.subscription_id.clone(),
                            resource_group: az.resource_group.clone(),
                            scope,
                        },
                    }),
                    Err(missing) => fail(
                        out,
                        format!(
                            "its `{}` scope names `{{{missing}}}`, which the cluster does not have",
                            permission.capability
                        ),
                        cluster.label(&["clusterId"], format!("no `azure.{}`", placeholder_field(&missing))),
                        Some(fleet.label(
                            &["permissions", permission.capability.as_str(), "azure", "scope"],
                            "the scope",
                        )),
                    ),
                }
            }
            Provider::Aws => {
                let Some(grant) = mapping.and_then(|m| m.aws.as_ref()) else {
                    failed.set(true);
                    unmapped(out);
                    continue;
                };
                let (Some(role), Some(account)) = (aws, c.aws.as_ref()) else {
                    continue; // reported by the caller (FG031)
                };
                let cluster_name = account.cluster_name.clone().unwrap_or_else(|| c.cluster_id.to_string());
                let var = |n: &str| -> Option<String> {
                    match n {
                        "target" => Some(target.clone()),
                        "targetName" => Some(target_name.clone()),
                        "region" => Some(c.region.clone()),
                        "accountId" => Some(account.account_id.clone()),
                        "clusterName" => Some(cluster_name.clone()),
                        other => account.resources.get(other).cloned(),
                    }
                };
                // A `/` in a target that names an S3 bucket ends the bucket's name there: the
                // ARN would name objects of another bucket (`catalog/images-us-east-1` is in
                // bucket `catalog`, which may be anyone's), and no bucket has a `/`.
                if target.contains('/')
                    && let Some(arn) =
                        (grant.resources.iter()).find(|r| s3_bucket(r).is_some_and(|b| b.contains("{target}")))
                    && let Ok(filled) = fill(arn, &var)
                    && let Some(bucket) = s3_bucket(&filled)
                {
                    fail(
                        out,
                        format!(
                            "its `{}` target `{target}` has a `/`, which would end the S3 bucket's name in `{arn}`: the grant would be on objects of a bucket named `{bucket}`",
                            permission.capability,
                        ),
                        at("a `/` in an S3 bucket name"),
                        Some(fleet.label(
                            &["permissions", permission.capability.as_str(), "aws", "resources"],
                            "`{target}` in the bucket's name here",
                        )),
                    );
                    continue;
                }
                let resources: Result<Vec<String>, String> = grant.resources.iter().map(|r| fill(r, &var)).collect();
                let condition: Result<BTreeMap<String, BTreeMap<String, String>>, String> = grant
                    .condition
                    .iter()
                    .map(|(op, keys)| {
                        let keys: Result<BTreeMap<String, String>, String> =
                            keys.iter().map(|(k, v)| Ok((fill(k, &var)?, fill(v, &var)?))).collect();
                        Ok((op.clone(), keys?))
                    })
                    .collect();
                match (resources, condition) {
                    (Ok(resources), _)
                        if let Some((arn, problem)) = resources
                            .iter()
                            .find_map(|r| aws_name_problem(r).map(|p| (r.clone(), p))) =>
                    {
                        fail(
                            out,
                            format!("its `{}` ARN `{arn}` {problem}", permission.capability),
                            at("not a name AWS takes"),
                            None,
                        )
                    }
                    (Ok(resources), Ok(condition)) => id.grants.push(Grant {
                        capability: permission.capability,
                        target: target.clone(),
                        cloud: CloudGrant::Aws {
                            account_id: account.account_id.clone(),
                            role_name: role.role_name.clone(),
                            actions: grant.actions.clone(),
                            resources,
                            condition,
                        },
                    }),
                    (Err(missing), _) | (_, Err(missing)) => fail(
                        out,
                        format!(
                            "its `{}` ARN names `{{{missing}}}`, which the cluster does not have",
                            permission.capability
                        ),
                        cluster.label(&["clusterId"], format!("no `aws.{}`", placeholder_field(&missing))),
                        Some(fleet.label(&["permissions", permission.capability.as_str(), "aws"], "the mapping")),
                    ),
                }
            }
        }
    }
    if failed.get() {
        *ok = false;
    }
}

/// A name rule of a resource a scope or ARN names, broken: (what, allowed characters as a
/// predicate, shortest, longest).
fn name_problem(kind: &str, name: &str, ok: fn(char) -> bool, min: usize, max: usize) -> Option<String> {
    let n = name.chars().count();
    if n < min || n > max || !name.chars().all(ok) {
        Some(format!(
            "names {kind} `{name}`, which must be {min}–{max} characters of the ones the cloud allows"
        ))
    } else {
        None
    }
}

/// The Azure naming rule the last segment of a scope breaks, for the resources the permission
/// mapping grants on: blob containers (lowercase letters, digits, `-`, 3–63), Key Vault
/// secrets and keys (letters, digits, `-`, 1–127), Service Bus topics and queues (letters,
/// digits, `.`, `-`, `_`, 1–260).
pub fn azure_name_problem(scope: &str) -> Option<String> {
    let mut parts = scope.rsplit('/');
    let (name, kind) = (parts.next()?, parts.next()?);
    match kind {
        "containers" => name_problem(
            "a blob container",
            name,
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
            3,
            63,
        ),
        "secrets" | "keys" => name_problem(
            "a Key Vault object",
            name,
            |c| c.is_ascii_alphanumeric() || c == '-',
            1,
            127,
        ),
        "topics" | "queues" => name_problem(
            "a Service Bus entity",
            name,
            |c| c.is_ascii_alphanumeric() || ".-_".contains(c),
            1,
            260,
        ),
        _ => None,
    }
}

/// The AWS naming rule an ARN's resource breaks: S3 buckets (lowercase letters, digits, `.`,
/// `-`, 3–63), SNS topics (letters, digits, `-`, `_`, 1–256), SQS queues (the same, 1–80).
pub fn aws_name_problem(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2)?;
    let resource = parts.nth(2)?;
    match service {
        "s3" => {
            let bucket = resource.split('/').next()?;
            name_problem(
                "an S3 bucket",
                bucket,
                |c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-".contains(c),
                3,
                63,
            )
        }
        "sns" => name_problem(
            "an SNS topic",
            resource,
            |c| c.is_ascii_alphanumeric() || "-_".contains(c),
            1,
            256,
        ),
        "sqs" => name_problem(
            "an SQS queue",
            resource,
            |c| c.is_ascii_alphanumeric() || "-_".contains(c),
            1,
            80,
        ),
        _ => None,
    }
}

/// The bucket an S3 ARN names: its resource up to the first `/` (what follows is an object
/// key), or None for another service's ARN.
fn s3_bucket(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.nth(2)? != "s3" {
        return None;
    }
    parts.nth(2)?.split('/').next()
}

/// What the cloud identity outputs read of a placement, and nothing more: the fleet
/// backend renders from these and the fleet-wide identity profiles alone, so a digest of
/// them is a sound cache key for its files (see `emit::backends::cloud_identity`).
#[derive(Clone, Copy, Debug, Hash)]
pub struct Seat<'p> {
    pub app_name: &'p str,
    pub cluster_id: &'p str,
    pub namespace: &'p str,
    /// Not drained.
    pub active: bool,
    pub federation: Option<&'p Federation>,
    pub grants: &'p [Grant],
    /// The app's identity profile (`identity.cloudPermissionsProfile`).
    pub profile: Option<&'p str>,
    pub provider: Provider,
    pub identity_mode: IdentityMode,
    /// The cluster's (subscription, resource group), on Azure.
    pub azure: Option<(&'p str, &'p str)>,
    /// The cluster's account, on AWS.
    pub aws_account: Option<&'p str>,
    pub region: &'p str,
    /// The cluster's environment, which may have an identity of its own in the profile.
    pub environment: crate::model::Environment,
    /// The paths of the contract and of the cluster file.
    pub app_file: &'p str,
    pub cluster_file: &'p str,
}

/// The seat of every placement, in the plan's order.
pub fn seats<'p>(sources: &'p Sources, placements: &'p [Placement]) -> Vec<Seat<'p>> {
    placements
        .iter()
        .map(|p| {
            let c = &p.cluster.value;
            Seat {
                app_name: p.app_name(),
                cluster_id: p.cluster_id(),
                namespace: &p.namespace,
                active: p.drained.is_none(),
                federation: p.identity.federation.as_ref(),
                grants: &p.identity.grants,
                profile: p
                    .app
                    .value
                    .identity
                    .cloud_permissions_profile
                    .as_ref()
                    .map(|n| n.as_str()),
                provider: c.provider,
                identity_mode: c.identity_mode,
                azure: c
                    .azure
                    .as_ref()
                    .map(|z| (z.subscription_id.as_str(), z.resource_group.as_str())),
                aws_account: c.aws.as_ref().map(|a| a.account_id.as_str()),
                region: &c.region,
                environment: c.environment,
                app_file: &sources.files.get(p.app.file).path,
                cluster_file: &sources.files.get(p.cluster.file).path,
            }
        })
        .collect()
}

/// The cluster field a placeholder reads: `keyVault` itself, else `resources.<name>`.
fn placeholder_field(name: &str) -> String {
    match name {
        "keyVault" => "keyVault".into(),
        other => format!("resources.{other}"),
    }
}

/// (word, target, actions, condition as JSON text) → (resource ARNs, condition).
type Statements = BTreeMap<(String, String, Vec<String>, String), (BTreeSet<String>, Value)>;

/// One account's app role as the placements need it.
#[derive(Default)]
pub struct AwsRole {
    /// Pod Identity: (namespace, service account) → the account's clusters (names) where
    /// it may take the role, matched on the session tags EKS Pod Identity sets.
    pod_identity: BTreeMap<(String, String), BTreeSet<String>>,
    /// IRSA: OIDC provider → the service account subjects it trusts.
    irsa: BTreeMap<String, BTreeSet<String>>,
    statements: Statements,
    /// The identity profiles whose role it is.
    pub profiles: BTreeSet<String>,
}

/// The role `name` of `account`, made empty on first use.
fn role_of<'a>(
    accounts: &'a mut BTreeMap<String, BTreeMap<String, AwsRole>>,
    account: &str,
    name: &str,
) -> &'a mut AwsRole {
    accounts
        .entry(account.to_string())
        .or_default()
        .entry(name.to_string())
        .or_default()
}

/// Every AWS app role the placements (not drained) need: account → role name → role.
pub fn aws_roles(seats: &[Seat]) -> BTreeMap<String, BTreeMap<String, AwsRole>> {
    let mut accounts: BTreeMap<String, BTreeMap<String, AwsRole>> = BTreeMap::new();
    for p in seats.iter().filter(|p| p.active) {
        let profile = p.profile.map(str::to_string);
        match p.federation {
            Some(Federation::PodIdentity {
                account_id,
                cluster_name,
                role_name,
                ..
            }) => {
                let role = role_of(&mut accounts, account_id, role_name);
                role.pod_identity
                    .entry((p.namespace.to_string(), p.app_name.to_string()))
                    .or_default()
                    .insert(cluster_name.clone());
                role.profiles.extend(profile.clone());
            }
            Some(Federation::Irsa {
                account_id,
                oidc_provider,
                role_name,
            }) => {
                let role = role_of(&mut accounts, account_id, role_name);
                role.irsa.entry(oidc_provider.clone()).or_default().insert(subject(p));
                role.profiles.extend(profile.clone());
            }
            _ => {}
        }
        for g in p.grants {
            if let CloudGrant::Aws {
                account_id,
                role_name,
                actions,
                resources,
                condition,
            } = &g.cloud
            {
                let role = role_of(&mut accounts, account_id, role_name);
                role.profiles.extend(profile.clone());
                let condition = json!(condition);
                let key = (
                    g.capability.to_string(),
                    g.target.clone(),
                    actions.clone(),
                    condition.to_string(),
                );
                role.statements
                    .entry(key)
                    .or_insert_with(|| (BTreeSet::new(), condition))
                    .0
                    .extend(resources.iter().cloned());
            }
        }
    }
    accounts
}

/// An IAM policy document: written into the rendered CloudFormation (through `json!`,
/// as a `serde_json::Value`) and, for FG039, through a counter of its characters. Typed
/// and borrowing the role, so that measuring it builds nothing: building `Value`s only to
/// count their JSON cost 5% of the instructions of a warm `check` at 200 × 500.
#[derive(Serialize)]
pub struct Policy<S> {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Statement")]
    statement: Vec<S>,
}

impl<S> Policy<S> {
    /// A policy of these statements; none without any.
    fn of(statement: Vec<S>) -> Option<Policy<S>> {
        (!statement.is_empty()).then_some(Policy {
            version: "2012-10-17",
            statement,
        })
    }
}

/// A trust policy statement: EKS Pod Identity for one service account, or an IRSA
/// cluster's OIDC provider.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Trust<'r> {
    PodIdentity(Statement<[&'static str; 2], PodIdentityTags<'r>>),
    Irsa(Statement<&'static str, IrsaSubjects<'r>>),
}

/// A trust statement: who may assume the role, how, and on which conditions.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement<A, C> {
    sid: String,
    effect: &'static str,
    principal: Principal,
    action: A,
    condition: StringEquals<C>,
}

/// `{"Service": …}` or `{"Federated": …}`.
#[derive(Serialize)]
pub enum Principal {
    Service(&'static str),
    Federated(String),
}

#[derive(Serialize)]
pub struct StringEquals<C> {
    #[serde(rename = "StringEquals")]
    string_equals: C,
}

/// The session tags EKS Pod Identity sets, as one service account's statement matches them.
#[derive(Serialize)]
pub struct PodIdentityTags<'r> {
    #[serde(rename = "aws:SourceAccount")]
    account: &'r str,
    #[serde(rename = "aws:RequestTag/eks-cluster-name")]
    clusters: &'r BTreeSet<String>,
    #[serde(rename = "aws:RequestTag/kubernetes-namespace")]
    namespace: &'r str,
    #[serde(rename = "aws:RequestTag/kubernetes-service-account")]
    service_account: &'r str,
}

/// An OIDC provider's audience and the service account subjects it may name, under keys
/// that begin with the provider.
pub struct IrsaSubjects<'r> {
    provider: &'r str,
    subjects: &'r BTreeSet<String>,
}

impl serde::Serialize for IrsaSubjects<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let provider = self.provider;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(&format!("{provider}:aud"), "sts.amazonaws.com")?;
        map.serialize_entry(&format!("{provider}:sub"), self.subjects)?;
        map.end()
    }
}

/// The role's trust policy: EKS Pod Identity for the account's clusters, namespaces and
/// service accounts (its session tags), and each IRSA cluster's OIDC provider for exactly
/// the apps' service accounts. None when no cluster assumes the role.
pub fn aws_trust_policy<'r>(account: &'r str, role: &'r AwsRole) -> Option<Policy<Trust<'r>>> {
    let mut trust = Vec::new();
    // One statement per service account: lists of namespaces and service accounts side by
    // side would trust every pairing of them.
    for (i, ((namespace, service_account), clusters)) in role.pod_identity.iter().enumerate() {
        trust.push(Trust::PodIdentity(Statement {
            sid: if i == 0 {
                "EksPodIdentity".to_string()
            } else {
                format!("EksPodIdentity{}", i + 1)
            },
            effect: "Allow",
            principal: Principal::Service("pods.eks.amazonaws.com"),
            action: ["sts:AssumeRole", "sts:TagSession"],
            condition: StringEquals {
                string_equals: PodIdentityTags {
                    account,
                    clusters,
                    namespace,
                    service_account,
                },
            },
        }));
    }
    for (provider, subjects) in &role.irsa {
        trust.push(Trust::Irsa(Statement {
            sid: format!("Irsa{}", sid(provider.rsplit('/').next().unwrap_or(provider))),
            effect: "Allow",
            principal: Principal::Federated(format!("arn:aws:iam::{account}:oidc-provider/{provider}")),
            action: "sts:AssumeRoleWithWebIdentity",
            condition: StringEquals {
                string_equals: IrsaSubjects { provider, subjects },
            },
        }));
    }
    Policy::of(trust)
}

/// A permissions policy statement: a capability word on one target.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission<'r> {
    sid: String,
    effect: &'static str,
    action: &'r [String],
    resource: &'r BTreeSet<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<&'r Value>,
}

/// The role's permissions: a statement per word and target, with the ARNs of every region.
pub fn aws_permissions_policy(role: &AwsRole) -> Option<Policy<Permission<'_>>> {
    // Sids are unique in a policy: targets that read the same once pascal-cased (`a/b`,
    // `a-b`) are numbered.
    let mut sids: BTreeSet<String> = BTreeSet::new();
    let statements: Vec<Permission> = role
        .statements
        .iter()
        .map(|((capability, target, actions, _), (arns, condition))| {
            let base = sid(&format!("{capability} {target}"));
            let mut id = base.clone();
            let mut n = 1;
            while !sids.insert(id.clone()) {
                n += 1;
                id = format!("{base}{n}");
            }
            Permission {
                sid: id,
                effect: "Allow",
                action: actions,
                resource: arns,
                condition: condition
                    .as_object()
                    .is_some_and(|c| !c.is_empty())
                    .then_some(condition),
            }
        })
        .collect();
    Policy::of(statements)
}

/// IAM's default quotas: a role's trust policy (`ACLSizePerRole`, up to 4,096 on request)
/// and its inline policies together, in characters without whitespace.
pub const IAM_TRUST_POLICY_LIMIT: usize = 2048;
pub const IAM_INLINE_POLICY_LIMIT: usize = 10240;

/// The characters IAM counts in a policy: its JSON without whitespace outside strings.
fn policy_size(policy: &impl Serialize) -> usize {
    /// Counts what is written, keeping none of it.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, policy).map_or(0, |()| count.0)
}

/// FG039: an app role whose trust or permissions policy is larger than IAM takes. Whether
/// every role's are within the limits (then nothing is reported, whatever the identity
/// profiles: the cache may keep the seats' digest as known within them).
pub(super) fn check_iam_sizes(sources: &Sources, placements: &[Placement], out: &mut Vec<Diagnostic>) -> bool {
    let roles: Vec<(String, String, AwsRole)> = aws_roles(&seats(sources, placements))
        .into_iter()
        .flat_map(|(account, roles)| roles.into_iter().map(move |(name, role)| (account.clone(), name, role)))
        .collect();
    // Each role's two policies built and measured on the pool (a large fleet has thousands
    // of roles); reported in order below.
    let measured: Vec<[Option<usize>; 2]> = roles
        .par_iter()
        .map(|(account, _, role)| {
            [
                aws_trust_policy(account, role).map(|p| policy_size(&p)),
                aws_permissions_policy(role).map(|p| policy_size(&p)),
            ]
        })
        .collect();
    let mut within = true;
    for ((account, name, role), [trust, permissions]) in roles.iter().zip(measured) {
        let sizes = [
            (
                "trust policy",
                trust,
                IAM_TRUST_POLICY_LIMIT,
                "the quota ACLSizePerRole can be raised to 4,096; or move the clusters to EKS Pod Identity, whose trust does not grow per cluster",
            ),
            (
                "inline permissions policy",
                permissions,
                IAM_INLINE_POLICY_LIMIT,
                "split the app's permissions over identity profiles (roles) of their own",
            ),
        ];
        for (what, size, limit, help) in sizes {
            let Some(size) = size.filter(|s| *s > limit) else {
                continue;
            };
            within = false;
            let Some(doc) = role
                .profiles
                .iter()
                .find_map(|n| sources.identity_profiles.iter().find(|d| d.value.name.as_str() == n))
            else {
                continue;
            };
            out.push(
                Diagnostic::error(
                    codes::IAM_POLICY_SIZE,
                    &sources.files,
                    doc.label(
                        &field_path(&doc.value.aws_path_of(name), "roleName"),
                        format!("{size} characters"),
                    ),
                    format!(
                        "role `{name}` in AWS account {account} needs a {what} of {size} characters, over IAM's {limit}"
                    ),
                )
                .with_help(help),
            );
        }
    }
    within
}

/// FG031: one Azure scope granted from clusters of different resource groups. Scopes are
/// relative to the cluster's group, and a vault, namespace or storage account lives in one:
/// for the other clusters the role assignment would name a resource that is not there.
/// Azure resource ids are case-insensitive (a vault named `KV-EastUS` is `kv-eastus`): scopes
/// are compared lowercased.
pub(super) fn check_scopes(sources: &Sources, placements: &[Placement], out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, (&str, &str, &Placement)> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    for p in placements {
        for g in &p.identity.grants {
            let CloudGrant::Azure {
                subscription_id,
                resource_group,
                scope,
                ..
            } = &g.cloud
            else {
                continue;
            };
            let key = scope.to_ascii_lowercase();
            let first = *seen.entry(key.clone()).or_insert((subscription_id, resource_group, p));
            // Subscriptions and resource groups too: `RG-Fleet` is `rg-fleet`.
            if (first.0.to_lowercase(), first.1.to_lowercase())
                == (subscription_id.to_lowercase(), resource_group.to_lowercase())
                || !reported.insert((key, p.cluster_id()))
            {
                continue;
            }
            out.push(
                Diagnostic::error(
                    codes::IDENTITY_UNAVAILABLE,
                    &sources.files,
                    p.cluster.label(&["azure", "resourceGroup"], format!("`{resource_group}`")),
                    format!(
                        "`{scope}` is granted on cluster `{}` in resource group `{resource_group}` and on cluster `{}` in `{}`: one resource cannot be in both, and fleetgen scopes role assignments to the cluster's group",
                        p.cluster_id(),
                        first.2.cluster_id(),
                        first.1
                    ),
                )
                .with_secondary(first.2.cluster.label(&["azure", "resourceGroup"], format!("`{}`", first.1)))
                .with_help("give each cluster the resources of its own resource group (keyVault, azure.resources)"),
            );
        }
    }
}

/// FG022: two IAM role names of one account that differ only in case. IAM does not tell
/// them apart (`CreateRole` refuses `Fleet-Api` beside `fleet-api`), so the account's
/// template would hold two roles CloudFormation cannot create.
pub(super) fn check_role_names(sources: &Sources, placements: &[Placement], out: &mut Vec<Diagnostic>) {
    // (account, lowercased name) → the first spelling, with its profile.
    let mut seen: BTreeMap<(&str, String), (&str, &str)> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    for p in placements {
        let (
            Some(
                Federation::PodIdentity {
                    account_id, role_name, ..
                }
                | Federation::Irsa {
                    account_id, role_name, ..
                },
            ),
            Some(profile),
        ) = (
            &p.identity.federation,
            p.app.value.identity.cloud_permissions_profile.as_ref(),
        )
        else {
            continue;
        };
        let first = *seen
            .entry((account_id.as_str(), role_name.to_lowercase()))
            .or_insert((role_name.as_str(), profile.as_str()));
        if first.0 == role_name || !reported.insert((account_id.as_str(), role_name.as_str())) {
            continue;
        }
        let doc_of = |name: &str| sources.identity_profiles.iter().find(|d| d.value.name.as_str() == name);
        let (Some(doc), Some(first_doc)) = (doc_of(profile.as_str()), doc_of(first.1)) else {
            continue;
        };
        out.push(
            Diagnostic::error(
                codes::DUPLICATE_ID,
                &sources.files,
                doc.label(
                    &field_path(&doc.value.aws_path_of(role_name), "roleName"),
                    "named again here, in other capitals",
                ),
                format!(
                    "IAM roles `{}` and `{role_name}` of account {account_id} differ only in case, and IAM role names are case-insensitive: they are one role, which CloudFormation cannot create twice",
                    first.0
                ),
            )
            .with_secondary(first_doc.label(
                &field_path(&first_doc.value.aws_path_of(first.0), "roleName"),
                "first named here",
            ))
            .with_help(format!("spell the role `{}` everywhere, or name another role", first.0)),
        );
    }
}

/// The federated credentials of an Azure identity: (issuer, subject) pairs, each with the
/// first placement that needs it.
pub type Credentials<'s, 'p> = BTreeMap<(String, String), &'s Seat<'p>>;

/// The federated credentials of each Azure identity, as Azure tells identities apart:
/// without case (`ID-Ledger-API` in one profile is `id-ledger-api` in another, one identity
/// whose credentials count together against Entra's limit and are written one at a time).
/// Each comes with one spelling of the identity: where profiles spell a part of it in more
/// than one way, the last in byte order (lowercase letters where they differ), as role
/// assignments pick theirs, so that the spelling written does not depend on which
/// placement comes first.
pub fn azure_credentials<'s, 'p>(seats: &'s [Seat<'p>]) -> Vec<(AzureIdentityId, Credentials<'s, 'p>)> {
    let mut by_identity: BTreeMap<(String, String, String), (AzureIdentityId, Credentials)> = BTreeMap::new();
    for p in seats.iter().filter(|p| p.active) {
        if let Some(Federation::Azure { identity, issuer }) = p.federation {
            let key = (
                identity.subscription_id.to_lowercase(),
                identity.resource_group.to_lowercase(),
                identity.name.to_lowercase(),
            );
            let (spelt, credentials) = by_identity.entry(key).or_default();
            for (part, written) in [
                (&mut spelt.subscription_id, &identity.subscription_id),
                (&mut spelt.resource_group, &identity.resource_group),
                (&mut spelt.name, &identity.name),
            ] {
                if *written > *part {
                    part.clone_from(written);
                }
            }
            credentials.entry((issuer.clone(), subject(p))).or_insert(p);
        }
    }
    by_identity.into_values().collect()
}

/// The service account subject of a placement's pods: `system:serviceaccount:<ns>:<sa>`.
pub fn subject(p: &Seat) -> String {
    format!("system:serviceaccount:{}:{}", p.namespace, p.app_name)
}

/// FG038: an Azure identity federated with more (issuer, subject) pairs than Entra takes.
pub(super) fn check_credential_limit(sources: &Sources, placements: &[Placement], out: &mut Vec<Diagnostic>) {
    let seats = seats(sources, placements);
    for (identity, credentials) in azure_credentials(&seats) {
        if credentials.len() <= AZURE_CREDENTIAL_LIMIT {
            continue;
        }
        // Each profile with the identity's name as it spells it (in other capitals, maybe).
        let profiles: BTreeMap<&str, &str> = credentials
            .values()
            .filter_map(|p| match (p.profile, p.federation) {
                (Some(profile), Some(Federation::Azure { identity, .. })) => Some((profile, identity.name.as_str())),
                _ => None,
            })
            .collect();
        let Some((first, spelt)) = profiles.iter().find_map(|(n, spelt)| {
            let doc = sources.identity_profiles.iter().find(|d| d.value.name.as_str() == *n)?;
            Some((doc, *spelt))
        }) else {
            continue;
        };
        out.push(
            Diagnostic::error(
                codes::FEDERATED_CREDENTIAL_LIMIT,
                &sources.files,
                first.label(
                    &field_path(&first.value.azure_path_of(spelt), "name"),
                    format!("{} federated credentials", credentials.len()),
                ),
                format!(
                    "managed identity `{}` needs {} federated credentials (one per cluster and service account), more than the {AZURE_CREDENTIAL_LIMIT} Microsoft Entra allows on one identity",
                    identity.name,
                    credentials.len()
                ),
            )
            .with_help("split the apps, rings or environments over more managed identities (an identity profile each, or an environment's own in `environments.<env>.azure`)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `objects` parameter of the app's SecretProviderClass on a cluster.
    fn objects(plan: &super::super::plan::Plan, cluster: &str) -> String {
        let p = plan.placement("api", cluster).unwrap();
        let store = p.identity.secrets.as_ref().unwrap();
        store
            .parameters
            .iter()
            .find(|(k, _)| *k == "objects")
            .unwrap()
            .1
            .clone()
    }

    #[test]
    fn a_secret_is_one_file_of_the_same_name_on_both_clouds() {
        let eks = eks();
        let profile = PROFILE.replace(
            "  - read-secret: api/db\n",
            "  - read-secret: api/db\n  - read-secret: api/db\n",
        );
        let sources = crate::load::fixture::sources(&[
            ("profiles/identity/api.yaml", &profile),
            ("clusters/useast1-prod-01.yaml", &eks),
        ]);
        let (plan, problems) = super::super::plan::plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let plan = plan.unwrap();
        // Listed twice, read once; the provider writes `objectAlias` as the file.
        assert_eq!(
            objects(&plan, "useast1-prod-01"),
            "- objectName: \"api/db\"\n  objectType: \"secretsmanager\"\n  objectAlias: \"api-db\"\n"
        );
        assert_eq!(
            objects(&plan, "eastus-prod-01"),
            "array:\n  - |\n    objectName: api-db\n    objectType: secret\n"
        );
        // Two targets that would be one file are refused, once, at the second.
        let profile = PROFILE.replace(
            "  - read-secret: api/db\n",
            "  - read-secret: api/db\n  - read-secret: api_db\n",
        );
        let sources = crate::load::fixture::sources(&[
            ("profiles/identity/api.yaml", &profile),
            ("clusters/useast1-prod-01.yaml", &eks),
        ]);
        let (_, mut problems) = super::super::plan::plan(&sources);
        crate::diag::sort(&mut problems, &sources.files);
        let same: Vec<_> = problems
            .iter()
            .filter(|d| d.message.contains("would both be the file"))
            .collect();
        assert_eq!(same.len(), 1, "{problems:?}");
        assert_eq!(same[0].code.id, "FG031");
        assert!(same[0].message.contains("`/mnt/secrets/api-db`"), "{}", same[0].message);
    }

    /// The web app of the base fleet with an identity profile of its own.
    fn web_with(profile: &str) -> (String, String) {
        let web = crate::load::fixture::text("apps/web/app.yaml").replace(
            "observability:",
            "identity:\n  cloudPermissionsProfile: web\nobservability:",
        );
        (
            web,
            format!("name: web\nazure:\n  clientId: 00000000-0000-0000-0000-0000000000c2\n{profile}"),
        )
    }

    #[test]
    fn two_role_names_of_one_account_differing_in_case_are_refused() {
        let (web, profile) = web_with("aws:\n  roleName: Base-API\n");
        let problems = planned(&[("apps/web/app.yaml", &web), ("profiles/identity/web.yaml", &profile)]);
        let case: Vec<_> = problems
            .iter()
            .filter(|d| d.message.contains("differ only in case"))
            .collect();
        assert_eq!(case.len(), 1, "{problems:?}");
        assert_eq!(case[0].code.id, "FG022");
        assert!(
            case[0].message.contains("`base-api` and `Base-API`"),
            "{}",
            case[0].message
        );
        // The same spelling is one role (FG143 judges whether the two apps may share it).
        let (web, profile) = web_with("aws:\n  roleName: base-api\n");
        let problems = planned(&[("apps/web/app.yaml", &web), ("profiles/identity/web.yaml", &profile)]);
        assert!(problems.iter().all(|d| d.code.id != "FG022"), "{problems:?}");
    }

    #[test]
    fn placeholders_are_filled_or_named() {
        let var = |n: &str| match n {
            "region" => Some("eu-west-1".to_string()),
            "target" => Some("orders/db".to_string()),
            _ => None,
        };
        assert_eq!(
            fill("arn:aws:secretsmanager:{region}:x:secret:{target}-??????", &var),
            Ok("arn:aws:secretsmanager:eu-west-1:x:secret:orders/db-??????".into())
        );
        assert_eq!(fill("a/{bucket}/b", &var), Err("bucket".into()));
        assert_eq!(fill("a/{region", &var), Err("region".into()));
        assert_eq!(fill("plain", &var), Ok("plain".into()));
    }

    const PROFILE: &str = "name: api\nazure:\n  clientId: 00000000-0000-0000-0000-0000000000c1\n  name: id-api\n  resourceGroup: rg-identities\n  subscriptionId: 00000000-0000-0000-0000-000000000001\naws:\n  roleName: base-api\nrequiredPermissions:\n  - read-secret: api/db\n";

    /// The EKS cluster with its region's Secrets Manager.
    fn eks() -> String {
        crate::load::fixture::text("clusters/useast1-prod-01.yaml") + "  secretsManager: true\n"
    }

    /// What planning says of the fixture with the identity profile `api`, the EKS cluster
    /// with a regional store, and `files`.
    fn planned(files: &[(&str, &str)]) -> Vec<Diagnostic> {
        let eks = eks();
        let mut all = vec![
            ("profiles/identity/api.yaml", PROFILE),
            ("clusters/useast1-prod-01.yaml", eks.as_str()),
        ];
        all.extend_from_slice(files);
        super::super::plan::plan(&crate::load::fixture::sources(&all)).1
    }

    #[test]
    fn each_cluster_gets_its_own_issuer_grant_and_trust() {
        let eks = eks();
        let sources = crate::load::fixture::sources(&[
            ("profiles/identity/api.yaml", PROFILE),
            ("clusters/useast1-prod-01.yaml", &eks),
        ]);
        let (plan, problems) = super::super::plan::plan(&sources);
        assert!(problems.is_empty(), "{problems:?}");
        let plan = plan.unwrap();
        let on = |cluster: &str| {
            plan.placements
                .iter()
                .find(|p| p.app_name() == "api" && p.cluster_id() == cluster)
                .unwrap()
        };
        let prod = on("eastus-prod-01");
        match &prod.identity.federation {
            Some(Federation::Azure { identity, issuer }) => {
                assert_eq!(identity.name, "id-api");
                assert!(issuer.ends_with("/00000000-0000-0000-0000-000000000001/"), "{issuer}");
            }
            other => panic!("{other:?}"),
        }
        match &prod.identity.grants[..] {
            [
                Grant {
                    cloud: CloudGrant::Azure {
                        scope, resource_group, ..
                    },
                    ..
                },
            ] => {
                assert_eq!(scope, "Microsoft.KeyVault/vaults/kv-eastus-prod-01/secrets/api-db");
                assert_eq!(resource_group, "rg-eastus-prod-01");
            }
            other => panic!("{other:?}"),
        }
        let staging = on("eastus-staging-01");
        assert!(
            matches!(&staging.identity.grants[0].cloud, CloudGrant::Azure { scope, .. } if scope.contains("kv-eastus-staging-01"))
        );
        let eks = on("useast1-prod-01");
        assert!(
            matches!(&eks.identity.federation, Some(Federation::Irsa { oidc_provider, .. }) if oidc_provider.starts_with("oidc.eks.us-east-1"))
        );
        match &eks.identity.grants[..] {
            [
                Grant {
                    cloud: CloudGrant::Aws {
                        resources, role_name, ..
                    },
                    ..
                },
            ] => {
                assert_eq!(
                    resources,
                    &["arn:aws:secretsmanager:us-east-1:111111111111:secret:api/db-??????"]
                );
                assert_eq!(role_name, "base-api");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn more_than_twenty_credentials_on_one_identity_are_refused() {
        let clusters = prod_clusters(21);
        let eks = eks();
        let mut overlay: Vec<(&str, &str)> = vec![
            ("profiles/identity/api.yaml", PROFILE),
            ("clusters/useast1-prod-01.yaml", &eks),
        ];
        overlay.extend(clusters.iter().map(|(p, t)| (p.as_str(), t.as_str())));
        // 21 prod clusters and the staging one: 22 credentials.
        let sources = crate::load::fixture::sources(&overlay);
        let (_, problems) = super::super::plan::plan(&sources);
        let limit: Vec<_> = problems.iter().filter(|d| d.code.id == "FG038").collect();
        assert_eq!(limit.len(), 1, "{problems:?}");
        assert!(
            limit[0].message.contains("22 federated credentials"),
            "{}",
            limit[0].message
        );
        // Twenty fit.
        let sources = crate::load::fixture::sources(&overlay[..20]); // 19 prod clusters and staging
        let (_, problems) = super::super::plan::plan(&sources);
        assert!(problems.iter().all(|d| d.code.id != "FG038"), "{problems:?}");
    }

    /// Prod clusters eastus-prod-02 to eastus-prod-`last` (copies of eastus-prod-01), each
    /// with an issuer of its own: (path, text).
    fn prod_clusters(last: usize) -> Vec<(String, String)> {
        let base = crate::load::fixture::text("clusters/eastus-prod-01.yaml");
        (2..=last)
            .map(|n| {
                let id = format!("eastus-prod-{n:02}");
                let text = base
                    .replace("eastus-prod-01", &id)
                    .replace("-000000000001/\n", &format!("-0000000001{n:02}/\n"));
                (format!("clusters/{id}.yaml"), text)
            })
            .collect()
    }

    /// `web` with an identity profile of its own naming `identity` (in rg-identities' group,
    /// in some capitals), and prod clusters eastus-prod-02 to eastus-prod-`last`, each with
    /// an issuer of its own.
    fn web_beside_api(identity: &str, group: &str, last: usize) -> Vec<Diagnostic> {
        let mut owned = prod_clusters(last);
        owned.push((
            "apps/web/app.yaml".into(),
            crate::load::fixture::text("apps/web/app.yaml").replace(
                "observability:",
                "identity:\n  cloudPermissionsProfile: web\nobservability:",
            ),
        ));
        owned.push((
            "profiles/identity/web.yaml".into(),
            format!(
                "name: web\nazure:\n  clientId: 00000000-0000-0000-0000-0000000000c1\n  name: {identity}\n  resourceGroup: {group}\n  subscriptionId: 00000000-0000-0000-0000-000000000001\naws:\n  roleName: base-web\n"
            ),
        ));
        planned(&owned.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect::<Vec<_>>())
    }

    /// Azure does not tell `ID-API` from `id-api`: two profiles naming one identity in other
    /// capitals federate one identity, whose credentials count together.
    #[test]
    fn an_identity_spelt_in_other_capitals_counts_its_credentials_once() {
        // 10 prod clusters and staging: 11 credentials for each app, 22 on one identity.
        for (identity, group) in [
            ("ID-API", "rg-identities"),
            ("id-api", "RG-Identities"),
            ("id-api", "rg-identities"),
        ] {
            let problems = web_beside_api(identity, group, 10);
            let limit: Vec<_> = problems.iter().filter(|d| d.code.id == "FG038").collect();
            assert_eq!(limit.len(), 1, "{identity} in {group}: {problems:?}");
            assert!(
                limit[0].message.contains("`id-api` needs 22 federated credentials"),
                "{}",
                limit[0].message
            );
        }
        // Another identity: 11 each.
        let problems = web_beside_api("id-web", "rg-identities", 10);
        assert!(problems.iter().all(|d| d.code.id != "FG038"), "{problems:?}");
    }

    #[test]
    fn a_policy_s_size_is_the_length_of_its_json() {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "A\"quoted\"\n", "Action": ["s3:GetObject", "é"], "Condition": {}}],
        });
        let text = serde_json::to_string(&policy).unwrap();
        assert!(text.len() > 90, "{text}");
        assert_eq!(policy_size(&policy), text.len());
    }

    /// FG039 measures the typed documents without building them; what it counts is the
    /// length of the JSON the CloudFormation template carries (the document as a `Value`),
    /// for every role of two golden cases: Pod Identity trust with permissions, one with a
    /// condition (`identity-pod-identity`), IRSA trust with permissions (`chart-conventions`).
    #[test]
    fn the_size_fg039_counts_is_that_of_the_rendered_document() {
        /// The length of the document's JSON as the template carries it (through a `Value`).
        fn rendered(document: &impl serde::Serialize) -> usize {
            serde_json::to_string(&serde_json::to_value(document).unwrap())
                .unwrap()
                .len()
        }
        let mut kinds = BTreeSet::new();
        for case in ["identity-pod-identity", "chart-conventions"] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let mut files = crate::load::files::MemoryFiles::from_dir(&root.join("tests/fixtures/base")).unwrap();
            files
                .add_dir(&root.join("tests/golden").join(case).join("input"))
                .unwrap();
            files.set_today(crate::clock::parse_date("2026-11-22").unwrap());
            let (sources, problems) = crate::load::load(&files, None, None);
            assert!(problems.is_empty(), "{problems:?}");
            let (plan, problems) = super::super::plan::plan(&sources);
            assert!(problems.is_empty(), "{problems:?}");
            let plan = plan.unwrap();
            for (account, roles) in aws_roles(&seats(&sources, &plan.placements)) {
                for role in roles.values() {
                    if let Some(trust) = aws_trust_policy(&account, role) {
                        assert_eq!(policy_size(&trust), rendered(&trust));
                        for s in &trust.statement {
                            kinds.insert(match s {
                                Trust::PodIdentity(_) => "pod identity",
                                Trust::Irsa(_) => "irsa",
                            });
                        }
                    }
                    if let Some(policy) = aws_permissions_policy(role) {
                        assert_eq!(policy_size(&policy), rendered(&policy));
                        kinds.insert("permissions");
                        if policy.statement.iter().any(|s| s.condition.is_some()) {
                            kinds.insert("condition");
                        }
                    }
                }
            }
        }
        assert_eq!(kinds.len(), 4, "{kinds:?}");
    }

    #[test]
    fn an_irsa_trust_over_iams_quota_is_refused() {
        let eks = eks();
        let copies: Vec<(String, String)> = (2..=7)
            .map(|n| {
                let id = format!("useast1-prod-{n:02}");
                let text = eks
                    .replace("useast1-prod-01", &id)
                    .replace("/id/", &format!("/id/{n:02}"));
                (format!("clusters/{id}.yaml"), text)
            })
            .collect();
        let mut overlay: Vec<(&str, &str)> = vec![
            ("profiles/identity/api.yaml", PROFILE),
            ("clusters/useast1-prod-01.yaml", &eks),
        ];
        overlay.extend(copies.iter().map(|(p, t)| (p.as_str(), t.as_str())));
        // Seven IRSA providers in one account: the role's trust outgrows 2,048 characters.
        let sources = crate::load::fixture::sources(&overlay);
        let (plan, problems) = super::super::plan::plan(&sources);
        let size: Vec<_> = problems.iter().filter(|d| d.code.id == "FG039").collect();
        assert_eq!(size.len(), 1, "{problems:?}");
        assert!(size[0].message.contains("trust policy"), "{}", size[0].message);
        let over = plan.expect("a plan");
        assert!(!over.iam_within_limits);
        // Four fit.
        let fit = crate::load::fixture::sources(&overlay[..5]);
        let (plan, problems) = super::super::plan::plan(&fit);
        assert!(problems.iter().all(|d| d.code.id != "FG039"), "{problems:?}");
        let plan = plan.expect("a plan");
        assert!(plan.iam_within_limits);
        // A plan told that its seats are known within the limits (the cache says so only of
        // seats it found within them, by their digest) does not measure them; one told
        // otherwise does.
        let (plan, problems) = super::super::plan::plan_with(&sources, &|_, _| true);
        assert!(problems.iter().all(|d| d.code.id != "FG039"), "{problems:?}");
        assert!(plan.expect("a plan").iam_within_limits);
        let (plan, problems) = super::super::plan::plan_with(&sources, &|_, _| false);
        assert_eq!(
            problems.iter().filter(|d| d.code.id == "FG039").count(),
            1,
            "{problems:?}"
        );
        assert!(!plan.expect("a plan").iam_within_limits);
    }

    #[test]
    fn one_resource_granted_from_two_resource_groups_is_refused() {
        // The staging cluster names the prod cluster's vault, which is in the prod group.
        let staging = crate::load::fixture::text("clusters/eastus-staging-01.yaml")
            .replace("keyVault: kv-eastus-staging-01", "keyVault: kv-eastus-prod-01");
        let problems = planned(&[("clusters/eastus-staging-01.yaml", &staging)]);
        let scope: Vec<_> = problems
            .iter()
            .filter(|d| d.message.contains("cannot be in both"))
            .collect();
        assert_eq!(scope.len(), 1, "{problems:?}");
        assert_eq!(scope[0].code.id, "FG031");
        // Azure names are case-insensitive: the same vault spelt in capitals is the same vault.
        let capitals = staging.replace("keyVault: kv-eastus-prod-01", "keyVault: KV-EastUS-Prod-01");
        let problems = planned(&[("clusters/eastus-staging-01.yaml", &capitals)]);
        let scope = problems.iter().filter(|d| d.message.contains("cannot be in both"));
        assert_eq!(scope.count(), 1, "{problems:?}");
        // And so are resource groups: a second prod cluster in the first one's group, spelt
        // in capitals, may grant on its vault.
        let second = crate::load::fixture::text("clusters/eastus-prod-01.yaml")
            .replace("eastus-prod-01", "eastus-prod-02")
            .replace("resourceGroup: rg-eastus-prod-02", "resourceGroup: RG-EastUS-Prod-01")
            .replace("keyVault: kv-eastus-prod-02", "keyVault: kv-eastus-prod-01")
            .replace("-000000000001/\n", "-000000000102/\n");
        let problems = planned(&[("clusters/eastus-prod-02.yaml", &second)]);
        assert!(
            problems.iter().all(|d| !d.message.contains("cannot be in both")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_slash_in_an_azure_target_is_refused() {
        let eks = eks();
        let profile = PROFILE.replace("- read-secret: api/db", "- publish-event: orders/created");
        let sources = crate::load::fixture::sources(&[
            ("profiles/identity/api.yaml", &profile),
            ("clusters/useast1-prod-01.yaml", &eks),
        ]);
        let (_, problems) = super::super::plan::plan(&sources);
        assert!(
            problems
                .iter()
                .any(|d| d.code.id == "FG031" && d.message.contains("has a `/`")),
            "{problems:?}"
        );
    }

    /// A `/` in a target that an S3 ARN puts in the bucket's name ends the name there: the
    /// grant would be on objects of another bucket. In an object key it is a prefix.
    #[test]
    fn a_slash_in_an_s3_bucket_s_target_is_refused() {
        let fleet = |resources: &str| {
            crate::load::fixture::text("fleet.yaml").replace(
                "permissions:\n",
                &format!("permissions:\n  read-object:\n    aws:\n      actions: [s3:GetObject, s3:ListBucket]\n      resources: {resources}\n"),
            )
        };
        // The FG031s (the word has no Azure mapping: FG037 on the AKS clusters).
        let planned_with = |fleet: &str, target: &str| -> Vec<Diagnostic> {
            let profile = PROFILE.replace("- read-secret: api/db", &format!("- read-object: {target}"));
            let problems = planned(&[("fleet.yaml", fleet), ("profiles/identity/api.yaml", &profile)]);
            problems.into_iter().filter(|d| d.code.id != "FG037").collect()
        };
        let bucket = fleet(r#"["arn:aws:s3:::{target}-{region}", "arn:aws:s3:::{target}-{region}/*"]"#);
        let problems = planned_with(&bucket, "catalog/images");
        let slash: Vec<_> = problems.iter().filter(|d| d.message.contains("has a `/`")).collect();
        assert_eq!(slash.len(), 1, "{problems:?}");
        assert_eq!(slash[0].code.id, "FG031", "{problems:?}");
        assert!(
            slash[0].message.contains("would end the S3 bucket's name in `arn:aws:s3:::{target}-{region}`: the grant would be on objects of a bucket named `catalog`"),
            "{}",
            slash[0].message
        );
        assert!(planned_with(&bucket, "catalog-images").is_empty());
        // In the object key, a `/` is a prefix.
        let key = fleet(r#"["arn:aws:s3:::catalog-{region}/{target}/*"]"#);
        let problems = planned_with(&key, "catalog/images");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn names_the_clouds_refuse_are_caught() {
        let c = "Microsoft.Storage/storageAccounts/st/blobServices/default/containers/";
        assert_eq!(azure_name_problem(&format!("{c}reports")), None);
        assert!(azure_name_problem(&format!("{c}Reports")).is_some());
        assert!(azure_name_problem(&format!("{c}ab")).is_some());
        assert_eq!(azure_name_problem("Microsoft.KeyVault/vaults/kv/secrets/api-db"), None);
        assert!(azure_name_problem("Microsoft.KeyVault/vaults/kv/secrets/api_db").is_some());
        assert_eq!(
            azure_name_problem("Microsoft.ServiceBus/namespaces/sb/topics/orders.created"),
            None
        );
        assert_eq!(aws_name_problem("arn:aws:s3:::reports-eu-west-1/*"), None);
        assert!(aws_name_problem("arn:aws:s3:::Reports-eu-west-1").is_some());
        assert_eq!(aws_name_problem("arn:aws:sns:eu-west-1:1:orders-created"), None);
        assert!(aws_name_problem("arn:aws:sqs:eu-west-1:1:orders.created").is_some());
        assert_eq!(
            aws_name_problem("arn:aws:secretsmanager:eu-west-1:1:secret:a/b-??????"),
            None
        );
        assert_eq!(aws_name_problem("arn:aws:kms:eu-west-1:1:key/*"), None);
    }
}
