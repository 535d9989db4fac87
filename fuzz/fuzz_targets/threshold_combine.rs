#![no_main]
//! Fuzz target `threshold_combine`: see `fuzz/harness/threshold.rs` (`combine`).

#[allow(dead_code)]
#[path = "../harness/threshold.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::combine(data));
