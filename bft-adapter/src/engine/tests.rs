//! Per-transition tests of the engine over the mock adapter, driven by hand.

use super::*;
use crate::codec::{decode, encode};
use crate::mock::MockCrypto;
use crate::types::{vote_message, Message};
use std::collections::VecDeque;

const N: u32 = 4;

fn engines(crypto: &MockCrypto) -> Vec<Engine> {
    (0..N)
        .map(|i| {
            Engine::new(
                Config::new(NodeId(i), Epoch(0)),
                crypto.adapters(NodeId(i)),
                crypto.genesis_seed(),
            )
        })
        .collect()
}

/// Applies host duties for one engine's step: answers value requests and validations, and
/// returns (recipient, from, bytes) sends and timers.
fn host(
    id: NodeId,
    step: Step,
    sends: &mut VecDeque<(NodeId, NodeId, Vec<u8>)>,
    timers: &mut Vec<(Time, NodeId, TimerId)>,
    followups: &mut Vec<Input>,
) {
    for a in step.actions {
        match a {
            Action::Broadcast { bytes } => (0..N)
                .filter(|j| *j != id.0)
                .for_each(|j| sends.push_back((NodeId(j), id, bytes.clone()))),
            Action::Send { to, bytes } => sends.push_back((to, id, bytes)),
            Action::SetTimer { id: t, at } => timers.push((at, id, t)),
            Action::RequestValue { height } => followups.push(Input::ProposedValue {
                height,
                value: format!("value-{}-{}", height.0, id.0).into_bytes(),
            }),
            Action::ValidateValue {
                height,
                value_id,
                value,
            } => followups.push(Input::ValueValidated {
                height,
                value_id,
                valid: value.starts_with(b"value-"),
            }),
            _ => {}
        }
    }
}

/// Runs all engines over a lossless FIFO network with timers fired in time order when idle.
/// Returns every step produced, per node.
fn run(engines: &mut [Engine], until_height: u64, drop_from: Option<NodeId>) -> Vec<Vec<Step>> {
    let mut log: Vec<Vec<Step>> = vec![Vec::new(); engines.len()];
    let mut sends = VecDeque::new();
    let mut timers = Vec::new();
    let mut now = Time(0);
    let mut inbox: Vec<(NodeId, Input)> = (0..N).map(|i| (NodeId(i), Input::Start)).collect();
    for _ in 0..100_000 {
        if engines.iter().all(|e| e.height().0 > until_height) {
            break;
        }
        if let Some((to, input)) = inbox.pop() {
            let step = engines[to.0 as usize].handle(now, input);
            let mut follow = Vec::new();
            host(to, step.clone(), &mut sends, &mut timers, &mut follow);
            log[to.0 as usize].push(step);
            inbox.extend(follow.into_iter().map(|f| (to, f)));
        } else if let Some((to, from, bytes)) = sends.pop_front() {
            if Some(from) != drop_from {
                inbox.push((to, Input::Message { from, bytes }));
            }
        } else if !timers.is_empty() {
            timers.sort();
            let (at, node, t) = timers.remove(0);
            now = now.max(at);
            inbox.push((node, Input::Timer(t)));
        } else {
            break;
        }
    }
    log
}

fn votes_sent(steps: &[Step]) -> Vec<Vote> {
    steps
        .iter()
        .flat_map(|s| &s.actions)
        .filter_map(|a| match a {
            Action::Broadcast { bytes } => match decode(bytes) {
                Ok(Message::Vote(v)) => Some(v),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn decisions(steps: &[Step]) -> Vec<Decided> {
    steps
        .iter()
        .flat_map(|s| &s.actions)
        .filter_map(|a| {
            if let Action::Decide { decided } = a {
                Some(decided.clone())
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn start_asks_for_a_value_and_arms_the_period_timers() {
    let crypto = MockCrypto::new(N, 1);
    let mut e = engines(&crypto).remove(0);
    let step = e.handle(Time(10), Input::Start);
    assert!(step
        .actions
        .contains(&Action::RequestValue { height: Height(1) }));
    let t = Timeouts::default();
    assert!(step.actions.contains(&Action::SetTimer {
        id: TimerId::Filter(Height(1), Period(1)),
        at: Time(10 + t.filter_ms)
    }));
    assert!(step.actions.contains(&Action::SetTimer {
        id: TimerId::Next(Height(1), Period(1)),
        at: Time(10 + t.next_ms)
    }));
    // The value arrives: persist, then broadcast the proposal.
    let step = e.handle(
        Time(11),
        Input::ProposedValue {
            height: Height(1),
            value: b"value-x".to_vec(),
        },
    );
    assert!(matches!(step.actions[0], Action::Persist(_)));
    assert!(
        matches!(&step.actions[1], Action::Broadcast { bytes } if matches!(decode(bytes), Ok(Message::Proposal(_))))
    );
}

#[test]
fn honest_run_decides_in_one_period_with_verifying_certificates() {
    let crypto = MockCrypto::new(N, 2);
    let mut es = engines(&crypto);
    let log = run(&mut es, 3, None);
    let verifier = crypto.verifier();
    let first: Vec<Decided> = decisions(&log[0]);
    assert_eq!(first.len(), 3);
    for node in &log {
        let ds = decisions(node);
        assert_eq!(
            ds.iter()
                .map(|d| d.certificate.value_id)
                .collect::<Vec<_>>(),
            first
                .iter()
                .map(|d| d.certificate.value_id)
                .collect::<Vec<_>>()
        );
        for d in ds {
            assert_eq!(d.certificate.period, Period(1));
            let seed = crypto.genesis_seed(); // mock certificates do not depend on it
            assert!(verifier.verify_certificate(
                &seed,
                &d.certificate.message(),
                &d.certificate.signature
            ));
            assert!(verifier.verify_certificate(
                &seed,
                &d.certificate.beacon_message(),
                &d.certificate.beacon
            ));
        }
        // No next-votes in the common case: propose, soft, cert only.
        assert!(votes_sent(node).iter().all(|v| !v.step.is_next()));
    }
    // One batch verification per (step, value) quorum per node, not one per vote.
    let stats = &verifier.stats;
    let batches = stats
        .batch_verifications
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        batches <= u64::from(N) * 3 * 3,
        "{batches} batch verifications"
    );
}

#[test]
fn persist_precedes_every_vote_it_records() {
    let crypto = MockCrypto::new(N, 3);
    let mut es = engines(&crypto);
    let log = run(&mut es, 2, None);
    for node in &log {
        for step in node {
            let mut persisted: Option<&PersistedState> = None;
            for a in &step.actions {
                match a {
                    Action::Persist(s) => persisted = Some(s),
                    Action::Broadcast { bytes } => {
                        if let Ok(Message::Vote(v)) = decode(bytes) {
                            let s =
                                persisted.expect("a vote broadcast without a preceding persist");
                            assert!(s.own_votes.contains(&v));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn a_silent_proposer_costs_periods_not_safety() {
    let crypto = MockCrypto::new(N, 4);
    let mut es = engines(&crypto);
    // Node 3 is cut off entirely: the other three (a quorum) still decide.
    let log = run(&mut es[..], 2, Some(NodeId(3)));
    for node in &log[..3] {
        assert_eq!(decisions(node).len(), 2);
    }
}

#[test]
fn duplicates_stale_and_malformed_input() {
    let crypto = MockCrypto::new(N, 5);
    let mut es = engines(&crypto);
    let adapters = crypto.adapters(NodeId(1));
    let e = &mut es[0];
    e.handle(Time(0), Input::Start);
    let msg = vote_message(
        Epoch(0),
        Height(1),
        Period(1),
        VoteStep::Soft,
        VoteValue::Value(ValueId([7; 32])),
    );
    let vote = Vote {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(1),
        step: VoteStep::Soft,
        value: VoteValue::Value(ValueId([7; 32])),
        voter: NodeId(1),
        credential: vec![],
        signature: adapters.signer.sign(&msg).unwrap(),
        beacon_share: vec![],
    };
    let bytes = encode(&Message::Vote(vote.clone()));
    assert!(e
        .handle(
            Time(1),
            Input::Message {
                from: NodeId(1),
                bytes: bytes.clone()
            }
        )
        .actions
        .is_empty());
    assert!(
        e.handle(
            Time(2),
            Input::Message {
                from: NodeId(1),
                bytes: bytes.clone()
            }
        )
        .actions
        .is_empty(),
        "duplicate"
    );
    // A different soft vote by the same voter: equivocation, with both messages as proof.
    let other = VoteValue::Value(ValueId([8; 32]));
    let sig = adapters
        .signer
        .sign(&vote_message(
            Epoch(0),
            Height(1),
            Period(1),
            VoteStep::Soft,
            other,
        ))
        .unwrap();
    let second = encode(&Message::Vote(Vote {
        value: other,
        signature: sig,
        ..vote.clone()
    }));
    let step = e.handle(
        Time(3),
        Input::Message {
            from: NodeId(1),
            bytes: second.clone(),
        },
    );
    assert_eq!(
        step.actions,
        vec![Action::Evidence(Evidence {
            culprit: NodeId(1),
            kind: EvidenceKind::Equivocation,
            height: Height(1),
            proof: vec![bytes.clone(), second],
            attributable: true,
        })]
    );
    // Relayed by someone else: impersonation, never blamed on the voter.
    let step = e.handle(
        Time(4),
        Input::Message {
            from: NodeId(2),
            bytes: bytes.clone(),
        },
    );
    assert!(
        matches!(&step.actions[..], [Action::Evidence(ev)] if ev.culprit == NodeId(2) && ev.kind == EvidenceKind::Impersonation)
    );
    // Garbage bytes.
    let step = e.handle(
        Time(5),
        Input::Message {
            from: NodeId(3),
            bytes: vec![2, 0, 1],
        },
    );
    assert!(
        matches!(&step.actions[..], [Action::Evidence(ev)] if ev.culprit == NodeId(3) && ev.kind == EvidenceKind::Malformed)
    );
    // A stale height (height 0) is a no-op.
    let stale = encode(&Message::Vote(Vote {
        height: Height(0),
        ..vote
    }));
    assert!(e
        .handle(
            Time(6),
            Input::Message {
                from: NodeId(1),
                bytes: stale
            }
        )
        .actions
        .is_empty());
}

#[test]
fn invalid_signatures_are_found_by_the_batch_and_bisected() {
    let crypto = MockCrypto::new(N, 6);
    let mut e = engines(&crypto).remove(0);
    e.handle(Time(0), Input::Start);
    let value = VoteValue::Value(ValueId([9; 32]));
    let msg = vote_message(Epoch(0), Height(1), Period(1), VoteStep::Next, value);
    let mut actions = Vec::new();
    for i in 1..N {
        let mut sig = crypto.adapters(NodeId(i)).signer.sign(&msg).unwrap();
        if i == 2 {
            sig[0] ^= 1;
        }
        let v = Vote {
            epoch: Epoch(0),
            height: Height(1),
            period: Period(1),
            step: VoteStep::Next,
            value,
            voter: NodeId(i),
            credential: vec![],
            signature: sig,
            beacon_share: vec![],
        };
        actions.extend(
            e.handle(
                Time(1),
                Input::Message {
                    from: NodeId(i),
                    bytes: encode(&Message::Vote(v)),
                },
            )
            .actions,
        );
    }
    let evidence: Vec<&Evidence> = actions
        .iter()
        .filter_map(|a| {
            if let Action::Evidence(ev) = a {
                Some(ev)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(evidence.len(), 1);
    assert_eq!(
        (evidence[0].culprit, evidence[0].kind),
        (NodeId(2), EvidenceKind::InvalidSignature)
    );
    assert_eq!(
        e.period(),
        Period(1),
        "two valid next-votes are not a quorum"
    );
}

#[test]
fn a_next_quorum_moves_to_the_next_period_pinning_the_value() {
    let crypto = MockCrypto::new(N, 7);
    let mut e = engines(&crypto).remove(0);
    e.handle(Time(0), Input::Start);
    let value = VoteValue::Value(ValueId([9; 32]));
    let msg = vote_message(Epoch(0), Height(1), Period(1), VoteStep::Next, value);
    let mut last = Step::default();
    for i in 1..N {
        let v = Vote {
            epoch: Epoch(0),
            height: Height(1),
            period: Period(1),
            step: VoteStep::Next,
            value,
            voter: NodeId(i),
            credential: vec![],
            signature: crypto.adapters(NodeId(i)).signer.sign(&msg).unwrap(),
            beacon_share: vec![],
        };
        last = e.handle(
            Time(1),
            Input::Message {
                from: NodeId(i),
                bytes: encode(&Message::Vote(v)),
            },
        );
    }
    assert_eq!(e.period(), Period(2));
    assert!(last.actions.contains(&Action::SetTimer {
        id: TimerId::Filter(Height(1), Period(2)),
        at: Time(1 + 2 * Timeouts::default().filter_ms)
    }));
    // In period 2 the filter timer soft-votes the pinned value without any proposal.
    let step = e.handle(
        Time(500),
        Input::Timer(TimerId::Filter(Height(1), Period(2))),
    );
    let soft = votes_sent(&[step]);
    assert_eq!(soft.len(), 1);
    assert_eq!(
        (soft[0].step, soft[0].value, soft[0].period),
        (VoteStep::Soft, value, Period(2))
    );
}

#[test]
fn a_restarted_node_keeps_its_votes_and_catches_up_from_a_certificate() {
    let crypto = MockCrypto::new(N, 8);
    let mut es = engines(&crypto);
    let log = run(&mut es, 1, None);
    let decided = decisions(&log[1]).remove(0);
    // A node that crashed before deciding, restored from its last persisted state.
    let last_persist = log[0]
        .iter()
        .flat_map(|s| &s.actions)
        .filter_map(|a| {
            if let Action::Persist(s) = a {
                Some((**s).clone())
            } else {
                None
            }
        })
        .find(|s| s.height == Height(1) && s.own_votes.iter().any(|v| v.step == VoteStep::Soft))
        .expect("node 0 persisted its soft vote");
    let mut restored = Engine::restore(
        Config::new(NodeId(0), Epoch(0)),
        crypto.adapters(NodeId(0)),
        last_persist.clone(),
    );
    restored.handle(Time(0), Input::Start);
    let step = restored.handle(
        Time(1_000),
        Input::Timer(TimerId::Filter(Height(1), Period(1))),
    );
    assert!(
        votes_sent(&[step]).is_empty(),
        "the restored node must not sign a second soft vote"
    );
    let resent =
        votes_sent(&[restored.handle(Time(2_000), Input::Timer(TimerId::Resend(Height(1))))]);
    assert!(resent.iter().all(|v| last_persist.own_votes.contains(v)));
    // The certificate lets it decide, once the application has accepted the value (#17: a
    // decided value is validated before it is accepted).
    let step = restored.handle(
        Time(2_001),
        Input::Message {
            from: NodeId(1),
            bytes: encode(&Message::Decided(decided.clone())),
        },
    );
    assert!(decisions(std::slice::from_ref(&step)).is_empty());
    assert!(step.actions.iter().any(|a| matches!(a,
        Action::ValidateValue { value_id, value, .. }
            if *value_id == decided.certificate.value_id && *value == decided.value)));
    let step = restored.handle(
        Time(2_001),
        Input::ValueValidated {
            height: Height(1),
            value_id: decided.certificate.value_id,
            valid: true,
        },
    );
    assert_eq!(decisions(&[step]), vec![decided.clone()]);
    assert_eq!(restored.height(), Height(2));
    // A forged certificate is evidence, not a decision.
    let mut forged = decided;
    forged.certificate.height = Height(2);
    let step = restored.handle(
        Time(2_002),
        Input::Message {
            from: NodeId(2),
            bytes: encode(&Message::Decided(forged)),
        },
    );
    assert!(
        matches!(&step.actions[..], [Action::Evidence(ev)] if ev.kind == EvidenceKind::InvalidCertificate)
    );
}

/// A signer whose key can go away (a remote signer or HSM that stops answering).
struct FlakySigner {
    inner: Arc<dyn crate::traits::Signer>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl crate::traits::Signer for FlakySigner {
    fn id(&self) -> NodeId {
        self.inner.id()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, crate::traits::SignError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::traits::SignError::Unavailable("HSM timeout".into()));
        }
        self.inner.sign(message)
    }
}

#[test]
fn a_failing_signer_abstains_and_the_node_votes_again_once_it_is_back() {
    let crypto = MockCrypto::new(N, 4);
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut es = engines(&crypto);
    let mut adapters = crypto.adapters(NodeId(3));
    adapters.signer = Arc::new(FlakySigner {
        inner: adapters.signer.clone(),
        down: down.clone(),
    });
    es[3] = Engine::new(
        Config::new(NodeId(3), Epoch(0)),
        adapters,
        crypto.genesis_seed(),
    );
    let log = run(&mut es[..], 2, None);
    // While its key is away node 3 sends no vote and no proposal (nothing unsigned), does not
    // panic, counts every abstention, and still learns the decisions of the other three.
    let sent_by_3 = |steps: &[Step]| {
        steps
            .iter()
            .flat_map(|s| &s.actions)
            .filter(|a| match a {
                Action::Broadcast { bytes } | Action::Send { bytes, .. } => matches!(
                    decode(bytes),
                    Ok(Message::Vote(Vote {
                        voter: NodeId(3),
                        ..
                    })) | Ok(Message::Proposal(Proposal {
                        proposer: NodeId(3),
                        ..
                    }))
                ),
                _ => false,
            })
            .count()
    };
    assert_eq!(sent_by_3(&log[3]), 0);
    assert!(
        es[3].signing_failures() >= 6,
        "{}",
        es[3].signing_failures()
    );
    for node in &log {
        assert_eq!(decisions(node).len(), 2);
    }
    // The key comes back: node 3 votes in the next heights.
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    let failures = es[3].signing_failures();
    let log = run(&mut es[..], 4, None);
    assert!(sent_by_3(&log[3]) >= 3, "node 3 did not vote again");
    assert_eq!(es[3].signing_failures(), failures);
    assert!(votes_sent(&log[3]).iter().all(|v| !v.signature.is_empty()));
}

/// Seed seals (sampled mode) are counted in the engine's accounting of peer input, like the
/// values they come with: every byte stored is in `peer_bytes()`, which the quotas check, so
/// no peer stores more than its quota through seals. (Before, seals were pruned with their
/// values but never counted: `peer_bytes()` fell short by every stored seal.)
#[test]
fn seed_seals_are_counted_in_peer_bytes() {
    use crate::adapter::RealProvider;
    use crate::sim::{CryptoProvider, Mode, SimConfig};
    use crate::types::{proposal_message, Proposal};
    let mut config = SimConfig::new(4);
    config.mode = Mode::Sampled;
    config.seed = 5;
    let setup = RealProvider::new().setup(&config).expect("sampled setup");
    let seed = setup.genesis_seed;
    let mut a = Engine::new(
        Config::new(NodeId(0), Epoch(0)),
        setup.adapters[0].clone(),
        seed,
    );
    a.handle(Time(0), Input::Start);
    let (h, p) = (Height(1), Period(1));
    for z in 1..4u32 {
        let peer = &setup.adapters[z as usize];
        let value = format!("value-1-{z}").into_bytes();
        let id = peer.verifier.value_id(&value);
        let proposal = Proposal {
            epoch: Epoch(0),
            height: h,
            period: p,
            proposer: NodeId(z),
            credential: peer
                .sortition
                .proposer_credential(&seed, h, p)
                .expect("τ = N: every seat is selected"),
            signature: peer
                .signer
                .sign(&proposal_message(Epoch(0), h, p, id))
                .unwrap(),
            seal: peer.sortition.seed_seal(&seed, h),
            value,
        };
        a.handle(
            Time(1),
            Input::Message {
                from: NodeId(z),
                bytes: encode(&Message::Proposal(proposal)),
            },
        );
    }
    a.prune_round(p);
    let r = &a.round;
    let seals: usize = r.seals.values().map(Vec::len).sum();
    assert!(seals >= 3 * 84, "three peers' seals are held: {seals} B");
    let values: usize = r
        .values
        .values()
        .map(|(v, _)| v.len() + resources::OVERHEAD)
        .sum();
    let proposals: usize = r
        .proposals
        .values()
        .flat_map(|m| m.iter())
        .filter(|(from, _)| **from != NodeId(0))
        .map(|(_, e)| resources::proposal_charge(&e.bytes))
        .sum();
    assert!(
        a.peer_bytes() >= proposals + values + seals,
        "peer_bytes {} < proposals {proposals} + values {values} + seals {seals}",
        a.peer_bytes()
    );
}

/// Delivers every message and host answer, never firing a timer; returns the engines' heights.
fn run_without_timers(engines: &mut [Engine]) -> Vec<u64> {
    let mut sends = VecDeque::new();
    let mut timers = Vec::new();
    let mut inbox: Vec<(NodeId, Input)> = (0..N).map(|i| (NodeId(i), Input::Start)).collect();
    for _ in 0..10_000 {
        if let Some((to, input)) = inbox.pop() {
            let step = engines[to.0 as usize].handle(Time(0), input);
            let mut follow = Vec::new();
            host(to, step, &mut sends, &mut timers, &mut follow);
            inbox.extend(follow.into_iter().map(|f| (to, f)));
        } else if let Some((to, from, bytes)) = sends.pop_front() {
            if engines[to.0 as usize].height().0 == 1 {
                inbox.push((to, Input::Message { from, bytes }));
            }
        } else {
            break;
        }
    }
    engines.iter().map(|e| e.height().0).collect()
}

#[test]
fn early_filter_soft_votes_once_every_seat_proposed() {
    let crypto = MockCrypto::new(N, 7);
    // Without it, nothing is soft-voted before the filter timer: no decision.
    let mut es = engines(&crypto);
    assert_eq!(run_without_timers(&mut es), vec![1; N as usize]);
    // With it, every seat's proposal is in at once, and height 1 decides with no timer.
    let mut es = engines(&crypto);
    for e in es.iter_mut() {
        e.set_early_filter(true);
    }
    assert_eq!(run_without_timers(&mut es), vec![2; N as usize]);
}

/// A cert vote of `seat` for `value` at height 1, period 1, with its beacon share; `corrupt`
/// flips a bit of the vote's signature.
fn cert_vote(crypto: &MockCrypto, seat: u32, value: VoteValue, corrupt: bool) -> Vec<u8> {
    let signer = crypto.adapters(NodeId(seat)).signer;
    let msg = vote_message(Epoch(0), Height(1), Period(1), VoteStep::Cert, value);
    let mut signature = signer.sign(&msg).unwrap();
    if corrupt {
        signature[0] ^= 1;
    }
    let beacon_share = signer
        .sign(&crate::types::beacon_message(Epoch(0), Height(1)))
        .unwrap();
    encode(&Message::Vote(Vote {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(1),
        step: VoteStep::Cert,
        value,
        voter: NodeId(seat),
        credential: vec![],
        signature,
        beacon_share,
    }))
}

fn evidence_of(actions: &[Action]) -> Vec<(NodeId, EvidenceKind)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Evidence(ev) => Some((ev.culprit, ev.kind)),
            _ => None,
        })
        .collect()
}

/// The adversary's invalid cert vote arrives first: the quorum it completes is combined
/// unverified, fails, and only then are the votes checked; the culprit is named and evicted
/// and the next honest vote completes the certificate. A certificate combined unverified
/// leaves its votes unverified (it proves the certificate, not them).
#[test]
fn an_invalid_cert_vote_first_is_caught_and_the_certificate_is_the_honest_one() {
    const SEATS: u32 = 7;
    let crypto = MockCrypto::new(SEATS, 3);
    let mut e = Engine::new(
        Config::new(NodeId(0), Epoch(0)),
        crypto.adapters(NodeId(0)),
        crypto.genesis_seed(),
    );
    e.handle(Time(0), Input::Start);
    let value = VoteValue::Value(ValueId([7; 32]));
    let quorum = 5;
    let mut actions = Vec::new();
    // Seat 6 (Byzantine) first, then honest seats 1..=4: five pending votes reach the quorum.
    for (seat, corrupt) in [(6, true), (1, false), (2, false), (3, false), (4, false)] {
        let step = e.handle(
            Time(1),
            Input::Message {
                from: NodeId(seat),
                bytes: cert_vote(&crypto, seat, value, corrupt),
            },
        );
        actions.extend(step.actions);
    }
    assert_eq!(
        evidence_of(&actions),
        vec![(NodeId(6), EvidenceKind::InvalidSignature)]
    );
    assert!(e.round.certificate.is_none(), "four valid votes of five");
    let tally = &e.round.tallies[&(Period(1), VoteStep::Cert)].by_value[&value];
    assert_eq!(
        tally.verified_weight, 4,
        "the failed combine fell back to checking"
    );
    assert!(tally.combined.is_none());
    // Seat 6's later votes of this step are not looked at; seat 5's completes the quorum.
    let again = e.handle(
        Time(2),
        Input::Message {
            from: NodeId(6),
            bytes: cert_vote(&crypto, 6, value, false),
        },
    );
    assert!(evidence_of(&again.actions).is_empty());
    assert!(e.round.certificate.is_none());
    e.handle(
        Time(3),
        Input::Message {
            from: NodeId(5),
            bytes: cert_vote(&crypto, 5, value, false),
        },
    );
    let cert = e.round.certificate.clone().expect("certificate");
    let verifier = crypto.verifier();
    assert!(verifier.verify_certificate(&e.seed, &cert.message(), &cert.signature));
    assert!(verifier.verify_beacon(&e.seed, &cert.beacon_message(), Period(1), &cert.beacon));
    let tally = &e.round.tallies[&(Period(1), VoteStep::Cert)].by_value[&value];
    assert!(
        tally.combined.is_some(),
        "combined unverified: {quorum} votes"
    );
    assert_eq!(tally.verified_weight, 4);
    assert!(e.round.tallies[&(Period(1), VoteStep::Cert)].is_pending(NodeId(5), value));
}

/// Honest cert votes only: the certificate comes from one unverified combine, with no batch
/// check of the votes at all.
#[test]
fn honest_cert_votes_are_never_batch_checked() {
    const SEATS: u32 = 7;
    let crypto = MockCrypto::new(SEATS, 4);
    let mut e = Engine::new(
        Config::new(NodeId(0), Epoch(0)),
        crypto.adapters(NodeId(0)),
        crypto.genesis_seed(),
    );
    e.handle(Time(0), Input::Start);
    let value = VoteValue::Value(ValueId([8; 32]));
    let stats = &crypto.verifier().stats;
    let before = stats
        .batch_verifications
        .load(std::sync::atomic::Ordering::Relaxed);
    for seat in 1..=5 {
        e.handle(
            Time(1),
            Input::Message {
                from: NodeId(seat),
                bytes: cert_vote(&crypto, seat, value, false),
            },
        );
    }
    assert!(e.round.certificate.is_some());
    assert_eq!(
        stats
            .batch_verifications
            .load(std::sync::atomic::Ordering::Relaxed),
        before
    );
}
