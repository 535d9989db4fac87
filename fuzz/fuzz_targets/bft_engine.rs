#![no_main]
//! Fuzz target `bft_engine`: see `fuzz/harness/bft.rs` (`engine`).

#[allow(dead_code)]
#[path = "../harness/bft.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::engine(data));
