//! ## What it does
//! Flags a required telemetry label that a placement cannot fill: the contract or cluster
//! field that feeds it is missing (a cluster without `cell` while fleet.yaml requires the
//! `cell` label), or its value is not a valid Kubernetes label value (a `version` with a
//! `+`, a value over 63 characters). It runs in `fleetgen validate`, where every placement's
//! labels are resolved, so nothing renders while it fires.
//!
//! | label         | fed by                                          |
//! |---------------|-------------------------------------------------|
//! | cluster       | the cluster's `clusterId`                       |
//! | provider      | the cluster's `provider`                        |
//! | region        | the cluster's `region`                          |
//! | environment   | the cluster's `environment`                     |
//! | cell          | the cluster's `cell` (optional in the schema)   |
//! | namespace     | the contract's `application.namespace` or name  |
//! | service       | the contract's `application.name`               |
//! | version       | the contract's `application.version`            |
//! | team          | the contract's `application.owner`              |
//! | criticality   | the contract's `application.criticality`        |
//!
//! ## Why is this bad?
//! Every object fleetgen renders carries the required labels; dashboards, alerts and cost
//! reports select by them. A label that cannot be filled would either be left out (the
//! object vanishes from every fleet-wide query) or be rejected by the API server at sync
//! time, on the cluster, long after review.
//!
//! ## Example
//! ```yaml
//! # fleet.yaml: labels.required includes cell
//! clusterId: azure-eastus-prod-platform-01   # no `cell:`
//! ```
//!
//! ## Use instead
//! Add the field (`cell: cell-a`), or, if the fleet does not use that dimension, drop it
//! from `labels.required` in fleet.yaml.

// The check is in `resolve::plan`, where each placement's labels are computed.
