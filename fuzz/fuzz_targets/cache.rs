#![no_main]
//! See `fleetgen::fuzzing::cache` for what this target runs and what counts as a crash.

libfuzzer_sys::fuzz_target!(|data: &[u8]| fleetgen::fuzzing::cache(data));
