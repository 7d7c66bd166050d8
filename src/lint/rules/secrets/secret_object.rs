//! ## What it does
//! Flags a `kind: Secret` with `data` or `stringData` that an app's template renders.
//!
//! Every file fleetgen renders is committed to git (`rendered/` is the GitOps source), so
//! the Secret's values are committed with it. `data` is base64, which is an encoding, not
//! encryption: anyone who can read the repository, its forks, its CI logs or any clone
//! made since can read the values, and rotating them does not take them out of history.
//!
//! A Secret without data (one a controller fills in, such as a service-account token) is
//! not flagged. Secrets a Helm chart renders from its values are the chart's; their values
//! are found where they are written, by `plaintext-credential` (FG141).
//!
//! ## Why is this bad?
//! A credential in git is a leaked credential. It also cannot differ between clusters
//! without templating the secret into every cluster's tree, and cannot be rotated without
//! a commit and a sync.
//!
//! ## Example
//! ```yaml
//! # apps/web/templates/db.yaml.j2
//! apiVersion: v1
//! kind: Secret
//! metadata: { name: web-db }
//! stringData:
//!   password: hunter22
//! ```
//!
//! ## Use instead
//! Keep the value in a secret store and render a reference to it: an `ExternalSecret`
//! (External Secrets Operator) that names the store's key, or a `SecretProviderClass`
//! (Secrets Store CSI driver, with Azure Key Vault or AWS Secrets Manager) mounted by the
//! pod; or commit the Secret encrypted, as a `SealedSecret`.
//! ```yaml
//! apiVersion: external-secrets.io/v1
//! kind: ExternalSecret
//! metadata: { name: web-db }
//! spec:
//!   secretStoreRef: { kind: ClusterSecretStore, name: regional-key-vault }
//!   target: { name: web-db }
//!   data:
//!     - secretKey: password
//!       remoteRef: { key: web-db-password }
//! ```
//! A finding that is not a credential can be exempted for its app, cluster or namespace
//! (`policy-library/exemptions/`, `rule: secret-object`) or turned off in fleet.yaml.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diag::{Diagnostic, Label};
use crate::emit::RenderedObject;
use crate::lint::{Context, EachObject};
use crate::lint::query::{about, find_in, on_clusters};
use crate::lint::rule;
use crate::lint::secrets::USE_INSTEAD;
use crate::source::FileId;

rule!("FG140" "secret-object", "secrets", Error, Objects, "an app template renders a Secret with its data in plain text, committed to git (lint)");

type Names = BTreeSet<String>;

#[derive(Default)]
pub struct Pass {
    /// (template, name) → (fields, apps, clusters)
    found: BTreeMap<(FileId, String), (Names, Names, Names)>,
}

impl EachObject for Pass {
    fn object(&mut self, ctx: &Context, o: &RenderedObject, v: &Value) {
        if o.kind() != "Secret" || v["apiVersion"] != "v1" {
            return;
        }
        let fields: Vec<&str> = ["data", "stringData"]
            .into_iter()
            .filter(|f| v[*f].as_object().is_some_and(|m| !m.is_empty()) || v[*f].as_str().is_some_and(|s| !s.is_empty()))
            .collect();
        if fields.is_empty() {
            return;
        }
        let namespace = v["metadata"]["namespace"].as_str();
        if ctx.exempted(&RULE.code, Some(&o.app), Some(&o.cluster), namespace) {
            return;
        }
        let name = v["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let entry = self.found.entry((o.template, name)).or_default();
        entry.0.extend(fields.iter().map(|f| f.to_string()));
        entry.1.insert(o.app.clone());
        entry.2.insert(o.cluster.clone());
    }

    fn report(self: Box<Self>, ctx: &Context, out: &mut Vec<Diagnostic>) {
        for ((template, name), (fields, apps, clusters)) in self.found {
            let span = find_in(&ctx.sources.files, template, "kind: Secret");
            let fields: Vec<String> = fields.into_iter().map(|f| format!("`{f}`")).collect();
            let d = Diagnostic::error(
                &RULE.code,
                &ctx.sources.files,
                Label::new(template, span, "rendered into git"),
                format!(
                    "Secret `{name}` carries its values in {} (on {}); rendered/ is committed with them, and base64 is an encoding, not encryption",
                    fields.join(" and "),
                    on_clusters(&clusters)
                ),
            )
            .with_help(USE_INSTEAD);
            out.push(about(d, &apps, &clusters));
        }
    }
}
