//! One file per command; each parses its arguments (clap) and runs over `api::compile`.

pub mod check;
pub mod diff;
pub mod explain;
pub mod init;
pub mod lint;
pub mod meta;
pub mod render;
pub mod schema;
pub mod validate;
