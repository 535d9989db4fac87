#![no_main]
//! Fuzz target `committee_proof`: see `fuzz/harness/committee.rs` (`proof`).

#[allow(dead_code)]
#[path = "../harness/committee.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::proof(data));
