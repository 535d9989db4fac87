#![no_main]
//! Fuzz target `committee_secret_key`: see `fuzz/harness/committee.rs` (`secret_key`).

#[allow(dead_code)]
#[path = "../harness/committee.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::secret_key(data));
