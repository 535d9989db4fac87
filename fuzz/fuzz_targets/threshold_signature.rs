#![no_main]
//! Fuzz target `threshold_signature`: see `fuzz/harness/threshold.rs` (`signature`).

#[allow(dead_code)]
#[path = "../harness/threshold.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::signature(data));
