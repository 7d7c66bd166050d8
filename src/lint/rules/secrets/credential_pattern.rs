//! ## What it does
//! Flags a string that has the shape of a credential, wherever it is written: an AWS
//! access key id (`AKIA…`) or secret access key, a private key block (`-----BEGIN …
//! PRIVATE KEY-----`), a password in a URL (`postgres://app:…@db`, `redis://:…@cache`), a
//! password in free text (`the admin password is …`, `password=…`), a GitHub token
//! (`ghp_…`, a fine-grained `github_pat_…`) or a Slack token, an Azure storage or Service
//! Bus key (`AccountKey=…`), a Google API key, a JSON web token. Every string of every
//! input file is read (descriptions and reasons included), every comment of the input
//! files and templates (`# old key: AKIA…`: a comment is committed as the values are; a
//! `#` inside a quoted or block scalar is text, as YAML reads it), and every string of the
//! objects an app's template renders (but a `SealedSecret`'s `spec.encryptedData`, which
//! is ciphertext).
//!
//! A password in text counts when the word after `password is`, `password:` or
//! `password=`, on the same line, has six characters and a digit or a symbol and is no
//! reference (a Key Vault or Secrets Manager URI, `${…}`, the path of a file: as FG141
//! judges a value), so prose such as "password: managed by Key Vault" or
//! `password: https://kv-prod.vault.azure.net/secrets/db` is not flagged, nor a `password:`
//! key that ends its line in a YAML block.
//!
//! ## Why is this bad?
//! These strings are live credentials far more often than not, and what fleetgen reads
//! and renders is committed: a key pasted into a contract's description is in the
//! repository's history, its forks and every clone from then on, and scanners that crawl
//! public repositories find AWS and GitHub keys within minutes.
//!
//! ## Example
//! ```yaml
//! # apps/orders/app.yaml
//! description: Orders API. Staging DB is postgres://orders:Tr0ub4dor@staging-db:5432/orders
//! ```
//!
//! ## Use instead
//! Remove the credential (and rotate it: it is in history). Keep it in a secret store and
//! reference it: an `ExternalSecret` (External Secrets Operator), a `SecretProviderClass`
//! (Secrets Store CSI driver), or a `SealedSecret` committed encrypted. A finding that is
//! not a credential can be exempted (`policy-library/exemptions/`, `rule:
//! credential-pattern`, for an app, cluster or namespace) or turned off in fleet.yaml.

use crate::diag::Diagnostic;
use crate::lint::Context;
use crate::lint::rule;
use crate::lint::secrets::{self, Finding};

rule!("FG142" "credential-pattern", "secrets", Error, Lint, "a string shaped like a credential (an AWS key, a private key, a password in a URL or in text, a token), in an input file or a rendered object (lint)");

pub fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    secrets::report(ctx, out, &RULE.code, |f| matches!(f, Finding::Shaped(_)));
}
