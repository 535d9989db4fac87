//! Fuzz harness for `conclave-bft`: the strict message codec, and the engine fed arbitrary input
//! sequences.
//!
//! Engine model: a committee of four seats on the test-only mock crypto; seat 0 is the engine
//! under test. The fuzzer chooses every input: timers (armed, stale or made up), votes,
//! proposals, bundles and certificates signed by seats 1–3 (which may equivocate: the harness
//! holds their keys), messages from a non-member, spoofed relays, raw bytes, catch-up requests,
//! application answers, and crash/restart from the last `Persist`; votes, bundles and timers of
//! every step (next_k, fast recovery, soft-bundle deferral, aggregation fallback). Target
//! `bft_engine` runs all-to-all, `bft_engine_aggregators` with κ = 2 vote aggregators.
//! Properties: no panic; every message the engine sends decodes; another seat's proposal is
//! relayed only as that seat signed it; every bundle it sends verifies as a quorum signature;
//! it never signs two conflicting votes in one step (soft, cert, each next_k and recovery
//! step: one vote per period; next: at most one value and one ⊥ per period; late and redo
//! never ⊥, down always ⊥), nor two proposals per period, not even across restarts; it never
//! decides two values for one height, and every decision carries a certificate that verifies.
//!
//! Shared by `fuzz/fuzz_targets/bft_*.rs` and `bft-adapter/tests/fuzz_corpus.rs`. Expects a
//! sibling module `input` (`fuzz/harness/input.rs`) at the crate root.

use std::collections::{BTreeMap, BTreeSet};

use conclave_bft::codec::{decode, encode};
use conclave_bft::mock::MockCrypto;
use conclave_bft::traits::{Share, Verifier};
use conclave_bft::types::{
    beacon_message, proposal_message, vote_message, Bundle, Certificate, Decided, Epoch, Height,
    Message, NodeId, Period, Proposal, Seed, Time, ValueId, Vote, VoteStep, VoteValue,
};
use conclave_bft::{Action, Adapters, Config, Engine, Input, PersistedState, TimerId};

use crate::input::Input as Bytes;

const NODES: u32 = 4;
const ME: NodeId = NodeId(0);
const EPOCH: Epoch = Epoch(1);
const VALUES: [&[u8]; 3] = [b"value A", b"value B", b"value C (invalid)"];

/// `codec::decode`: accepted bytes re-encode to themselves (the codec is strict and canonical).
pub fn message(data: &[u8]) {
    if let Ok(m) = decode(data) {
        assert_eq!(encode(&m), data, "non-canonical encoding accepted: {m:?}");
    }
}

struct World {
    crypto: MockCrypto,
    engine: Engine,
    now: Time,
    /// The sortition seed of each height, as the engine derives it from decisions.
    seeds: BTreeMap<Height, Seed>,
    armed: BTreeMap<TimerId, Time>,
    pending_requests: Vec<Height>,
    pending_validations: Vec<(Height, ValueId)>,
    persisted: Option<PersistedState>,
    // Invariant state, kept across restarts.
    own_votes: BTreeMap<(Height, Period, VoteStep), BTreeSet<VoteValue>>,
    own_proposals: BTreeMap<(Height, Period), ValueId>,
    decided: BTreeMap<Height, ValueId>,
    /// κ of the engine's configuration (kept across restarts).
    aggregators: u32,
}

impl World {
    /// The engine's configuration: the defaults, with `aggregators` vote aggregators per step
    /// (0: all-to-all).
    fn config(aggregators: u32) -> Config {
        let mut config = Config::new(ME, EPOCH);
        config.aggregators = aggregators;
        config
    }

    fn new(aggregators: u32) -> Self {
        let crypto = MockCrypto::new(NODES, 7);
        let engine = Engine::new(
            Self::config(aggregators),
            crypto.adapters(ME),
            crypto.genesis_seed(),
        );
        let mut seeds = BTreeMap::new();
        seeds.insert(Height(1), crypto.genesis_seed());
        World {
            crypto,
            engine,
            now: Time(0),
            seeds,
            armed: BTreeMap::new(),
            pending_requests: Vec::new(),
            pending_validations: Vec::new(),
            persisted: None,
            own_votes: BTreeMap::new(),
            own_proposals: BTreeMap::new(),
            decided: BTreeMap::new(),
            aggregators,
        }
    }

    fn adapters(&self, node: u32) -> Adapters {
        self.crypto.adapters(NodeId(node))
    }

    fn handle(&mut self, input: Input) {
        let step = self.engine.handle(self.now, input);
        for action in step.actions {
            self.check(action);
        }
    }

    fn check(&mut self, action: Action) {
        match action {
            Action::Broadcast { bytes } | Action::Send { bytes, .. } => {
                let m = decode(&bytes).expect("the engine sent bytes that do not decode");
                assert_eq!(encode(&m), bytes);
                match m {
                    Message::Vote(v) if v.voter == ME => self.own_vote(&v),
                    Message::Vote(v) => panic!("the engine relayed another seat's vote: {v:?}"),
                    Message::Proposal(p) if p.proposer == ME => {
                        let id = self.crypto.verifier().value_id(&p.value);
                        let first = *self.own_proposals.entry((p.height, p.period)).or_insert(id);
                        assert_eq!(first, id, "two proposals at {:?} {:?}", p.height, p.period);
                    }
                    // Relaying another seat's proposal is legitimate (the pinned value's
                    // payload, #11 §2), but only as that seat signed it: the engine cannot
                    // forge, and must not pass on, a proposal its proposer did not sign.
                    Message::Proposal(p) => {
                        let id = self.crypto.verifier().value_id(&p.value);
                        let message = proposal_message(p.epoch, p.height, p.period, id);
                        assert!(
                            self.crypto
                                .verifier()
                                .verify_share(p.proposer, &message, &p.signature),
                            "the engine relayed a proposal its proposer did not sign: {p:?}"
                        );
                    }
                    // A bundle this node sends (as an aggregator, or forwarding a quorum it
                    // holds) is a quorum signature on that step's vote message.
                    Message::Bundle(b) => {
                        assert_eq!(b.epoch, EPOCH);
                        assert!(
                            self.crypto.verifier().verify_certificate(
                                &self.seed(b.height),
                                &b.message(),
                                &b.signature
                            ),
                            "the engine sent a bundle that does not verify: {b:?}"
                        );
                    }
                    _ => {}
                }
            }
            Action::SetTimer { id, at } => {
                self.armed.insert(id, at);
            }
            Action::CancelTimer { id } => {
                self.armed.remove(&id);
            }
            Action::RequestValue { height } => self.pending_requests.push(height),
            Action::ValidateValue {
                height, value_id, ..
            } => self.pending_validations.push((height, value_id)),
            Action::Persist(state) => self.persisted = Some(*state),
            Action::Decide { decided } => {
                let c = &decided.certificate;
                let verifier = self.crypto.verifier();
                assert_eq!(c.epoch, EPOCH);
                assert_eq!(verifier.value_id(&decided.value), c.value_id);
                let seed = self.seeds.get(&c.height).copied().unwrap_or(Seed([0; 32]));
                assert!(conclave_bft::traits::verify_decision_certificate(
                    verifier.as_ref(),
                    &seed,
                    c
                ));
                let first = *self.decided.entry(c.height).or_insert(c.value_id);
                assert_eq!(first, c.value_id, "two values decided at {:?}", c.height);
                self.seeds
                    .insert(Height(c.height.0 + 1), verifier.next_seed(&seed, c));
            }
            Action::Evidence(e) => assert_ne!(e.culprit, ME, "evidence against itself"),
            _ => unreachable!("a variant this test does not know"),
        }
    }

    fn own_vote(&mut self, v: &Vote) {
        assert_eq!(v.epoch, EPOCH);
        let verifier = self.crypto.verifier();
        assert!(verifier.verify_share(ME, &v.message(), &v.signature));
        let set = self
            .own_votes
            .entry((v.height, v.period, v.step))
            .or_default();
        set.insert(v.value);
        let values = set.iter().filter(|x| **x != VoteValue::Bottom).count();
        let limit = match v.step {
            VoteStep::Next => values <= 1,
            _ => set.len() <= 1,
        };
        assert!(
            limit,
            "conflicting {:?} votes at {:?} {:?}: {set:?}",
            v.step, v.height, v.period
        );
        // Fast recovery: late and redo name a value, down is always ⊥.
        match v.step {
            VoteStep::Late | VoteStep::Redo => {
                assert_ne!(v.value, VoteValue::Bottom, "a ⊥ {:?} vote", v.step)
            }
            VoteStep::Down => assert_eq!(v.value, VoteValue::Bottom, "a value down vote"),
            _ => {}
        }
    }

    fn seed(&self, height: Height) -> Seed {
        self.seeds.get(&height).copied().unwrap_or(Seed([0; 32]))
    }

    /// A height near the engine's (mostly the current one).
    fn height(&self, input: &mut Bytes<'_>) -> Height {
        let h = self.engine.height().0;
        Height(match input.below(8) {
            0 => h.saturating_sub(1).max(1),
            1 => h + 1,
            2 => u64::from(input.u8()),
            _ => h,
        })
    }

    fn period(&self, input: &mut Bytes<'_>) -> Period {
        let p = self.engine.period().0;
        Period(match input.below(8) {
            0 => p.saturating_sub(1).max(1),
            1 => p + 1,
            2 => u32::from(input.u8()),
            _ => p,
        })
    }

    fn vote_value(&self, input: &mut Bytes<'_>) -> VoteValue {
        match input.below(4) {
            3 => VoteValue::Bottom,
            i => VoteValue::Value(self.crypto.verifier().value_id(VALUES[i])),
        }
    }

    /// Partial signatures of seats 1..=3 on `message` (a quorum of the four).
    fn quorum_signature(&self, message: &[u8]) -> Vec<u8> {
        let sigs: Vec<(NodeId, Vec<u8>)> = (1..NODES)
            .map(|i| {
                (
                    NodeId(i),
                    self.adapters(i).signer.sign(message).unwrap_or_default(),
                )
            })
            .collect();
        let shares: Vec<Share<'_>> = sigs
            .iter()
            .map(|(signer, s)| Share {
                signer: *signer,
                credential: &[],
                signature: s,
            })
            .collect();
        self.crypto
            .verifier()
            .combine(message, &shares)
            .expect("a quorum of valid shares combines")
    }

    /// The transport sender of an adversarial message: usually the signer, sometimes another
    /// member relaying it, or a non-member.
    fn sender(&self, input: &mut Bytes<'_>, signer: u32) -> NodeId {
        match input.below(8) {
            0 => NodeId(1 + input.below(NODES as usize) as u32), // 4 is not a member
            _ => NodeId(signer),
        }
    }

    fn step(&mut self, input: &mut Bytes<'_>) {
        self.now = Time(self.now.0 + u64::from(input.u8()) * 10);
        match input.below(14) {
            0 => {
                // Fire the earliest armed timer (advancing time to it).
                if let Some((&id, &at)) = self.armed.iter().min_by_key(|(_, at)| **at) {
                    self.armed.remove(&id);
                    self.now = Time(self.now.0.max(at.0));
                    self.handle(Input::Timer(id));
                }
            }
            1 => {
                // An arbitrary, possibly stale or never armed, timer.
                let (h, p) = (self.height(input), self.period(input));
                let id = match input.below(3) {
                    0 => TimerId::Filter(h, p),
                    1 => TimerId::Next(h, p),
                    _ => TimerId::Resend(h),
                };
                self.handle(Input::Timer(id));
            }
            2..=4 => {
                let voter = 1 + input.below(NODES as usize) as u32;
                let (height, period) = (self.height(input), self.period(input));
                let step = VoteStep::ALL[input.below(3)];
                let value = self.vote_value(input);
                self.send_vote(input, voter, (height, period, step), value);
            }
            5 => {
                let proposer = 1 + input.below(NODES as usize) as u32;
                let (height, period) = (self.height(input), self.period(input));
                let value = VALUES[input.below(3)].to_vec();
                let a = self.adapters(proposer);
                let id = a.verifier.value_id(&value);
                let proposal = Proposal {
                    epoch: EPOCH,
                    height,
                    period,
                    proposer: NodeId(proposer),
                    credential: a
                        .sortition
                        .proposer_credential(&self.seed(height), height, period)
                        .unwrap_or_default(),
                    signature: a
                        .signer
                        .sign(&proposal_message(EPOCH, height, period, id))
                        .unwrap_or_default(),
                    value,
                    seal: a.sortition.seed_seal(&self.seed(height), height),
                };
                let from = self.sender(input, proposer);
                self.handle(Input::Message {
                    from,
                    bytes: encode(&Message::Proposal(proposal)),
                });
            }
            6 => {
                let (height, period) = (self.height(input), self.period(input));
                let step = [VoteStep::Soft, VoteStep::Next][input.below(2)];
                let value = self.vote_value(input);
                self.send_bundle(input, (height, period, step), value);
            }
            7 => {
                // A certificate signed by a quorum (the harness can forge conflicting ones; the
                // engine must still decide at most once per height).
                let (height, period) = (self.height(input), self.period(input));
                let value = VALUES[input.below(3)].to_vec();
                let value_id = self.crypto.verifier().value_id(&value);
                let mut certificate = Certificate {
                    epoch: EPOCH,
                    height,
                    period,
                    value_id,
                    signature: Vec::new(),
                    beacon: self.quorum_signature(&beacon_message(EPOCH, height)),
                    seal: Vec::new(),
                };
                certificate.signature = self.quorum_signature(&certificate.message());
                let value = if input.below(8) == 0 {
                    b"not the certified value".to_vec()
                } else {
                    value
                };
                let from = NodeId(1 + input.below(3) as u32);
                self.handle(Input::Message {
                    from,
                    bytes: encode(&Message::Decided(Decided { certificate, value })),
                });
            }
            8 => {
                let from = NodeId(1 + input.below(NODES as usize) as u32);
                let height = self.height(input);
                self.handle(Input::Message {
                    from,
                    bytes: encode(&Message::SyncRequest { height }),
                });
            }
            9 => {
                let from = NodeId(input.below(NODES as usize + 1) as u32);
                let bytes = input.short_bytes(200).to_vec();
                self.handle(Input::Message { from, bytes });
            }
            10 => {
                // Answer the application requests (value C is invalid).
                for height in std::mem::take(&mut self.pending_requests) {
                    let value = VALUES[input.below(2)].to_vec();
                    self.handle(Input::ProposedValue { height, value });
                }
                let invalid = self.crypto.verifier().value_id(VALUES[2]);
                for (height, value_id) in std::mem::take(&mut self.pending_validations) {
                    let valid = value_id != invalid;
                    self.handle(Input::ValueValidated {
                        height,
                        value_id,
                        valid,
                    });
                }
            }
            11 => {
                // Unsolicited or wrong application answers.
                let height = self.height(input);
                if input.bool() {
                    let value = VALUES[input.below(3)].to_vec();
                    self.handle(Input::ProposedValue { height, value });
                } else {
                    let value_id = self.crypto.verifier().value_id(VALUES[input.below(3)]);
                    let valid = input.bool();
                    self.handle(Input::ValueValidated {
                        height,
                        value_id,
                        valid,
                    });
                }
            }
            12 => {
                // Crash and restart from the last persisted state (timers and pending
                // application requests are lost with the process).
                if let Some(state) = self.persisted.clone() {
                    self.engine =
                        Engine::restore(Self::config(self.aggregators), self.adapters(0), state);
                    self.armed.clear();
                    self.pending_requests.clear();
                    self.pending_validations.clear();
                    self.handle(Input::Start);
                }
            }
            _ => match input.below(4) {
                // Votes, bundles and timers of the later steps: next_k (k = 1..=4), the
                // fast-recovery steps, the soft-bundle and aggregation timers.
                1 => {
                    let step = Self::later_step(input);
                    self.vote(input, step)
                }
                2 => {
                    let step = Self::later_step(input);
                    self.bundle(input, step)
                }
                3 => {
                    let (h, p) = (self.height(input), self.period(input));
                    let id = match input.below(4) {
                        0 => TimerId::NextK(h, p, 1 + input.below(4) as u8),
                        1 => TimerId::Recovery(h, p),
                        2 => TimerId::SoftBundle(h, p),
                        _ => TimerId::Aggregation(h, p),
                    };
                    self.handle(Input::Timer(id));
                }
                _ => self.handle(Input::Start),
            },
        }
    }

    /// A vote of seat `voter` in `step` from the fuzzer (a voter beyond the seats has no key:
    /// its vote goes out with an empty signature), delivered by [`World::sender`].
    fn send_vote(
        &mut self,
        input: &mut Bytes<'_>,
        voter: u32,
        (height, period, step): (Height, Period, VoteStep),
        value: VoteValue,
    ) {
        let signer = self.adapters(voter).signer;
        let signature = signer
            .sign(&vote_message(EPOCH, height, period, step, value))
            .unwrap_or_default();
        let beacon_share = match step {
            VoteStep::Cert => signer
                .sign(&beacon_message(EPOCH, height))
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let vote = Vote {
            epoch: EPOCH,
            height,
            period,
            step,
            value,
            voter: NodeId(voter),
            credential: Vec::new(),
            signature,
            beacon_share,
        };
        let from = self.sender(input, voter);
        self.handle(Input::Message {
            from,
            bytes: encode(&Message::Vote(vote)),
        });
    }

    /// A quorum bundle (seats 1–3) for `value` in `step`, delivered by one of them.
    fn send_bundle(
        &mut self,
        input: &mut Bytes<'_>,
        (height, period, step): (Height, Period, VoteStep),
        value: VoteValue,
    ) {
        let signature = self.quorum_signature(&vote_message(EPOCH, height, period, step, value));
        let bundle = Bundle {
            epoch: EPOCH,
            height,
            period,
            step,
            value,
            signature,
        };
        let from = NodeId(1 + input.below(3) as u32);
        self.handle(Input::Message {
            from,
            bytes: encode(&Message::Bundle(bundle)),
        });
    }

    /// A vote in a later step (see [`World::later_step`]).
    fn vote(&mut self, input: &mut Bytes<'_>, step: VoteStep) {
        let voter = 1 + input.below(NODES as usize) as u32;
        let (height, period) = (self.height(input), self.period(input));
        let value = self.vote_value(input);
        self.send_vote(input, voter, (height, period, step), value);
    }

    /// A bundle in a later step (see [`World::later_step`]).
    fn bundle(&mut self, input: &mut Bytes<'_>, step: VoteStep) {
        let (height, period) = (self.height(input), self.period(input));
        let value = self.vote_value(input);
        self.send_bundle(input, (height, period, step), value);
    }

    /// A step after the first next step: next_k with k = 1..=4, or late / redo / down.
    fn later_step(input: &mut Bytes<'_>) -> VoteStep {
        match input.below(6) {
            0 => VoteStep::Late,
            1 => VoteStep::Redo,
            2 => VoteStep::Down,
            k => VoteStep::NextK(k as u8 - 2),
        }
    }
}

/// The engine fed an arbitrary input sequence (see the module docs).
pub fn engine(data: &[u8]) {
    run(data, 0);
}

/// The same with vote aggregators on (κ = 2 of the 4 seats per step): soft and cert votes go to
/// the step's aggregators, which combine and broadcast bundles; the aggregation timer falls back
/// to all-to-all.
pub fn engine_aggregators(data: &[u8]) {
    run(data, 2);
}

fn run(data: &[u8], aggregators: u32) {
    let mut input = Bytes::new(data);
    let mut world = World::new(aggregators);
    world.handle(Input::Start);
    let mut steps = 0;
    while !input.is_empty() && steps < 2_000 {
        world.step(&mut input);
        steps += 1;
    }
}

/// Seed inputs for the BFT targets.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "bft_message" => {
            let vote = Vote {
                epoch: EPOCH,
                height: Height(3),
                period: Period(2),
                step: VoteStep::Cert,
                value: VoteValue::Value(ValueId([7; 32])),
                voter: NodeId(1),
                credential: vec![],
                signature: vec![1; 32],
                beacon_share: vec![2; 32],
            };
            let proposal = Proposal {
                epoch: EPOCH,
                height: Height(1),
                period: Period(1),
                proposer: NodeId(2),
                credential: vec![3; 32],
                value: b"value".to_vec(),
                signature: vec![4; 32],
                seal: Vec::new(),
            };
            let bundle = Bundle {
                epoch: EPOCH,
                height: Height(1),
                period: Period(4),
                step: VoteStep::Next,
                value: VoteValue::Bottom,
                signature: vec![5; 32],
            };
            let decided = Decided {
                certificate: Certificate {
                    epoch: EPOCH,
                    height: Height(9),
                    period: Period(1),
                    value_id: ValueId([8; 32]),
                    signature: vec![6; 32],
                    beacon: vec![7; 32],
                    seal: Vec::new(),
                },
                value: b"decided".to_vec(),
            };
            let mut v: Vec<Vec<u8>> = [
                Message::Vote(vote),
                Message::Proposal(proposal),
                Message::Bundle(bundle),
                Message::Decided(decided),
                Message::SyncRequest { height: Height(5) },
            ]
            .iter()
            .map(encode)
            .collect();
            let mut trailing = v[0].clone();
            trailing.push(0);
            v.push(trailing);
            v.push(v[1][..20].to_vec());
            v.push(vec![
                2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 9,
            ]);
            v.push(vec![6]);
            v.push(vec![
                1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xff,
                0xff, 0xff, 0xff,
            ]);
            v
        }
        "bft_engine" | "bft_engine_aggregators" => {
            // [time byte, op, op arguments...]. Op 10 answers the application; 0 fires the
            // earliest timer; 2 votes; 5 proposes; 6 bundles; 7 certificates; 12 restarts.
            let answer = [0u8, 10, 0, 0];
            let timer = [50u8, 0];
            let vote = |voter: u8, step: u8, value: u8| vec![0u8, 2, voter, 5, 5, step, value, 5];
            let mut common_case = Vec::new();
            common_case.extend(answer);
            common_case.extend([0, 5, 0, 5, 5, 0, 5]); // proposal by seat 1 of A
            common_case.extend(answer);
            common_case.extend(timer); // filter: soft vote
            for voter in 0..3 {
                common_case.extend(vote(voter, 0, 0)); // soft votes for A
            }
            for voter in 0..3 {
                common_case.extend(vote(voter, 1, 0)); // cert votes for A
            }
            common_case.extend(answer);
            let mut restart = common_case.clone();
            restart.extend([0, 12, 0, 10, 0, 0, 50, 0, 50, 0]);
            let mut next_period = vec![0u8, 10, 0, 0];
            next_period.extend(timer);
            next_period.extend(timer);
            for voter in 0..3 {
                next_period.extend(vote(voter, 2, 3)); // next votes for ⊥
            }
            next_period.extend(timer);
            next_period.extend(timer);
            let mut equivocation = vec![0u8, 10, 0, 0];
            for value in 0..3 {
                equivocation.extend(vote(2, 0, value));
                equivocation.extend([0, 5, 2, 5, 5, value, 5]);
            }
            equivocation.extend(timer);
            equivocation.extend([0, 6, 5, 5, 0, 0, 1]); // soft bundle for A
            equivocation.extend([0, 6, 5, 5, 1, 1, 1]); // next bundle for B
            equivocation.extend(timer);
            // Op 13's later steps: next_1 and down quorums for ⊥, a late bundle, made-up
            // next_k / recovery / soft-bundle / aggregation timers.
            let later_vote =
                |voter: u8, step: u8, value: u8| vec![0u8, 13, 1, step, voter, 5, 5, value, 5];
            let mut recovery = vec![0u8, 10, 0, 0];
            recovery.extend(timer);
            recovery.extend(timer);
            for voter in 0..3 {
                recovery.extend(later_vote(voter, 3, 3)); // next_1 for ⊥
            }
            recovery.extend(timer);
            for voter in 0..3 {
                recovery.extend(later_vote(voter, 2, 3)); // down for ⊥
            }
            recovery.extend([0, 13, 2, 0, 5, 5, 0, 1]); // late bundle for A
            for timer_kind in 0..4 {
                recovery.extend([50, 13, 3, 5, 5, timer_kind, 0]);
            }
            recovery.extend(timer);
            let mut certificates = vec![0u8, 7, 5, 5, 0, 0, 0, 7, 5, 5, 1, 0];
            certificates.extend([0, 7, 0, 5, 2, 0, 0, 8, 0, 0, 0, 13]);
            vec![
                common_case,
                restart,
                next_period,
                equivocation,
                certificates,
                recovery,
                vec![0, 9, 1, 20, 2, 0, 0, 0, 0, 0, 0, 0, 1],
                vec![0, 1, 5, 5, 0, 0, 1, 5, 5, 1, 0, 1, 5, 5, 2],
            ]
        }
        _ => Vec::new(),
    }
}

/// A harness function: raw fuzzer bytes in, panic on a property violation.
pub type Harness = fn(&[u8]);

/// The BFT fuzz targets and their functions.
pub const TARGETS: &[(&str, Harness)] = &[
    ("bft_message", message),
    ("bft_engine", engine),
    ("bft_engine_aggregators", engine_aggregators),
];
