//! The cloud identity backend: what each cloud must hold for the clusters' service accounts
//! to act as the apps' identities, from the federations and grants
//! [`crate::resolve::cloud_identity`] resolves for every placement (not drained, not
//! revoked):
//!
//! - `_identity/azure/<subscription>/<resourceGroup>.json`, an ARM template (`az deployment
//!   group create`) per resource group: a federated identity credential
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
use crate::layout::IdentityFile;
use crate::resolve::cloud_identity::{self, AZURE_AUDIENCE, AzureIdentityId, CloudGrant, Federation};
use crate::resolve::plan::{Placement, Plan};

pub struct CloudIdentity;

/// (subscription, resource group), or (account, region): where a template deploys.
type Target = (String, String);
/// A template's resources (or resources by logical id) and the sources they came from.
type Gathered<R> = BTreeMap<Target, (R, BTreeSet<String>)>;
/// (scope, role definition id, identity) → (role name, why: `<word> <target>`s).
type Assignments = BTreeMap<(String, String, AzureIdentityId), (String, BTreeSet<String>)>;

/// The api-versions written.
const MANAGED_IDENTITY_API: &str = "2024-11-30";
const ROLE_ASSIGNMENT_API: &str = "2022-04-01";

const GENERATED: &str = "Rendered by fleetgen; do not edit. Change the sources and run `fleetgen render`.";

impl FleetBackend for CloudIdentity {
    fn render(&self, ctx: &FleetContext) -> Vec<(String, String)> {
        let mut files = azure(ctx);
        files.extend(aws(ctx));
        files
    }
}

fn active<'p, 'a>(plan: &'p Plan<'a>) -> impl Iterator<Item = &'p Placement<'a>> {
    plan.placements.iter().filter(|p| p.drained.is_none())
}

fn text(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    text
}

/// The source files of a placement's identity: its app, cluster and identity profile.
fn sources_of(ctx: &FleetContext, p: &Placement, into: &mut BTreeSet<String>) {
    let files = &ctx.sources.files;
    into.insert(files.get(p.app.file).path.clone());
    into.insert(files.get(p.cluster.file).path.clone());
    if let Some(name) = &p.app.value.identity.cloud_permissions_profile
        && let Some(doc) = ctx.sources.identity_profiles.iter().find(|d| d.value.name == *name)
    {
        into.insert(files.get(doc.file).path.clone());
    }
}

/// A federated credential's name: `<cluster>_<namespace>_<serviceaccount>` (underscores are
/// in no DNS label, so the parts cannot run together), at most 120 characters.
fn credential_name(p: &Placement) -> String {
    let name = format!("{}_{}_{}", p.cluster_id(), p.namespace, p.app_name());
    if name.len() <= 120 {
        name
    } else {
        format!("{}-{:08x}", &name[..111], crate::emit::fnv1a64(&name) as u32)
    }
}

fn azure(ctx: &FleetContext) -> Vec<(String, String)> {
    // (subscription, resource group) → resources, and the sources they came from.
    let mut groups: Gathered<Vec<Value>> = BTreeMap::new();
    if let Some(f) = &ctx.sources.fleet {
        let fleet_path = ctx.sources.files.get(f.file).path.clone();
        let credentials = cloud_identity::azure_credentials(&ctx.plan.placements);
        for (identity, pairs) in &credentials {
            let (resources, sources) = groups
                .entry((identity.subscription_id.clone(), identity.resource_group.clone()))
                .or_default();
            let mut previous: Option<String> = None;
            for ((issuer, subject), p) in pairs {
                sources_of(ctx, p, sources);
                let name = credential_name(p);
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
        for p in active(ctx.plan) {
            for g in &p.identity.grants {
                if let CloudGrant::Azure {
                    identity,
                    role,
                    role_definition_id,
                    subscription_id,
                    resource_group,
                    scope,
                } = &g.cloud
                {
                    let entry = assignments
                        .entry((subscription_id.clone(), resource_group.clone()))
                        .or_default()
                        .entry((scope.clone(), role_definition_id.clone(), identity.clone()))
                        .or_insert_with(|| (role.clone(), BTreeSet::new()));
                    entry.1.insert(format!("{} {}", g.capability, g.target));
                    let sources = &mut groups
                        .entry((subscription_id.clone(), resource_group.clone()))
                        .or_default()
                        .1;
                    sources_of(ctx, p, sources);
                    sources.insert(fleet_path.clone());
                }
            }
        }
        for ((subscription, group), roles) in assignments {
            let resources = &mut groups.entry((subscription.clone(), group.clone())).or_default().0;
            for ((scope, role_id, identity), (role, why)) in roles {
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
                    "deploy": format!(
                        "az deployment group create --subscription {subscription_id} --resource-group {resource_group} --template-file {path}"
                    ),
                },
                "resources": resources,
            });
            (path, text(&template))
        })
        .collect()
}

fn aws(ctx: &FleetContext) -> Vec<(String, String)> {
    // (account, region) → associations; account → the sources of its roles.
    let mut associations: Gathered<Map<String, Value>> = BTreeMap::new();
    let mut account_sources: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let fleet_path = ctx
        .sources
        .fleet
        .as_ref()
        .map(|f| ctx.sources.files.get(f.file).path.clone());
    for p in active(ctx.plan) {
        let mut account = None;
        if let Some(Federation::PodIdentity {
            account_id,
            region,
            cluster_name,
            role_name,
        }) = &p.identity.federation
        {
            let (resources, sources) = associations.entry((account_id.clone(), region.clone())).or_default();
            sources_of(ctx, p, sources);
            // Logical ids are alphanumeric, so `a-b c` and `a b-c` meet: the second one gets
            // a hash of its parts.
            let parts = format!("{} {} {}", p.cluster_id(), p.namespace, p.app_name());
            let mut id = pascal(&parts);
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
                        "ServiceAccount": p.app_name(),
                        "RoleArn": format!("arn:aws:iam::{account_id}:role/{role_name}"),
                    },
                }),
            );
        }
        if let Some(Federation::PodIdentity { account_id, .. } | Federation::Irsa { account_id, .. }) =
            &p.identity.federation
        {
            account = Some(account_id);
        }
        let sources = |account: &String, with_fleet: bool, set: &mut BTreeMap<String, BTreeSet<String>>| {
            let sources = set.entry(account.clone()).or_default();
            if with_fleet {
                sources.extend(fleet_path.clone());
            }
            sources_of(ctx, p, sources);
        };
        if let Some(account) = account {
            sources(account, false, &mut account_sources);
        }
        for g in &p.identity.grants {
            if let CloudGrant::Aws { account_id, .. } = &g.cloud {
                sources(account_id, true, &mut account_sources);
            }
        }
    }
    let mut files = Vec::new();
    for (account, roles) in cloud_identity::aws_roles(&ctx.plan.placements) {
        let sources = account_sources.remove(&account).unwrap_or_default();
        let path = IdentityFile::AwsRoles { account_id: &account }.path();
        let mut resources = Map::new();
        for (name, role) in roles {
            let Some(trust) = cloud_identity::aws_trust_policy(&account, &role) else {
                // Permissions of a role no cluster of the account assumes (revoked or
                // drained everywhere): nothing to render.
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
            let mut id = format!("{}Role", pascal(&name));
            if resources.contains_key(&id) {
                id = format!("{id}{:08X}", crate::emit::fnv1a64(&name) as u32);
            }
            resources.insert(id, json!({"Type": "AWS::IAM::Role", "Properties": properties}));
        }
        if resources.is_empty() {
            continue;
        }
        let stack = format!("fleetgen-identity-{account}");
        let template = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": format!("The app roles of AWS account {account}: trust and permissions. {GENERATED}"),
            "Metadata": {
                "fleetgen": {
                    "sources": sources.into_iter().collect::<Vec<_>>(),
                    "accountId": account,
                    "deploy": format!("aws cloudformation deploy --stack-name {stack} --template-file {path} --capabilities CAPABILITY_NAMED_IAM"),
                },
            },
            "Resources": resources,
        });
        files.push((path, text(&template)));
    }
    for ((account, region), (resources, sources)) in associations {
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
        files.push((path, text(&template)));
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
        let (plan, problems) = crate::resolve::plan::plan(&sources);
        let plan = plan.unwrap_or_else(|| panic!("{problems:?}"));
        let ctx = FleetContext {
            sources: &sources,
            plan: &plan,
            selected: &|_| true,
        };
        let files = CloudIdentity.render(&ctx);
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
}
