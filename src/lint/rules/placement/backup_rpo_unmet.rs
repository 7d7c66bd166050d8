//! ## What it does
//! Compares a `backup-restore` app's `data.rpo` with the backup profile of every prod cluster
//! it lands on: the profile's own `rpo`, and the longest gap between two runs of its
//! `schedule` (a five-field cron expression with numbers or names, evaluated over eight
//! years) must not exceed it; a schedule that never runs, or that fleetgen cannot read,
//! meets no RPO.
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
            let (field, worst) = match max_gap(&b.schedule) {
                Gap::Longest(g) if g > b.rpo.seconds => ("schedule", g),
                Gap::Longest(_) => ("rpo", b.rpo.seconds),
                // No backups to restore from: no RPO holds.
                Gap::Never => ("never", u64::MAX),
                Gap::Unreadable => ("unreadable", u64::MAX),
            };
            if worst <= data.rpo.seconds {
                continue;
            }
            let shown = String::from(Duration { seconds: worst });
            let what = match field {
                "schedule" => format!("runs backups as far apart as {shown} (`{}`)", b.schedule),
                "never" => format!("never runs a backup (`{}` names no day that exists)", b.schedule),
                "unreadable" => format!(
                    "runs on `{}`, which is not a five-field cron expression fleetgen reads, so the time between backups is unknown",
                    b.schedule
                ),
                _ => format!("promises rpo {shown}"),
            };
            let field = if field == "rpo" { "rpo" } else { "schedule" };
            let promise = match worst {
                u64::MAX => "fix the schedule".to_string(),
                _ => format!("promise at least rpo {shown}"),
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
                    "{promise}, land on clusters with more frequent backups, or replicate the data (`pilot-light`, `warm-standby`)"
                ))
                .for_app(name),
            );
        }
    }
}

/// What a backup schedule says about the time between backups.
#[derive(Debug, PartialEq, Eq)]
pub enum Gap {
    /// The longest time between two consecutive runs, in seconds.
    Longest(u64),
    /// It never runs (`0 0 30 2 *`: there is no 30 February).
    Never,
    /// Not a five-field cron expression fleetgen reads.
    Unreadable,
}

/// The longest time between two consecutive runs of a five-field cron schedule (minute,
/// hour, day of month, month, day of week; numbers, `*`, ranges, steps, lists, and the
/// names `JAN`–`DEC` and `SUN`–`SAT`), over the eight years from 2026, which hold two 29
/// Februaries, so that a schedule on that day is seen running every four years.
pub fn max_gap(schedule: &str) -> Gap {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    let [min, hour, dom, month, dow] = fields[..] else {
        return Gap::Unreadable;
    };
    const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let parsed = (|| {
        Some((
            parse_field(min, 0, 59, &[], 0)?,
            parse_field(hour, 0, 23, &[], 0)?,
            parse_field(dom, 1, 31, &[], 0)?,
            parse_field(month, 1, 12, &MONTHS, 1)?,
            parse_field(dow, 0, 7, &WEEKDAYS, 0)?,
        ))
    })();
    let Some((minutes, hours, doms, months, dows)) = parsed else {
        return Gap::Unreadable;
    };
    let dows: Vec<u32> = dows.into_iter().map(|d| d % 7).collect();
    // The runs of a day that runs, in minutes from its midnight, in order.
    let in_day: Vec<u64> = hours
        .iter()
        .flat_map(|h| minutes.iter().map(move |m| u64::from(*h) * 60 + u64::from(*m)))
        .collect();
    let within = in_day.windows(2).map(|w| w[1] - w[0]).max();
    // Cron runs on a day when both day fields match, or either one when both are restricted.
    let (dom_any, dow_any) = (dom == "*", dow == "*");
    let (mut day_index, mut last, mut longest): (u64, Option<u64>, Option<u64>) = (0, None, within);
    for year in 2026..2034 {
        for (m, mut len) in [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31].into_iter().enumerate() {
            if m == 1 && year % 4 == 0 {
                len = 29;
            }
            for d in 1..=len {
                // 2026-01-01 is a Thursday.
                let weekday = ((day_index + 4) % 7) as u32;
                let (dom_ok, dow_ok) = (doms.contains(&d), dows.contains(&weekday));
                let day_ok = match (dom_any, dow_any) {
                    (true, true) => true,
                    (false, true) => dom_ok,
                    (true, false) => dow_ok,
                    (false, false) => dom_ok || dow_ok,
                };
                if months.contains(&(m as u32 + 1)) && day_ok {
                    let first = day_index * 1440 + in_day[0];
                    if let Some(last) = last {
                        longest = longest.max(Some(first - last));
                    }
                    last = Some(day_index * 1440 + in_day[in_day.len() - 1]);
                }
                day_index += 1;
            }
        }
    }
    match (last, longest) {
        (None, _) => Gap::Never,
        // One day's runs alone in eight years (not a cron schedule can do that), or one run.
        (Some(_), None) => Gap::Never,
        (Some(_), Some(minutes)) => Gap::Longest(minutes * 60),
    }
}

/// The values of one cron field: `*`, `*/n`, `a`, `a-b`, `a-b/n`, and lists of them; `names`
/// (case aside) stand for `offset`, `offset + 1`, …
fn parse_field(field: &str, lo: u32, hi: u32, names: &[&str], offset: u32) -> Option<Vec<u32>> {
    let value = |v: &str| -> Option<u32> {
        v.parse().ok().or_else(|| {
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(v))
                .map(|i| i as u32 + offset)
        })
    };
    let mut out = BTreeSet::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None => {
                    let a = value(r)?;
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
    use super::{Gap, max_gap};

    #[test]
    fn cron_gaps() {
        let hours = |h: u64| Gap::Longest(h * 3600);
        assert_eq!(max_gap("0 */4 * * *"), hours(4));
        assert_eq!(max_gap("0 2 * * *"), hours(24));
        assert_eq!(max_gap("*/15 * * * *"), Gap::Longest(15 * 60));
        assert_eq!(max_gap("0 1,13 * * *"), hours(12));
        assert_eq!(max_gap("0 3 * * 0"), hours(7 * 24));
        // Names, in either case, and their ranges.
        assert_eq!(max_gap("0 3 * * SUN"), hours(7 * 24));
        assert_eq!(max_gap("0 3 * * mon-fri"), hours(3 * 24));
        // Monthly, on the 1st: the longest month.
        assert_eq!(max_gap("0 0 1 * *"), hours(31 * 24));
        // Yearly, and every fourth year (29 February).
        assert_eq!(max_gap("0 0 1 JAN *"), hours(366 * 24));
        assert_eq!(max_gap("0 0 29 2 *"), hours((3 * 365 + 366) * 24));
        assert_eq!(max_gap("0 0 30 2 *"), Gap::Never);
        assert_eq!(max_gap("@daily"), Gap::Unreadable);
        assert_eq!(max_gap("0 25 * * *"), Gap::Unreadable);
        assert_eq!(max_gap("0 0 * * FOO"), Gap::Unreadable);
    }
}
