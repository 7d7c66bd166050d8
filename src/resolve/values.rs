//! Helm values files must be ones that rendering reads: `common.yaml`, `<environment>.yaml`
//! or `<clusterId>.yaml`, in the folder of an app that is deployed by a chart.

use crate::diag::{Diagnostic, codes};
use crate::load::Sources;
use crate::model::Environment;
use crate::suggest;

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let files = &sources.files;
    let mut names: Vec<String> = vec!["common".into()];
    names.extend(Environment::ALL.iter().map(|e| e.to_string()));
    names.extend(sources.clusters.iter().map(|c| c.value.cluster_id.to_string()));
    for v in &sources.values {
        let path = &files.get(v.file).path;
        let Some(app) = sources
            .apps
            .iter()
            .find(|a| a.value.application.name == *v.app.as_str())
        else {
            continue; // a folder without a contract is reported on its own
        };
        let stem = path
            .strip_prefix(&format!("apps/{}/values/", v.app))
            .and_then(|rest| rest.strip_suffix(".yaml"))
            .unwrap_or("");
        if app.value.chart.is_none() {
            out.push(
                Diagnostic::file_error(
                    codes::UNUSED_VALUES_FILE,
                    path,
                    format!("`{}` has no `chart:`, so its values files are not used", v.app),
                )
                .with_help("Helm values apply to chart-deployed apps; add `chart:` to the contract or remove the file")
                .warning(),
            );
        } else if !names.iter().any(|n| n == stem) {
            let help = match suggest::closest(stem, names.iter().map(String::as_str)) {
                Some(s) => format!(
                    "did you mean `{s}.yaml`? values files are `common.yaml`, `<environment>.yaml` or `<clusterId>.yaml`"
                ),
                None => "values files are `common.yaml`, `<environment>.yaml` or `<clusterId>.yaml`".to_string(),
            };
            out.push(
                Diagnostic::file_error(
                    codes::UNUSED_VALUES_FILE,
                    path,
                    "this values file matches no environment or cluster, so it is not used",
                )
                .with_help(help)
                .warning(),
            );
        }
    }
}
