//! Issue #11 §3: a node that sortition does not select computes its credential (a VRF
//! evaluation with real sortition) once per (height, period, step), not on every input.
//!
//! A's sortition never selects it as a proposer nor as a soft voter; A holds a value to propose
//! and its filter timer has fired, so every input re-evaluates "propose?" and "soft-vote?".
//! 2,000 inputs (duplicate messages and stale timers) must cost at most one evaluation of
//! each.

#[path = "common/sortition.rs"]
mod sortition;

use conclave_bft::mock::MockCrypto;
use conclave_bft::types::{
    vote_message, Epoch, Height, Message, NodeId, Period, Time, Vote, VoteStep, VoteValue,
};
use conclave_bft::{codec, Action, Config, Engine, Input, TimerId};
use sortition::Hooked;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[test]
fn an_unselected_node_evaluates_its_credentials_once_per_step() {
    let crypto = MockCrypto::new(4, 9);
    let (proposer_calls, voter_calls) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut adapters = crypto.adapters(NodeId(0));
    // The mock's sortition for A, never selecting it to propose or soft-vote, counting how
    // often its own credentials are computed.
    let (p, v) = (proposer_calls.clone(), voter_calls.clone());
    adapters.sortition = Arc::new(
        Hooked::new(adapters.sortition.clone())
            .proposer_credential(move |_, _, _, _| {
                p.fetch_add(1, Ordering::Relaxed);
                None
            })
            .voter_credential(move |inner, seed, height, period, step| {
                v.fetch_add(1, Ordering::Relaxed);
                (step != VoteStep::Soft)
                    .then(|| inner.voter_credential(seed, height, period, step))
                    .flatten()
            }),
    );
    let mut a = Engine::new(
        Config::new(NodeId(0), Epoch(0)),
        adapters,
        crypto.genesis_seed(),
    );
    let step = a.handle(Time(0), Input::Start);
    assert!(step
        .actions
        .iter()
        .any(|x| matches!(x, Action::RequestValue { .. })));
    a.handle(
        Time(1),
        Input::ProposedValue {
            height: Height(1),
            value: b"value-1-0".to_vec(),
        },
    );
    a.handle(
        Time(200),
        Input::Timer(TimerId::Filter(Height(1), Period(1))),
    );
    // B's soft vote for a value nobody proposed, delivered again and again.
    let value = VoteValue::Value(conclave_bft::types::ValueId([5; 32]));
    let message = vote_message(Epoch(0), Height(1), Period(1), VoteStep::Soft, value);
    let vote = Vote {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(1),
        step: VoteStep::Soft,
        value,
        voter: NodeId(1),
        credential: Vec::new(),
        signature: crypto.adapters(NodeId(1)).signer.sign(&message).unwrap(),
        beacon_share: Vec::new(),
    };
    let bytes = codec::encode(&Message::Vote(vote));
    for i in 0..1_000u64 {
        a.handle(
            Time(201 + i),
            Input::Message {
                from: NodeId(1),
                bytes: bytes.clone(),
            },
        );
        a.handle(
            Time(201 + i),
            Input::Timer(TimerId::Filter(Height(1), Period(7))),
        );
    }
    assert_eq!(a.period(), Period(1));
    let (p, v) = (
        proposer_calls.load(Ordering::Relaxed),
        voter_calls.load(Ordering::Relaxed),
    );
    assert!(p <= 1, "{p} proposer credential evaluations");
    assert!(v <= 1, "{v} voter credential evaluations");
}
