#![no_main]
//! Fuzz target `bft_message`: see `fuzz/harness/bft.rs` (`message`).

#[allow(dead_code)]
#[path = "../harness/bft.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::message(data));
