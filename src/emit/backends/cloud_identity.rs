//! The cloud identity backend: what each cloud must hold for the clusters' service accounts
//! to act as the apps' identities, from the federations and grants
//! [`crate::resolve::cloud_identity`] resolves for every placement (not drained, not
//! revoked):
//!
//! - `_identity/azure/<subscription>/<resourceGroup>.json`, an ARM template (deployed as a
//!   deployment stack, which deletes what a newer file drops) per resource group: a federated identity credential
//!   (`Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials`) on
//!   each managed identity of the group for each (cluster OIDC issuer, service account)
//!   its apps run as, chained by `dependsOn` (Entra refuses concurrent writes of one
//!   identity's credentials); and a role assignment for each (identity, role, scope) on the
//!   group's resources, `principalType: ServicePrincipal`, its name a `guid()` of the three.
//! - `_identity/aws/<account>/iam.json`, a CloudFormation template (IAM is global: deploy
//!   once per account, `CAPABILITY_NAMED_IAM`): each app role of the account, trusting EKS
//!   Pod Identity (`pods.eks.amazonaws.com`, only for the session tags of the account's
//!   clusters, the apps' namespaces and service accounts) and each IRSA
//!   cluster's OIDC provider for the apps' service accounts, with an inline policy of the
//!   permissions' statements (one per capability and target, the ARNs of every region).
//! - `_identity/aws/<account>/<region>.json`: the region's `AWS::EKS::PodIdentityAssociation`s.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{FleetBackend, FleetContext, pascal};
use crate::incremental::Key;
use crate::layout::IdentityFile;
use crate::model::profiles::IdentityProfile;
use crate::resolve::cloud_identity::{self, AZURE_AUDIENCE, AzureIdentityId, CloudGrant, Federation, Seat};

pub struct CloudIdentity;

/// (subscription, resource group), or (account, region): where a template deploys.
type Target = (String, String);
/// A template's resources (or resources by logical id) and the sources they came from.
type Gathered<R> = BTreeMap<Target, (R, BTreeSet<String>)>;
/// (scope, role definition id, identity), lowercased → the assignment.
type Assignments = BTreeMap<(String, String, AzureIdentityId), Assignment>;

/// A role assignment: its role's name, why (`<word> <target>`s), and the spellings its
/// (subscription, resource group, scope, identity) came in.
#[derive(Default)]
struct Assignment {
    role: String,
    why: BTreeSet<String>,
    spellings: BTreeSet<(String, String, String, AzureIdentityId)>,
}

/// Azure compares resource group, subscription and resource names without case: a group
/// spelt `RG-Fleet` in one file and `rg-fleet` in another is one group, one template file
/// (named in lowercase) and one deployment stack.
fn azure_target(subscription: &str, group: &str) -> Target {
    (subscription.to_lowercase(), group.to_lowercase())
}

fn lowercase_identity(identity: &AzureIdentityId) -> AzureIdentityId {
    AzureIdentityId {
        subscription_id: identity.subscription_id.to_lowercase(),
        resource_group: identity.resource_group.to_lowercase(),
        name: identity.name.to_lowercase(),
    }
}

/// The api-versions written.
const MANAGED_IDENTITY_API: &str = "2024-11-30";
const ROLE_ASSIGNMENT_API: &str = "2022-04-01";

/// The region of every account's IAM stack (`iam.json`).
const IAM_STACK_REGION: &str = "us-east-1";

const GENERATED: &str = "Rendered by fleetgen; do not edit. Change the sources and run `fleetgen render`.";

impl FleetBackend for CloudIdentity {
    fn render(&self, ctx: &FleetContext) -> Vec<(String, String)> {
        let view = View::of(ctx);
        let mut files = azure(&view);
        files.extend(aws(&view));
        files
    }

    /// The files are made from the [`View`] alone: its seats, what it reads of the
    /// registry's clusters, and inputs the fleet-wide key covers. A change that leaves every
    /// seat and cluster as it was (a version, replicas, values) leaves the files as they were.
    fn key(&self, ctx: &FleetContext, global: &Key) -> Option<Key> {
        let plan = ctx.plan;
        let seats = crate::incremental::key::seats(ctx.sources, &plan.placements, &plan.seats_digest);
        Some(Key::hashed(b"cloud-identity", global, &(seats, registered(ctx))))
    }
}

/// Everything this backend's files are made from: each placement's [`Seat`] (what it
/// reads of a placement) and fleet-wide inputs (the identity profiles, fleet.yaml's path).
/// The functions below see nothing else.
struct View<'a> {
    seats: Vec<Seat<'a>>,
    /// Every cluster of the registry, whether or not an app lands on it today.
    clusters: Vec<Registered<'a>>,
    /// The identity profiles with their files' paths, in load order.
    profiles: Vec<(&'a IdentityProfile, &'a str)>,
    /// fleet.yaml's path: the switches that may have emptied a file are there.
    fleet: Option<&'a str>,
    /// fleet.yaml's `cloudFormation`: the bucket a large template's deploy command names.
    cloud_formation: Option<&'a crate::model::fleet::CloudFormation>,
}

/// What the files read of a cluster of the registry: where an app with an identity that
/// lands on it would be federated and granted.
#[derive(Hash)]
struct Registered<'a> {
    provider: crate::model::Provider,
    identity_mode: crate::model::common::IdentityMode,
    /// The cluster's (subscription, resource group), on Azure.
    azure: Option<(&'a str, &'a str)>,
    /// The cluster's account, on AWS.
    aws_account: Option<&'a str>,
    region: &'a str,
    file: &'a str,
}

/// What the files read of every cluster of the registry.
fn registered<'a>(ctx: &FleetContext<'a>) -> Vec<Registered<'a>> {
    let files = &ctx.sources.files;
    (ctx.plan.clusters.iter())
        .map(|c| {
            let v = &c.doc.value;
            Registered {
                provider: v.provider,
                identity_mode: v.identity_mode,
                azure: (v.azure.as_ref()).map(|z| (z.subscription_id.as_str(), z.resource_group.as_str())),
                aws_account: v.aws.as_ref().map(|a| a.account_id.as_str()),
                region: &v.region,
                file: files.get(c.doc.file).path.as_str(),
            }
        })
        .collect()
}

impl<'a> View<'a> {
    fn of(ctx: &FleetContext<'a>) -> View<'a> {
        let files = &ctx.sources.files;
        View {
            seats: cloud_identity::seats(ctx.sources, &ctx.plan.placements),
            clusters: registered(ctx),
            profiles: ctx
                .sources
                .identity_profiles
                .iter()
                .map(|d| (&d.value, files.get(d.file).path.as_str()))
                .collect(),
            fleet: ctx.sources.fleet.as_ref().map(|f| files.get(f.file).path.as_str()),
            cloud_formation: (ctx.sources.fleet.as_ref()).and_then(|f| f.value.cloud_formation.as_ref()),
        }
    }

    /// The identity profile `name` (the first of that name) and its path.
    fn profile(&self, name: &str) -> Option<(&'a IdentityProfile, &'a str)> {
        self.profiles.iter().find(|(p, _)| p.name.as_str() == name).copied()
    }

    fn active(&self) -> impl Iterator<Item = &Seat<'a>> {
        self.seats.iter().filter(|p| p.active)
    }
}

/// The source files of a placement's identity: its app, cluster and identity profile.
fn sources_of(view: &View, p: &Seat, into: &mut BTreeSet<String>) {
    into.insert(p.app_file.to_string());
    into.insert(p.cluster_file.to_string());
    if let Some((_, path)) = p.profile.and_then(|name| view.profile(name)) {
        into.insert(path.to_string());
    }
}

/// A federated credential's name: `<cluster>_<namespace>_<serviceaccount>` (underscores are
/// in no DNS label, so the parts cannot run together), at most 120 characters.
fn credential_name(cluster: &str, namespace: &str, app: &str) -> String {
    let name = format!("{cluster}_{namespace}_{app}");
    if name.len() <= 120 {
        name
    } else {
        format!("{}-{:08x}", &name[..111], crate::emit::fnv1a64(&name) as u32)
    }
}

/// Where a placement's identity deploys if no switch takes it away: (the identity's
/// resource group, the cluster's resource group) on Azure, (account, Pod Identity region)
/// on AWS. Every one gets its file even when revocations, drains or a profile without
/// permissions leave it empty, so that deploying the file takes the grants away (an empty
/// stack rather than a missing file). So does every cluster's group, account and Pod
/// Identity region of the registry where no app with an identity lands today, while an
/// identity profile names a managed identity (Azure) or an IAM role (AWS): an app moving
/// off the last cluster of one (to another region) leaves its file there, emptied, and not
/// a stack no render deploys again, which would keep the grants.
struct Targets {
    azure: BTreeMap<Target, BTreeSet<String>>,
    accounts: BTreeMap<String, BTreeSet<String>>,
    regions: BTreeMap<Target, BTreeSet<String>>,
}

fn targets(view: &View) -> Targets {
    use crate::model::Provider;
    use crate::model::common::IdentityMode;
    let mut t = Targets {
        azure: BTreeMap::new(),
        accounts: BTreeMap::new(),
        regions: BTreeMap::new(),
    };
    // The switches that may have emptied a file are in fleet.yaml.
    for p in &view.seats {
        let Some((profile, _)) = p.profile.and_then(|name| view.profile(name)) else {
            continue;
        };
        let keep = |set: &mut BTreeSet<String>| {
            sources_of(view, p, set);
            set.extend(view.fleet.map(str::to_string));
        };
        match p.provider {
            Provider::Azure => {
                let identity = (profile.azure_in(p.environment).0)
                    .and_then(|z| Some((z.subscription_id.clone()?, z.resource_group.clone()?)));
                if p.identity_mode == IdentityMode::WorkloadIdentity
                    && let Some(identity) = identity.clone()
                {
                    keep(t.azure.entry(azure_target(&identity.0, &identity.1)).or_default());
                }
                // The cluster's group whatever the profile's permissions today: one it
                // granted on yesterday keeps its file, emptied, which revokes the grant.
                if let (Some(_), Some((subscription, group))) = (identity, p.azure) {
                    keep(t.azure.entry(azure_target(subscription, group)).or_default());
                }
            }
            Provider::Aws => {
                if let (Some(_), Some(account)) = (profile.aws_in(p.environment).0, p.aws_account) {
                    keep(t.accounts.entry(account.to_string()).or_default());
                    if p.identity_mode == IdentityMode::EksPodIdentity {
                        keep(
                            t.regions
                                .entry((account.to_string(), p.region.to_string()))
                                .or_default(),
                        );
                    }
                }
            }
        }
    }
    // The registry's clusters, while any profile could give an app an identity there.
    let (mut azure, mut aws) = (false, false);
    for (profile, _) in &view.profiles {
        let own = profile.environments.values();
        azure |= (profile.azure.iter().chain(own.clone().filter_map(|e| e.azure.as_ref())))
            .any(|z| z.subscription_id.is_some() && z.resource_group.is_some());
        aws |= profile.aws.is_some() || own.clone().any(|e| e.aws.is_some());
    }
    for c in &view.clusters {
        let keep = |set: &mut BTreeSet<String>| {
            set.insert(c.file.to_string());
            set.extend(view.fleet.map(str::to_string));
        };
        match (c.provider, c.azure, c.aws_account) {
            (Provider::Azure, Some((subscription, group)), _) if azure => {
                keep(t.azure.entry(azure_target(subscription, group)).or_default());
            }
            (Provider::Aws, _, Some(account)) if aws => {
                keep(t.accounts.entry(account.to_string()).or_default());
                if c.identity_mode == IdentityMode::EksPodIdentity {
                    keep(
                        t.regions
                            .entry((account.to_string(), c.region.to_string()))
                            .or_default(),
                    );
                }
            }
            _ => {}
        }
    }
    t
}

/// Whether `name` is in canonical kebab form: lowercase alphanumeric segments joined by
/// single `-`s.
fn canonical(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// A CloudFormation logical id made of names alone, never of the other names of the
/// template: a logical id that changes is a replacement, and replacing an IAM role or Pod
/// Identity association of a fixed name fails (`EntityAlreadyExists`). Names in canonical
/// form get their PascalCase (`fleet-checkout-api` → `FleetCheckoutApi`); any other gets it
/// and a hash of the exact names (`fleet+checkout-api` → `FleetCheckoutApi<hash>`), since
/// PascalCase drops what told it apart.
fn logical_id(names: &[&str], suffix: &str) -> String {
    if names.iter().all(|n| canonical(n)) {
        format!("{}{suffix}", pascal(&names.join(" ")))
    } else {
        hashed_id(names, suffix)
    }
}

/// [`logical_id`] with the hash of the exact names.
fn hashed_id(names: &[&str], suffix: &str) -> String {
    let base = pascal(&names.join(" "));
    format!("{base}{suffix}{:08X}", crate::emit::fnv1a64(&names.join(" ")) as u32)
}

/// A name in canonical form whose every word starts with a letter: PascalCase keeps such
/// names apart from every other (`web-one` → `WebOne`, `webone` → `Webone`), where a word led
/// by a digit does not (`web-1` and `web1` are both `Web1`).
fn one_to_one(name: &str) -> bool {
    canonical(name) && name.split('-').all(|w| w.starts_with(|c: char| c.is_ascii_lowercase()))
}

/// A CloudFormation template needs a resource: an empty stack keeps a placeholder.
fn placeholder(resources: &mut Map<String, Value>) {
    if resources.is_empty() {
        resources.insert(
            "NoResources".into(),
            json!({"Type": "AWS::CloudFormation::WaitConditionHandle", "Properties": {}}),
        );
    }
}

fn azure(view: &View) -> Vec<(String, String)> {
    // (subscription, resource group) → resources, and the sources they came from.
    let mut groups: Gathered<Vec<Value>> = targets(view)
        .azure
        .into_iter()
        .map(|(t, sources)| (t, (Vec::new(), sources)))
        .collect();
    if let Some(fleet_path) = view.fleet {
        let credentials = cloud_identity::azure_credentials(&view.seats);
        for (identity, pairs) in &credentials {
            let (resources, sources) = groups
                .entry(azure_target(&identity.subscription_id, &identity.resource_group))
                .or_default();
            let mut previous: Option<String> = None;
            for ((issuer, subject), p) in pairs {
                sources_of(view, p, sources);
                let name = credential_name(p.cluster_id, p.namespace, p.app_name);
                let mut resource = json!({
                    "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
                    "apiVersion": MANAGED_IDENTITY_API,
                    // `parent/child`, as an expression (as Bicep writes it): Azure's
                    // schema gives the name the child segment's pattern alone.
                    "name": format!("[format('{{0}}/{{1}}', '{}', '{name}')]", identity.name),
                    "properties": {
                        "issuer": issuer,
                        "subject": subject,
                        "audiences": [AZURE_AUDIENCE],
                    },
                });
                if let Some(prev) = &previous {
                    resource["dependsOn"] = json!([format!(
                        "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials', '{}', '{prev}')]",
                        identity.name
                    )]);
                }
                previous = Some(name);
                resources.push(resource);
            }
        }
        // Role assignments: (subscription, group) → (scope, role, identity) → apps.
        let mut assignments: BTreeMap<Target, Assignments> = BTreeMap::new();
        for p in view.active() {
            for g in p.grants {
                if let CloudGrant::Azure {
                    identity,
                    role,
                    role_definition_id,
                    subscription_id,
                    resource_group,
                    scope,
                } = &g.cloud
                {
                    // One assignment per (scope, role, identity) as Azure tells them apart:
                    // a second spelling of it would be refused (`RoleAssignmentExists`).
                    let target = azure_target(subscription_id, resource_group);
                    let entry = assignments
                        .entry(target.clone())
                        .or_default()
                        .entry((
                            scope.to_lowercase(),
                            role_definition_id.clone(),
                            lowercase_identity(identity),
                        ))
                        .or_default();
                    entry.role.clone_from(role);
                    entry.why.insert(format!("{} {}", g.capability, g.target));
                    entry.spellings.insert((
                        subscription_id.clone(),
                        resource_group.clone(),
                        scope.clone(),
                        identity.clone(),
                    ));
                    let sources = &mut groups.entry(target).or_default().1;
                    sources_of(view, p, sources);
                    sources.insert(fleet_path.to_string());
                }
            }
        }
        for (target, roles) in assignments {
            let resources = &mut groups.entry(target).or_default().0;
            for ((_, role_id, _), a) in roles {
                let Assignment { role, why, spellings } = a;
                // The name is a guid of the scope and identity as written, so that it stays
                // what earlier renders deployed. Spelt in more than one way (differing in
                // case alone), the last spelling in byte order is written: the one with
                // lowercase letters where they differ, so a scope spelt in lowercase keeps
                // its name when another cluster spells it in capitals.
                let (subscription, group, scope, identity) = spellings.into_iter().next_back().unwrap_or_default();
                let identity_id = identity.resource_id();
                let full_scope = format!("/subscriptions/{subscription}/resourceGroups/{group}/providers/{scope}");
                resources.push(json!({
                    "type": "Microsoft.Authorization/roleAssignments",
                    "apiVersion": ROLE_ASSIGNMENT_API,
                    "name": format!("[guid('{full_scope}', '{identity_id}', '{role_id}')]"),
                    "scope": scope,
                    "properties": {
                        "roleDefinitionId": format!("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{role_id}')]"),
                        "principalId": format!("[reference('{identity_id}', '{MANAGED_IDENTITY_API}').principalId]"),
                        "principalType": "ServicePrincipal",
                        "description": format!("{role} for {}: {}", identity.name, why.into_iter().collect::<Vec<_>>().join(", ")),
                    },
                }));
            }
        }
    }
    groups
        .into_iter()
        .map(|((subscription_id, resource_group), (resources, sources))| {
            let path = IdentityFile::Azure {
                subscription_id: &subscription_id,
                resource_group: &resource_group,
            }
            .path();
            let template = json!({
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "metadata": {
                    "generatedBy": "fleetgen; do not edit. Change the sources and run `fleetgen render`.",
                    "sources": sources.into_iter().collect::<Vec<_>>(),
                    "subscriptionId": subscription_id,
                    "resourceGroup": resource_group,
                    // A deployment stack deletes what a later version of the file no longer
                    // lists (a plain deployment would leave revoked grants in place).
                    "deploy": format!(
                        "az stack group create --name fleetgen-identity --subscription {subscription_id} --resource-group {resource_group} --template-file {path} {flags}",
                        flags = super::STACK_FLAGS,
                    ),
                },
                "resources": resources,
            });
            (path, super::json_text(&template))
        })
        .collect()
}

fn aws(view: &View) -> Vec<(String, String)> {
    // (account, region) → associations; account → the sources of its roles.
    let mut associations: Gathered<Map<String, Value>> = BTreeMap::new();
    let mut account_sources: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in view.active() {
        let mut account = None;
        if let Some(Federation::PodIdentity {
            account_id,
            region,
            cluster_name,
            role_name,
        }) = p.federation
        {
            let (resources, sources) = associations.entry((account_id.clone(), region.clone())).or_default();
            sources_of(view, p, sources);
            let parts = format!("{} {} {}", p.cluster_id, p.namespace, p.app_name);
            let mut id = logical_id(&[p.cluster_id, p.namespace, p.app_name], "");
            // Two names in canonical form may still meet (`web-1` and `web1`): the second one
            // (in plan order) gets a hash of its parts.
            if resources.contains_key(&id) {
                id = format!("{id}{:08X}", crate::emit::fnv1a64(&parts) as u32);
            }
            resources.insert(
                id,
                json!({
                    "Type": "AWS::EKS::PodIdentityAssociation",
                    "Properties": {
                        "ClusterName": cluster_name,
                        "Namespace": p.namespace,
                        "ServiceAccount": p.app_name,
                        "RoleArn": format!("arn:aws:iam::{account_id}:role/{role_name}"),
                    },
                }),
            );
        }
        if let Some(Federation::PodIdentity { account_id, .. } | Federation::Irsa { account_id, .. }) = p.federation {
            account = Some(account_id);
        }
        let sources = |account: &String, with_fleet: bool, set: &mut BTreeMap<String, BTreeSet<String>>| {
            let sources = set.entry(account.clone()).or_default();
            if with_fleet {
                sources.extend(view.fleet.map(str::to_string));
            }
            sources_of(view, p, sources);
        };
        if let Some(account) = account {
            sources(account, false, &mut account_sources);
        }
        for g in p.grants {
            if let CloudGrant::Aws { account_id, .. } = &g.cloud {
                sources(account_id, true, &mut account_sources);
            }
        }
    }
    let targets = targets(view);
    for (region, sources) in targets.regions {
        associations.entry(region).or_default().1.extend(sources);
    }
    let mut roles_of = cloud_identity::aws_roles(&view.seats);
    for (account, sources) in targets.accounts {
        roles_of.entry(account.clone()).or_default();
        account_sources.entry(account).or_default().extend(sources);
    }
    let mut files = Vec::new();
    for (account, roles) in roles_of {
        let sources = account_sources.remove(&account).unwrap_or_default();
        let path = IdentityFile::AwsRoles { account_id: &account }.path();
        let mut resources = Map::new();
        for (name, role) in roles {
            let Some(trust) = cloud_identity::aws_trust_policy(&account, &role) else {
                // Permissions of a role no cluster of the account assumes (revoked or
                // drained everywhere): the role is left out, and the stack deletes it.
                continue;
            };
            let permissions = cloud_identity::aws_permissions_policy(&role);
            let mut properties = json!({
                "RoleName": name,
                "Description": format!(
                    "App role of identity profile {}. {GENERATED}",
                    role.profiles.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                "AssumeRolePolicyDocument": trust,
            });
            if let Some(permissions) = permissions {
                properties["Policies"] = json!([{
                    "PolicyName": "fleetgen-permissions",
                    "PolicyDocument": permissions,
                }]);
            }
            // An IAM role's name is fixed, so a new logical id for it is a replacement IAM
            // refuses (`EntityAlreadyExists`): a name PascalCase could meet gets a hash,
            // whatever other roles there are.
            let mut id = if one_to_one(&name) {
                logical_id(&[&name], "Role")
            } else {
                hashed_id(&[&name], "Role")
            };
            if resources.contains_key(&id) {
                id = format!("{id}{:08X}", crate::emit::fnv1a64(&name) as u32);
            }
            resources.insert(id, json!({"Type": "AWS::IAM::Role", "Properties": properties}));
        }
        placeholder(&mut resources);
        let stack = format!("fleetgen-identity-{account}");
        let template = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": format!("The app roles of AWS account {account}: trust and permissions. {GENERATED}"),
            "Metadata": {
                "fleetgen": {
                    "sources": sources.into_iter().collect::<Vec<_>>(),
                    "accountId": account,
                    // IAM is global but a stack is regional: one region for every operator,
                    // or two stacks would each own the account's roles.
                    "deploy": format!("aws cloudformation deploy --region {IAM_STACK_REGION} --stack-name {stack} --template-file {path} --capabilities CAPABILITY_NAMED_IAM"),
                },
            },
            "Resources": resources,
        });
        files.push((
            path,
            super::cloudformation_text(template, view.cloud_formation, Some(&account), Some(IAM_STACK_REGION)),
        ));
    }
    for ((account, region), (mut resources, sources)) in associations {
        placeholder(&mut resources);
        let path = IdentityFile::AwsAssociations {
            account_id: &account,
            region: &region,
        }
        .path();
        let stack = format!("fleetgen-identity-{region}");
        let template = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": format!(
                "EKS Pod Identity associations of AWS account {account} in {region}; the roles are in iam.json. {GENERATED}"
            ),
            "Metadata": {
                "fleetgen": {
                    "sources": sources.into_iter().collect::<Vec<_>>(),
                    "accountId": account,
                    "region": region,
                    "deploy": format!("aws cloudformation deploy --region {region} --stack-name {stack} --template-file {path}"),
                },
            },
            "Resources": resources,
        });
        files.push((
            path,
            super::cloudformation_text(template, view.cloud_formation, Some(&account), Some(&region)),
        ));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;

    #[test]
    fn roles_whose_names_meet_once_pascal_cased_keep_their_own_logical_ids() {
        // `web.api` and `web-api` both read `WebApi`.
        let web = fixture::text("apps/web/app.yaml").replace(
            "observability:",
            "identity:\n  cloudPermissionsProfile: web\nobservability:",
        );
        let web_profile = "name: web\naws:\n  roleName: base.api\n";
        let api_profile =
            "name: api\nazure:\n  clientId: 00000000-0000-0000-0000-0000000000c1\naws:\n  roleName: base-api\n";
        let sources = fixture::sources(&[
            ("apps/web/app.yaml", &web),
            ("profiles/identity/web.yaml", web_profile),
            ("profiles/identity/api.yaml", api_profile),
        ]);
        let files = rendered(&sources);
        let (_, text) = files
            .iter()
            .find(|(path, _)| path.ends_with("/iam.json"))
            .expect("an IAM template");
        let template: Value = serde_json::from_str(text).unwrap();
        let names: BTreeSet<&str> = template["Resources"]
            .as_object()
            .unwrap()
            .values()
            .map(|r| r["Properties"]["RoleName"].as_str().unwrap())
            .collect();
        assert_eq!(names, BTreeSet::from(["base-api", "base.api"]));
    }

    /// The logical ids of an account's IAM roles, by role name.
    /// The cloud identity files of `sources`, every cluster selected.
    pub(super) fn rendered(sources: &crate::load::Sources) -> Vec<(String, String)> {
        let (plan, problems) = crate::resolve::plan::plan(sources);
        let plan = plan.unwrap_or_else(|| panic!("{problems:?}"));
        let ctx = FleetContext {
            sources,
            plan: &plan,
            selected: &|_| true,
        };
        CloudIdentity.render(&ctx)
    }

    fn role_ids(web_role: &str) -> BTreeMap<String, String> {
        let web = fixture::text("apps/web/app.yaml").replace(
            "observability:",
            "identity:\n  cloudPermissionsProfile: web\nobservability:",
        );
        let web_profile = format!("name: web\naws:\n  roleName: {web_role}\n");
        let sources = fixture::sources(&[
            ("apps/web/app.yaml", &web),
            ("profiles/identity/web.yaml", &web_profile),
        ]);
        let files = rendered(&sources);
        let (_, text) = files.iter().find(|(path, _)| path.ends_with("/iam.json")).unwrap();
        let template: Value = serde_json::from_str(text).unwrap();
        (template["Resources"].as_object().unwrap().iter())
            .map(|(id, r)| (r["Properties"]["RoleName"].as_str().unwrap().to_string(), id.clone()))
            .collect()
    }

    #[test]
    fn a_role_s_logical_id_does_not_depend_on_the_other_roles() {
        // `base+api` sorts before `base-api` and reads `BaseApi` too: the canonical name keeps
        // its plain id (a new id would replace the role, which IAM refuses by name).
        let ids = role_ids("base+api");
        assert_eq!(ids["base-api"], "BaseApiRole");
        assert!(
            ids["base+api"].starts_with("BaseApiRole") && ids["base+api"].len() == 19,
            "{ids:?}"
        );
        assert_eq!(role_ids("web-api")["base-api"], "BaseApiRole");
        assert_eq!(role_ids("web-api")["web-api"], "WebApiRole");
        // Any name that is not in canonical form gets a hash, whatever else is there.
        assert_eq!(role_ids("web.api")["web.api"], ids_of_alone("web.api"));
        // `web-1` and `web1` are both `Web1` in PascalCase: a word led by a digit makes a
        // role's id hashed, so `web1` keeps `Web1Role` whether `web-1` comes or not.
        assert_eq!(role_ids("web1")["web1"], "Web1Role");
        let led_by_digit = role_ids("web-1");
        assert!(
            led_by_digit["web-1"].starts_with("Web1Role") && led_by_digit["web-1"].len() == 16,
            "{led_by_digit:?}"
        );
    }

    fn ids_of_alone(name: &str) -> String {
        logical_id(&[name], "Role")
    }

    #[test]
    fn canonical_names_are_lowercase_segments_joined_by_single_dashes() {
        for name in ["fleet-checkout-api", "a", "aws-useast1-prod-01"] {
            assert!(canonical(name), "{name}");
        }
        for name in ["", "Fleet-Api", "a--b", "-a", "a-", "a.b", "a+b", "a_b"] {
            assert!(!canonical(name), "{name}");
        }
        assert_eq!(
            logical_id(&["aws-useast1-prod-01", "checkout", "checkout-api"], ""),
            "AwsUseast1Prod01CheckoutCheckoutApi"
        );
    }

    #[test]
    fn credential_names_fit_entra_and_stay_distinct() {
        assert_eq!(
            credential_name("eastus-prod-01", "api", "api"),
            "eastus-prod-01_api_api"
        );
        let cluster = "c".repeat(63);
        let a = credential_name(&cluster, &"n".repeat(63), "api");
        let b = credential_name(&cluster, &format!("{}m", "n".repeat(62)), "api");
        for name in [&a, &b] {
            assert!(name.len() <= 120 && name.len() > 100, "{name}");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{name}"
            );
        }
        assert_ne!(a, b);
    }

    #[test]
    fn a_drained_placement_loses_its_credential_and_its_group_keeps_an_empty_template() {
        let profile = "name: api\nazure:\n  clientId: 00000000-0000-0000-0000-0000000000c1\n  name: id-api\n  resourceGroup: rg-identities\n  subscriptionId: 00000000-0000-0000-0000-000000000001\naws:\n  roleName: base-api\nrequiredPermissions:\n  - read-secret: api/db\n";
        let eks = fixture::text("clusters/useast1-prod-01.yaml") + "  secretsManager: true\n";
        let api = fixture::text("apps/api/app.yaml")
            + "gitops:\n  drain:\n    - cluster: eastus-staging-01\n      reason: \"INC-1: staging drained\"\n";
        let sources = fixture::sources(&[
            ("profiles/identity/api.yaml", profile),
            ("clusters/useast1-prod-01.yaml", &eks),
            ("apps/api/app.yaml", &api),
        ]);
        let files: BTreeMap<String, Value> = rendered(&sources)
            .into_iter()
            .map(|(path, text)| (path, serde_json::from_str(&text).unwrap()))
            .collect();
        let identities = &files["_identity/azure/00000000-0000-0000-0000-000000000001/rg-identities.json"];
        let subjects: Vec<&str> = identities["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(subjects.len(), 1, "{subjects:?}");
        assert!(subjects[0].contains("eastus-prod-01"), "{subjects:?}");
        // The staging group's file stays, empty: deploying it removes the grant.
        let staging = &files["_identity/azure/00000000-0000-0000-0000-000000000002/rg-eastus-staging-01.json"];
        assert_eq!(staging["resources"], json!([]));
        assert!(
            staging["metadata"]["deploy"]
                .as_str()
                .unwrap()
                .contains("--action-on-unmanage deleteResources")
        );
    }
}

#[cfg(test)]
mod case_tests {
    use super::tests::rendered;
    use super::*;
    use crate::load::fixture;

    const PROFILE: &str = "name: api\nazure:\n  clientId: 00000000-0000-0000-0000-0000000000c1\n  name: id-api\n  resourceGroup: RG-Identities\n  subscriptionId: 00000000-0000-0000-0000-000000000001\naws:\n  roleName: base-api\nrequiredPermissions:\n  - read-secret: api/db\n";

    fn render(overlay: &[(&str, &str)]) -> BTreeMap<String, Value> {
        let eks = fixture::text("clusters/useast1-prod-01.yaml") + "  secretsManager: true\n";
        let mut all = vec![("clusters/useast1-prod-01.yaml", eks.as_str())];
        all.extend_from_slice(overlay);
        let sources = fixture::sources(&all);
        rendered(&sources)
            .into_iter()
            .map(|(path, text)| (path, serde_json::from_str(&text).unwrap()))
            .collect()
    }

    /// A second prod cluster in the first one's resource group, with an issuer of its own.
    fn second_prod(edit: impl Fn(String) -> String) -> String {
        let text = fixture::text("clusters/eastus-prod-01.yaml")
            .replace("eastus-prod-01", "eastus-prod-02")
            .replace("resourceGroup: rg-eastus-prod-02", "resourceGroup: rg-eastus-prod-01")
            .replace("keyVault: kv-eastus-prod-02", "keyVault: kv-eastus-prod-01")
            .replace("-000000000001/\n", "-000000000102/\n");
        edit(text)
    }

    #[test]
    fn a_cluster_group_keeps_its_file_when_the_last_permission_goes() {
        let path = "_identity/azure/00000000-0000-0000-0000-000000000001/rg-eastus-prod-01.json";
        let files = render(&[("profiles/identity/api.yaml", PROFILE)]);
        assert_eq!(assignments(&files[path]).len(), 1);
        let none = PROFILE.replace("requiredPermissions:\n  - read-secret: api/db\n", "");
        let files = render(&[("profiles/identity/api.yaml", &none)]);
        assert_eq!(files[path]["resources"], json!([]));
    }

    /// An app moving off the last cluster of a group (account) where an app had an identity
    /// leaves the group's (account's) file, emptied, so that deploying it revokes the grants;
    /// without a profile that names a managed identity (an IAM role), no cluster's group
    /// (account) gets a file.
    #[test]
    fn a_group_or_account_an_app_leaves_keeps_its_file_emptied() {
        let group = "_identity/azure/00000000-0000-0000-0000-000000000001/rg-eastus-prod-01.json";
        let account = "_identity/aws/111111111111/iam.json";
        let files = render(&[("profiles/identity/api.yaml", PROFILE)]);
        assert_eq!(assignments(&files[group]).len(), 1);
        assert_eq!(files[account]["Resources"].as_object().unwrap().len(), 1);
        let api = fixture::text("apps/api/app.yaml").replace("[staging, prod]", "[prod]");
        for (regions, left) in [("[aws:us-east-1]", group), ("[azure:eastus]", account)] {
            let moved = api.replace("[azure:eastus, aws:us-east-1]", regions);
            let files = render(&[("profiles/identity/api.yaml", PROFILE), ("apps/api/app.yaml", &moved)]);
            let kept = &files[left];
            match left == group {
                true => assert_eq!(kept["resources"], json!([]), "{kept:#}"),
                false => assert_eq!(
                    kept["Resources"],
                    json!({"NoResources": {"Type": "AWS::CloudFormation::WaitConditionHandle", "Properties": {}}}),
                    "{kept:#}"
                ),
            }
        }
        // The base profile names no managed identity: a move to AWS leaves no Azure file.
        let moved = api.replace("[azure:eastus, aws:us-east-1]", "[aws:us-east-1]");
        let files = render(&[("apps/api/app.yaml", &moved)]);
        assert!(
            files.keys().all(|p| !p.starts_with("_identity/azure/")),
            "{:?}",
            files.keys()
        );
    }

    #[test]
    fn one_resource_group_spelt_two_ways_is_one_file_in_lowercase() {
        // Staging's identity is in the same group as prod's, spelt in lowercase.
        let profile = format!(
            "{PROFILE}environments:\n  staging:\n    azure:\n      clientId: 00000000-0000-0000-0000-0000000000c3\n      name: id-api-staging\n      resourceGroup: rg-identities\n      subscriptionId: 00000000-0000-0000-0000-000000000001\n"
        );
        let files = render(&[("profiles/identity/api.yaml", &profile)]);
        let groups: Vec<&String> = files.keys().filter(|p| p.contains("identities")).collect();
        assert_eq!(
            groups,
            ["_identity/azure/00000000-0000-0000-0000-000000000001/rg-identities.json"]
        );
        let file = &files[groups[0]];
        assert_eq!(file["resources"].as_array().unwrap().len(), 2, "{file:#}");
        assert_eq!(file["metadata"]["resourceGroup"], "rg-identities");
        let deploy = file["metadata"]["deploy"].as_str().unwrap();
        assert!(deploy.contains("--resource-group rg-identities --template-file _identity/azure/00000000-0000-0000-0000-000000000001/rg-identities.json"), "{deploy}");
    }

    /// Two profiles naming one managed identity in other capitals: one identity to Azure,
    /// whose credentials are one `dependsOn` chain (Entra refuses concurrent writes to an
    /// identity), each under one spelling of it.
    #[test]
    fn one_identity_spelt_two_ways_is_one_chain_of_credentials() {
        let web = fixture::text("apps/web/app.yaml").replace(
            "observability:",
            "identity:\n  cloudPermissionsProfile: web\nobservability:",
        );
        let web_profile = "name: web\nazure:\n  clientId: 00000000-0000-0000-0000-0000000000c1\n  name: ID-API\n  resourceGroup: rg-identities\n  subscriptionId: 00000000-0000-0000-0000-000000000001\naws:\n  roleName: base-web\n";
        let files = render(&[
            ("profiles/identity/api.yaml", PROFILE),
            ("apps/web/app.yaml", &web),
            ("profiles/identity/web.yaml", web_profile),
        ]);
        let file = &files["_identity/azure/00000000-0000-0000-0000-000000000001/rg-identities.json"];
        let credentials: Vec<&Value> = file["resources"].as_array().unwrap().iter().collect();
        // Two apps on eastus-prod-01 and eastus-staging-01.
        assert_eq!(credentials.len(), 4, "{file:#}");
        let mut previous: Option<String> = None;
        for c in &credentials {
            let name = c["name"].as_str().unwrap();
            // The lowercase spelling, where they differ.
            assert!(name.starts_with("[format('{0}/{1}', 'id-api', '"), "{name}");
            let own = name.rsplit('\'').nth(1).unwrap().to_string();
            match &previous {
                None => assert!(c.get("dependsOn").is_none(), "{c:#}"),
                Some(prev) => assert_eq!(
                    c["dependsOn"],
                    json!([format!(
                        "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials', 'id-api', '{prev}')]"
                    )]),
                ),
            }
            previous = Some(own);
        }
    }

    fn assignments(file: &Value) -> Vec<&Value> {
        file["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "Microsoft.Authorization/roleAssignments")
            .collect()
    }

    #[test]
    fn one_scope_spelt_two_ways_is_one_role_assignment() {
        let path = "_identity/azure/00000000-0000-0000-0000-000000000001/rg-eastus-prod-01.json";
        // Spelt one way, in capitals: the name is a guid of it as written, as before.
        let capitals = |t: String| {
            t.replace("keyVault: kv-eastus-prod-01", "keyVault: KV-EastUS-Prod-01")
                .replace("resourceGroup: rg-eastus-prod-01", "resourceGroup: RG-EastUS-Prod-01")
        };
        let one = capitals(fixture::text("clusters/eastus-prod-01.yaml"));
        let files = render(&[
            ("profiles/identity/api.yaml", PROFILE),
            ("clusters/eastus-prod-01.yaml", &one),
        ]);
        let found = assignments(&files[path]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0]["name"],
            "[guid('/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG-EastUS-Prod-01/providers/Microsoft.KeyVault/vaults/KV-EastUS-Prod-01/secrets/api-db', '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG-Identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-api', '4633458b-17de-408a-b874-0445c86b69e6')]"
        );
        // A second cluster of the group spells the vault in capitals: still one assignment,
        // named as the lowercase spelling was.
        let two = second_prod(capitals);
        let files = render(&[
            ("profiles/identity/api.yaml", PROFILE),
            ("clusters/eastus-prod-02.yaml", &two),
        ]);
        let found = assignments(&files[path]);
        assert_eq!(found.len(), 1, "{:#}", files[path]);
        assert_eq!(
            found[0]["scope"],
            "Microsoft.KeyVault/vaults/kv-eastus-prod-01/secrets/api-db"
        );
        assert!(
            found[0]["name"]
                .as_str()
                .unwrap()
                .starts_with("[guid('/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-eastus-prod-01/providers/Microsoft.KeyVault/vaults/kv-eastus-prod-01/"),
            "{}",
            found[0]["name"]
        );
    }
}
