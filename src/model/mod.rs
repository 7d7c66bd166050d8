//! The typed model of every input kind, as read from YAML after schema validation.
//!
//! Names follow the files (camelCase in YAML, snake_case here). Every struct refuses
//! unknown fields, so the structs and `schemas/` agree (a test checks both ways). A field
//! that only documents (a `description`) is read and kept, so that the structs describe the
//! whole format even where fleetgen does nothing with a field.
#![allow(dead_code)]

pub mod app;
pub mod cluster;
pub mod common;
pub mod fleet;
pub mod policy;
pub mod profiles;

pub use app::App;
pub use cluster::Cluster;
pub use common::{Criticality, Duration, Environment, GitopsEngine, Id, Provider};
pub use fleet::Fleet;
pub use policy::{PolicyExemption, PolicyIntent, PolicyProfile};
pub use profiles::{BackupProfile, ClusterProfile, IdentityProfile, ObservabilityProfile, TelemetryProfile};
