//! fleetgen compiles a multi-cluster GitOps repository: a cluster registry, workload
//! contracts and a policy library go in; per-cluster rendered trees come out, and unsafe
//! intent is refused.
//!
//! The pipeline, one module per stage; each stage takes the previous stages' values and
//! imports nothing from a later one (`tests/architecture.rs` checks it):
//!
//! ```text
//! load      walk the repository (through Files), parse YAML with spans, validate against
//!           schemas/, read into model                                        -> Sources
//! resolve   ids, references, placement; every placement resolved (replicas,
//!           labels, identity, dependency order)                              -> Plan
//! policy    the policy library checked; compile-time enforcement of intents
//! emit      per cluster, in parallel: templates, the backends (Flux, Argo CD,
//!           admission, Azure Policy)                                         -> RenderedTree
//! lint      the rule catalogue over sources, plan and rendered objects       -> Diagnostics
//! write     swap the tree into rendered/ atomically; check, diff: compare trees
//! ```
//!
//! Beneath the stages: `layout` (where inputs are read and outputs written), `source`
//! (files and spans), `diag` (diagnostics and their codes), `model` (the input structs),
//! `kube` (Kubernetes objects), `clock` (dates), `sorted` (a map kept as a sorted list).
//! Above them: [`api`] (the one compile entry point, the public surface) and `cli` (the
//! commands).

pub mod api;
pub(crate) mod check;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod diag;
pub(crate) mod diff;
pub(crate) mod emit;
/// What the fuzz targets in `fuzz/` run; built only by cargo-fuzz (`--cfg fuzzing`).
#[cfg(fuzzing)]
pub mod fuzzing;
pub(crate) mod incremental;
pub(crate) mod kube;
pub(crate) mod layout;
pub(crate) mod lint;
pub(crate) mod load;
pub(crate) mod model;
pub(crate) mod policy;
pub(crate) mod resolve;
pub(crate) mod sorted;
pub(crate) mod source;
pub(crate) mod suggest;
pub(crate) mod trace;
pub(crate) mod write;
