//! ## What it does
//! Flags an app whose `data.rpo` or `data.rto` is shorter than its data mode can deliver.
//! The floors, per mode, follow the usual disaster-recovery strategy bands (backup and
//! restore: hours; pilot light: tens of minutes; warm standby: minutes; hot standby and
//! replicated primaries: near-zero data loss, minutes to fail over; multi-writer: near zero):
//!
//! | mode                          | shortest RPO | shortest RTO |
//! |-------------------------------|--------------|--------------|
//! | backup-restore                | 1h           | 1h           |
//! | pilot-light                   | 10m          | 10m          |
//! | warm-standby                  | 1m           | 1m           |
//! | hot-standby                   | 0s           | 1m           |
//! | regional-primary-with-standby | 1m           | 5m           |
//! | regional                      | 1m           | 5m           |
//! | active-active                 | 0s           | 0s           |
//!
//! fleet.yaml can set the fleet's own floors per mode under `lint.dataModes`
//! (`backup-restore: { rpo: 4h, rto: 8h }`); fields left out keep the table's.
//!
//! ## Why is this bad?
//! RPO and RTO are promises to the business, and incident responders plan with them. A
//! `backup-restore` app cannot lose less than the writes since its last backup, nor come
//! back before a restore finishes; writing `rpo: 5m` does not make it so. The gap is found
//! in the one hour nobody can afford to find it.
//!
//! ## Example
//! ```yaml
//! data: { mode: backup-restore, rpo: 5m, rto: 15m }
//! ```
//!
//! ## Use instead
//! Promise what the mode delivers (`rpo: 12h, rto: 24h`), or pick a mode that delivers
//! the promise (`warm-standby` for minutes, `active-active` for near zero).

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::model::Duration;
use crate::model::app::DataMode;
use crate::lint::rule;

rule!("FG106" "rpo-rto-unreachable", "active-active", Error, Lint, "an RPO or RTO shorter than the app's data mode can deliver (lint)");

/// The built-in floors (RPO, RTO) of a data mode, in seconds.
pub fn default_floors(mode: DataMode) -> (u64, u64) {
    const M: u64 = 60;
    const H: u64 = 3_600;
    match mode {
        DataMode::BackupRestore => (H, H),
        DataMode::PilotLight => (10 * M, 10 * M),
        DataMode::WarmStandby => (M, M),
        DataMode::HotStandby => (0, M),
        DataMode::RegionalPrimaryWithStandby | DataMode::Regional => (M, 5 * M),
        DataMode::ActiveActive | DataMode::Stateless => (0, 0),
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let fleet = ctx.plan.fleet;
    for doc in &ctx.sources.apps {
        let app = &doc.value;
        let Some(data) = &app.data else { continue };
        let (rpo_floor, rto_floor) = default_floors(data.mode);
        let configured = fleet.value.lint.data_modes.get(data.mode.as_str());
        for (field, promised, default, set) in [
            ("rpo", data.rpo, rpo_floor, configured.and_then(|c| c.rpo)),
            ("rto", data.rto, rto_floor, configured.and_then(|c| c.rto)),
        ] {
            let floor = set.map_or(default, |d| d.seconds);
            if promised.seconds >= floor {
                continue;
            }
            let floor_text = String::from(Duration { seconds: floor });
            let what = match field {
                "rpo" => "lose less data than",
                _ => "recover faster than",
            };
            let mut d = Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                doc.label(&["data", field], format!("{field} {}", String::from(promised))),
                format!(
                    "`{}` promises {field} {} but `{}` data cannot {what} {floor_text}",
                    app.application.name,
                    String::from(promised),
                    data.mode
                ),
            )
            .with_secondary(doc.label(&["data", "mode"], "this mode"))
            .with_help(format!(
                "promise at least {field}: {floor_text}, or choose a data mode that delivers {}",
                String::from(promised)
            ))
            .for_app(app.application.name.as_str());
            if set.is_some() {
                d = d.with_secondary(
                    fleet.label(&["lint", "dataModes", data.mode.as_str(), field], "the fleet's floor"),
                );
            }
            out.push(d);
        }
    }
}
