#![no_main]
//! Fuzz target `threshold_public_key`: see `fuzz/harness/threshold.rs` (`public_key`).

#[allow(dead_code)]
#[path = "../harness/threshold.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::public_key(data));
