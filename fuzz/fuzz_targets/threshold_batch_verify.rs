#![no_main]
//! Fuzz target `threshold_batch_verify`: see `fuzz/harness/threshold.rs` (`batch_verify`).

#[allow(dead_code)]
#[path = "../harness/threshold.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::batch_verify(data));
