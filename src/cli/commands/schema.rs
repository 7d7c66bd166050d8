//! `fleetgen schema [KIND]`: list the input kinds, print one kind's JSON Schema, or write
//! them all into a folder (`--write DIR`).

use std::path::{Path, PathBuf};

use crate::cli::print;
use crate::layout::Kind;
use crate::load::schema;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An input kind (`fleetgen schema` lists them), or `common` for the shared definitions.
    kind: Option<String>,
    /// Write every schema (and common.schema.json, which they refer to) into DIR, as the
    /// modelines of a fleet's files expect them in `schemas/` at its top.
    #[arg(long, value_name = "DIR", conflicts_with = "kind")]
    write: Option<PathBuf>,
}

/// Writes every schema file into `dir`, creating it; returns how many.
pub fn write_all(dir: &Path) -> Result<usize, String> {
    let files: Vec<(String, Vec<u8>)> = (schema::files().into_iter())
        .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()))
        .collect();
    crate::write::replace_files(dir, &files)?;
    Ok(files.len())
}

pub fn run(args: Args) -> u8 {
    if let Some(dir) = &args.write {
        return match write_all(dir) {
            Ok(n) => {
                eprintln!("wrote {n} schemas into {}", dir.display());
                0
            }
            Err(e) => {
                eprintln!("error: cannot write schemas into `{}`: {e}", dir.display());
                2
            }
        };
    }
    match args.kind.as_deref() {
        None => {
            let mut out = String::from("input kinds (fleetgen schema KIND prints one):\n");
            for k in Kind::ALL {
                out.push_str(&format!("  {:<22} {}\n", k.name(), k.location()));
            }
            out.push_str(&format!(
                "\nshared definitions: {} (fleetgen schema common)\n",
                schema::COMMON.0
            ));
            out.push_str("all of them into a folder: fleetgen schema --write schemas\n");
            print(&out);
            0
        }
        Some("common") => {
            print(schema::COMMON.1);
            0
        }
        Some(name) => match Kind::find(name) {
            Some(k) => {
                print(schema::text(k));
                0
            }
            None => {
                let names: Vec<String> = Kind::ALL.iter().map(|k| k.name().to_string()).collect();
                let hint = match crate::suggest::closest(name, names.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("kinds: {}", crate::suggest::list(&names)),
                };
                eprintln!("error: unknown input kind `{name}`; {hint}");
                2
            }
        },
    }
}
