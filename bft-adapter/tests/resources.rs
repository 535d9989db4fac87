//! Issue #11 §3: what one flooding peer can make an engine hold and verify, with real engines.
//!
//! Z floods A, before and during height 1, with thousands of large next-height proposals and
//! thousands of invalid current-height votes. A must keep its next-height buffer within the
//! configured per-peer bound, must not verify Z's votes for a step again once Z is proven to
//! have sent an invalid signature for it (≤ 3 extra verifications in all), and A, B and C
//! must still decide.

#![allow(dead_code)]

use conclave_bft::mock::MockCrypto;
use conclave_bft::types::{
    vote_message, Epoch, Height, Message, NodeId, Period, Proposal, Time, ValueId, Vote, VoteStep,
    VoteValue,
};
use conclave_bft::{codec, Action, Config, Engine, Input, Limits, TimerId};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

include!("common/world.rs");

fn world(crypto: &MockCrypto) -> World {
    let engines = (0..N)
        .map(|i| {
            (NodeId(i) != Z).then(|| {
                Engine::new(
                    Config::new(NodeId(i), Epoch(0)),
                    crypto.adapters(NodeId(i)),
                    crypto.genesis_seed(),
                )
            })
        })
        .collect();
    let mut w = World::new(engines, 0, Box::new(|_, _, _, _| Some(10)));
    for i in [A, B, C] {
        w.handle(i, Input::Start);
    }
    w
}

/// Verification work so far: single checks plus shares inside batches.
fn work(crypto: &MockCrypto) -> u64 {
    let s = &crypto.verifier().stats;
    s.single_verifications.load(Ordering::Relaxed) + s.batched_shares.load(Ordering::Relaxed)
}

/// Runs height 1 with or without Z's flood; returns (verification work, the largest number of
/// next-height bytes A buffered, whether A, B and C decided).
fn run(flood: bool) -> (u64, usize, bool) {
    let crypto = MockCrypto::new(N, 3);
    let mut w = world(&crypto);
    let mut max_buffered = 0;
    let mut seq = 0u32;
    if flood {
        // 5,000 soft votes of Z for height 1, each for another value, with garbage signatures.
        for i in 0..5_000u32 {
            let mut v = vote(
                &crypto,
                Z,
                1,
                VoteStep::Soft,
                VoteValue::Value(ValueId([0; 32])),
            );
            v.value = VoteValue::Value(ValueId(
                [
                    i.to_be_bytes(),
                    [7; 4],
                    [7; 4],
                    [7; 4],
                    [7; 4],
                    [7; 4],
                    [7; 4],
                    [7; 4],
                ]
                .concat()
                .try_into()
                .unwrap(),
            ));
            v.signature = vec![0xee; 32];
            w.inject(1, Z, A, &Message::Vote(v));
        }
    }
    for t in (0..400).step_by(10) {
        if flood {
            // 60 next-height proposals of 64 KiB every 10 ms (≈ 150 MiB offered in all;
            // well-formed, so they decode and are buffered up to Z's quota).
            for _ in 0..60 {
                seq += 1;
                let mut value = vec![(seq % 251) as u8; 64 << 10];
                value[..4].copy_from_slice(&seq.to_be_bytes());
                let p = Proposal {
                    epoch: Epoch(0),
                    height: Height(2),
                    period: Period(1),
                    proposer: Z,
                    credential: vec![0; 32],
                    value,
                    signature: vec![0; 32],
                    seal: Vec::new(),
                };
                w.inject(t, Z, A, &Message::Proposal(p));
            }
        }
        w.run(t, &[A, B, C]);
        let a = w.engines[A.0 as usize].as_ref().unwrap();
        max_buffered = max_buffered.max(a.buffered_bytes());
    }
    w.run(600_000, &[A, B, C]);
    (work(&crypto), max_buffered, w.honest_decided(&[A, B, C]))
}

#[test]
fn one_peer_flooding_large_and_invalid_votes_stays_within_the_configured_bounds() {
    let (baseline, _, decided) = run(false);
    assert!(decided);
    let (flooded, max_buffered, decided) = run(true);
    assert!(decided, "the honest nodes did not decide under the flood");
    let limit = Limits::default().future_bytes_per_peer;
    assert!(max_buffered > 0, "the flood was never buffered");
    assert!(
        max_buffered <= limit,
        "A buffered {max_buffered} bytes of Z's next-height votes (limit {limit})"
    );
    let extra = flooded.saturating_sub(baseline);
    assert!(
        extra <= 3,
        "5,000 invalid votes cost {extra} extra verifications (baseline {baseline})"
    );
}
