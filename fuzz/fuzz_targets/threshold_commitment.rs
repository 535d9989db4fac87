#![no_main]
//! Fuzz target `threshold_commitment`: see `fuzz/harness/threshold.rs` (`commitment`).

#[allow(dead_code)]
#[path = "../harness/threshold.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::commitment(data));
