#![no_main]
//! See `fleetgen::fuzzing::load` for what this target runs and what counts as a crash.

libfuzzer_sys::fuzz_target!(|data: &[u8]| fleetgen::fuzzing::load(data));
