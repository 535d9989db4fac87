#![no_main]
//! Fuzz target `threshold_secret_share`: see `fuzz/harness/threshold.rs` (`secret_share`).

#[allow(dead_code)]
#[path = "../harness/threshold.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::secret_share(data));
