#![no_main]
//! Fuzz target `committee_public_key`: see `fuzz/harness/committee.rs` (`public_key`).

#[allow(dead_code)]
#[path = "../harness/committee.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::public_key(data));
