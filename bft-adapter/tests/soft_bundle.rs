//! Issue #14 §1: a node does not combine the soft-quorum bundle it would forward from its own
//! tally at the moment the quorum completes. It arms [`TimerId::SoftBundle`] instead,
//! `(next_ms − filter_ms) / 2` later, and forwards the bundle then (or at its next timer, if
//! earlier) unless it holds a certificate by then; a soft quorum completed by a received bundle
//! is forwarded at once, as it costs no combine. Each test drives one engine (seat 0 of four,
//! mock crypto, quorum 3) by hand with its peers' signed votes.

use conclave_bft::mock::MockCrypto;
use conclave_bft::traits::Verifier;
use conclave_bft::types::{
    vote_message, Bundle, Epoch, Height, Message, NodeId, Period, Time, ValueId, Vote, VoteStep,
    VoteValue,
};
use conclave_bft::{codec, Action, Config, Engine, Input, Step, Timeouts, TimerId};
use std::sync::atomic::Ordering;

const VALUE: ValueId = ValueId([7; 32]);

fn vote(crypto: &MockCrypto, from: u32, step: VoteStep) -> Vec<u8> {
    let a = crypto.adapters(NodeId(from));
    let (h, p) = (Height(1), Period(1));
    let seed = crypto.genesis_seed();
    let value = VoteValue::Value(VALUE);
    let signature = a
        .signer
        .sign(&vote_message(Epoch(0), h, p, step, value))
        .unwrap();
    let beacon_share = if step == VoteStep::Cert {
        a.signer
            .sign(&conclave_bft::types::beacon_message(Epoch(0), h))
            .unwrap()
    } else {
        Vec::new()
    };
    codec::encode(&Message::Vote(Vote {
        epoch: Epoch(0),
        height: h,
        period: p,
        step,
        value,
        voter: NodeId(from),
        credential: a.sortition.voter_credential(&seed, h, p, step).unwrap(),
        signature,
        beacon_share,
    }))
}

fn soft_bundles(step: &Step) -> Vec<Bundle> {
    step.actions
        .iter()
        .filter_map(|a| match a {
            Action::Broadcast { bytes } => match codec::decode(bytes) {
                Ok(Message::Bundle(b)) if b.step == VoteStep::Soft => Some(b),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn armed(step: &Step) -> Option<Time> {
    step.actions.iter().find_map(|a| match a {
        Action::SetTimer {
            id: TimerId::SoftBundle(Height(1), Period(1)),
            at,
        } => Some(*at),
        _ => None,
    })
}

/// Seat 0, started, with the soft votes of seats 1–3 delivered at t = 300 (a soft quorum for
/// [`VALUE`]): the step that completed the quorum, and the combines so far.
fn soft_quorum_at_300(crypto: &MockCrypto) -> (Engine, Step) {
    let mut e = Engine::new(
        Config::new(NodeId(0), Epoch(0)),
        crypto.adapters(NodeId(0)),
        crypto.genesis_seed(),
    );
    e.handle(Time(0), Input::Start);
    let mut last = Step::default();
    for from in 1..=3 {
        last = e.handle(
            Time(300),
            Input::Message {
                from: NodeId(from),
                bytes: vote(crypto, from, VoteStep::Soft),
            },
        );
    }
    (e, last)
}

fn combines(crypto: &MockCrypto) -> u64 {
    crypto.verifier().stats.combines.load(Ordering::Relaxed)
}

#[test]
fn soft_bundle_is_deferred_then_forwarded_without_a_certificate() {
    let crypto = MockCrypto::new(4, 3);
    let (mut e, step) = soft_quorum_at_300(&crypto);
    // Before: the bundle was combined and broadcast in the step that completed the quorum.
    assert!(soft_bundles(&step).is_empty(), "{step:?}");
    assert_eq!(combines(&crypto), 0);
    let t = Timeouts::default();
    let at = armed(&step).expect("the deferred forward is armed");
    assert_eq!(at, Time(300 + (t.next_ms - t.filter_ms) / 2));
    // No cert quorum by then: the bundle is combined and forwarded, and it verifies.
    let fired = e.handle(at, Input::Timer(TimerId::SoftBundle(Height(1), Period(1))));
    let bundles = soft_bundles(&fired);
    assert_eq!(bundles.len(), 1, "{fired:?}");
    assert_eq!(combines(&crypto), 1);
    let b = &bundles[0];
    assert_eq!((b.period, b.value), (Period(1), VoteValue::Value(VALUE)));
    assert!(crypto.verifier().verify_certificate(
        &crypto.genesis_seed(),
        &b.message(),
        &b.signature
    ));
    // A stale second firing forwards nothing more.
    let again = e.handle(at, Input::Timer(TimerId::SoftBundle(Height(1), Period(1))));
    assert!(soft_bundles(&again).is_empty());
}

#[test]
fn soft_bundle_is_not_combined_once_the_cert_quorum_completed() {
    let crypto = MockCrypto::new(4, 3);
    let (mut e, step) = soft_quorum_at_300(&crypto);
    let at = armed(&step).expect("the deferred forward is armed");
    // The cert quorum follows one message delay later: a certificate (two combines:
    // signature and beacon), whatever the value's fate.
    for from in 1..=3 {
        e.handle(
            Time(360),
            Input::Message {
                from: NodeId(from),
                bytes: vote(&crypto, from, VoteStep::Cert),
            },
        );
    }
    assert_eq!(combines(&crypto), 2);
    let fired = e.handle(at, Input::Timer(TimerId::SoftBundle(Height(1), Period(1))));
    assert!(soft_bundles(&fired).is_empty(), "{fired:?}");
    assert_eq!(combines(&crypto), 2, "no third combine");
}

#[test]
fn the_next_timer_forwards_a_soft_bundle_still_due() {
    let crypto = MockCrypto::new(4, 3);
    let (mut e, _) = soft_quorum_at_300(&crypto);
    let t = Timeouts::default();
    let step4 = e.handle(
        Time(t.next_ms),
        Input::Timer(TimerId::Next(Height(1), Period(1))),
    );
    let bundles = soft_bundles(&step4);
    assert!(!bundles.is_empty(), "{step4:?}");
    assert_eq!(combines(&crypto), 1);
    // The deferred timer, firing later, does not forward it a second time.
    let fired = e.handle(
        Time(300 + (t.next_ms - t.filter_ms) / 2),
        Input::Timer(TimerId::SoftBundle(Height(1), Period(1))),
    );
    assert!(soft_bundles(&fired).is_empty(), "{fired:?}");
    assert_eq!(combines(&crypto), 1);
}

#[test]
fn a_soft_quorum_completed_by_a_bundle_is_forwarded_at_once() {
    let crypto = MockCrypto::new(4, 3);
    // Seat 1 combines the quorum of seats 1–3 (as a peer that reached it would).
    let (mut peer, _) = {
        let mut e = Engine::new(
            Config::new(NodeId(1), Epoch(0)),
            crypto.adapters(NodeId(1)),
            crypto.genesis_seed(),
        );
        e.handle(Time(0), Input::Start);
        for from in [2, 3, 0] {
            e.handle(
                Time(300),
                Input::Message {
                    from: NodeId(from),
                    bytes: vote(&crypto, from, VoteStep::Soft),
                },
            );
        }
        (e, ())
    };
    let fired = peer.handle(
        Time(500),
        Input::Timer(TimerId::SoftBundle(Height(1), Period(1))),
    );
    let bundle = soft_bundles(&fired)
        .pop()
        .expect("the peer forwards its bundle");
    let before = combines(&crypto);
    let mut e = Engine::new(
        Config::new(NodeId(0), Epoch(0)),
        crypto.adapters(NodeId(0)),
        crypto.genesis_seed(),
    );
    e.handle(Time(0), Input::Start);
    let step = e.handle(
        Time(510),
        Input::Message {
            from: NodeId(1),
            bytes: codec::encode(&Message::Bundle(bundle.clone())),
        },
    );
    assert_eq!(soft_bundles(&step), vec![bundle], "{step:?}");
    assert!(armed(&step).is_none());
    assert_eq!(
        combines(&crypto),
        before,
        "forwarding a received bundle combines nothing"
    );
}
