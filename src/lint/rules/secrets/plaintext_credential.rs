//! ## What it does
//! Flags a plaintext value, a string or a number, under a key that names a credential —
//! `password`, `clientSecret`, `apiKey`, `token`, `accessKey`, `connectionString` … (also
//! as an environment variable: `name: DB_PASSWORD` with a `value:`) — in a Helm values
//! file, any other input file, or an object an app's template renders. A reference to a
//! value kept elsewhere (`${DB_PASSWORD}`, `{{ … }}`, `$(VAR)`, `vault:…`, a Key Vault or
//! Secrets Manager URI, a `<placeholder>`, the path of a file such as
//! `GOOGLE_APPLICATION_CREDENTIALS: /var/run/secrets/gcp/key.json`) is not flagged, nor a
//! value SOPS encrypted (`ENC[AES256_GCM,…]`), nor the `spec.encryptedData` of a
//! `SealedSecret` (`bitnami.com`: ciphertext only the cluster's controller decrypts), nor a
//! key that names a reference (`existingSecret`, `passwordSecretName`) or a Secret object
//! (the ingress-nginx annotations `nginx.ingress.kubernetes.io/auth-secret`,
//! `auth-tls-secret`, `proxy-ssl-secret`, NGINX's `nginx.org/…-secret`, a Traefik
//! Middleware's `basicAuth.secret` and `digestAuth.secret`).
//!
//! The finding points at the line the value is written on: the values file, the contract,
//! or the template.
//!
//! ## Why is this bad?
//! Values files are rendered into `values.yaml` (and the HelmRelease or Application that
//! carries them) in `rendered/`, which is committed; the file itself is committed too. A
//! password there is readable by everyone who can read the repository, forever.
//!
//! ## Example
//! ```yaml
//! # apps/shop/values/prod.yaml
//! database:
//!   password: hunter22
//! ```
//!
//! ## Use instead
//! Let the chart read the credential from a Secret the cluster gets from a secret store,
//! and give the chart the Secret's name:
//! ```yaml
//! database:
//!   existingSecret: shop-db        # an ExternalSecret (or SealedSecret) creates it
//! ```
//! (External Secrets Operator, the Secrets Store CSI driver, or SealedSecrets.) A finding
//! that is not a credential can be exempted (`policy-library/exemptions/`, `rule:
//! plaintext-credential`, for an app, cluster or namespace) or turned off in fleet.yaml.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::lint::secrets::{self, Finding};

rule!("FG141" "plaintext-credential", "secrets", Error, Lint, "a plaintext value under a key that names a credential (password, clientSecret, apiKey, token …), in an input file or a rendered object (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    secrets::report(ctx, out, &RULE.code, |f| matches!(f, Finding::Keyed));
}
