//! Runs every file of the checked-in fuzz seed corpora (`fuzz/corpus/dkg_*`) and the
//! harness's own seeds through the same functions the fuzz targets call
//! (`fuzz/harness/dkg.rs`), so `cargo test` on stable replays them.

#[path = "../../fuzz/harness/dkg.rs"]
mod harness;
#[path = "../../fuzz/harness/input.rs"]
mod input;

#[path = "../../fuzz/harness/corpus.rs"]
mod corpus;

#[test]
fn dkg_fuzz_corpora_replay() {
    corpus::replay(harness::TARGETS, harness::seeds);
}
