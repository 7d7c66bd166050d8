use std::process::ExitCode;

// Rendering allocates and frees millions of small strings and maps; mimalloc does that in
// about half the time of glibc's allocator (bench/run measures it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(fleetgen::cli::run())
}
