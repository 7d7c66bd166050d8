//! Helm values files must be ones that rendering reads: `common.yaml`, `<environment>.yaml`
//! or `<clusterId>.yaml`, in the folder of an app that is deployed by a chart; and a chart
//! app's name, its Helm release name, must be one Helm takes.

use crate::diag::{Diagnostic, codes};
use crate::load::Sources;
use crate::model::Environment;
use crate::suggest;

/// The longest Helm release name: Helm refuses a longer one (the names it gives the release's
/// objects and its Secret must fit a DNS label), and so does Flux's HelmRelease
/// (`spec.releaseName`, `maxLength: 53`).
pub const MAX_RELEASE_NAME: usize = 53;

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let files = &sources.files;
    // A chart app's name is its release name on both engines.
    for app in sources.apps.iter().filter(|a| a.value.chart.is_some()) {
        let name = app.value.application.name.as_str();
        if name.len() > MAX_RELEASE_NAME {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    files,
                    app.label(&["application", "name"], format!("{} characters", name.len())),
                    format!(
                        "`{name}` is deployed by a chart, and its name is the Helm release name, which Helm and Flux limit to {MAX_RELEASE_NAME} characters"
                    ),
                )
                .with_help(format!("name the app in {MAX_RELEASE_NAME} characters or fewer")),
            );
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::fixture;

    /// A chart app's name is its Helm release name: 53 characters at most.
    #[test]
    fn a_chart_apps_name_is_a_release_name_helm_takes() {
        let found = |length: usize, chart: bool| {
            let name = format!("w{}", "e".repeat(length - 1));
            let mut text = fixture::text("apps/web/app.yaml").replace("name: web\n", &format!("name: {name}\n"));
            if chart {
                text.push_str(
                    "chart:\n  repository: oci://registry.example.com/charts\n  name: web\n  version: 1.2.3\n",
                );
            }
            let path = format!("apps/{name}/app.yaml");
            let sources = fixture::sources(&[(path.as_str(), text.as_str())]);
            let mut out = Vec::new();
            check(&sources, &mut out);
            out.iter()
                .filter(|d| d.code == codes::INVALID_VALUE && d.message.contains("Helm release name"))
                .count()
        };
        assert_eq!(found(53, true), 0);
        assert_eq!(found(54, true), 1);
        assert_eq!(found(54, false), 0, "an app of manifests has no release");
    }
}
