//! ## What it does
//! Compares a `backup-restore` app's `data.rpo` with the backup profile of every prod cluster
//! it lands on: the profile's own `rpo`, and the longest gap between two runs of its
//! `schedule` (a five-field cron expression, evaluated over a year) must not exceed it.
//! Non-prod clusters are not checked: the contract's RPO is a promise about production data.
//!
//! ## Why is this bad?
//! A backup-restore app can lose at most what happened since the last backup. A contract that
//! promises `rpo: 1h` on a cluster backed up every four hours will lose up to four hours of
//! writes in a disaster, and nobody learns it before the restore.
//!
//! ## Example
//! ```yaml
//! # profiles/backup/azure-backup-aks-prod.yaml: { schedule: "0 */4 * * *", rpo: 4h }
//! data: { mode: backup-restore, writeRegions: [azure:eastus], rpo: 1h, rto: 8h }
//! ```
//!
//! ## Use instead
//! Promise what the backups deliver (`rpo: 4h`), put the app on clusters whose backup profile
//! runs often enough, or choose a data mode that replicates (`pilot-light`, `warm-standby`).

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::model::Duration;
use crate::model::app::DataMode;
use crate::model::common::Environment;

rule!("FG164" "backup-rpo-unmet", "placement", Error, Lint, "a backup-restore app's RPO shorter than its prod clusters' backup profile delivers (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let Some(data) = app.data.as_ref().filter(|d| d.mode == DataMode::BackupRestore) else {
            continue;
        };
        let name = app.application.name.as_str();
        let mut seen = BTreeSet::new();
        for p in ctx.active(name) {
            let c = &p.cluster.value;
            if c.environment != Environment::Prod || !seen.insert(c.backup_profile.as_str()) {
                continue;
            }
            let Some(profile) = ctx
                .sources
                .backup_profiles
                .iter()
                .find(|b| b.value.name == c.backup_profile)
            else {
                continue;
            };
            let b = &profile.value;
            let gap = max_gap_seconds(&b.schedule);
            let (field, worst) = match gap {
                Some(g) if g > b.rpo.seconds => ("schedule", g),
                _ => ("rpo", b.rpo.seconds),
            };
            if worst <= data.rpo.seconds {
                continue;
            }
            let worst = String::from(Duration { seconds: worst });
            let what = match field {
                "schedule" => format!("runs backups as far apart as {worst} (`{}`)", b.schedule),
                _ => format!("promises rpo {worst}"),
            };
            out.push(
                Diagnostic::error(
                    &RULE.code,
                    &ctx.sources.files,
                    doc.label(&["data", "rpo"], format!("rpo {}", data.rpo)),
                    format!(
                        "`{name}` promises rpo {} from backups, but backup profile `{}` of cluster `{}` {what}",
                        data.rpo, b.name, c.cluster_id
                    ),
                )
                .with_secondary(profile.label(&[field], "what the backups deliver"))
                .with_secondary(p.cluster.label(&["backupProfile"], "this cluster's backups"))
                .with_help(format!(
                    "promise at least rpo {worst}, land on clusters with more frequent backups, or replicate the data (`pilot-light`, `warm-standby`)"
                ))
                .for_app(name),
            );
        }
    }
}

/// The longest time between two consecutive runs of a five-field cron schedule (minute,
/// hour, day of month, month, day of week), over one year and into the next; `None` when the
/// expression is not understood (or never runs).
pub fn max_gap_seconds(schedule: &str) -> Option<u64> {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    let [min, hour, dom, month, dow] = fields[..] else {
        return None;
    };
    let minutes = parse_field(min, 0, 59)?;
    let hours = parse_field(hour, 0, 23)?;
    let doms = parse_field(dom, 1, 31)?;
    let months = parse_field(month, 1, 12)?;
    let dows: Vec<u32> = parse_field(dow, 0, 7)?.into_iter().map(|d| d % 7).collect();
    // Cron runs on a day when both day fields match, or either one when both are restricted.
    let (dom_any, dow_any) = (dom == "*", dow == "*");
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut runs: Vec<u64> = Vec::new();
    let mut day_index: u64 = 0;
    // Two years from a Thursday (2026-01-01), so the gap across new year is seen.
    for _year in 0..2 {
        for (m, &len) in DAYS.iter().enumerate() {
            for d in 1..=len {
                let weekday = ((day_index + 4) % 7) as u32;
                let dom_ok = doms.contains(&d);
                let dow_ok = dows.contains(&weekday);
                let day_ok = match (dom_any, dow_any) {
                    (true, true) => true,
                    (false, true) => dom_ok,
                    (true, false) => dow_ok,
                    (false, false) => dom_ok || dow_ok,
                };
                if months.contains(&(m as u32 + 1)) && day_ok {
                    for h in &hours {
                        for mi in &minutes {
                            runs.push(day_index * 1440 + u64::from(*h) * 60 + u64::from(*mi));
                        }
                    }
                }
                day_index += 1;
            }
        }
    }
    runs.windows(2).map(|w| (w[1] - w[0]) * 60).max()
}

/// The values of one cron field: `*`, `*/n`, `a`, `a-b`, `a-b/n`, and lists of them.
fn parse_field(field: &str, lo: u32, hi: u32) -> Option<Vec<u32>> {
    let mut out = BTreeSet::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                None => {
                    let a: u32 = r.parse().ok()?;
                    (a, if part.contains('/') { hi } else { a })
                }
            },
        };
        if a < lo || b > hi || a > b {
            return None;
        }
        out.extend((a..=b).step_by(step as usize));
    }
    Some(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::max_gap_seconds;

    #[test]
    fn cron_gaps() {
        assert_eq!(max_gap_seconds("0 */4 * * *"), Some(4 * 3600));
        assert_eq!(max_gap_seconds("0 2 * * *"), Some(24 * 3600));
        assert_eq!(max_gap_seconds("*/15 * * * *"), Some(15 * 60));
        assert_eq!(max_gap_seconds("0 1,13 * * *"), Some(12 * 3600));
        assert_eq!(max_gap_seconds("0 3 * * 0"), Some(7 * 86_400));
        // Monthly, on the 1st: the longest month.
        assert_eq!(max_gap_seconds("0 0 1 * *"), Some(31 * 86_400));
        assert_eq!(max_gap_seconds("@daily"), None);
        assert_eq!(max_gap_seconds("0 25 * * *"), None);
    }
}
