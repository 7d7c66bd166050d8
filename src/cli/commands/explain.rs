//! `fleetgen rules` and `fleetgen explain CODE`.

use crate::cli::print;

/// `fleetgen rules`: every lint rule with its family, default severity and stage.
pub fn rules() -> u8 {
    let rules: Vec<_> = crate::api::rules().collect();
    let width = rules.iter().map(|r| r.code.name.len()).max().unwrap_or(4);
    let family = rules.iter().map(|r| r.family.len()).max().unwrap_or(6);
    let mut out = format!(
        "{:<6} {:<width$} {:<family$} {:<8} checked by\n",
        "code", "name", "family", "severity"
    );
    for r in &rules {
        out.push_str(&format!(
            "{:<6} {:<width$} {:<family$} {:<8} {}\n",
            r.code.id,
            r.code.name,
            r.family,
            r.code.default.as_str(),
            r.stage
        ));
    }
    out.push_str("\nfleet.yaml's `lint.severity` changes a rule's severity (error, warning, off).\n");
    print(&out);
    0
}

/// `fleetgen explain CODE`: a rule's documentation, or any code's summary.
pub fn explain(key: &str) -> u8 {
    if let Some(rule) = crate::api::rule(key) {
        print(&format!(
            "# {} {} ({} rule)\n\n{}",
            rule.code.id, rule.code.name, rule.family, rule.doc
        ));
        return 0;
    }
    let catalogue = crate::lint::catalogue();
    match crate::diag::codes::find_in(catalogue, key) {
        Some(code) => {
            print(&format!("# {} {}\n\n{}.\n", code.id, code.name, code.summary));
            0
        }
        None => {
            let names: Vec<String> = catalogue.iter().map(|c| c.name.to_string()).collect();
            let hint = match crate::suggest::closest(key, names.iter().map(String::as_str)) {
                Some(s) => format!("; did you mean `{s}`?"),
                None => String::new(),
            };
            eprintln!("error: no code `{}`{hint}", crate::diag::escape::line(key));
            2
        }
    }
}
