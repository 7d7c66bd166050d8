//! `fleetgen schema [KIND]`: list the input kinds, or print one kind's JSON Schema.

use crate::cli::print;
use crate::layout::Kind;
use crate::load::schema;

pub fn run(kind: Option<&str>) -> u8 {
    match kind {
        None => {
            let mut out = String::from("input kinds (fleetgen schema KIND prints one):\n");
            for k in Kind::ALL {
                out.push_str(&format!("  {:<22} {}\n", k.name(), k.location()));
            }
            out.push_str(&format!(
                "\nshared definitions: {} (fleetgen schema common)\n",
                schema::COMMON.0
            ));
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
