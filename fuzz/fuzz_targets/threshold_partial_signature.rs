#![no_main]
//! Fuzz target `threshold_partial_signature`: see `fuzz/harness/threshold.rs` (`partial_signature`).

#[allow(dead_code)]
#[path = "../harness/threshold.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::partial_signature(data));
