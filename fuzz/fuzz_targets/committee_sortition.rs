#![no_main]
//! Fuzz target `committee_sortition`: see `fuzz/harness/committee.rs` (`sortition_walk`).

#[allow(dead_code)]
#[path = "../harness/committee.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::sortition_walk(data));
