//! The private sources the GitOps engines fetch from — the fleet repository and the chart
//! registries — must be reachable with the credentials fleet.yaml says they use: Flux speaks
//! SSH only with a Secret's key, and a registry's cloud identity exists only on clusters of
//! that cloud.

use crate::diag::{Diagnostic, codes};
use crate::load::Sources;
use crate::model::Provider;
use crate::model::fleet::{AuthProvider, SourceAuth};

pub fn check(sources: &Sources, out: &mut Vec<Diagnostic>) {
    let Some(fleet) = &sources.fleet else { return };
    let f = &fleet.value;
    let files = &sources.files;
    if f.repository.url.starts_with("ssh://") && !matches!(f.repository.auth, Some(SourceAuth::SecretRef(_))) {
        out.push(
            Diagnostic::error(
                codes::SOURCE_AUTH,
                files,
                fleet.label(&["repository", "url"], "an ssh:// URL"),
                "Flux cannot fetch an ssh:// repository without a Secret holding the key",
            )
            .with_help(
                "add `auth: { secretRef: <name> }` (a Secret in flux-system with `identity` and `known_hosts`), or use an https:// URL",
            ),
        );
    }
    // source-controller refuses `provider: github` without the Secret of the GitHub App.
    if f.repository.auth == Some(SourceAuth::Provider(AuthProvider::Github)) {
        out.push(
            Diagnostic::error(
                codes::SOURCE_AUTH,
                files,
                fleet.label(&["repository", "auth", "provider"], "a GitHub App without its keys"),
                "Flux authenticates as a GitHub App only with a Secret holding the app's keys",
            )
            .with_help(
                "add `secretRef: <name>` beside `provider: github`: a Secret in flux-system with `githubAppID`, `githubAppInstallationID` and `githubAppPrivateKey`",
            ),
        );
    }
    for (i, registry) in f.registries.iter().enumerate() {
        let provider = match &registry.auth {
            Some(SourceAuth::Provider(provider)) => provider,
            Some(SourceAuth::GithubApp(_)) => &AuthProvider::Github,
            _ => continue,
        };
        let cloud = match provider {
            AuthProvider::Azure => Provider::Azure,
            AuthProvider::Aws => Provider::Aws,
            AuthProvider::Github => {
                out.push(
                    Diagnostic::error(
                        codes::SOURCE_AUTH,
                        files,
                        fleet.item_field_label(&["registries"], i, Some("auth"), "a Git provider"),
                        format!(
                            "registry `{}`: `github` authenticates a Git repository, not a registry",
                            registry.name
                        ),
                    )
                    .with_help(
                        "use `secretRef` with a dockerconfigjson Secret, or the registry's cloud (`azure`, `aws`)",
                    ),
                );
                continue;
            }
        };
        for app in &sources.apps {
            let Some(chart) = &app.value.chart else { continue };
            if f.registry_of(&chart.repository).map(|r| &r.name) != Some(&registry.name) {
                continue;
            }
            if !chart.repository.starts_with("oci://") {
                out.push(
                    Diagnostic::error(
                        codes::SOURCE_AUTH,
                        files,
                        app.label(&["chart", "repository"], "an https:// Helm repository"),
                        format!(
                            "registry `{}` authenticates by cloud identity, which Flux uses for OCI registries only",
                            registry.name
                        ),
                    )
                    .with_secondary(fleet.item_field_label(&["registries"], i, Some("auth"), "a cloud identity"))
                    .with_help(
                        "serve the chart from an oci:// URL, or give the registry `auth: { secretRef: <name> }`",
                    ),
                );
                continue;
            }
            let off_cloud: Vec<&str> = sources
                .clusters
                .iter()
                .filter(|c| c.value.provider != cloud && super::placement::selects(&app.value, &c.value))
                .map(|c| c.value.cluster_id.as_str())
                .collect();
            if let Some(first) = off_cloud.first() {
                out.push(
                    Diagnostic::error(
                        codes::SOURCE_AUTH,
                        files,
                        app.label(&["chart", "repository"], format!("served by registry `{}`", registry.name)),
                        format!(
                            "`{}`'s chart comes from a registry reached by {cloud} identity, but it lands on {} cluster `{first}`{}",
                            app.value.application.name,
                            if cloud == Provider::Azure { "aws" } else { "azure" },
                            if off_cloud.len() > 1 { format!(" (and {} more)", off_cloud.len() - 1) } else { String::new() }
                        ),
                    )
                    .with_secondary(fleet.item_field_label(&["registries"], i, Some("auth"), "authenticates by cloud identity"))
                    .with_help("give the registry `auth: { secretRef: <name> }` (a dockerconfigjson Secret in the app's namespace), or place the app on clusters of that cloud"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load::fixture;

    /// The FG035 messages of the base fleet with this fleet.yaml `repository.auth`.
    fn refused(auth: &str) -> Vec<String> {
        let fleet =
            fixture::text("fleet.yaml").replace("  branch: main\n", &format!("  branch: main\n  auth: {auth}\n"));
        let sources = fixture::sources(&[("fleet.yaml", &fleet)]);
        let mut out = Vec::new();
        super::check(&sources, &mut out);
        out.into_iter()
            .filter(|d| d.code.id == "FG035")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn a_github_app_needs_the_secret_of_its_keys() {
        assert_eq!(
            refused("{provider: github}"),
            ["Flux authenticates as a GitHub App only with a Secret holding the app's keys"]
        );
        assert!(refused("{provider: github, secretRef: fleet-github-app}").is_empty());
        assert!(refused("{provider: azure}").is_empty());
    }
}
