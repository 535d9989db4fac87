#![no_main]
//! Fuzz target `bft_engine_aggregators`: see `fuzz/harness/bft.rs` (`engine_aggregators`).

#[allow(dead_code)]
#[path = "../harness/bft.rs"]
mod harness;
#[path = "../harness/input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::engine_aggregators(data));
