//! `fleetgen completions SHELL`, `fleetgen man`, `fleetgen version`: fleetgen about itself.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, print};

pub const COMPLETIONS_HELP: &str = "\
Install, for example:
  bash  fleetgen completions bash > ~/.local/share/bash-completion/completions/fleetgen
  zsh   fleetgen completions zsh > ~/.zfunc/_fleetgen   (with fpath+=~/.zfunc before compinit)
  fish  fleetgen completions fish > ~/.config/fish/completions/fleetgen.fish";

/// The commit fleetgen was built from, when it was built from a git checkout of itself.
pub const COMMIT_HASH: &str = env!("FLEETGEN_COMMIT_HASH");
pub const COMMIT_DATE: &str = env!("FLEETGEN_COMMIT_DATE");
const TARGET: &str = env!("FLEETGEN_TARGET");

pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "fleetgen", &mut out);
    print(&String::from_utf8_lossy(&out));
    0
}

pub fn man(out: Option<&Path>) -> u8 {
    let command = Cli::command();
    match out {
        None => {
            let mut page = Vec::new();
            if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
                eprintln!("error: cannot write the man page: {e}");
                return 2;
            }
            print(&String::from_utf8_lossy(&page));
            0
        }
        Some(dir) => {
            // One page per command and subcommand, as `clap_mangen::generate_to` names them,
            // written by fleetgen's own writer (never through a link).
            fn pages(command: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
                for sub in command.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
                    pages(sub, out)?;
                }
                let man = clap_mangen::Man::new(command);
                let mut page = Vec::new();
                man.render(&mut page)?;
                out.push((man.get_filename(), page));
                Ok(())
            }
            let mut command = command.disable_help_subcommand(true);
            command.build();
            let mut files = Vec::new();
            let written = pages(command, &mut files)
                .map_err(|e| e.to_string())
                .and_then(|()| crate::write::replace_files(dir, &files));
            match written {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: cannot write man pages into `{}`: {e}", dir.display());
                    2
                }
            }
        }
    }
}

/// `fleetgen 0.1.0 (3d98b6d08 2026-11-22)`.
pub fn line() -> String {
    let version = env!("CARGO_PKG_VERSION");
    if COMMIT_HASH.is_empty() {
        format!("fleetgen {version}")
    } else {
        format!(
            "fleetgen {version} ({} {COMMIT_DATE})",
            &COMMIT_HASH[..COMMIT_HASH.len().min(9)]
        )
    }
}

pub fn version(verbose: bool) -> u8 {
    let mut text = format!("{}\n", line());
    if verbose {
        let or_unknown = |s: &'static str| if s.is_empty() { "unknown" } else { s };
        text.push_str(&format!(
            "release: {}\ncommit-hash: {}\ncommit-date: {}\ntarget: {TARGET}\n",
            env!("CARGO_PKG_VERSION"),
            or_unknown(COMMIT_HASH),
            or_unknown(COMMIT_DATE),
        ));
    }
    print(&text);
    0
}
