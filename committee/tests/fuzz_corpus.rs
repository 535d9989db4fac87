//! Runs every file of the checked-in fuzz seed corpora (`fuzz/corpus/committee_*`) and the
//! harness's own seeds through the same functions the fuzz targets call
//! (`fuzz/harness/committee.rs`), so `cargo test` on stable replays them.

#[path = "../../fuzz/harness/committee.rs"]
mod harness;
#[path = "../../fuzz/harness/input.rs"]
mod input;

#[path = "../../fuzz/harness/corpus.rs"]
mod corpus;

#[test]
fn committee_fuzz_corpora_replay() {
    corpus::replay(harness::TARGETS, harness::seeds);
}
