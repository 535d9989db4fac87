//! Issue #14 §2: vote aggregators (`Config::aggregators`, κ per step).
//!
//! Real engines (mock crypto) on the deterministic host of `common/net.rs`: votes go to the
//! aggregators only and the height still decides in period 1; aggregators that withhold
//! everything they aggregate cost the fallback's delay, not the period; a bundle or decision
//! is accepted for exactly what it proves, whoever sends it. Simulator runs with withholding
//! and equivocating aggregators, and the message count against all-to-all.

#[path = "common/net.rs"]
mod net;

use conclave_bft::codec::{decode, encode};
use conclave_bft::evidence::EvidenceKind;
use conclave_bft::mock::MockCrypto;
use conclave_bft::sim::{run_simulation, AdversaryKind, MockProvider, SimConfig};
use conclave_bft::traits::{Share, Verifier};
use conclave_bft::types::{
    beacon_message, vote_message, Bundle, Certificate, Decided, Epoch, Height, Message, NodeId,
    Period, Seed, Time, VoteStep, VoteValue,
};
use conclave_bft::{aggregators, Action, Config, Engine, Input};
use net::Net;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

const EPOCH: Epoch = Epoch(0);

fn config(id: NodeId, kappa: u32) -> Config {
    let mut c = Config::new(id, EPOCH);
    c.aggregators = kappa;
    c
}

fn net(crypto: &MockCrypto, n: u32, kappa: u32) -> Net {
    Net::new(
        (0..n)
            .map(|i| {
                Engine::new(
                    config(NodeId(i), kappa),
                    crypto.adapters(NodeId(i)),
                    crypto.genesis_seed(),
                )
            })
            .collect(),
    )
}

fn seats(n: u32) -> Vec<NodeId> {
    (0..n).map(NodeId).collect()
}

fn agg(seed: &Seed, n: u32, kappa: u32, period: u32, step: VoteStep) -> BTreeSet<NodeId> {
    aggregators(
        &seats(n),
        seed,
        EPOCH,
        Height(1),
        Period(period),
        step,
        kappa,
    )
    .into_iter()
    .collect()
}

#[test]
fn the_draw_is_a_deterministic_set_of_kappa_distinct_seats() {
    let seed = Seed([7; 32]);
    let s = seats(64);
    let draw = |p: u32, step: VoteStep, k: u32| {
        aggregators(&s, &seed, EPOCH, Height(3), Period(p), step, k)
    };
    assert!(draw(1, VoteStep::Soft, 0).is_empty());
    assert_eq!(draw(1, VoteStep::Soft, 64), s);
    assert_eq!(draw(1, VoteStep::Soft, 1000), s);
    let a = draw(1, VoteStep::Soft, 16);
    assert_eq!(a.len(), 16);
    assert_eq!(a.iter().collect::<BTreeSet<_>>().len(), 16);
    assert!(a.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(a, draw(1, VoteStep::Soft, 16));
    assert_ne!(a, draw(1, VoteStep::Cert, 16));
    assert_ne!(a, draw(2, VoteStep::Soft, 16));
    assert_ne!(
        a,
        aggregators(
            &s,
            &Seed([8; 32]),
            EPOCH,
            Height(3),
            Period(1),
            VoteStep::Soft,
            16
        )
    );
    // Every seat is drawn somewhere in 64 periods (16 of 64 each time).
    let mut seen = BTreeSet::new();
    for p in 1..=64 {
        seen.extend(draw(p, VoteStep::Soft, 16));
    }
    assert_eq!(seen.len(), 64);
}

/// Records the (from, to) of every soft and cert vote on the wire.
type Log = Rc<RefCell<Vec<(NodeId, NodeId, VoteStep, u32)>>>;

fn logging(net: &mut Net, log: &Log) {
    let log = log.clone();
    net.filter = Box::new(move |from, to, bytes| {
        if let Ok(Message::Vote(v)) = decode(bytes) {
            if matches!(v.step, VoteStep::Soft | VoteStep::Cert) {
                log.borrow_mut().push((from, to, v.step, v.period.0));
            }
        }
        true
    });
}

#[test]
fn votes_go_to_the_aggregators_and_the_height_decides_in_period_1() {
    let (n, kappa) = (16, 3);
    let crypto = MockCrypto::new(n, 1);
    let seed = crypto.genesis_seed();
    let mut net = net(&crypto, n, kappa);
    let log: Log = Rc::default();
    logging(&mut net, &log);
    net.start();
    let all = seats(n);
    assert!(net.run_until(5_000, |net| net.all_decided(&all, 1)));
    let first = net.decisions[0][0].clone();
    for d in &net.decisions {
        assert_eq!(d[0], first, "agreement");
    }
    assert_eq!(first.certificate.period, Period(1));
    // Every soft and cert vote of period 1 went to an aggregator of its step, from each voter
    // to each aggregator at most once.
    let log = log.borrow();
    let mut pairs = BTreeSet::new();
    for (from, to, step, period) in log.iter() {
        assert_eq!(*period, 1);
        assert!(
            agg(&seed, n, kappa, 1, *step).contains(to),
            "{step:?} vote {from} → {to} to a non-aggregator"
        );
        assert!(pairs.insert((*from, *to, *step)), "sent twice");
    }
    // A quorum of voters reached each step's aggregators (here: everyone, no faults).
    let soft = log.iter().filter(|e| e.2 == VoteStep::Soft).count();
    assert!(soft as u32 >= (n - 1) * kappa - kappa, "{soft}");
}

#[test]
fn without_aggregators_every_vote_goes_to_everyone() {
    // The control: the default (κ = 0) broadcasts.
    let n = 16;
    let crypto = MockCrypto::new(n, 1);
    let mut net = net(&crypto, n, 0);
    let log: Log = Rc::default();
    logging(&mut net, &log);
    net.start();
    assert!(net.run_until(5_000, |net| net.all_decided(&seats(n), 1)));
    let soft = log
        .borrow()
        .iter()
        .filter(|e| e.2 == VoteStep::Soft)
        .count();
    assert_eq!(soft as u32, n * (n - 1));
}

/// Drops every bundle and decision the aggregators of its (period, step) send.
fn withholding(net: &mut Net, seed: Seed, n: u32, kappa: u32) {
    net.filter = Box::new(move |from, _to, bytes| match decode(bytes) {
        Ok(Message::Bundle(b)) => !agg(&seed, n, kappa, b.period.0, b.step).contains(&from),
        Ok(Message::Decided(d)) => {
            !agg(&seed, n, kappa, d.certificate.period.0, VoteStep::Cert).contains(&from)
        }
        _ => true,
    });
}

#[test]
fn withholding_aggregators_cost_the_fallback_delay_not_the_period() {
    // Every aggregator of every step withholds (the e^{−hκ} case, here certain): the
    // aggregation timer (500 ms) re-broadcasts the votes and everyone still cert-votes and
    // decides in period 1, before the next timer (600 ms) plus two latencies.
    let (n, kappa) = (16, 2);
    let crypto = MockCrypto::new(n, 2);
    let mut net = net(&crypto, n, kappa);
    withholding(&mut net, crypto.genesis_seed(), n, kappa);
    net.start();
    let all = seats(n);
    assert!(net.run_until(5_000, |net| net.all_decided(&all, 1)));
    let values: BTreeSet<_> = net.decisions.iter().map(|d| d[0].value.clone()).collect();
    assert_eq!(values.len(), 1);
    for d in &net.decisions {
        assert_eq!(d[0].certificate.period, Period(1), "the period was lost");
    }
    assert!(
        net.now < 600 + 2 * net.latency + 50,
        "decided at {} ms",
        net.now
    );
}

#[test]
fn a_crashed_aggregator_set_is_survived() {
    // The aggregators of period 1's soft and cert steps are offline from the start: the
    // others decide in period 1 through the fallback.
    let (n, kappa) = (16, 2);
    let crypto = MockCrypto::new(n, 3);
    let seed = crypto.genesis_seed();
    let mut net = net(&crypto, n, kappa);
    let mut down: BTreeSet<NodeId> = agg(&seed, n, kappa, 1, VoteStep::Soft);
    down.extend(agg(&seed, n, kappa, 1, VoteStep::Cert));
    assert!(down.len() as u32 <= (n - 1) / 3);
    for d in &down {
        net.disconnect(*d);
    }
    for i in 0..n {
        if !down.contains(&NodeId(i)) {
            net.handle(NodeId(i), Input::Start);
        }
    }
    let up: Vec<NodeId> = seats(n).into_iter().filter(|s| !down.contains(s)).collect();
    assert!(net.run_until(5_000, |net| net.all_decided(&up, 1)));
    for u in &up {
        assert_eq!(net.decisions[u.0 as usize][0].certificate.period, Period(1));
    }
}

fn shares_bundle(
    crypto: &MockCrypto,
    n: u32,
    period: u32,
    step: VoteStep,
    value: VoteValue,
) -> Bundle {
    let message = vote_message(EPOCH, Height(1), Period(period), step, value);
    let adapters: Vec<_> = (0..n).map(|i| crypto.adapters(NodeId(i))).collect();
    let sigs: Vec<Vec<u8>> = adapters
        .iter()
        .map(|a| a.signer.sign(&message).unwrap())
        .collect();
    let shares: Vec<Share<'_>> = (0..n)
        .map(|i| Share {
            signer: NodeId(i),
            credential: &[],
            signature: &sigs[i as usize],
        })
        .collect();
    Bundle {
        epoch: EPOCH,
        height: Height(1),
        period: Period(period),
        step,
        value,
        signature: crypto.verifier().combine(&message, &shares).unwrap(),
    }
}

fn cert_votes(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| match a {
            Action::Send { bytes, .. } | Action::Broadcast { bytes } => {
                matches!(decode(bytes), Ok(Message::Vote(v)) if v.step == VoteStep::Cert)
            }
            _ => false,
        })
        .count()
}

fn invalid_certificate(actions: &[Action]) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, Action::Evidence(e) if e.kind == EvidenceKind::InvalidCertificate))
}

#[test]
fn a_bundle_counts_for_exactly_what_it_proves_whoever_sends_it() {
    let (n, kappa) = (7, 2);
    let crypto = MockCrypto::new(n, 4);
    let seed = crypto.genesis_seed();
    let me = NodeId(0);
    let value = b"value-1-3".to_vec();
    let id = crypto.verifier().value_id(&value);
    let fresh = || {
        let mut e = Engine::new(config(me, kappa), crypto.adapters(me), seed);
        e.handle(Time(0), Input::Start);
        e.handle(
            Time(0),
            Input::ProposedValue {
                height: Height(1),
                value: b"value-1-0".to_vec(),
            },
        );
        // The value is known and valid (as if its proposal had arrived and been validated).
        let proposal = {
            let a = crypto.adapters(NodeId(3));
            let message = conclave_bft::types::proposal_message(EPOCH, Height(1), Period(1), id);
            conclave_bft::types::Proposal {
                epoch: EPOCH,
                height: Height(1),
                period: Period(1),
                proposer: NodeId(3),
                credential: a
                    .sortition
                    .proposer_credential(&seed, Height(1), Period(1))
                    .unwrap(),
                value: value.clone(),
                signature: a.signer.sign(&message).unwrap(),
                seal: Vec::new(),
            }
        };
        let step = e.handle(
            Time(1),
            Input::Message {
                from: NodeId(3),
                bytes: encode(&Message::Proposal(proposal)),
            },
        );
        for a in step.actions {
            if let Action::ValidateValue { value_id, .. } = a {
                e.handle(
                    Time(1),
                    Input::ValueValidated {
                        height: Height(1),
                        value_id,
                        valid: true,
                    },
                );
            }
        }
        e
    };
    // A sender that is no aggregator of anything.
    let outsider = (1..n)
        .map(NodeId)
        .find(|s| {
            !agg(&seed, n, kappa, 1, VoteStep::Soft).contains(s)
                && !agg(&seed, n, kappa, 1, VoteStep::Cert).contains(s)
        })
        .expect("an outsider");
    let good = shares_bundle(&crypto, n, 1, VoteStep::Soft, VoteValue::Value(id));
    // Every field the signature binds, changed in turn: rejected, the sender reported.
    let other = crypto.verifier().value_id(b"value-1-5");
    let mut forged = Vec::new();
    let mut b = good.clone();
    b.value = VoteValue::Value(other);
    forged.push(b);
    let mut b = good.clone();
    b.period = Period(2);
    forged.push(b);
    let mut b = good.clone();
    b.step = VoteStep::Next;
    forged.push(b);
    let mut b = good.clone();
    b.signature[0] ^= 1;
    forged.push(b);
    for b in forged {
        let mut e = fresh();
        let step = e.handle(
            Time(10),
            Input::Message {
                from: outsider,
                bytes: encode(&Message::Bundle(b.clone())),
            },
        );
        assert!(invalid_certificate(&step.actions), "{b:?} not reported");
        assert_eq!(cert_votes(&step.actions), 0, "{b:?} moved the node");
    }
    // The genuine bundle, from a seat that aggregates nothing: accepted, and the cert vote
    // goes to the cert aggregators only (not broadcast).
    let mut e = fresh();
    let step = e.handle(
        Time(10),
        Input::Message {
            from: outsider,
            bytes: encode(&Message::Bundle(good)),
        },
    );
    assert!(!invalid_certificate(&step.actions));
    let cert_aggs = agg(&seed, n, kappa, 1, VoteStep::Cert);
    let sent: BTreeSet<NodeId> = step
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, bytes }
                if matches!(decode(bytes), Ok(Message::Vote(v)) if v.step == VoteStep::Cert) =>
            {
                Some(*to)
            }
            _ => None,
        })
        .collect();
    let expected: BTreeSet<NodeId> = cert_aggs.iter().copied().filter(|a| *a != me).collect();
    assert_eq!(sent, expected);
    assert!(!step
        .actions
        .iter()
        .any(|a| matches!(a, Action::Broadcast { bytes }
        if matches!(decode(bytes), Ok(Message::Vote(_))))));
    // A forged decision for another value (the certificate of `id`, the value swapped or
    // the value id swapped) is rejected too; the genuine one decides.
    let certificate = {
        let message = Certificate {
            epoch: EPOCH,
            height: Height(1),
            period: Period(1),
            value_id: id,
            signature: Vec::new(),
            beacon: Vec::new(),
            seal: Vec::new(),
        };
        let adapters: Vec<_> = (0..n).map(|i| crypto.adapters(NodeId(i))).collect();
        let sigs: Vec<Vec<u8>> = adapters
            .iter()
            .map(|a| a.signer.sign(&message.message()).unwrap())
            .collect();
        let beacons: Vec<Vec<u8>> = adapters
            .iter()
            .map(|a| a.signer.sign(&beacon_message(EPOCH, Height(1))).unwrap())
            .collect();
        let share = |s: &Vec<Vec<u8>>| -> Vec<u8> {
            let shares: Vec<Share<'_>> = (0..n)
                .map(|i| Share {
                    signer: NodeId(i),
                    credential: &[],
                    signature: &s[i as usize],
                })
                .collect();
            crypto
                .verifier()
                .combine(&message.message(), &shares)
                .unwrap()
        };
        let signature = share(&sigs);
        let beacon_shares: Vec<Share<'_>> = (0..n)
            .map(|i| Share {
                signer: NodeId(i),
                credential: &[],
                signature: &beacons[i as usize],
            })
            .collect();
        let beacon = crypto
            .verifier()
            .combine_beacon(&beacon_message(EPOCH, Height(1)), Period(1), &beacon_shares)
            .unwrap();
        Certificate {
            signature,
            beacon,
            ..message
        }
    };
    let genuine = Decided {
        certificate: certificate.clone(),
        value: value.clone(),
    };
    let mut swapped_value = genuine.clone();
    swapped_value.value = b"value-1-5".to_vec();
    let mut swapped_id = swapped_value.clone();
    swapped_id.certificate.value_id = other;
    for d in [swapped_value, swapped_id] {
        let mut e = fresh();
        let step = e.handle(
            Time(10),
            Input::Message {
                from: outsider,
                bytes: encode(&Message::Decided(d)),
            },
        );
        assert!(invalid_certificate(&step.actions));
        assert_eq!(e.height(), Height(1));
    }
    let mut e = fresh();
    e.handle(
        Time(10),
        Input::Message {
            from: outsider,
            bytes: encode(&Message::Decided(genuine)),
        },
    );
    assert_eq!(e.height(), Height(2));
}

fn sim(
    nodes: u32,
    faulty: u32,
    adversary: AdversaryKind,
    kappa: u32,
    seed: u64,
) -> conclave_bft::sim::SimReport {
    let mut c = SimConfig::new(nodes);
    c.faulty = faulty;
    c.adversary = adversary;
    c.heights = 8;
    c.seed = seed;
    c.aggregators = kappa;
    run_simulation(&c, &MockProvider).expect("runs")
}

#[test]
fn withholding_and_equivocating_aggregators_in_the_simulator() {
    // κ = 2 of 16 with 5 faulty: many steps have only faulty aggregators.
    for adversary in AdversaryKind::AGGREGATOR {
        for seed in 0..3 {
            let r = sim(16, 5, adversary, 2, seed);
            assert!(
                r.violations.is_empty(),
                "{adversary} seed {seed}: {:?}",
                r.violations
            );
            if adversary == AdversaryKind::AggregatorEquivocate {
                assert!(
                    r.evidence
                        .iter()
                        .any(|e| e.kind == EvidenceKind::InvalidCertificate),
                    "seed {seed}: the forged bundles went unnoticed"
                );
            }
        }
    }
    // And the whole catalogue, with aggregators on.
    for seed in 0..2 {
        let r = sim(16, 5, AdversaryKind::Mixed, 4, seed);
        assert!(
            r.violations.is_empty(),
            "mixed seed {seed}: {:?}",
            r.violations
        );
    }
}

#[test]
fn aggregators_cut_the_messages_per_decision() {
    let without = sim(64, 0, AdversaryKind::Silent, 0, 1);
    let with = sim(64, 0, AdversaryKind::Silent, 8, 1);
    assert!(without.violations.is_empty() && with.violations.is_empty());
    assert_eq!(with.metrics.max_period, 1);
    // The mock has every seat propose (64 · 63 proposals per decision in both runs); the
    // votes, bundles and decisions go from ≈ 2.4 · 64² to ≈ 5.4 · 8 · 64 per decision.
    let proposals = 64 * 63 * 8;
    let votes_without = without.metrics.messages - proposals;
    let votes_with = with.metrics.messages - proposals;
    // O(n·κ) per decision (8 heights): at most 6 · κ · n with κ = 8, n = 64, and at least 3×
    // fewer than all-to-all (whose soft bundles are already deferred, see tests/soft_bundle.rs).
    assert!(
        votes_with <= 8 * 6 * 8 * 64 && votes_with * 3 < votes_without,
        "{votes_with} vs {votes_without} messages"
    );
}
