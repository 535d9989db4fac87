#![no_main]
//! Fuzz target `dkg_message`: see `fuzz/harness/dkg.rs` (`message`).

#[allow(dead_code)]
#[path = "../harness/dkg.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::message(data));
