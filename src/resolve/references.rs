//! Names that refer to other files or entries: profiles, rings, registries, intents, apps.

use crate::diag::{Diagnostic, codes};
use crate::layout::Kind;
use crate::load::{Doc, Sources};
use crate::source::SourceMap;
use crate::suggest;

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let map = &sources.files;
    let cluster_profiles: Vec<&str> = sources.cluster_profiles.iter().map(|d| d.value.name.as_str()).collect();
    let observability: Vec<&str> = sources
        .observability_profiles
        .iter()
        .map(|d| d.value.name.as_str())
        .collect();
    let backup: Vec<&str> = sources.backup_profiles.iter().map(|d| d.value.name.as_str()).collect();
    let policy: Vec<&str> = sources.policy_profiles.iter().map(|d| d.value.name.as_str()).collect();
    let identity: Vec<&str> = sources
        .identity_profiles
        .iter()
        .map(|d| d.value.name.as_str())
        .collect();
    let telemetry: Vec<&str> = sources
        .telemetry_profiles
        .iter()
        .map(|d| d.value.name.as_str())
        .collect();
    let intents: Vec<&str> = sources.policy_intents.iter().map(|d| d.value.id.as_str()).collect();
    let apps: Vec<&str> = sources.apps.iter().map(|d| d.value.application.name.as_str()).collect();

    for doc in &sources.clusters {
        let c = &doc.value;
        let refs = Ref { doc, map, sources };
        refs.check(
            &["profile"],
            c.profile.as_str(),
            "cluster profile",
            "profiles/cluster/",
            &cluster_profiles,
            out,
        );
        refs.check(
            &["observabilityProfile"],
            c.observability_profile.as_str(),
            "observability profile",
            "profiles/observability/",
            &observability,
            out,
        );
        refs.check(
            &["backupProfile"],
            c.backup_profile.as_str(),
            "backup profile",
            "profiles/backup/",
            &backup,
            out,
        );
        refs.check(
            &["policyProfile"],
            c.policy_profile.as_str(),
            "policy profile",
            "policy-library/profiles/",
            &policy,
            out,
        );
        if let Some(fleet) = &sources.fleet {
            let rings: Vec<&str> = fleet.value.rings.iter().map(|r| r.name.as_str()).collect();
            refs.check(
                &["upgradeChannel"],
                c.upgrade_channel.as_str(),
                "ring",
                "fleet.yaml `rings`",
                &rings,
                out,
            );
        }
    }

    for doc in &sources.cluster_profiles {
        let p = &doc.value;
        let refs = Ref { doc, map, sources };
        if let Some(name) = &p.observability_profile {
            refs.check(
                &["observabilityProfile"],
                name.as_str(),
                "observability profile",
                "profiles/observability/",
                &observability,
                out,
            );
        }
        if let Some(name) = &p.backup_profile {
            refs.check(
                &["backupProfile"],
                name.as_str(),
                "backup profile",
                "profiles/backup/",
                &backup,
                out,
            );
        }
        if let Some(name) = &p.policy_profile {
            refs.check(
                &["policyProfile"],
                name.as_str(),
                "policy profile",
                "policy-library/profiles/",
                &policy,
                out,
            );
        }
    }

    for doc in &sources.policy_profiles {
        for (i, choice) in doc.value.intents.iter().enumerate() {
            let intent = choice.intent.as_str();
            if !intents.contains(&intent) && !sources.failed(Kind::PolicyIntent, intent) {
                let d = Diagnostic::error(
                    codes::UNKNOWN_REFERENCE,
                    map,
                    doc.item_field_label(&["intents"], i, Some("intent"), "no such intent"),
                    format!("unknown policy intent `{intent}`"),
                );
                out.push(d.with_help(help(intent, &intents, "policy-library/intents/")));
            }
            // A pinned version must be one the intent file keeps.
            if let Some(def) = sources.policy_intents.iter().find(|d| d.value.id == choice.intent) {
                let kept = def.value.versions();
                for (ring, version) in &choice.version_by_ring {
                    if !kept.contains(version) {
                        let kept: Vec<String> = kept.iter().map(|v| format!("`{v}`")).collect();
                        out.push(
                            Diagnostic::error(
                                codes::UNKNOWN_REFERENCE,
                                map,
                                doc.item_field_label(&["intents"], i, Some("versionByRing"), "no such version"),
                                format!("ring `{ring}` is pinned to version {version} of `{intent}`, which its file does not keep"),
                            )
                            .with_help(format!(
                                "the file keeps {} (add the old definition under `previous`, or pin one of these)",
                                kept.join(", ")
                            ))
                            .with_secondary(def.label(&["id"], "the intent")),
                        );
                    }
                }
            }
            if let Some(fleet) = &sources.fleet {
                let rings: Vec<&str> = fleet.value.rings.iter().map(|r| r.name.as_str()).collect();
                let named = choice
                    .by_ring
                    .keys()
                    .map(|r| (r, "byRing"))
                    .chain(choice.version_by_ring.keys().map(|r| (r, "versionByRing")));
                for (ring, field) in named {
                    if !rings.contains(&ring.as_str()) && !sources.any_failed(Kind::Fleet) {
                        out.push(
                            Diagnostic::error(
                                codes::UNKNOWN_REFERENCE,
                                map,
                                doc.item_field_label(&["intents"], i, Some(field), "no such ring"),
                                format!("unknown ring `{ring}` in `{field}` of `{intent}`"),
                            )
                            .with_help(help(ring.as_str(), &rings, "fleet.yaml `rings`")),
                        );
                    }
                }
            }
        }
    }

    for doc in &sources.apps {
        let a = &doc.value;
        let refs = Ref { doc, map, sources };
        if let Some(name) = &a.identity.cloud_permissions_profile {
            refs.check(
                &["identity", "cloudPermissionsProfile"],
                name.as_str(),
                "identity profile",
                "profiles/identity/",
                &identity,
                out,
            );
        }
        refs.check(
            &["observability", "telemetryProfile"],
            a.observability.telemetry_profile.as_str(),
            "telemetry profile",
            "profiles/telemetry/",
            &telemetry,
            out,
        );
        for (i, dep) in a.depends_on.iter().enumerate() {
            let service = dep.service.as_str();
            if service == a.application.name.as_str() {
                out.push(Diagnostic::error(
                    codes::UNKNOWN_REFERENCE,
                    map,
                    doc.item_field_label(&["dependsOn"], i, Some("service"), "this app itself"),
                    format!("`{service}` depends on itself"),
                ));
            } else if !apps.contains(&service) && !sources.failed(Kind::App, service) {
                out.push(
                    Diagnostic::error(
                        codes::UNKNOWN_REFERENCE,
                        map,
                        doc.item_field_label(&["dependsOn"], i, Some("service"), "no app of this name"),
                        format!("unknown app `{service}` in `dependsOn`"),
                    )
                    .with_help(help(service, &apps, "apps/")),
                );
            }
        }
        if let Some(fleet) = &sources.fleet {
            let hosts: Vec<&str> = fleet.value.registries.iter().map(|r| r.host.as_str()).collect();
            for (image, path) in a.application.images() {
                let host = image.split('/').next().unwrap_or(image);
                if !hosts.contains(&host) && !sources.any_failed(Kind::Fleet) {
                    out.push(
                        Diagnostic::error(
                            codes::UNKNOWN_REFERENCE,
                            map,
                            doc.label(&path, format!("`{host}` is not a fleet registry")),
                            format!("image registry `{host}` is not one of fleet.yaml's `registries`"),
                        )
                        .with_help(help(host, &hosts, "fleet.yaml `registries`")),
                    );
                }
            }
            // Each ring of `application.rings` is one of the fleet's.
            let rings: Vec<&str> = fleet.value.rings.iter().map(|r| r.name.as_str()).collect();
            for ring in a.application.rings.keys() {
                if !rings.contains(&ring.as_str()) && !sources.any_failed(Kind::Fleet) {
                    out.push(
                        Diagnostic::error(
                            codes::UNKNOWN_REFERENCE,
                            map,
                            doc.key_label(&["application", "rings", ring.as_str()], "no such ring"),
                            format!("unknown ring `{ring}` in `application.rings`"),
                        )
                        .with_help(help(ring.as_str(), &rings, "fleet.yaml `rings`")),
                    );
                }
            }
        }
    }
}

/// One file whose fields name other things.
struct Ref<'a, T> {
    doc: &'a Doc<T>,
    map: &'a SourceMap,
    sources: &'a Sources,
}

impl<T: crate::load::Input> Ref<'_, T> {
    fn check(&self, path: &[&str], name: &str, what: &str, place: &str, known: &[&str], out: &mut Vec<Diagnostic>) {
        // A file that failed to load has already been reported; do not report it missing.
        let kind = Kind::find(&what.replace(' ', "-"));
        if known.contains(&name) || kind.is_some_and(|k| self.sources.failed(k, name)) {
            return;
        }
        out.push(
            Diagnostic::error(
                codes::UNKNOWN_REFERENCE,
                self.map,
                self.doc.label(path, format!("no {what} of this name")),
                format!("unknown {what} `{name}`"),
            )
            .with_help(help(name, known, place)),
        );
    }
}

fn help(name: &str, known: &[&str], place: &str) -> String {
    match suggest::closest(name, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if known.is_empty() => format!("there are none in {place}"),
        None => {
            let known: Vec<String> = known.iter().map(ToString::to_string).collect();
            format!("{place} has {}", suggest::list(&known))
        }
    }
}
