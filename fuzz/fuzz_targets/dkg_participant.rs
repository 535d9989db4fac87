#![no_main]
//! Fuzz target `dkg_participant`: see `fuzz/harness/dkg.rs` (`participant`).

#[allow(dead_code)]
#[path = "../harness/dkg.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::participant(data));
