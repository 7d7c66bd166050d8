//! ## What it does
//! Flags a rendered cloud template that its engine refuses, or that its own deploy command
//! (`Metadata.fleetgen.deploy`, `metadata.deploy`) cannot deploy:
//! - a CloudFormation template (`_edge/route53/`, `_identity/aws/`) of more than 51,200
//!   bytes whose command has no `--s3-bucket`: `aws cloudformation deploy` passes a template
//!   inline only up to 51,200 bytes, and a larger one through an S3 bucket;
//! - a CloudFormation template of more than 1 MB or 500 resources, CloudFormation's limits;
//! - an ARM template (`_identity/azure/`, `_edge/frontdoor/`, `_azure/`) of more than 4 MB or
//!   800 resources, Azure Resource Manager's limits.
//!
//! The templates grow with the fleet: an account's `iam.json` holds a role for every app
//! with an identity there (about 1.2 KB each), a Route 53 zone's template records and
//! health checks for every hostname and cluster, a resource group's identity template a
//! credential for every app, cluster and service account.
//!
//! ## Why is this bad?
//! The render is fine and the deployment fails: the CLI refuses a template over 51,200 bytes
//! without a bucket ("Templates with a size greater than 51,200 bytes must be deployed via
//! an S3 Bucket"), and CloudFormation and Resource Manager refuse a template over their
//! limits whole, so none of its roles, records or credentials changes, the ones a revocation
//! or a failover needed included.
//!
//! ## Example
//! ```yaml
//! # fleet.yaml: no cloudFormation.templateBucket, and 45 apps with an IAM role in one
//! # account: its iam.json is 56 KB
//! permissions:
//!   read-secret:
//!     aws: { actions: [secretsmanager:GetSecretValue], resources: ["arn:aws:secretsmanager:{region}:{accountId}:secret:{target}-??????"] }
//! ```
//!
//! ## Use instead
//! Name the bucket the CLI uploads large templates to; each such template's deploy command
//! then names it (`--s3-bucket`). `{accountId}` and `{region}` stand for the stack's (a
//! bucket in the stack's region); a Route 53 stack, deployed in the CLI's own region, needs
//! a name without them.
//! ```yaml
//! cloudFormation:
//!   templateBucket: fleet-templates-{accountId}-{region}
//! ```
//! Over CloudFormation's or Resource Manager's own limits, split what one template holds:
//! apps' identities over more accounts or resource groups, hostnames over more zones or
//! profiles.

use serde_json::Value;

use crate::diag::{Diagnostic, Label};
use crate::emit::backends::CLOUDFORMATION_INLINE_BYTES;
use crate::lint::Context;
use crate::lint::rule;

rule!("FG171" "template-limits", "drift", Error, Lint, "a rendered CloudFormation or ARM template over its engine's limits (1 MB or 500 resources; 4 MB or 800 resources), or over 51,200 bytes with a deploy command without `--s3-bucket` (lint)");

/// CloudFormation's largest template (from S3) and most resources.
const CLOUDFORMATION_BYTES: usize = 1024 * 1024;
const CLOUDFORMATION_RESOURCES: usize = 500;
/// Azure Resource Manager's largest template and most resources.
const ARM_BYTES: usize = 4 * 1024 * 1024;
const ARM_RESOURCES: usize = 800;

/// The engine of a rendered template, by its folder.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Engine {
    CloudFormation,
    ResourceManager,
}

fn engine(path: &str) -> Option<Engine> {
    if !path.ends_with(".json") {
        return None;
    }
    if path.starts_with("_edge/route53/") || path.starts_with("_identity/aws/") {
        Some(Engine::CloudFormation)
    } else if ["_identity/azure/", "_edge/frontdoor/", "_azure/"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        Some(Engine::ResourceManager)
    } else {
        None
    }
}

/// `51200` as `51,200`.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What of a template of `bytes` is over its engine's limits, said ("900 resources, over
/// the 800 Azure Resource Manager takes in one template"); `None` within them.
fn over_limits(engine: Engine, bytes: usize, template: &Value) -> Option<String> {
    let (resources, limit_bytes, limit_resources, name) = match engine {
        Engine::CloudFormation => (
            template["Resources"].as_object().map_or(0, |r| r.len()),
            CLOUDFORMATION_BYTES,
            CLOUDFORMATION_RESOURCES,
            "CloudFormation",
        ),
        Engine::ResourceManager => (
            template["resources"].as_array().map_or(0, Vec::len),
            ARM_BYTES,
            ARM_RESOURCES,
            "Azure Resource Manager",
        ),
    };
    let mut over = Vec::new();
    if bytes > limit_bytes {
        over.push(format!("{} bytes, over the {}", grouped(bytes), grouped(limit_bytes)));
    }
    if resources > limit_resources {
        over.push(format!("{resources} resources, over the {limit_resources}"));
    }
    (!over.is_empty()).then(|| format!("{} {name} takes in one template", over.join(" and ")))
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(fleet) = &ctx.sources.fleet else { return };
    for (path, text) in &ctx.tree.files {
        let Some(engine) = engine(path) else { continue };
        // No template of fewer bytes comes near a resource limit.
        if text.len() <= CLOUDFORMATION_INLINE_BYTES {
            continue;
        }
        let Ok(template) = serde_json::from_str::<Value>(text) else { continue };
        // Where a reader changes it: the zone or profile's entry, else what fills the file.
        let label = |text: &str| -> Label {
            let entry = |list: &str, prefix: &str| {
                let name = path.strip_prefix(prefix)?.strip_suffix(".json")?;
                let items = match list {
                    "route53" => (fleet.value.edge.route53.iter()).map(|z| z.name.as_str()).collect::<Vec<_>>(),
                    _ => (fleet.value.edge.front_door.iter()).map(|p| p.name.as_str()).collect(),
                };
                let at = items.iter().position(|n| *n == name)?;
                Some(fleet.item_field_label(&["edge", list], at, Some("name"), text))
            };
            (entry("route53", "_edge/route53/"))
                .or_else(|| entry("frontDoor", "_edge/frontdoor/"))
                .unwrap_or_else(|| match path.starts_with("_azure/") {
                    true => fleet.label(&["policy"], text),
                    false if engine == Engine::CloudFormation && fleet.value.cloud_formation.is_some() => {
                        fleet.label(&["cloudFormation", "templateBucket"], text)
                    }
                    false => fleet.label(&["permissions"], text),
                })
        };
        let files = &ctx.sources.files;
        let bytes = text.len();
        if let Some(over) = over_limits(engine, bytes, &template) {
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    files,
                    label("what fills the template"),
                    format!("`{path}` has {over}: it refuses the whole deployment"),
                )
                .with_help("split what one template holds: apps' identities over more accounts or resource groups, hostnames over more zones or Front Door profiles"),
            );
            continue;
        }
        let deploy = template["Metadata"]["fleetgen"]["deploy"].as_str().unwrap_or_default();
        if engine == Engine::CloudFormation && !deploy.split_whitespace().any(|w| w == "--s3-bucket") {
            let help = match fleet.value.cloud_formation.as_ref() {
                Some(_) => "this stack's account or region is not known to fleetgen (a Route 53 stack deploys in the CLI's own region): give `cloudFormation.templateBucket` a name without `{accountId}` and `{region}`",
                None => "name the bucket the CLI uploads large templates to in fleet.yaml (`cloudFormation: {templateBucket: fleet-templates-{accountId}-{region}}`): the deploy command of each such template then names it",
            };
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    files,
                    label("no bucket for large templates"),
                    format!(
                        "`{path}` is {} bytes, over the {} `aws cloudformation deploy` passes inline, and its deploy command names no `--s3-bucket`: the CLI refuses it",
                        grouped(bytes),
                        grouped(CLOUDFORMATION_INLINE_BYTES)
                    ),
                )
                .with_help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_has_its_limits() {
        let cloudformation = |n: usize| {
            let resources: serde_json::Map<String, Value> =
                (0..n).map(|i| (format!("R{i}"), serde_json::json!({"Type": "AWS::IAM::Role"}))).collect();
            serde_json::json!({"Resources": resources})
        };
        let arm = |n: usize| serde_json::json!({"resources": vec![serde_json::json!({}); n]});
        let cf = Engine::CloudFormation;
        let rm = Engine::ResourceManager;
        assert_eq!(over_limits(cf, 60_000, &cloudformation(500)), None);
        assert_eq!(
            over_limits(cf, 60_000, &cloudformation(501)).as_deref(),
            Some("501 resources, over the 500 CloudFormation takes in one template")
        );
        assert_eq!(
            over_limits(cf, 1_048_577, &cloudformation(1)).as_deref(),
            Some("1,048,577 bytes, over the 1,048,576 CloudFormation takes in one template")
        );
        // 800 resources and 1 MB are within Resource Manager's limits.
        assert_eq!(over_limits(rm, 1_048_577, &arm(800)), None);
        assert_eq!(
            over_limits(rm, 4_194_305, &arm(801)).as_deref(),
            Some("4,194,305 bytes, over the 4,194,304 and 801 resources, over the 800 Azure Resource Manager takes in one template")
        );
        assert!(engine("_identity/aws/1/iam.json") == Some(cf) && engine("_azure/s/policy-assignments.json") == Some(rm));
        assert!(engine("fleet.yaml").is_none() && engine("eastus-prod-01/apps/web/deployment.yaml").is_none());
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        for (n, said) in [(0, "0"), (999, "999"), (51_200, "51,200"), (1_048_576, "1,048,576")] {
            assert_eq!(grouped(n), said);
        }
    }
}
