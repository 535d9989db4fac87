//! Runs every file of the checked-in fuzz seed corpora (`fuzz/corpus/threshold_*`) and the
//! harness's own seeds through the same functions the fuzz targets call
//! (`fuzz/harness/threshold.rs`), so `cargo test` on stable replays them.

#[path = "../../fuzz/harness/threshold.rs"]
mod harness;
#[path = "../../fuzz/harness/input.rs"]
mod input;

#[path = "../../fuzz/harness/corpus.rs"]
mod corpus;

#[test]
fn threshold_fuzz_corpora_replay() {
    corpus::replay(harness::TARGETS, harness::seeds);
}
