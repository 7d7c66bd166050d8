//! The rule catalogue: one file per rule, grouped by family. A rule's `//!` doc comment is
//! its documentation (`fleetgen explain CODE` prints it).

pub mod active_active {
    pub mod fake_active_active;
}
