#![no_main]
//! Fuzz target `committee_credential`: see `fuzz/harness/committee.rs` (`credential`).

#[allow(dead_code)]
#[path = "../harness/committee.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::credential(data));
