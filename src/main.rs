use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(fleetgen::cli::run())
}
