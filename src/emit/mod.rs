//! Stage 3, `emit`: the resolved fleet into files, one cluster at a time (in parallel).
//!
//! - [`driver`]: renders every selected cluster on its own thread, the placement matrix
//!   ([`matrix`]) meanwhile, then the fleet backends; groups problems of many placements;
//! - [`cluster`]: one cluster's tree — its placements, the cluster backends' objects,
//!   `cluster.yaml` and the root `kustomization.yaml`;
//! - [`app`]: one placement's folder — template objects (or Helm values and what the
//!   engine adds for a chart), each checked by the cluster's policy before it is written;
//! - [`backends`]: the outputs — Flux, Argo CD, admission policies (per cluster) and Azure
//!   Policy (fleet-wide) — behind the `ClusterBackend` and `FleetBackend` traits;
//! - [`context`] (what templates see), [`templates`] (the engine), [`objects`] (template
//!   output into finished objects), [`values`] (Helm values), [`yaml`] (the writer);
//! - [`tree`]: the [`RenderedTree`] the stage returns, and the seal `check` reads.
//!
//! Paths come from [`crate::layout`]; labels from [`crate::resolve::labels`]; policy from
//! [`crate::policy`].

mod app;
pub mod backends;
pub mod charts;
mod cluster;
mod context;
pub(crate) mod driver;
mod matrix;
pub mod objects;
pub mod sandbox;
pub mod templates;
pub mod tree;
pub mod values;
pub mod yaml;

pub use driver::render;
pub use tree::{RenderedObject, RenderedTree, Selection, fnv1a64, intact};
