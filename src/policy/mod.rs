//! Policy: one intent, three enforcements. This module holds what the policy backends and
//! checks share: the Azure built-in definitions ([`azure`]) and the intent semantics.

pub mod azure;

use crate::load::{Doc, Sources};
use crate::model::common::Enforcement;
use crate::model::fleet::Fleet;
use crate::model::{Cluster, PolicyIntent, Provider};

/// An intent as one cluster enforces it.
#[derive(Debug, Clone, Copy)]
pub struct ClusterIntent<'s> {
    pub intent: &'s Doc<PolicyIntent>,
    pub enforcement: Enforcement,
}

/// The intents of a cluster's policy profile, with the enforcement for its environment, in
/// the profile's order.
pub fn intents_for<'s>(sources: &'s Sources, cluster: &Cluster) -> Vec<ClusterIntent<'s>> {
    let Some(profile) = sources
        .policy_profiles
        .iter()
        .find(|p| p.value.name == cluster.policy_profile)
    else {
        return Vec::new();
    };
    profile
        .value
        .intents
        .iter()
        .filter_map(|choice| {
            let intent = sources.policy_intents.iter().find(|i| i.value.id == choice.intent)?;
            let enforcement = choice
                .by_environment
                .get(&cluster.environment)
                .copied()
                .unwrap_or(choice.enforcement);
            Some(ClusterIntent { intent, enforcement })
        })
        .collect()
}

/// Registry hosts a cluster may pull from: fleet.yaml's registries that are neutral or of
/// the cluster's provider.
pub fn approved_registries<'f>(fleet: &'f Fleet, cluster: &Cluster) -> Vec<&'f str> {
    fleet
        .registries
        .iter()
        .filter(|r| r.provider.is_none_or(|p| p == cluster.provider))
        .map(|r| r.host.as_str())
        .collect()
}

/// The allowed-image regex for a cluster: its approved registries, and on AKS the
/// Microsoft registry its add-ons come from.
pub fn image_regex(fleet: &Fleet, cluster: &Cluster) -> String {
    let hosts: Vec<String> = approved_registries(fleet, cluster)
        .iter()
        .map(|h| regex_escape(h))
        .collect();
    let mut regex = format!("^({})/.+$", hosts.join("|"));
    if cluster.provider == Provider::Azure {
        regex.push_str("|^mcr\\.microsoft\\.com/.+$");
    }
    regex
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether `image` is from one of `hosts`: the part before the first `/` names the host.
pub fn image_host_approved(image: &str, hosts: &[&str]) -> bool {
    image
        .split_once('/')
        .is_some_and(|(host, rest)| !rest.is_empty() && hosts.contains(&host))
}
