//! ## What it does
//! Flags an app whose release in a later ring is newer than the release an earlier ring of
//! the app runs: the app twin of `later-ring-ahead` (FG121). Each cluster runs its ring's
//! release of the app (`application.rings.<ring>`, else the contract's `image` and
//! `version`); for every ring the app lands on, every earlier ring it lands on must run
//! that version or a newer one, and the same version must be the same image. A ring whose
//! clusters are all drained (or scaled down) still counts: the switch takes its traffic
//! away, not the release it is to run first. Versions are
//! ordered by their numbered core, a release above its pre-releases (`1.4.0-rc.1` <
//! `1.4.0`), build metadata ignored; versions that do not start with a number (a git SHA)
//! must be equal.
//!
//! ## Why is this bad?
//! A release walks the rings so that it meets staging before it meets production. A prod
//! release that staging does not run has not been tried by anyone; a version label that is
//! one image in staging and another in prod means prod runs something staging never saw.
//!
//! ## Example
//! ```yaml
//! # rings: [staging, prod]
//! application:
//!   image: registry.example.com/api@sha256:bbbb…
//!   version: 2026.07.03-1200
//!   rings:
//!     staging:
//!       image: registry.example.com/api@sha256:aaaa…
//!       version: 2026.07.01-0900
//! ```
//! Prod runs the top-level release, 2026.07.03-1200, which staging (pinned to 07.01) never ran.
//!
//! ## Use instead
//! Put the new release at the top (`image`, `version`) so that the first ring gets it, pin
//! later rings to the release they run (`rings.prod`), and promote by moving the pin: delete
//! `rings.prod` once prod may have what staging runs.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::query::compare_versions;
use crate::lint::rule;

rule!("FG125" "release-skips-ring", "drift", Error, Lint, "a later ring runs an app release that an earlier ring of the app has not run (lint)");

/// Orders two release versions as [`compare_versions`] does. Versions that do not start
/// with a number (a git SHA) cannot be ordered: unless equal, they count as newer, so that
/// an earlier ring must run exactly the same one.
fn compare_releases(a: &str, b: &str) -> Ordering {
    let numbered = |v: &str| {
        let v = v.trim_start_matches('v');
        v.split(['.', '-', '+'])
            .next()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if !numbered(a) || !numbered(b) {
        return if a == b { Ordering::Equal } else { Ordering::Greater };
    }
    compare_versions(a, b)
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let rings = &ctx.plan.fleet.value.rings;
    let position = |ring: &str| rings.iter().position(|r| r.name == *ring);
    for doc in &ctx.sources.apps {
        let a = &doc.value.application;
        let name = a.name.as_str();
        // The rings the app lands in, in rollout order: a drained or scaled-down cluster
        // counts (a switch takes traffic or replicas away, not the ring's release).
        let landed: BTreeSet<usize> = (ctx.placements_of(name).iter())
            .filter_map(|p| position(p.cluster.value.upgrade_channel.as_str()))
            .collect();
        for &r in &landed {
            let ring = rings[r].name.as_str();
            let here = a.release(ring);
            // The first earlier ring (in rollout order) that has not run this release.
            let skipped = landed.iter().take_while(|&&e| e < r).find_map(|&e| {
                let earlier = rings[e].name.as_str();
                let there = a.release(earlier);
                match compare_releases(here.version, there.version) {
                    Ordering::Greater => Some((earlier, there, false)),
                    Ordering::Equal if here.image != there.image => Some((earlier, there, true)),
                    _ => None,
                }
            });
            let Some((earlier, there, other_image)) = skipped else {
                continue;
            };
            let version = here.version;
            let (message, label, secondary) = if other_image {
                (
                    format!(
                        "`{name}` {version} in ring `{ring}` is image `{}`, but ring `{earlier}` runs {version} as `{}`",
                        here.image, there.image
                    ),
                    doc.label(&here.path("image"), format!("ring `{ring}`")),
                    doc.label(&there.path("image"), format!("ring `{earlier}`")),
                )
            } else {
                (
                    format!(
                        "`{name}` runs {version} in ring `{ring}`, which ring `{earlier}` has not run (it runs {})",
                        there.version
                    ),
                    doc.label(&here.path("version"), format!("ring `{ring}`")),
                    doc.label(&there.path("version"), format!("ring `{earlier}`")),
                )
            };
            let pin = if here.ring.is_some() {
                format!("set `application.rings.{ring}` back to what `{earlier}` runs")
            } else {
                format!("pin ring `{ring}` (`application.rings.{ring}`) to what `{earlier}` runs")
            };
            out.push(
                Diagnostic::error(&RULE.code, &ctx.sources.files, label, message)
                    .with_secondary(secondary)
                    .with_help(format!("promote the release to ring `{earlier}` first, or {pin}"))
                    .for_app(name),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_order_by_core_then_pre_release() {
        assert_eq!(compare_releases("2026.07.03-1421", "2026.07.03-0955"), Ordering::Greater);
        assert_eq!(compare_releases("2026.07.02-1610", "2026.07.03-0955"), Ordering::Less);
        assert_eq!(compare_releases("1.4.0-rc.1", "1.4.0"), Ordering::Less);
        assert_eq!(compare_releases("1.4.0", "1.4.0-rc.1"), Ordering::Greater);
        assert_eq!(compare_releases("1.4.0+abc", "1.4.0"), Ordering::Equal);
        assert_eq!(compare_releases("1.10.0", "1.9.9"), Ordering::Greater);
        // Unordered versions must be equal.
        assert_eq!(compare_releases("3f1c9a7", "3f1c9a7"), Ordering::Equal);
        assert_eq!(compare_releases("3f1c9a7", "a0b1c2d"), Ordering::Greater);
        assert_eq!(compare_releases("a0b1c2d", "3f1c9a7"), Ordering::Greater);
    }
}
