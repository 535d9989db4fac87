//! Issue #11 §2: the sync path ([`Input::Synced`]). A node that was offline for longer than
//! its peers retain decisions rejoins by having its host feed it the others' certified
//! decisions in order; the engine verifies each (certificate and beacon against the seed
//! chained from the previous one, value id, application validity) and then takes part in new
//! heights again. Forged or mismatched decisions change nothing.
//!
//! - [`node_offline_for_1000_heights_rejoins_through_synced_decisions`]: mock crypto, n = 4;
//!   D goes offline after height 2, A, B and C decide 1,000 more heights, C then stops for
//!   good, D is fed the 1,000 decisions through `Input::Synced` and A, B and D (a quorum only
//!   with D) decide three new heights together.
//! - [`threshold_bls_rejoin_after_synced_decisions`]: the same with real BLS12-381 threshold
//!   keys (trusted dealer), 5 heights offline.
//! - `synced_decisions_ignore_the_period_window_only_where_certificates_bind_a_quorum`: a
//!   threshold certificate from period 40 is accepted from the host's ledger, not from a peer,
//!   and not when the verifier says certificates of far periods do not bind a quorum (sampled
//!   committees).

#[path = "common/net.rs"]
mod net;

use conclave_bft::adapter::{KeySetup, RealProvider};
use conclave_bft::codec;
use conclave_bft::mock::{MockCrypto, MockVerifier};
use conclave_bft::sim::{CryptoProvider, SimConfig};
use conclave_bft::traits::{CombineError, Share, Verifier};
use conclave_bft::types::{
    beacon_message, Certificate, Decided, Epoch, Height, Message, NodeId, Period, Seed, Time,
    ValueId,
};
use conclave_bft::{Action, Adapters, Config, Engine, Input};
use net::Net;
use std::sync::Arc;

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const C: NodeId = NodeId(2);
const D: NodeId = NodeId(3);

fn engines(adapters: &[Adapters], genesis: Seed) -> Vec<Engine> {
    adapters
        .iter()
        .enumerate()
        .map(|(i, a)| Engine::new(Config::new(NodeId(i as u32), Epoch(0)), a.clone(), genesis))
        .collect()
}

/// Decisions that must not move a node at `genuine`'s height: each is `genuine` (or the next
/// height's decision) with one thing wrong.
fn forgeries(
    genuine: &Decided,
    next: &Decided,
    verifier: &dyn Verifier,
) -> Vec<(&'static str, Decided)> {
    let mut out = Vec::new();
    let mut d = genuine.clone();
    d.value = b"value-forged".to_vec();
    out.push(("another value", d.clone()));
    d.certificate.value_id = verifier.value_id(&d.value);
    out.push(("another value with its id", d));
    let mut d = genuine.clone();
    d.certificate.signature[0] ^= 1;
    out.push(("signature bit flipped", d));
    let mut d = genuine.clone();
    d.certificate.signature.truncate(7);
    out.push(("signature truncated", d));
    let mut d = genuine.clone();
    d.certificate.beacon[0] ^= 1;
    out.push(("beacon bit flipped", d));
    let mut d = genuine.clone();
    d.certificate.beacon = next.certificate.beacon.clone();
    out.push(("beacon of the next height", d));
    let mut d = genuine.clone();
    d.certificate.period = Period(d.certificate.period.0 + 1);
    out.push(("another period", d));
    let mut d = genuine.clone();
    d.certificate.epoch = Epoch(1);
    out.push(("another epoch", d));
    let mut d = next.clone();
    d.certificate.height = genuine.certificate.height;
    out.push(("next height's decision relabelled", d));
    out.push(("next height's decision", next.clone()));
    out
}

/// Runs the rejoin scenario over `adapters`: D offline for `offline` heights, then synced,
/// then A, B and D decide `after` new heights (C stays offline).
fn rejoin(adapters: &[Adapters], genesis: Seed, offline: usize, after: usize) {
    let verifier = adapters[0].verifier.clone();
    let mut net = Net::new(engines(adapters, genesis));
    net.start();
    let all = [A, B, C, D];
    assert!(
        net.run_until(60_000, |n| n.all_decided(&all, 2)),
        "heights 1-2"
    );
    net.disconnect(D);
    let d_height = net.height(D);
    let target = net.decisions[D.0 as usize].len() + offline;
    let limit = net.now + 1_000 * offline as u64 + 60_000;
    assert!(
        net.run_until(limit, |n| n.all_decided(&[A, B, C], target as u64)),
        "A, B, C did not decide {target} heights without D"
    );
    // C stops for good: from now on no quorum forms without D.
    net.disconnect(C);
    assert_eq!(net.height(D), d_height, "offline D moved");
    let ledger: Vec<Decided> = [A, B, C]
        .iter()
        .map(|n| net.decisions[n.0 as usize].clone())
        .max_by_key(Vec::len)
        .unwrap();
    let ledger_len = ledger.len() as u64;
    assert!(ledger_len >= target as u64);

    // Forged and mismatched decisions for D's current height: no action, no move.
    let h = d_height.0 as usize;
    for (what, forged) in forgeries(&ledger[h - 1], &ledger[h], verifier.as_ref()) {
        let actions = net.handle(D, Input::Synced { decided: forged });
        assert!(actions.is_empty(), "{what}: {actions:?}");
        assert_eq!(net.height(D), d_height, "{what} moved D");
    }
    // Decisions of other heights are ignored, a previous one too.
    let actions = net.handle(
        D,
        Input::Synced {
            decided: ledger[h - 2].clone(),
        },
    );
    assert!(actions.is_empty(), "previous height: {actions:?}");

    // The genuine decisions, in order: one height each, Persist before Decide.
    for height in d_height.0..=ledger_len {
        let decided = ledger[height as usize - 1].clone();
        let actions = net.handle(
            D,
            Input::Synced {
                decided: decided.clone(),
            },
        );
        let decide_at = actions
            .iter()
            .position(|a| matches!(a, Action::Decide { decided: d } if *d == decided))
            .unwrap_or_else(|| panic!("height {height}: no Decide in {actions:?}"));
        let decides = actions
            .iter()
            .filter(|a| matches!(a, Action::Decide { .. }))
            .count();
        assert_eq!(decides, 1, "height {height}");
        assert!(
            actions[..decide_at]
                .iter()
                .any(|a| matches!(a, Action::Persist(s) if s.height == Height(height + 1))),
            "height {height}: no Persist of the next height before Decide"
        );
        assert_eq!(net.height(D), Height(height + 1));
        // Replaying it is a no-op.
        assert!(net.handle(D, Input::Synced { decided }).is_empty());
    }

    // D takes part again: A, B and D (C offline) decide `after` new heights.
    net.reconnect(D);
    let goal = ledger_len + after as u64;
    let limit = net.now + 300_000;
    assert!(
        net.run_until(limit, |n| n.all_decided(&[A, B, D], goal)),
        "A, B, D did not decide up to height {goal}: heights {:?}",
        [A, B, D].map(|n| net.height(n))
    );
    let a = &net.decisions[A.0 as usize];
    let d = &net.decisions[D.0 as usize];
    for height in 1..=goal as usize {
        assert_eq!(
            a[height - 1].certificate.value_id,
            d[height - 1].certificate.value_id,
            "height {height}"
        );
    }
    // The new heights needed D's votes (C is offline and the quorum is 3 of 4).
    assert!(net.height(C).0 <= ledger_len + 1);
}

#[test]
fn node_offline_for_1000_heights_rejoins_through_synced_decisions() {
    let crypto = MockCrypto::new(4, 11);
    let adapters: Vec<Adapters> = (0..4).map(|i| crypto.adapters(NodeId(i))).collect();
    rejoin(&adapters, crypto.genesis_seed(), 1_000, 3);
}

#[test]
fn threshold_bls_rejoin_after_synced_decisions() {
    let provider = RealProvider::new().with_key_setup(KeySetup::TrustedDealer);
    let setup = provider.setup(&SimConfig::new(4)).expect("keys");
    rejoin(&setup.adapters, setup.genesis_seed, 5, 2);
}

/// The mock verifier, but declaring that certificates of far periods do not bind a quorum (as
/// sampled committees do): the engine must keep the period window for host decisions too.
struct Windowed(Arc<MockVerifier>);

impl Verifier for Windowed {
    fn verify_share(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool {
        self.0.verify_share(signer, message, signature)
    }
    fn verify_batch(&self, message: &[u8], shares: &[Share<'_>]) -> Result<(), Vec<NodeId>> {
        self.0.verify_batch(message, shares)
    }
    fn combine(&self, message: &[u8], shares: &[Share<'_>]) -> Result<Vec<u8>, CombineError> {
        self.0.combine(message, shares)
    }
    fn verify_certificate(&self, seed: &Seed, message: &[u8], certificate: &[u8]) -> bool {
        self.0.verify_certificate(seed, message, certificate)
    }
    fn value_id(&self, value: &[u8]) -> ValueId {
        self.0.value_id(value)
    }
    fn next_seed(&self, previous: &Seed, certificate: &Certificate) -> Seed {
        self.0.next_seed(previous, certificate)
    }
    fn attributable(&self) -> bool {
        self.0.attributable()
    }
    fn certificates_bind_quorum_at_any_period(&self) -> bool {
        false
    }
}

/// A decision of height 1 formed by all four seats in `period`.
fn decision_at(crypto: &MockCrypto, period: u32, value: &[u8]) -> Decided {
    let verifier = crypto.verifier();
    let mut certificate = Certificate {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(period),
        value_id: verifier.value_id(value),
        signature: Vec::new(),
        beacon: Vec::new(),
        seal: Vec::new(),
    };
    let combine = |message: &[u8]| {
        let signatures: Vec<Vec<u8>> = (0..4)
            .map(|i| crypto.adapters(NodeId(i)).signer.sign(message).unwrap())
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
        verifier.combine(message, &shares).expect("quorum")
    };
    certificate.signature = combine(&certificate.message());
    certificate.beacon = combine(&beacon_message(Epoch(0), Height(1)));
    Decided {
        certificate,
        value: value.to_vec(),
    }
}

fn decides(engine: &mut Engine, input: Input) -> bool {
    let mut actions = engine.handle(Time(0), input).actions;
    let mut i = 0;
    while i < actions.len() {
        if let Action::ValidateValue {
            height, value_id, ..
        } = actions[i]
        {
            actions.extend(
                engine
                    .handle(
                        Time(0),
                        Input::ValueValidated {
                            height,
                            value_id,
                            valid: true,
                        },
                    )
                    .actions,
            );
        }
        i += 1;
    }
    actions.iter().any(|a| matches!(a, Action::Decide { .. })) && engine.height() == Height(2)
}

#[test]
fn synced_decisions_ignore_the_period_window_only_where_certificates_bind_a_quorum() {
    let crypto = MockCrypto::new(4, 5);
    let far = decision_at(&crypto, 40, b"value-far");
    let near = decision_at(&crypto, 10, b"value-near");
    let fresh = |windowed: bool| {
        let mut adapters = crypto.adapters(A);
        if windowed {
            adapters.verifier = Arc::new(Windowed(crypto.verifier()));
        }
        let mut e = Engine::new(Config::new(A, Epoch(0)), adapters, crypto.genesis_seed());
        e.handle(Time(0), Input::Start);
        e
    };
    // Threshold semantics: the host's decision of period 40 (beyond 1 + period_window) counts.
    assert!(decides(
        &mut fresh(false),
        Input::Synced {
            decided: far.clone()
        }
    ));
    // From a peer the window still applies.
    let from_peer = Input::Message {
        from: B,
        bytes: codec::encode(&Message::Decided(far.clone())),
    };
    assert!(!decides(&mut fresh(false), from_peer));
    // Certificates that do not bind a quorum at any period: the window applies to the host.
    assert!(!decides(&mut fresh(true), Input::Synced { decided: far }));
    assert!(decides(&mut fresh(true), Input::Synced { decided: near }));
}
