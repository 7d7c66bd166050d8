#![no_main]
//! See `fleetgen::fuzzing::yaml_subset` for what this target runs and what counts as a crash.

libfuzzer_sys::fuzz_target!(|data: &[u8]| fleetgen::fuzzing::yaml_subset(data));
