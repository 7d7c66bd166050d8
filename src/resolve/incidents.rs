//! Incident switches (fleet.yaml `switches:`): freeze sync by ring, block image digests,
//! scale an app down on named clusters, let a policy intent audit instead of deny. Each one
//! on is a warning with its reason and owner (FG050); one past its `expires` date is an error
//! (FG055) and holds nothing; one that names nothing real is FG051. The functions below are
//! what the later stages ask: is this ring frozen, is this app scaled down here, which
//! digests are blocked, does this intent only audit today.

use crate::clock::{Day, parse_date};
use crate::diag::{Diagnostic, Label, codes};
use crate::load::{Doc, Sources};
use crate::model::App;
use crate::model::Fleet;
use crate::model::common::Id;
use crate::model::fleet::{AuditOnly, BlockImage, Freeze, RevokeIdentity, ScaleDown};
use crate::suggest;

use super::placement::selects;

/// Whether a switch with this `expires` holds on `today` (a date that does not exist holds
/// nothing; FG012 says so).
pub fn holds(expires: Option<&str>, today: Day) -> bool {
    expires.is_none_or(|d| parse_date(d).is_some_and(|last| today <= last))
}

/// The freeze in force on the clusters of `ring`, if any (the first one written).
pub fn frozen<'f>(fleet: &'f Fleet, ring: &str, today: Day) -> Option<&'f Freeze> {
    fleet.switches.freeze.iter().find(|f| {
        holds(f.expires.as_deref(), today) && (f.rings.is_empty() || f.rings.iter().any(|r| r.as_str() == ring))
    })
}

/// The scale-down in force for `app` on `cluster`, if any.
pub fn scaled_down<'f>(fleet: &'f Fleet, app: &str, cluster: &str, today: Day) -> Option<&'f ScaleDown> {
    fleet.switches.scale_down.iter().find(|s| {
        holds(s.expires.as_deref(), today) && s.app.as_str() == app && s.clusters.iter().any(|c| c.as_str() == cluster)
    })
}

/// The identity revocation in force for `app` on `cluster`, if any.
pub fn revoked<'f>(fleet: &'f Fleet, app: &str, cluster: &str, today: Day) -> Option<&'f RevokeIdentity> {
    fleet.switches.revoke_identity.iter().find(|r| {
        holds(r.expires.as_deref(), today)
            && r.app.as_str() == app
            && (r.clusters.is_empty() || r.clusters.iter().any(|c| c.as_str() == cluster))
    })
}

/// The image blocks in force, in the order written.
pub fn blocked(fleet: &Fleet, today: Day) -> Vec<&BlockImage> {
    fleet
        .switches
        .block_images
        .iter()
        .filter(|b| holds(b.expires.as_deref(), today))
        .collect()
}

/// The audit-only switch in force for `intent`, if any.
pub fn audit_only<'f>(fleet: &'f Fleet, intent: &str, today: Day) -> Option<&'f AuditOnly> {
    fleet
        .switches
        .audit_only
        .iter()
        .find(|a| a.intent.as_str() == intent && holds(Some(&a.expires), today))
}

/// The block in force whose digest `image` carries.
pub fn block_of<'b>(blocked: &[&'b BlockImage], image: &str) -> Option<&'b BlockImage> {
    blocked.iter().copied().find(|b| {
        image
            .strip_suffix(b.digest.as_str())
            .is_some_and(|rest| rest.ends_with('@'))
    })
}

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let Some(fleet) = &sources.fleet else { return };
    let files = &sources.files;
    let today = sources.today;
    let s = &fleet.value.switches;
    let date = |list: &str, i: usize, expires: Option<&str>, what: &str, out: &mut Vec<Diagnostic>| -> bool {
        let at = |text: &str| fleet.item_field_label(&["switches", list], i, Some("expires"), text);
        match expires.map(|d| (d, parse_date(d))) {
            Some((d, None)) => {
                out.push(Diagnostic::error(
                    codes::INVALID_VALUE,
                    files,
                    at("no such day"),
                    format!("`{d}` is not a date"),
                ));
                false
            }
            Some((d, Some(last))) if last < today => {
                out.push(
                    Diagnostic::error(
                        codes::INCIDENT_SWITCH_EXPIRED,
                        files,
                        at("expired"),
                        format!("incident switch expired on {d}: {what}"),
                    )
                    .with_help("renew it with a new date and reason, or remove it"),
                );
                false
            }
            Some((d, Some(last))) if crate::clock::expires_within(last, today).is_some() => {
                let when = crate::clock::expires_within(last, today).unwrap_or_default();
                out.push(
                    Diagnostic::error(
                        codes::INCIDENT_SWITCH_EXPIRING,
                        files,
                        at("expires soon"),
                        format!("incident switch expires on {d} ({when}): {what}"),
                    )
                    .with_help("when it expires, every run fails until it is renewed or removed")
                    .warning(),
                );
                true
            }
            _ => true,
        }
    };
    let on_switch = |label: Label, message: String, help: &str, out: &mut Vec<Diagnostic>| {
        out.push(
            Diagnostic::error(codes::KILL_SWITCH, files, label, message)
                .with_help(help.to_string())
                .warning(),
        );
    };
    let unknown = |label: Label, message: String, help: String, out: &mut Vec<Diagnostic>| {
        out.push(Diagnostic::error(codes::KILL_SWITCH_TARGET, files, label, message).with_help(help));
    };
    let rings: Vec<&str> = fleet.value.rings.iter().map(|r| r.name.as_str()).collect();
    let closest = |name: &str, known: &[&str], place: &str| match suggest::closest(name, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("name one of {place}"),
    };

    for (i, f) in s.freeze.iter().enumerate() {
        let mut ok = true;
        for (j, ring) in f.rings.iter().enumerate() {
            if !rings.contains(&ring.as_str()) {
                ok = false;
                let label = fleet.item_entry_label(&["switches", "freeze"], i, "rings", j, "no such ring");
                unknown(
                    label,
                    format!("no ring `{ring}`"),
                    closest(ring.as_str(), &rings, "fleet.yaml `rings`"),
                    out,
                );
            }
        }
        let scope = if f.rings.is_empty() {
            "every ring".to_string()
        } else {
            format!(
                "ring{} {}",
                if f.rings.len() == 1 { "" } else { "s" },
                suggest::all(&f.rings.iter().map(ToString::to_string).collect::<Vec<_>>())
            )
        };
        let what = format!(
            "GitOps sync of every app is frozen on {scope} ({}, {})",
            f.reason, f.owner
        );
        if date("freeze", i, f.expires.as_deref(), &what, out) && ok {
            on_switch(
                fleet.item_label(&["switches", "freeze"], i, "incident switch on"),
                what,
                "apps keep running; each cluster's root keeps syncing, so removing the entry resumes sync",
                out,
            );
        }
    }

    let blocked = blocked(&fleet.value, today);
    for (i, b) in s.block_images.iter().enumerate() {
        let what = format!("image digest {} is blocked ({}, {})", b.digest, b.reason, b.owner);
        if date("blockImages", i, b.expires.as_deref(), &what, out) {
            on_switch(
                fleet.item_label(&["switches", "blockImages"], i, "incident switch on"),
                what,
                "every cluster's admission policy refuses pods with this digest; placements that render it fail",
                out,
            );
        }
    }
    // A contract whose release runs a blocked digest on a cluster it lands on.
    for doc in &sources.apps {
        let a = &doc.value;
        for (image, path) in a.application.images() {
            // Whether a cluster the app lands on runs this image (its ring's release).
            let ring = path.get(2).copied();
            let lands = sources.clusters.iter().any(|c| {
                selects(a, &c.value)
                    && a.application.release(c.value.upgrade_channel.as_str()).image == image
                    && ring.is_none_or(|r| c.value.upgrade_channel.as_str() == r)
            });
            if !lands {
                continue;
            }
            // An image by tag may be a blocked digest: neither fleetgen nor the admission
            // policy (which sees the tag) can tell.
            if !blocked.is_empty() && !image.contains("@sha256:") {
                out.push(
                    Diagnostic::error(
                        codes::BLOCKED_IMAGE,
                        files,
                        doc.label(&path, "not pinned by digest"),
                        format!(
                            "image digests are blocked, but `{}` runs `{image}` by tag: whether it is a blocked digest cannot be told",
                            a.application.name
                        ),
                    )
                    .with_help("pin the image by digest (`@sha256:…`) while blocks are in force")
                    .for_app(a.application.name.as_str())
                    .warning(),
                );
            }
            let Some(b) = block_of(&blocked, image) else { continue };
            let index = s.block_images.iter().position(|x| std::ptr::eq(x, b)).unwrap_or(0);
            out.push(
                Diagnostic::error(
                    codes::BLOCKED_IMAGE,
                    files,
                    doc.label(&path, "blocked digest"),
                    format!(
                        "`{}` runs image digest {}, which fleet.yaml blocks: {}",
                        a.application.name, b.digest, b.reason
                    ),
                )
                .with_secondary(fleet.item_field_label(&["switches", "blockImages"], index, Some("digest"), "blocked here"))
                .with_help("roll the app back (or forward) to another release, or pin the rings that ran it to the previous one")
                .for_app(a.application.name.as_str()),
            );
        }
    }

    for (i, d) in s.scale_down.iter().enumerate() {
        let app = targets(sources, fleet, "scaleDown", i, &d.app, &d.clusters, out);
        let mut ok = app.is_some();
        // A sync stopped by hand would keep the scale-down from the cluster (a fleet freeze
        // gives way to it).
        for (j, c) in app.map_or(&[][..], |_| &d.clusters[..]).iter().enumerate() {
            let (Some(app), Some(x)) = (app, sources.clusters.iter().find(|x| x.value.cluster_id == *c)) else {
                continue;
            };
            if super::switches::stopped_by_hand(&app.value, &x.value).is_some() {
                ok = false;
                unknown(
                    fleet.item_entry_label(&["switches", "scaleDown"], i, "clusters", j, "sync suspended here"),
                    format!(
                        "sync of `{}` on cluster `{c}` is suspended, so the scale-down would not reach it",
                        d.app
                    ),
                    "lift `gitops.suspend` (of the cluster or the app) while the scale-down holds".into(),
                    out,
                );
            }
        }
        let what = format!(
            "`{}` is scaled down to 0 replicas on {} ({}, {})",
            d.app,
            suggest::all(&d.clusters.iter().map(ToString::to_string).collect::<Vec<_>>()),
            d.reason,
            d.owner
        );
        if date("scaleDown", i, d.expires.as_deref(), &what, out) && ok {
            on_switch(
                fleet.item_label(&["switches", "scaleDown"], i, "incident switch on"),
                what,
                "nothing is deleted: its Deployment runs 0 replicas and has no autoscaler; remove the entry to scale back up",
                out,
            );
        }
    }

    for (i, r) in s.revoke_identity.iter().enumerate() {
        let app = targets(sources, fleet, "revokeIdentity", i, &r.app, &r.clusters, out);
        let mut ok = app.is_some();
        if app.is_some_and(|a| a.value.identity.cloud_permissions_profile.is_none()) {
            ok = false;
            unknown(
                fleet.item_field_label(&["switches", "revokeIdentity"], i, Some("app"), "no cloud identity"),
                format!("`{}` has no cloud identity, so this switch does nothing", r.app),
                "a revocation names an app with `identity.cloudPermissionsProfile`".into(),
                out,
            );
        }
        // A sync stopped by hand would keep the revoked service account from the cluster (a
        // fleet freeze gives way to it). No clusters: every cluster the app lands on.
        if let Some(app) = app.filter(|_| ok) {
            // Where a finding about cluster `j` of the entry goes (no `j`: the app, for a
            // revocation everywhere).
            let at = |j: Option<usize>, text: &str| match j {
                Some(j) => fleet.item_entry_label(&["switches", "revokeIdentity"], i, "clusters", j, text),
                None => fleet.item_field_label(&["switches", "revokeIdentity"], i, Some("app"), text),
            };
            let named = r.clusters.iter().enumerate().filter_map(|(j, c)| {
                let x = sources.clusters.iter().find(|x| x.value.cluster_id == *c)?;
                Some((x, Some(j)))
            });
            let everywhere = (sources.clusters.iter().filter(|x| selects(&app.value, &x.value)))
                .filter(|_| r.clusters.is_empty())
                .map(|x| (x, None));
            for (x, j) in named.chain(everywhere) {
                let label = at(
                    j,
                    if j.is_some() {
                        "sync suspended here"
                    } else {
                        "sync suspended on a cluster of it"
                    },
                );
                // Through a freeze the revocation takes the app's whole sync (plan.rs): what
                // the freeze holds back of the app ships there with it.
                let ring = x.value.upgrade_channel.as_str();
                if let Some(f) = frozen(&fleet.value, ring, sources.today)
                    .filter(|_| super::switches::stopped_by_hand(&app.value, &x.value).is_none())
                {
                    out.push(
                        Diagnostic::error(
                            codes::KILL_SWITCH_TARGET,
                            &sources.files,
                            at(j, "the freeze gives way here"),
                            format!(
                                "the revocation lifts the freeze of ring `{ring}` ({}) for `{}` on cluster `{}`: what the freeze holds back of `{}` (a new release, values, templates) ships there with it",
                                f.reason, r.app, x.value.cluster_id, r.app
                            ),
                        )
                        .with_help("leave the app's contract as it runs there until the freeze is lifted, or revoke and roll back in one reviewed change")
                        .for_app(r.app.as_str())
                        .warning(),
                    );
                }
                if super::switches::stopped_by_hand(&app.value, &x.value).is_some() {
                    ok = false;
                    unknown(
                        label,
                        format!(
                            "sync of `{}` on cluster `{}` is suspended, so the revoked identity would not reach it",
                            r.app, x.value.cluster_id
                        ),
                        "lift `gitops.suspend` (of the cluster or the app) while the revocation holds".into(),
                        out,
                    );
                }
            }
        }
        let on = if r.clusters.is_empty() {
            "everywhere".to_string()
        } else {
            format!(
                "on {}",
                suggest::all(&r.clusters.iter().map(ToString::to_string).collect::<Vec<_>>())
            )
        };
        let what = format!(
            "the cloud identity of `{}` is revoked {on} ({}, {})",
            r.app, r.reason, r.owner
        );
        if date("revokeIdentity", i, r.expires.as_deref(), &what, out) && ok {
            on_switch(
                fleet.item_label(&["switches", "revokeIdentity"], i, "incident switch on"),
                what,
                "its service account loses the identity annotations and its pods the label; no secrets are mounted. Remove the entry to give it back",
                out,
            );
        }
    }

    let intents: Vec<&str> = sources.policy_intents.iter().map(|d| d.value.id.as_str()).collect();
    for (i, a) in s.audit_only.iter().enumerate() {
        let known = intents.contains(&a.intent.as_str());
        if !known && !sources.any_failed(crate::layout::Kind::PolicyIntent) {
            unknown(
                fleet.item_field_label(&["switches", "auditOnly"], i, Some("intent"), "no such intent"),
                format!("no policy intent `{}`", a.intent),
                closest(a.intent.as_str(), &intents, "policy-library/intents/"),
                out,
            );
        }
        let what = format!(
            "policy intent `{}` audits instead of denying until {} ({}, {})",
            a.intent, a.expires, a.reason, a.owner
        );
        if date("auditOnly", i, Some(&a.expires), &what, out) && known {
            on_switch(
                fleet.item_label(&["switches", "auditOnly"], i, "incident switch on"),
                what,
                "Azure assignments audit, admission bindings warn and audit, compile-time findings are warnings; deny returns the day after `expires`",
                out,
            );
        }
    }
}

/// Checks the `app` and `clusters` of item `i` of `switches.<list>` (FG051): the app exists,
/// and each cluster exists and is one the app lands on. The app, when all of that holds.
fn targets<'s>(
    sources: &'s Sources,
    fleet: &Doc<Fleet>,
    list: &str,
    i: usize,
    app: &Id,
    clusters: &[Id],
    out: &mut Vec<Diagnostic>,
) -> Option<&'s Doc<App>> {
    let files = &sources.files;
    let at = |field: &str, text: &str| fleet.item_field_label(&["switches", list], i, Some(field), text);
    let entry = |j: usize, text: &str| fleet.item_entry_label(&["switches", list], i, "clusters", j, text);
    let closest = |name: &str, known: &[&str], place: &str| match suggest::closest(name, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("name one of {place}"),
    };
    let unknown = |label: Label, message: String, help: String, out: &mut Vec<Diagnostic>| {
        out.push(Diagnostic::error(codes::KILL_SWITCH_TARGET, files, label, message).with_help(help));
    };
    let Some(doc) = sources.apps.iter().find(|a| a.value.application.name == *app) else {
        if !sources.any_failed(crate::layout::Kind::App) {
            let apps: Vec<&str> = sources.apps.iter().map(|a| a.value.application.name.as_str()).collect();
            unknown(
                at("app", "no such app"),
                format!("no app `{app}`"),
                closest(app.as_str(), &apps, "apps/"),
                out,
            );
        }
        return None;
    };
    let mut ok = true;
    for (j, c) in clusters.iter().enumerate() {
        match sources.clusters.iter().find(|x| x.value.cluster_id == *c) {
            None if sources.any_failed(crate::layout::Kind::Cluster) => ok = false,
            None => {
                ok = false;
                let ids: Vec<&str> = sources.clusters.iter().map(|x| x.value.cluster_id.as_str()).collect();
                unknown(
                    entry(j, "no such cluster"),
                    format!("no cluster `{c}`"),
                    closest(c.as_str(), &ids, "clusters/"),
                    out,
                );
            }
            Some(x) if !selects(&doc.value, &x.value) => {
                ok = false;
                unknown(
                    entry(j, "not a cluster of this app"),
                    format!("`{app}` does not land on cluster `{c}`, so this switch does nothing"),
                    "an incident switch names clusters of the app's placement".into(),
                    out,
                );
            }
            Some(_) => {}
        }
    }
    ok.then_some(doc)
}

/// The plan against the committed matrix `before` (`rendered/fleet.yaml` of the output
/// folder: what the clusters sync), FG051:
/// - an error for a placement whose sync is stopped now (a freeze, `gitops.suspend`) that
///   was drained, scaled down or not placed there: lifting the switch, or a first deployment,
///   does not reach the cluster (a suspended Kustomization applies nothing, an Application
///   without `automated` syncs nothing), so the app stays down there while the edge, which
///   only leaves out drained and scaled-down clusters, sends it traffic;
/// - a warning for an app the matrix has `suspended` on a cluster that the sources keep but
///   no longer place it on: the root, which keeps syncing, removes its Kustomization or
///   Application, which the stop does not hold back (Flux does not prune for a suspended
///   Kustomization, so its objects stay, managed by nothing; Argo CD's cascade deletes them
///   at once). A cluster gone from the sources takes its root with it, and says nothing.
///
/// Nothing when `before` does not read as a matrix. The rendered files do not depend on it.
pub fn against_committed(
    sources: &Sources,
    placements: &[super::plan::Placement],
    before: &str,
    out: &mut Vec<Diagnostic>,
) {
    use super::switches::{StoppedBy, stopped_by_hand};
    let Some(fleet) = &sources.fleet else { return };
    let files = &sources.files;
    // Stopped now, and neither drained nor scaled down (the matrix's `suspended`).
    let stopped: Vec<&super::plan::Placement> = (placements.iter())
        .filter(|p| p.suspended.is_some() && p.drained.is_none() && p.scaled_down.is_none())
        .collect();
    if stopped.is_empty() && !before.contains("suspended") {
        return;
    }
    let Some(states) = crate::load::matrix::placement_states(before) else {
        return;
    };
    let revoked_before = crate::load::matrix::revocations(before);
    let was_revoked = |app: &str, cluster: &str| {
        (revoked_before.iter())
            .any(|(a, clusters)| a == app && (clusters.is_empty() || clusters.iter().any(|c| c == cluster)))
    };
    // Apps the committed matrix places anywhere: a public one placed on one more cluster has
    // users the edge would send there.
    let served: std::collections::HashSet<&str> = states.iter().map(|(app, _, _)| app.as_str()).collect();
    let committed: std::collections::HashMap<(&str, &str), &str> = (states.iter())
        .map(|(app, cluster, state)| ((app.as_str(), cluster.as_str()), state.as_str()))
        .collect();
    let matrix = format!("{}/{}", crate::layout::OUTPUT, crate::layout::MATRIX);
    let freeze_label = |freeze: &Freeze, text: &str| {
        let i = (fleet.value.switches.freeze.iter())
            .position(|f| std::ptr::eq(f, freeze))
            .unwrap_or(0);
        fleet.item_label(&["switches", "freeze"], i, text)
    };
    for p in stopped {
        let (app, cluster) = (p.app_name(), p.cluster_id());
        let was = match committed.get(&(app, cluster)) {
            Some(&"drained") => "lifting its drain",
            Some(&"scaled-down") => "lifting its scale-down",
            // A revocation let the app's sync through the freeze (plan.rs): stopped again, the
            // service account with its identity would never be applied.
            Some(_) if was_revoked(app, cluster) => "lifting its identity revocation",
            None => "its first deployment",
            Some(_) => continue,
        };
        let (a, c) = (&p.app.value, &p.cluster.value);
        let ring = c.upgrade_channel.as_str();
        // Every stop in force, the first labelled: the help names each one to lift (a freeze
        // lifted alone leaves the app's own `gitops.suspend`, and the other way round).
        let by_app = (a.gitops.suspend.as_ref())
            .filter(|s| s.clusters.is_empty() || s.clusters.iter().any(|x| x == cluster))
            .is_some();
        let mut stops = Vec::new();
        if let Some(StoppedBy::Cluster(_)) = stopped_by_hand(a, c) {
            stops.push((
                p.cluster.label(&["gitops", "suspend"], "sync suspended here"),
                format!("`gitops.suspend` of cluster `{cluster}`"),
            ));
        }
        if let Some(f) = frozen(&fleet.value, ring, sources.today) {
            stops.push((
                freeze_label(f, "ring frozen here"),
                format!("the freeze of ring `{ring}`"),
            ));
        }
        if by_app || stops.is_empty() {
            stops.push((
                p.app.label(&["gitops", "suspend"], "sync suspended here"),
                format!("`gitops.suspend` of `{app}` on cluster `{cluster}`"),
            ));
        }
        let lifts: Vec<String> = stops.iter().map(|(_, what)| what.clone()).collect();
        let help = format!("lift {} first", crate::diag::and_list(&lifts));
        let label = stops.swap_remove(0).0;
        let help = match was {
            "its first deployment" => format!("{help}, or place the app there once it is lifted"),
            _ => format!("{help}, or keep the switch until then"),
        };
        let edge = match a.traffic.exposure {
            crate::model::app::Exposure::Public => ", while the edge sends it traffic",
            _ => "",
        };
        let whence = match was {
            "its first deployment" => format!("not placed there in the committed {matrix}"),
            "lifting its identity revocation" => format!("its identity revoked in the committed {matrix}"),
            _ => format!("{} in the committed {matrix}", committed[&(app, cluster)]),
        };
        let stays = match was {
            "lifting its identity revocation" => "it keeps running without its identity there",
            _ => "it stays down there",
        };
        let found = Diagnostic::error(
            codes::KILL_SWITCH_TARGET,
            files,
            label,
            format!(
                "{was} does not reach `{app}` on cluster `{cluster}` ({whence}): its sync is stopped ({}), so {stays}{edge}",
                p.suspended.as_deref().unwrap_or_default()
            ),
        )
        .with_help(help)
        .for_app(app);
        // A first deployment that stays down until the sync resumes is what a freeze holds
        // back (a new app, a new cluster of the ring): an error only where the edge would send
        // an app's users to the cluster, a warning elsewhere.
        let harmless = was == "its first deployment" && (edge.is_empty() || !served.contains(app));
        out.push(if harmless { found.warning() } else { found });
    }
    let placed: std::collections::HashSet<(&str, &str)> =
        placements.iter().map(|p| (p.app_name(), p.cluster_id())).collect();
    for (app, cluster, state) in &states {
        if state != "suspended" || placed.contains(&(app.as_str(), cluster.as_str())) {
            continue;
        }
        let Some(x) = sources.clusters.iter().find(|x| x.value.cluster_id.as_str() == cluster) else {
            continue;
        };
        let what = match x.value.gitops.engine.as_str() {
            "flux" => {
                "Flux removes its Kustomization without pruning (it is suspended), so its objects stay, managed by nothing"
            }
            _ => "Argo CD deletes its Application with a cascade, so its objects go at once",
        };
        let contract = sources.apps.iter().find(|a| a.value.application.name.as_str() == app);
        let ring = x.value.upgrade_channel.as_str();
        let label = match (
            contract,
            &x.value.gitops.suspend,
            frozen(&fleet.value, ring, sources.today),
        ) {
            (Some(doc), _, _) => doc.label(&["placement"], format!("no longer places it on `{cluster}`")),
            (None, Some(_), _) => x.label(&["gitops", "suspend"], "sync suspended here"),
            (None, None, Some(f)) => freeze_label(f, "ring frozen here"),
            (None, None, None) => x.label(&["clusterId"], "the app's contract is gone"),
        };
        out.push(
            Diagnostic::error(
                codes::KILL_SWITCH_TARGET,
                files,
                label,
                format!(
                    "`{app}` leaves cluster `{cluster}`, where its sync is stopped (suspended in the committed {matrix}): {what}"
                ),
            )
            .with_help("keep it placed there until its sync resumes, then remove it")
            .for_app(app.as_str())
            .warning(),
        );
    }
}
