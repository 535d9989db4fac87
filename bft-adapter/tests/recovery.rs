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

include!("common/split.rs");

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
    let mut timeouts = Timeouts::default();
    timeouts.max_backoff = cap;
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
    inject_missed_bundles(&mut world, &crypto, w, heal + 10);
    world.run(heal - 1, &[A, B, C]);
    // The partition outlasted every next_k step, with nobody decided or moved on.
    assert!(world.decided.is_empty());
    for id in [A, B, C] {
        let e = world.engines[id.0 as usize].as_ref().unwrap();
        assert_eq!(e.period(), Period(2), "node {id}: {}", summary(e));
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

/// The end of an engine's debug summary (its latest tallies; the whole lists 200 next_k
/// steps).
fn summary(e: &Engine) -> String {
    let s = e.debug_summary();
    let start = (s.len().saturating_sub(300)..s.len())
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0);
    format!("…{}", &s[start..])
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
                    .map(|e| format!("node {} period {}: {}", e.id(), e.period().0, summary(e)))
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
        assert_eq!(e.period(), Period(2), "node {id}: {}", summary(e));
    }
}

/// A bundle of every seat's signature for `(period, step, value)` at height 1.
fn bundle(crypto: &MockCrypto, p: u32, step: VoteStep, value: VoteValue) -> Bundle {
    let message = vote_message(Epoch(0), Height(1), Period(p), step, value);
    let signatures: Vec<Vec<u8>> = (0..N)
        .map(|i| crypto.adapters(NodeId(i)).signer.sign(&message).unwrap())
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
        period: Period(p),
        step,
        value,
        signature: crypto
            .verifier()
            .combine(&message, &shares)
            .expect("quorum"),
    }
}

fn fresh(crypto: &MockCrypto, id: NodeId, recovery_ms: u64) -> Engine {
    let mut config = Config::new(id, Epoch(0));
    config.timeouts.recovery_ms = recovery_ms;
    let mut e = Engine::new(config, crypto.adapters(id), crypto.genesis_seed());
    e.handle(Time(0), Input::Start);
    e
}

fn message(from: NodeId, m: &Message) -> Input {
    Input::Message {
        from,
        bytes: codec::encode(m),
    }
}

fn evidence(actions: &[Action]) -> Vec<conclave_bft::evidence::Evidence> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Evidence(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn own_votes(actions: &[Action]) -> Vec<Vote> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Broadcast { bytes } => match codec::decode(bytes) {
                Ok(Message::Vote(v)) => Some(v),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A quorum in a recovery step is a period-advance proof, as votes and as a bundle; a bundle
/// that names ⊥ in late or redo, or a value in down, is malformed and moves nobody.
#[test]
fn recovery_quorums_advance_the_period() {
    let crypto = MockCrypto::new(N, 7);
    let x = VoteValue::Value(crypto.verifier().value_id(b"value-x"));
    for (step, value) in [
        (VoteStep::Late, x),
        (VoteStep::Redo, x),
        (VoteStep::Down, VoteValue::Bottom),
    ] {
        // Votes: B, C and Z vote in the step; A moves to period 2.
        let mut e = fresh(&crypto, A, LAMBDA_F);
        for from in [B, C, Z] {
            e.handle(
                Time(10),
                message(from, &Message::Vote(vote(&crypto, from, 1, step, value))),
            );
        }
        assert_eq!(e.period(), Period(2), "{step:?} votes");
        // A bundle does the same.
        let mut e = fresh(&crypto, A, LAMBDA_F);
        e.handle(
            Time(10),
            message(B, &Message::Bundle(bundle(&crypto, 1, step, value))),
        );
        assert_eq!(e.period(), Period(2), "{step:?} bundle");
        // A value quorum pins it: A's step-4 vote in period 2 (nothing cert-voted, nothing
        // released) is for x; a down quorum releases ⊥.
        let step4 = e.handle(
            Time(5_000),
            Input::Timer(TimerId::Next(Height(1), Period(2))),
        );
        let next: Vec<VoteValue> = own_votes(&step4.actions)
            .iter()
            .filter(|v| v.step == VoteStep::Next)
            .map(|v| v.value)
            .collect();
        assert_eq!(next, vec![value], "{step:?}: period 2's step-4 vote");
    }
    // Malformed: late ⊥, redo ⊥, down x — as bundles and as votes.
    for (step, value) in [
        (VoteStep::Late, VoteValue::Bottom),
        (VoteStep::Redo, VoteValue::Bottom),
        (VoteStep::Down, x),
    ] {
        let mut e = fresh(&crypto, A, LAMBDA_F);
        let out = e.handle(
            Time(10),
            message(B, &Message::Bundle(bundle(&crypto, 1, step, value))),
        );
        assert_eq!(e.period(), Period(1), "{step:?} {value:?} bundle");
        assert!(evidence(&out.actions).iter().any(
            |ev| ev.culprit == B && ev.kind == conclave_bft::evidence::EvidenceKind::Malformed
        ));
        let mut e = fresh(&crypto, A, LAMBDA_F);
        for from in [B, C, Z] {
            let out = e.handle(
                Time(10),
                message(from, &Message::Vote(vote(&crypto, from, 1, step, value))),
            );
            assert_eq!(evidence(&out.actions).len(), 1, "{step:?} {value:?} vote");
        }
        assert_eq!(e.period(), Period(1), "{step:?} {value:?} votes");
    }
}

/// Two late votes of one seat for different values in one period are an equivocation the
/// engine reports and [`conclave_bft::evidence::Evidence::verify`] accepts; a late and a redo
/// vote for different values are different steps (both honest).
#[test]
fn equivocation_within_a_recovery_step_is_evidence() {
    use conclave_bft::evidence::EvidenceKind;
    let crypto = MockCrypto::new(N, 7);
    let verifier = crypto.verifier();
    let x = VoteValue::Value(verifier.value_id(b"value-x"));
    let y = VoteValue::Value(verifier.value_id(b"value-y"));
    for step in [VoteStep::Late, VoteStep::Redo] {
        let mut e = fresh(&crypto, A, LAMBDA_F);
        e.handle(
            Time(10),
            message(Z, &Message::Vote(vote(&crypto, Z, 1, step, x))),
        );
        let out = e.handle(
            Time(11),
            message(Z, &Message::Vote(vote(&crypto, Z, 1, step, y))),
        );
        let found = evidence(&out.actions);
        assert_eq!(found.len(), 1, "{step:?}");
        assert_eq!(found[0].kind, EvidenceKind::Equivocation);
        assert_eq!(found[0].culprit, Z);
        found[0]
            .verify(Epoch(0), verifier.as_ref())
            .expect("self-proving");
    }
    let mut e = fresh(&crypto, A, LAMBDA_F);
    e.handle(
        Time(10),
        message(Z, &Message::Vote(vote(&crypto, Z, 1, VoteStep::Late, x))),
    );
    let out = e.handle(
        Time(11),
        message(Z, &Message::Vote(vote(&crypto, Z, 1, VoteStep::Redo, y))),
    );
    assert!(evidence(&out.actions).is_empty());
}

/// The recovery timer votes only after step 4, once per recovery step and period, survives a
/// restart (the restored node signs nothing new in a step it voted in), and keeps firing
/// about every λ_f however long the period lasts.
#[test]
fn recovery_votes_once_per_step_and_survives_restore() {
    let crypto = MockCrypto::new(N, 7);
    let h = Height(1);
    let p = Period(1);
    let mut e = fresh(&crypto, A, LAMBDA_F);
    // Fired before step 4: nothing yet; the vote follows step 4 at once.
    let early = e.handle(Time(400), Input::Timer(TimerId::Recovery(h, p)));
    assert!(own_votes(&early.actions).is_empty());
    let step4 = e.handle(Time(600), Input::Timer(TimerId::Next(h, p)));
    let steps: Vec<(VoteStep, VoteValue)> = own_votes(&step4.actions)
        .iter()
        .map(|v| (v.step, v.value))
        .collect();
    assert_eq!(
        steps,
        vec![
            (VoteStep::Next, VoteValue::Bottom),
            (VoteStep::Down, VoteValue::Bottom)
        ]
    );
    // Every later firing re-arms, and signs nothing new in a step already voted.
    let mut persisted = None;
    let mut at = Vec::new();
    for j in 0..20u64 {
        let out = e.handle(
            Time(LAMBDA_F * (j + 2)),
            Input::Timer(TimerId::Recovery(h, p)),
        );
        assert!(own_votes(&out.actions).is_empty(), "firing {j}");
        for a in &out.actions {
            if let Action::SetTimer {
                id: TimerId::Recovery(..),
                at: t,
            } = a
            {
                at.push(t.0);
            }
        }
    }
    assert_eq!(at.len(), 20);
    assert!(at
        .windows(2)
        .all(|w| w[1] > w[0] && w[1] - w[0] <= LAMBDA_F * 5 / 4));
    for a in step4.actions {
        if let Action::Persist(s) = a {
            persisted = Some(*s);
        }
    }
    let state = persisted.expect("the down vote was persisted");
    assert!(state.own_votes.iter().any(|v| v.step == VoteStep::Down));
    let mut config = Config::new(A, Epoch(0));
    config.timeouts.recovery_ms = LAMBDA_F;
    let mut r = Engine::restore(config, crypto.adapters(A), state);
    r.handle(Time(200_000), Input::Start);
    r.handle(Time(200_600), Input::Timer(TimerId::Next(h, p)));
    let out = r.handle(Time(210_000), Input::Timer(TimerId::Recovery(h, p)));
    assert!(own_votes(&out.actions).is_empty());
}

/// Bandwidth while a height is stuck (issue #11 §1 item 4): A, B and C agree on a 1 MiB v̄,
/// no cert vote is ever delivered, and from 3 s on C is cut off, so A and B sit in one period
/// with v̄ pinned. Count the payload bytes (proposals, own or relayed) A sends in the minute
/// from 10 s to 70 s. Before the backoff A re-sent its own re-proposal and v̄'s relayed payload
/// with every 1.2 s re-send to each live peer (B and C; Z is down): 200 MiB in that minute
/// (measured with the cap set to 1); with it, 28 MiB.
#[test]
fn a_stuck_height_relays_its_payload_with_backoff() {
    use std::cell::RefCell;
    use std::rc::Rc;
    const MIB: usize = 1 << 20;
    let crypto = MockCrypto::new(N, 3);
    let sent: Rc<RefCell<BTreeMap<u64, usize>>> = Rc::default();
    let counter = sent.clone();
    let policy: Policy = Box::new(move |now, from, to, m| {
        if let (Message::Proposal(p), true) = (m, from == A) {
            if p.value.len() >= MIB && (10_000..70_000).contains(&now) {
                *counter.borrow_mut().entry(now / 10_000).or_default() += p.value.len();
            }
        }
        match m {
            Message::Vote(v) if v.step == VoteStep::Cert => Some(LOST),
            _ if now >= 3_000 && (from == C || to == C) => Some(LOST),
            _ => Some(10),
        }
    });
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
    let mut world = World::new(engines, u64::MAX, policy);
    for id in [A, B, C] {
        let mut value = format!("value-1-{}-", id.0).into_bytes();
        value.resize(MIB, b'.');
        world.handle(
            id,
            Input::ProposedValue {
                height: Height(1),
                value,
            },
        );
        world.handle(id, Input::Start);
    }
    world.run(70_000, &[A, B, C]);
    assert!(world.decided.is_empty());
    let a = world.engines[A.0 as usize].as_ref().unwrap();
    let b = world.engines[B.0 as usize].as_ref().unwrap();
    assert!(
        a.period().0 >= 2 && a.period() == b.period(),
        "A and B stuck in one period"
    );
    let per_10s: Vec<usize> = sent.borrow().values().map(|b| b / MIB).collect();
    let total: usize = per_10s.iter().sum();
    println!(
        "A stuck in period {}: {total} MiB of payloads sent from 10 s to 70 s (MiB per 10 s: \
         {per_10s:?})",
        a.period().0
    );
    // At most one relay per `PAYLOAD_RESEND_CAP` (8) re-sends, each at most two payloads
    // (own re-proposal and v̄'s) to three peers: 60 s / 9.6 s → 7 relays → ≤ 42 MiB (here
    // two live peers, one more payload on the period's timeout: 28 MiB).
    assert!(total <= 42, "{total} MiB in a minute");
    // … and still some: a peer that lost v̄'s payload gets it again.
    assert!(total >= 3, "{total} MiB in a minute");
}
