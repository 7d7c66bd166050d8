//! ## What it does
//! Flags a chart app whose `chart.version` is not one exact version but a range: a wildcard
//! (`3.8.x`, `3.x`) or a partial version (`3.8`, `3`: Flux reads it as the range `3.8.x`,
//! while Argo CD takes anything that parses as a version for a pin and asks the repository for
//! a chart `3.8`, so the one value means two things). An exact version is
//! `MAJOR.MINOR.PATCH`, a leading `v`, a pre-release and build metadata allowed (`3.8.1`,
//! `v3.8.1`, `3.9.0-rc.1`). fleetgen writes the version as it is:
//! Flux's OCIRepository takes a range as `ref.semver` and a HelmRelease's chart (an `https://`
//! repository) as `chart.spec.version`; Argo CD as the Application's `targetRevision`.
//!
//! ## Why is this bad?
//! Both engines resolve a wildcard against the repository again and again, and install the
//! newest chart in it: a newly published chart reaches every ring at once, with no commit,
//! no review and no ring to try it first. On Flux it goes through a freeze too: suspending an
//! app's Kustomization does not suspend the OCIRepository, HelmChart and HelmRelease it
//! applied, so the source picks up the new chart and the HelmRelease upgrades to it on the
//! frozen clusters. The rendered files do not change, so `check` and the ring rules never see
//! the new version.
//!
//! ## Example
//! ```yaml
//! chart:
//!   repository: oci://registry.example.com/charts
//!   name: storefront-web
//!   version: "3.8.x"
//! ```
//! A chart 3.8.2 pushed to the registry is installed on sandbox and prod alike within the
//! source's interval, frozen prod clusters on Flux included.
//!
//! ## Use instead
//! Pin the exact version (`version: "3.8.1"`) and change it in a commit, whose render shows
//! the new version on every cluster and which a freeze holds back.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;

rule!("FG170" "chart-version-range", "drift", Error, Lint, "a chart app whose `chart.version` is a range (`3.8.x`, `3.8`): each new chart reaches every ring at once, through a freeze on Flux (lint)");

/// Whether `version` names one chart version: `MAJOR.MINOR.PATCH` with numbers, a leading
/// `v`, a pre-release (`-rc.1`) and build metadata (`+1`) allowed. Anything else the engines
/// read as a constraint (Masterminds semver): `x`, `X` and `*` are wildcards and a missing
/// part is one.
fn exact(version: &str) -> bool {
    let core = version.strip_prefix('v').unwrap_or(version);
    let (core, build) = core.split_once('+').unwrap_or((core, ""));
    let (core, pre) = core.split_once('-').unwrap_or((core, ""));
    let numbers: Vec<&str> = core.split('.').collect();
    let ident = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    numbers.len() == 3
        && numbers.iter().all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && ident(pre)
        && ident(build)
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let Some(chart) = &doc.value.chart else { continue };
        let version = chart.version.as_str();
        if exact(version) {
            continue;
        }
        let app = doc.value.application.name.as_str();
        out.push(
            Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["chart", "version"], "a range, not one version"),
                format!(
                    "`{app}` takes chart `{}` at `{version}`, a range: Flux and Argo CD install each new chart in it on every ring at once, and Flux through a freeze",
                    chart.name
                ),
            )
            .with_help("pin one exact chart version (`MAJOR.MINOR.PATCH`, such as `3.8.1`) and change it in a commit")
            .for_app(app),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::exact;

    #[test]
    fn an_exact_version_has_three_numbers() {
        for version in ["3.8.1", "v3.8.1", "3.9.0-rc.1", "1.0.0+build.5", "10.20.30-alpha-1"] {
            assert!(exact(version), "{version}");
        }
        for version in ["3.8.x", "3.x", "3.8.X", "3.8", "3", "v3", "*", "^3.8.0", "~3.8", ">=3.8.0 <4.0.0", "3.8.1.4", "3.8.1_1"] {
            assert!(!exact(version), "{version}");
        }
    }
}
