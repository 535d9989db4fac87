//! Issue #11 §2: relay of the pinned value's payload, with real engines (mock crypto).
//!
//! n = 4, quorum 3; A, B, C honest, Z crashes after its first messages. Sortition draws the
//! proposers (as it does whenever the committee is larger than the expected number of
//! proposers): Z alone in period 1, C alone in every later period. Z proposes v to A and B
//! only (its message to C is lost) and soft-votes v to everyone, then crashes. A and B
//! soft-vote and cert-vote v; C sees v's soft quorum but not v itself, so it cannot
//! cert-vote; everyone next-votes v and period 2 pins v̄ = v. From then on C, the only
//! proposer, cannot re-propose v̄, and A and B never send v again: every period ends with a
//! next-quorum for v and a cert tally {A, B}, forever. Nobody decides.
//!
//! With relay, A and B re-send the payload of v̄ (Z's signed proposal) when the period changes
//! and on timeouts; C learns v, validates it, cert-votes it, and everyone decides v.

#[path = "common/net.rs"]
mod net;
#[path = "common/sortition.rs"]
mod sortition;

use conclave_bft::mock::MockCrypto;
use conclave_bft::traits::{CombineError, Share, SignatureSizes, Verifier};
use conclave_bft::types::{
    proposal_message, vote_message, Certificate, Epoch, Height, Message, NodeId, Period, Proposal,
    Seed, ValueId, Vote, VoteStep, VoteValue,
};
use conclave_bft::{codec, Adapters, Config, Engine};
use net::Net;
use sortition::Hooked;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const C: NodeId = NodeId(2);
const Z: NodeId = NodeId(3);

/// Whether sortition draws `node` as a proposer of `period` in this schedule.
fn drawn(node: NodeId, period: Period) -> bool {
    if period.0 == 1 {
        node == Z
    } else {
        node == C
    }
}

/// The mock's sortition, restricted to the proposers [`drawn`] selects (voters unchanged).
fn adapters(crypto: &MockCrypto, id: NodeId) -> Adapters {
    let mut a = crypto.adapters(id);
    a.sortition = Arc::new(
        Hooked::new(a.sortition.clone())
            .proposer_credential(move |inner, seed, height, period| {
                drawn(id, period)
                    .then(|| inner.proposer_credential(seed, height, period))
                    .flatten()
            })
            .verify_proposer(|inner, node, seed, height, period, credential| {
                drawn(node, period)
                    .then(|| inner.verify_proposer(node, seed, height, period, credential))
                    .flatten()
            }),
    );
    a
}

/// C's verifier, counting how many values of at least 64 KiB C hashes (Z's fake payloads).
struct CountingHashes {
    inner: Arc<dyn Verifier>,
    big: Arc<AtomicU64>,
}

impl Verifier for CountingHashes {
    fn verify_share(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool {
        self.inner.verify_share(signer, message, signature)
    }
    fn verify_batch(&self, message: &[u8], shares: &[Share<'_>]) -> Result<(), Vec<NodeId>> {
        self.inner.verify_batch(message, shares)
    }
    fn combine(&self, message: &[u8], shares: &[Share<'_>]) -> Result<Vec<u8>, CombineError> {
        self.inner.combine(message, shares)
    }
    fn verify_certificate(&self, seed: &Seed, message: &[u8], certificate: &[u8]) -> bool {
        self.inner.verify_certificate(seed, message, certificate)
    }
    fn value_id(&self, value: &[u8]) -> ValueId {
        if value.len() >= 64 << 10 {
            self.big.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.value_id(value)
    }
    fn next_seed(&self, previous: &Seed, certificate: &Certificate) -> Seed {
        self.inner.next_seed(previous, certificate)
    }
    fn attributable(&self) -> bool {
        self.inner.attributable()
    }
    fn certificates_bind_quorum_at_any_period(&self) -> bool {
        self.inner.certificates_bind_quorum_at_any_period()
    }
    fn signature_sizes(&self) -> SignatureSizes {
        self.inner.signature_sizes()
    }
}

#[test]
fn node_that_missed_the_pinned_proposal_gets_its_payload_relayed_and_cert_votes() {
    let hashes = run(0);
    assert_eq!(hashes, 0);
}

/// While C needs v, Z floods it with 5,000 fake payloads (64 KiB values, "relayed" for A and
/// B): C hashes at most one of them per period of its own, and still decides v.
#[test]
fn fake_payloads_cost_one_hash_per_peer_and_period() {
    let hashes = run(5_000);
    assert!(hashes <= 3, "C hashed {hashes} of Z's fake payloads");
}

/// Runs the schedule with `fakes` fake payloads from Z to C; returns how many C hashed.
fn run(fakes: u32) -> u64 {
    let crypto = MockCrypto::new(4, 21);
    let genesis = crypto.genesis_seed();
    let big = Arc::new(AtomicU64::new(0));
    let engines = (0..4)
        .map(|i| {
            let mut a = adapters(&crypto, NodeId(i));
            if NodeId(i) == C {
                a.verifier = Arc::new(CountingHashes {
                    inner: a.verifier.clone(),
                    big: big.clone(),
                });
            }
            Engine::new(Config::new(NodeId(i), Epoch(0)), a, genesis)
        })
        .collect();
    let mut net = Net::new(engines);
    net.online[Z.0 as usize] = false; // Z is scripted below, then crashed
    net.start();

    // Z's period-1 proposal of v, to A and B only, and its soft vote for v, to everyone.
    let z = adapters(&crypto, Z);
    let value = b"value-1-3".to_vec();
    let id = z.verifier.value_id(&value);
    let proposal = Proposal {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(1),
        proposer: Z,
        credential: z
            .sortition
            .proposer_credential(&genesis, Height(1), Period(1))
            .expect("Z is drawn in period 1"),
        value: value.clone(),
        signature: z
            .signer
            .sign(&proposal_message(Epoch(0), Height(1), Period(1), id))
            .unwrap(),
        seal: Vec::new(),
    };
    let soft = VoteValue::Value(id);
    let vote = Vote {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(1),
        step: VoteStep::Soft,
        value: soft,
        voter: Z,
        credential: Vec::new(),
        signature: z
            .signer
            .sign(&vote_message(
                Epoch(0),
                Height(1),
                Period(1),
                VoteStep::Soft,
                soft,
            ))
            .unwrap(),
        beacon_share: Vec::new(),
    };
    for to in [A, B] {
        net.inject(
            5,
            Z,
            to,
            codec::encode(&Message::Proposal(proposal.clone())),
        );
    }
    for to in [A, B, C] {
        net.inject(5, Z, to, codec::encode(&Message::Vote(vote.clone())));
    }
    for i in 0..fakes {
        let mut fake = proposal.clone();
        fake.proposer = if i % 2 == 0 { A } else { B };
        fake.period = Period(1 + i % 3);
        fake.value = vec![(i % 251) as u8; 64 << 10];
        fake.value[..4].copy_from_slice(&i.to_be_bytes());
        net.inject(
            6 + u64::from(i) / 10,
            Z,
            C,
            codec::encode(&Message::Proposal(fake)),
        );
    }

    let honest = [A, B, C];
    let decided = net.run_until(120_000, |n| n.all_decided(&honest, 1));
    assert!(
        decided,
        "no decision in 120 s: periods {:?}, decisions {:?}",
        honest.map(|n| net.engines[n.0 as usize].period()),
        honest.map(|n| net.decisions[n.0 as usize].len())
    );
    for n in honest {
        assert_eq!(net.decisions[n.0 as usize][0].certificate.value_id, id);
    }
    big.load(Ordering::Relaxed)
}
