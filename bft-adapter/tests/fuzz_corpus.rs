//! Runs every file of the checked-in fuzz seed corpora (`fuzz/corpus/bft_*`) and the
//! harness's own seeds through the same functions the fuzz targets call
//! (`fuzz/harness/bft.rs`), so `cargo test` on stable replays them.

#[path = "../../fuzz/harness/bft.rs"]
mod harness;
#[path = "../../fuzz/harness/input.rs"]
mod input;

#[path = "../../fuzz/harness/corpus.rs"]
mod corpus;

#[test]
fn bft_fuzz_corpora_replay() {
    corpus::replay(harness::TARGETS, harness::seeds);
}
