//! Issue #11 §1: Algorand's fast recovery (late / redo / down every λ_f), with four real
//! engines (mock crypto) driven through scripted schedules by a small deterministic host.
//!
//! The next_k steps re-evaluate "committable value, else ⊥ once released, else v̄" on a
//! backed-off timer, but there are [`VoteStep::MAX_NEXT_K`] of them: a partition that outlasts
//! them leaves every node with its last next_k vote, and if the split that the partition froze
//! is the (A next-voted its pinned w, B ⊥, C the value v it cert-voted) no next step
//! can form a quorum after the partition heals. The fast-recovery steps have no end: about
//! every λ_f each node votes once per period in the step its current choice names, so once
//! everyone has heard the same quorums (one re-send after the heal) they meet in one step.
//!
//! [`partition_outlasting_next_k_heals_within_lambda_f`] runs the split for three backoff
//! caps and two partition shapes and checks every honest node decides within
//! `1.25 λ_f + resend + 1 s` of the heal; [`without_fast_recovery_the_split_never_heals`] is
//! the control (λ_f out of reach: the engine before fast recovery): nobody decides in 10
//! minutes after the heal.

use conclave_bft::mock::MockCrypto;
use conclave_bft::traits::{Share, Verifier};
use conclave_bft::types::{
    vote_message, Bundle, Epoch, Height, Message, NodeId, Period, Time, ValueId, Vote, VoteStep,
    VoteValue,
};
use conclave_bft::{codec, Action, Config, Engine, Input, PersistedState, Timeouts, TimerId};
use std::collections::BTreeMap;

include!("common/world.rs");

/// λ_f in these tests (the default is 15 s): above every next timer the schedule reaches.
const LAMBDA_F: u64 = 5_000;

/// A next-quorum bundle of period 1 for `value`, as the seats that formed it would send it.
fn next_bundle(crypto: &MockCrypto, value: VoteValue) -> Bundle {
    let message = vote_message(Epoch(0), Height(1), Period(1), VoteStep::Next, value);
    let signatures: Vec<Vec<u8>> = (0..N)
        .map(|i| crypto.adapters(NodeId(i)).signer.sign(&message))
        .collect();
    let shares: Vec<Share<'_>> = signatures
        .iter()
        .enumerate()
        .map(|(i, s)| Share {
            signer: NodeId(i as u32),
            credential: &[],
            signature: s,
        })
        .collect();
    Bundle {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(1),
        step: VoteStep::Next,
        value,
        signature: crypto
            .verifier()
            .combine(&message, &shares)
            .expect("quorum"),
    }
}

/// A mock committee whose period-2 proposer priorities rank B's proposal above C's.
fn crypto_where_b_outranks_c() -> MockCrypto {
    for seed in 0..64 {
        let crypto = MockCrypto::new(N, seed);
        let genesis = crypto.genesis_seed();
        let priority = |node: NodeId| {
            let s = crypto.adapters(node).sortition;
            let credential = s.proposer_credential(&genesis, Height(1), Period(2))?;
            s.verify_proposer(node, &genesis, Height(1), Period(2), &credential)
        };
        if priority(B) < priority(C) {
            return crypto;
        }
    }
    panic!("no seed ranks B above C");
}

/// How the honest nodes are cut apart until the heal.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// A | B | C: nothing crosses (beyond the scripted soft phase).
    Isolated,
    /// A | B C: B and C hear each other.
    OneVersusTwo,
}

/// An upper bound on when the last next_k timer of period 2 fires: step k waits
/// `min(next_ms · 2^(k−1), next_ms · cap)` plus less than half that in jitter.
fn next_k_horizon(t: &Timeouts) -> u64 {
    let cap = t.next_ms * u64::from(t.max_backoff);
    let steps: u64 = (1..=u32::from(VoteStep::MAX_NEXT_K))
        .map(|k| (t.next_ms << (k - 1).min(32)).min(cap) * 3 / 2)
        .sum();
    // Period 2's first next timer, then the steps.
    2 * t.next_ms + steps
}

/// The split (period 1 ended with next-quorums for w and ⊥; A learnt only w, B and C
/// only ⊥; in period 2 Z's soft vote completes v's soft quorum at C only, then Z crashes),
/// frozen by a partition that lasts past the last next_k step. Returns the world just after
/// the heal and the heal time.
fn split_past_next_k(cap: u32, shape: Shape, recovery_ms: u64) -> (World, u64, MockCrypto) {
    let crypto = crypto_where_b_outranks_c();
    let verifier = crypto.verifier();
    let w = verifier.value_id(b"value-w");
    let mut timeouts = Timeouts {
        max_backoff: cap,
        ..Timeouts::default()
    };
    timeouts.recovery_ms = recovery_ms;
    let heal = next_k_horizon(&timeouts) + 1_000;
    let restored = |id: NodeId, previous: VoteValue| {
        let mut config = Config::new(id, Epoch(0));
        config.timeouts = timeouts;
        let mut engine = Engine::restore(
            config,
            crypto.adapters(id),
            PersistedState {
                height: Height(1),
                period: Period(2),
                seed: crypto.genesis_seed(),
                previous_next_quorums: vec![previous],
                own_votes: Vec::new(),
                own_proposals: Vec::new(),
                last_decided: None,
            },
        );
        engine.handle(Time(0), Input::Entropy([id.0 as u8 + 1; 32]));
        Some(engine)
    };
    let engines = vec![
        restored(A, VoteValue::Value(w)),
        restored(B, VoteValue::Bottom),
        restored(C, VoteValue::Bottom),
        None, // Z: crashed after its one soft vote, scripted below
    ];
    // Until the heal: B's proposal and A's and B's soft votes reach everyone; C's proposal
    // and C's soft vote reach A only; B and C hear each other in `OneVersusTwo`; everything
    // else is lost (only re-sends after the heal carry it).
    let policy: Policy = Box::new(move |_, from, to, m| match m {
        Message::Proposal(_) if from == B => Some(5),
        Message::Proposal(_) if from == C && to == A => Some(5),
        Message::Vote(v) if v.step == VoteStep::Soft && (from == A || from == B) => Some(5),
        Message::Vote(v) if v.step == VoteStep::Soft && from == C && to == A => Some(5),
        _ if matches!(shape, Shape::OneVersusTwo) && from != A && to != A => Some(5),
        _ => Some(LOST),
    });
    let mut world = World::new(engines, heal, policy);
    for id in [A, B, C] {
        world.handle(id, Input::Start);
    }
    let v = verifier.value_id(b"value-1-1");
    world.inject(
        410,
        Z,
        C,
        &Message::Vote(vote(&crypto, Z, 2, VoteStep::Soft, VoteValue::Value(v))),
    );
    // The period-1 bundles each side missed arrive with the heal.
    world.inject(
        heal + 10,
        B,
        A,
        &Message::Bundle(next_bundle(&crypto, VoteValue::Bottom)),
    );
    for to in [B, C] {
        world.inject(
            heal + 10,
            A,
            to,
            &Message::Bundle(next_bundle(&crypto, VoteValue::Value(w))),
        );
    }
    world.run(heal - 1, &[A, B, C]);
    // The partition outlasted every next_k step, with nobody decided or moved on.
    assert!(world.decided.is_empty());
    for id in [A, B, C] {
        let e = world.engines[id.0 as usize].as_ref().unwrap();
        assert_eq!(e.period(), Period(2), "node {id}: {}", e.debug_summary());
        assert!(
            !world
                .timers
                .keys()
                .any(|(n, t)| *n == id && matches!(t, TimerId::NextK(..))),
            "node {id} still has a next_k step to come at {}",
            world.now
        );
    }
    (world, heal, crypto)
}

/// Runs until every honest node decided or `until`; returns when the last one decided.
fn run_until_decided(world: &mut World, until: u64) -> Option<u64> {
    let mut t = world.now;
    while t < until {
        t = (t + 10).min(until);
        world.run(t, &[A, B, C]);
        if world.honest_decided(&[A, B, C]) {
            return Some(t);
        }
    }
    None
}

#[test]
fn partition_outlasting_next_k_heals_within_lambda_f() {
    let resend = Timeouts::default().resend_ms;
    let bound = LAMBDA_F * 5 / 4 + resend + 1_000;
    for cap in [1u32, 4, 8] {
        for shape in [Shape::Isolated, Shape::OneVersusTwo] {
            let (mut world, heal, crypto) = split_past_next_k(cap, shape, LAMBDA_F);
            let done = run_until_decided(&mut world, heal + bound);
            let Some(done) = done else {
                let states: Vec<String> = world
                    .engines
                    .iter()
                    .flatten()
                    .map(|e| {
                        format!(
                            "node {} period {}: {}",
                            e.id(),
                            e.period().0,
                            e.debug_summary()
                        )
                    })
                    .collect();
                panic!(
                    "cap {cap}, {shape:?}: not all decided within {bound} ms of the heal at \
                     {heal} ms:\n{}",
                    states.join("\n")
                );
            };
            let values: std::collections::BTreeSet<ValueId> =
                world.decided.values().map(|d| d.1).collect();
            assert_eq!(values.len(), 1, "agreement: {values:?}");
            // The decided value is v, the one C cert-voted before the partition.
            assert_eq!(
                values.into_iter().next(),
                Some(crypto.verifier().value_id(b"value-1-1"))
            );
            let periods: Vec<u32> = world.decided.values().map(|d| d.0 .0).collect();
            println!(
                "cap {cap}, {shape:?}: heal at {:.1} min, all decided {} ms after it (bound \
                 {bound} ms), in periods {periods:?}",
                heal as f64 / 60_000.0,
                done - heal
            );
        }
    }
}

#[test]
fn without_fast_recovery_the_split_never_heals() {
    // λ_f out of reach: exactly the engine before fast recovery.
    let (mut world, heal, _) = split_past_next_k(1, Shape::Isolated, u64::MAX / 4);
    assert_eq!(run_until_decided(&mut world, heal + 600_000), None);
    for id in [A, B, C] {
        let e = world.engines[id.0 as usize].as_ref().unwrap();
        assert_eq!(e.period(), Period(2), "node {id}: {}", e.debug_summary());
    }
}
