//! The file-creation floor of a render: writes a tree of files held in memory into a fresh
//! folder, as fast as this machine lets a program do it (the same folders created first, the
//! files written in parallel on every core, as `fleetgen render` writes), and prints the
//! seconds the writing took. `bench/run` compares `fleetgen render` with it.
//!
//!     cargo run --release --example write-floor -- SOURCE_TREE NEW_FOLDER

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [from, to] = args.as_slice() else {
        eprintln!("usage: write-floor SOURCE_TREE NEW_FOLDER");
        std::process::exit(2);
    };
    let files: Vec<(PathBuf, Vec<u8>)> = walkdir::WalkDir::new(from)
        .into_iter()
        .map(|e| e.expect("a readable tree"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(from).expect("under the source").to_path_buf();
            (rel, std::fs::read(e.path()).expect("a readable file"))
        })
        .collect();
    let start = Instant::now();
    let dirs: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|(p, _)| p.parent().map(|d| to.join(d)))
        .collect();
    std::fs::create_dir_all(to).expect("the new folder");
    for d in dirs {
        std::fs::create_dir_all(d).expect("a folder");
    }
    files
        .par_iter()
        .for_each(|(p, bytes)| std::fs::write(to.join(p), bytes).expect("a file"));
    println!("{:.6}", start.elapsed().as_secs_f64());
}
