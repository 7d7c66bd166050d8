//! The placement matrix of an output folder as committed (`rendered/fleet.yaml`), read for
//! what it says of each placement: the diagnostics that compare a render with the tree
//! before it (a stopped sync holding back what the committed tree needs) read it so. Never
//! an input of the render itself.

use serde_json::Value;

/// Each placement of the matrix `before` (a committed `fleet.yaml` of the output folder):
/// app, cluster and its `state` there; `None` when it does not read as a matrix, a row
/// without a text app, cluster or state included (a hand-edited matrix, which `check` calls
/// drifted): a row left out would read as a placement the committed tree does not have.
pub fn placement_states(before: &str) -> Option<Vec<(String, String, String)>> {
    let old = parse(before)?;
    let rows = old["placements"].as_array()?;
    rows.iter()
        .map(|p| {
            let (app, cluster, state) = (p["app"].as_str()?, p["cluster"].as_str()?, p["state"].as_str()?);
            Some((app.to_string(), cluster.to_string(), state.to_string()))
        })
        .collect()
}

/// The identity revocations in force in the matrix `before` (its `incidentSwitches`): each
/// app with the clusters named (none: every cluster of the app).
pub fn revocations(before: &str) -> Vec<(String, Vec<String>)> {
    let Some(old) = parse(before) else {
        return Vec::new();
    };
    (old["incidentSwitches"].as_array().into_iter().flatten())
        .filter(|s| s["switch"] == "revoke-identity")
        .filter_map(|s| {
            let clusters = (s["clusters"].as_array().into_iter().flatten())
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect();
            Some((s["app"].as_str()?.to_string(), clusters))
        })
        .collect()
}

/// The matrix `before` read, its header comment lines left out as in every rendered file.
fn parse(before: &str) -> Option<Value> {
    let mut at = 0;
    for line in before.split_inclusive('\n') {
        if !line.starts_with('#') {
            break;
        }
        at += line.len();
    }
    serde_saphyr::from_str(&before[at..]).ok()
}

#[cfg(test)]
mod tests {
    use super::placement_states;

    #[test]
    fn a_matrix_with_a_row_it_cannot_read_is_not_read() {
        let header = "# Rendered by fleetgen; do not edit.\n";
        let good = format!("{header}placements:\n  - {{ app: web, cluster: east, state: active }}\n");
        assert_eq!(
            placement_states(&good),
            Some(vec![("web".into(), "east".into(), "active".into())])
        );
        let bad = format!("{good}  - {{ app: api, cluster: east, state: 3 }}\n");
        assert_eq!(placement_states(&bad), None);
        assert_eq!(placement_states("placements: 1\n"), None);
    }
}
