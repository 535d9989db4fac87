//! The adversary catalogue. A faulty node runs the honest engine (so it knows what to say) and
//! filters or rewrites what the engine sends; the faulty nodes collude and see the honest
//! nodes' traffic to them. Honest nodes are split into two fixed halves A and B for attacks
//! that show different things to different nodes.

use crate::codec::{decode, encode};
use crate::engine::Timeouts;
use crate::traits::{Signer, Verifier};
use crate::types::{
    beacon_message, proposal_message, vote_message, Epoch, Message, NodeId, Vote, VoteStep,
    VoteValue,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// What the faulty nodes do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AdversaryKind {
    /// Send nothing.
    Silent,
    /// Vote, in every step, for whatever each half of the honest nodes votes for.
    Equivocate,
    /// Propose different values to the two halves and vote for each half's value there.
    ConflictingProposals,
    /// Corrupt the signatures of everything sent.
    InvalidSig,
    /// Forge sortition credentials.
    InvalidCredential,
    /// Send only to the other faulty nodes and half A.
    Withhold,
    /// Hold next-votes back and release them late.
    LateNextVotes,
    /// Re-send old messages (own and others') from earlier heights and periods.
    Replay,
    /// Two honest engines with one key, one talking to each half.
    Twins,
    /// Split the honest nodes across values and across the pinned value (issue #11 §1's
    /// schedule, generalised): its proposal reaches half A only; it soft-votes whatever an
    /// honest node soft-votes, to one honest target only (so that node alone sees a soft
    /// quorum and cert-votes); it echoes value next-votes to half A and ⊥ next-votes to half
    /// B (a value and ⊥ in one next step is allowed), so that A pins a value while B is
    /// released; it never sends cert votes, bundles or decisions to honest nodes.
    SplitPinned,
    /// Competing values at the right moment: its value goes to half A at once and another
    /// value to half B timed to arrive just before B's soft-vote deadline; it soft-votes each
    /// half's value to that half, withholds cert votes, bundles and decisions (A certifies
    /// nothing with its help), and echoes value next-votes to the half that cast them and ⊥ to
    /// the other.
    LateSplitProposals,
    /// A fork across periods (Algorand's cross-period accountability): its proposals reach
    /// half A only, its own votes only the faulty; it echoes every honest vote to the half
    /// that cast it, except half B's soft and cert votes of period 1. So A can certify in
    /// period 1 with its help while B cannot, B's ⊥ next-quorum of period 1 (with its ⊥
    /// echoes) releases B into period 2, where B certifies its own value with its help. Its
    /// cert vote of period 1 (to A) and ⊥ next vote of period 1 (to B) prove the lock it broke.
    CrossPeriod,
    /// Each faulty node takes one of the kinds above in turn.
    Mixed,
    /// A faulty vote aggregator that withholds ([`crate::Config::aggregators`]): it proposes
    /// and votes honestly, but its bundles and decisions reach no honest node. Not part of
    /// `Mixed`.
    AggregatorWithhold,
    /// A faulty vote aggregator that equivocates: its bundles and decisions reach half A as
    /// they are, and half B for another value (the same signature, so they cannot verify).
    /// Not part of `Mixed`.
    AggregatorEquivocate,
}

impl AdversaryKind {
    /// Every concrete kind (all but `Mixed`), the order `Mixed` assigns them in.
    pub const CONCRETE: [AdversaryKind; 12] = [
        AdversaryKind::Equivocate,
        AdversaryKind::ConflictingProposals,
        AdversaryKind::SplitPinned,
        AdversaryKind::LateSplitProposals,
        AdversaryKind::InvalidSig,
        AdversaryKind::Twins,
        AdversaryKind::InvalidCredential,
        AdversaryKind::Withhold,
        AdversaryKind::LateNextVotes,
        AdversaryKind::Replay,
        AdversaryKind::Silent,
        AdversaryKind::CrossPeriod,
    ];

    /// The kinds that attack vote aggregators (not part of `Mixed`, whose schedule they
    /// would change; useful with [`crate::sim::SimConfig::aggregators`] > 0).
    pub const AGGREGATOR: [AdversaryKind; 2] = [
        AdversaryKind::AggregatorWithhold,
        AdversaryKind::AggregatorEquivocate,
    ];

    /// The kind the `index`-th faulty node plays.
    pub fn for_faulty(self, index: usize) -> AdversaryKind {
        match self {
            AdversaryKind::Mixed => Self::CONCRETE[index % Self::CONCRETE.len()],
            kind => kind,
        }
    }

    /// The CLI spelling.
    pub fn name(self) -> &'static str {
        match self {
            AdversaryKind::Silent => "silent",
            AdversaryKind::Equivocate => "equivocate",
            AdversaryKind::ConflictingProposals => "conflicting-proposals",
            AdversaryKind::InvalidSig => "invalid-sig",
            AdversaryKind::InvalidCredential => "invalid-credential",
            AdversaryKind::Withhold => "withhold",
            AdversaryKind::LateNextVotes => "late-next-votes",
            AdversaryKind::Replay => "replay",
            AdversaryKind::Twins => "twins",
            AdversaryKind::SplitPinned => "split-pinned",
            AdversaryKind::LateSplitProposals => "late-split-proposals",
            AdversaryKind::CrossPeriod => "cross-period",
            AdversaryKind::Mixed => "mixed",
            AdversaryKind::AggregatorWithhold => "aggregator-withhold",
            AdversaryKind::AggregatorEquivocate => "aggregator-equivocate",
        }
    }
}

impl fmt::Display for AdversaryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AdversaryKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::CONCRETE
            .into_iter()
            .chain([AdversaryKind::Mixed])
            .chain(Self::AGGREGATOR)
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown adversary {s:?}"))
    }
}

/// Messages the replay attack remembers.
const REPLAY_MEMORY: usize = 512;

/// A message a faulty node emits.
pub(crate) struct Out {
    pub to: NodeId,
    pub bytes: Vec<u8>,
    pub delay_ms: u64,
}

/// One faulty node's strategy state.
pub(crate) struct Byzantine {
    pub kind: AdversaryKind,
    id: NodeId,
    epoch: Epoch,
    signer: Arc<dyn Signer>,
    verifier: Arc<dyn Verifier>,
    side_a: BTreeSet<NodeId>,
    side_b: BTreeSet<NodeId>,
    faulty: BTreeSet<NodeId>,
    echoed: BTreeSet<(u64, u32, VoteStep, VoteValue, bool)>,
    /// The replay attack's recordings: a ring of the last [`REPLAY_MEMORY`] messages.
    recorded: Vec<Vec<u8>>,
    replay_cursor: usize,
    record_next: usize,
    late_ms: u64,
    timeouts: Timeouts,
    /// (height, period, step, value is ⊥) already echoed by the split attacks.
    split_echoed: BTreeSet<(u64, u32, VoteStep, bool)>,
    /// Echo bookkeeping below this height has been dropped.
    pruned_below: u64,
    make_value: Box<dyn Fn(u64, NodeId, u32) -> Vec<u8>>,
}

impl Byzantine {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: AdversaryKind,
        id: NodeId,
        epoch: Epoch,
        signer: Arc<dyn Signer>,
        verifier: Arc<dyn Verifier>,
        side_a: BTreeSet<NodeId>,
        side_b: BTreeSet<NodeId>,
        faulty: BTreeSet<NodeId>,
        timeouts: Timeouts,
        make_value: Box<dyn Fn(u64, NodeId, u32) -> Vec<u8>>,
    ) -> Self {
        Byzantine {
            kind,
            id,
            epoch,
            signer,
            verifier,
            side_a,
            side_b,
            faulty,
            echoed: BTreeSet::new(),
            recorded: Vec::new(),
            replay_cursor: 0,
            record_next: 0,
            late_ms: 3 * timeouts.next_ms,
            timeouts,
            split_echoed: BTreeSet::new(),
            pruned_below: 0,
            make_value,
        }
    }

    /// Keeps `bytes` in the replay ring (bounded, so long runs hold constant memory).
    fn record(&mut self, bytes: &[u8]) {
        if self.recorded.len() < REPLAY_MEMORY {
            self.recorded.push(bytes.to_vec());
        } else {
            self.recorded[self.record_next] = bytes.to_vec();
        }
        self.record_next = (self.record_next + 1) % REPLAY_MEMORY;
    }

    /// Forgets echo bookkeeping of heights more than two below `height`.
    fn prune(&mut self, height: u64) {
        if height > self.pruned_below + 2 {
            self.pruned_below = height - 2;
            let floor = self.pruned_below;
            self.echoed.retain(|e| e.0 >= floor);
            self.split_echoed.retain(|e| e.0 >= floor);
        }
    }

    fn others(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.side_a
            .iter()
            .chain(&self.side_b)
            .chain(&self.faulty)
            .copied()
            .filter(move |n| *n != self.id)
    }

    fn to_side(&self, b: bool, bytes: &[u8], delay_ms: u64) -> Vec<Out> {
        let side = if b { &self.side_b } else { &self.side_a };
        side.iter()
            .map(|&to| Out {
                to,
                bytes: bytes.to_vec(),
                delay_ms,
            })
            .collect()
    }

    fn to_faulty(&self, bytes: &[u8]) -> Vec<Out> {
        self.faulty
            .iter()
            .filter(|n| **n != self.id)
            .map(|&to| Out {
                to,
                bytes: bytes.to_vec(),
                delay_ms: 0,
            })
            .collect()
    }

    fn sign_vote(&self, template: &Vote, value: VoteValue) -> Vote {
        let mut v = template.clone();
        v.value = value;
        v.voter = self.id;
        v.signature = self
            .signer
            .sign(&vote_message(v.epoch, v.height, v.period, v.step, value))
            .unwrap_or_default();
        v.beacon_share = if v.step == VoteStep::Cert {
            self.signer
                .sign(&beacon_message(v.epoch, v.height))
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        v
    }

    /// Rewrites one message the faulty node's engine wants to send (`to = None`: broadcast).
    /// `instance` is the twin index.
    pub fn outgoing(
        &mut self,
        instance: usize,
        to: Option<NodeId>,
        bytes: Vec<u8>,
        _now: u64,
    ) -> Vec<Out> {
        let recipients: Vec<NodeId> = match to {
            Some(t) => vec![t],
            None => self.others().collect(),
        };
        let plain = |bytes: &[u8], delay_ms: u64| -> Vec<Out> {
            recipients
                .iter()
                .map(|&to| Out {
                    to,
                    bytes: bytes.to_vec(),
                    delay_ms,
                })
                .collect()
        };
        let message = decode(&bytes).ok();
        match self.kind {
            AdversaryKind::Silent => Vec::new(),
            AdversaryKind::Twins => {
                let side = if instance == 0 {
                    &self.side_a
                } else {
                    &self.side_b
                };
                recipients
                    .iter()
                    .filter(|r| side.contains(r) || self.faulty.contains(r))
                    .map(|&to| Out {
                        to,
                        bytes: bytes.clone(),
                        delay_ms: 0,
                    })
                    .collect()
            }
            AdversaryKind::Withhold => recipients
                .iter()
                .filter(|r| !self.side_b.contains(r))
                .map(|&to| Out {
                    to,
                    bytes: bytes.clone(),
                    delay_ms: 0,
                })
                .collect(),
            AdversaryKind::LateNextVotes => {
                let late = matches!(&message, Some(Message::Vote(v)) if v.step.is_next());
                plain(&bytes, if late { self.late_ms } else { 0 })
            }
            AdversaryKind::Replay => {
                self.record(&bytes);
                let mut out = plain(&bytes, 0);
                if to.is_none() && self.recorded.len() > 8 {
                    for _ in 0..2 {
                        self.replay_cursor = (self.replay_cursor * 7 + 3) % self.recorded.len();
                        let old = self.recorded[self.replay_cursor].clone();
                        out.extend(plain(&old, 0));
                    }
                }
                out
            }
            AdversaryKind::InvalidSig | AdversaryKind::InvalidCredential => {
                let corrupted = match message {
                    Some(Message::Vote(mut v)) => {
                        if self.kind == AdversaryKind::InvalidSig {
                            flip(&mut v.signature);
                            flip(&mut v.beacon_share);
                        } else {
                            v.credential = vec![0xff; 32];
                        }
                        encode(&Message::Vote(v))
                    }
                    Some(Message::Proposal(mut p)) => {
                        if self.kind == AdversaryKind::InvalidSig {
                            flip(&mut p.signature);
                        } else {
                            p.credential = vec![0u8; 32];
                        }
                        encode(&Message::Proposal(p))
                    }
                    _ => bytes,
                };
                plain(&corrupted, 0)
            }
            AdversaryKind::Equivocate => {
                let mut out = plain(&bytes, 0);
                if let (Some(Message::Vote(v)), None) = (&message, to) {
                    // Half B also gets a second, conflicting vote for the same step.
                    let other = match v.value {
                        VoteValue::Value(id) if !v.step.is_next() => {
                            VoteValue::Value(self.verifier.value_id(&id.0))
                        }
                        VoteValue::Value(_) => {
                            VoteValue::Value(self.verifier.value_id(b"equivocation"))
                        }
                        VoteValue::Bottom => {
                            VoteValue::Value(self.verifier.value_id(b"equivocation"))
                        }
                    };
                    let twin = self.sign_vote(v, other);
                    out.extend(self.to_side(true, &encode(&Message::Vote(twin)), 0));
                }
                out
            }
            AdversaryKind::ConflictingProposals => match message {
                Some(Message::Proposal(p)) => {
                    let mut alt = p.clone();
                    alt.value = (self.make_value)(p.height.0, self.id, 1);
                    let id = self.verifier.value_id(&alt.value);
                    alt.signature = self
                        .signer
                        .sign(&proposal_message(self.epoch, p.height, p.period, id))
                        .unwrap_or_default();
                    let mut out = self.to_side(false, &bytes, 0);
                    out.extend(self.to_faulty(&bytes));
                    out.extend(self.to_side(true, &encode(&Message::Proposal(alt)), 0));
                    out
                }
                // Votes reach honest nodes only as echoes of their own half's votes.
                Some(Message::Vote(_)) => self.to_faulty(&bytes),
                _ => plain(&bytes, 0),
            },
            AdversaryKind::SplitPinned => match message {
                Some(Message::Proposal(_)) => {
                    let mut out = self.to_side(false, &bytes, 0);
                    out.extend(self.to_faulty(&bytes));
                    out
                }
                // Its own votes, bundles and decisions reach honest nodes only as the echoes
                // in `split_echo`.
                _ => self.to_faulty(&bytes),
            },
            AdversaryKind::LateSplitProposals => match message {
                Some(Message::Proposal(p)) => {
                    let mut alt = p.clone();
                    alt.value = (self.make_value)(p.height.0, self.id, 1);
                    let id = self.verifier.value_id(&alt.value);
                    alt.signature = self
                        .signer
                        .sign(&proposal_message(self.epoch, p.height, p.period, id))
                        .unwrap_or_default();
                    // Proposals go out at the period start; B's filter timer fires
                    // filter_ms · min(period, max_backoff) later.
                    let t = self.timeouts;
                    let factor = u64::from(p.period.0.clamp(1, t.max_backoff.max(1)));
                    let just_before = (t.filter_ms * factor).saturating_sub(t.filter_ms / 3);
                    let mut out = self.to_side(false, &bytes, 0);
                    out.extend(self.to_faulty(&bytes));
                    out.extend(self.to_side(true, &encode(&Message::Proposal(alt)), just_before));
                    out
                }
                _ => self.to_faulty(&bytes),
            },
            AdversaryKind::CrossPeriod => match message {
                Some(Message::Proposal(_)) => {
                    let mut out = self.to_side(false, &bytes, 0);
                    out.extend(self.to_faulty(&bytes));
                    out
                }
                // Its votes reach honest nodes only as the echoes in `incoming`.
                _ => self.to_faulty(&bytes),
            },
            AdversaryKind::Mixed => plain(&bytes, 0),
            AdversaryKind::AggregatorWithhold => match message {
                Some(Message::Bundle(_)) | Some(Message::Decided(_)) => self.to_faulty(&bytes),
                _ => plain(&bytes, 0),
            },
            AdversaryKind::AggregatorEquivocate => {
                let other = VoteValue::Value(self.verifier.value_id(b"aggregator-equivocation"));
                let alt = match message {
                    Some(Message::Bundle(mut b)) => {
                        b.value = match b.value {
                            VoteValue::Value(_) => other,
                            VoteValue::Bottom => VoteValue::Value(self.verifier.value_id(b"")),
                        };
                        Some(encode(&Message::Bundle(b)))
                    }
                    Some(Message::Decided(mut d)) => {
                        d.value = (self.make_value)(d.certificate.height.0, self.id, 1);
                        d.certificate.value_id = self.verifier.value_id(&d.value);
                        Some(encode(&Message::Decided(d)))
                    }
                    _ => None,
                };
                match alt {
                    Some(alt) => recipients
                        .iter()
                        .map(|&to| Out {
                            to,
                            bytes: if self.side_b.contains(&to) {
                                alt.clone()
                            } else {
                                bytes.clone()
                            },
                            delay_ms: 0,
                        })
                        .collect(),
                    None => plain(&bytes, 0),
                }
            }
        }
    }

    /// The split attacks' reaction to an honest vote from half `b` (true: B).
    fn split_echo(&mut self, b: bool, v: &Vote) -> Vec<Out> {
        let bottom = v.value == VoteValue::Bottom;
        let key = (v.height.0, v.period.0, v.step, bottom);
        match v.step {
            VoteStep::Cert => Vec::new(),
            VoteStep::Soft if self.kind == AdversaryKind::SplitPinned => {
                // One honest target (the first of B, else of A) sees the soft quorum.
                let target = self.side_b.iter().chain(&self.side_a).next().copied();
                match target {
                    Some(to) if self.split_echoed.insert(key) => vec![Out {
                        to,
                        bytes: encode(&Message::Vote(self.sign_vote(v, v.value))),
                        delay_ms: 0,
                    }],
                    _ => Vec::new(),
                }
            }
            VoteStep::Soft => {
                // Each half's value to that half (one value per half and period).
                if !self
                    .echoed
                    .insert((v.height.0, v.period.0, v.step, VoteValue::Bottom, b))
                {
                    return Vec::new();
                }
                let vote = self.sign_vote(v, v.value);
                self.to_side(b, &encode(&Message::Vote(vote)), 0)
            }
            _ => {
                // Next steps: one value (to A, or to the half that voted it) and ⊥ (to B, or
                // to the other half) per step.
                if !self.split_echoed.insert(key) {
                    return Vec::new();
                }
                let side = match (self.kind, bottom) {
                    (AdversaryKind::SplitPinned, value_is_bottom) => value_is_bottom,
                    (_, false) => b,
                    (_, true) => !b,
                };
                let vote = self.sign_vote(v, v.value);
                self.to_side(side, &encode(&Message::Vote(vote)), 0)
            }
        }
    }

    /// Reacts to a message an honest node sent us (equivocation by echo).
    pub fn incoming(&mut self, from: NodeId, bytes: &[u8], _now: u64) -> Vec<Out> {
        if self.kind == AdversaryKind::Replay {
            self.record(bytes);
        }
        if !matches!(
            self.kind,
            AdversaryKind::Equivocate
                | AdversaryKind::ConflictingProposals
                | AdversaryKind::SplitPinned
                | AdversaryKind::LateSplitProposals
                | AdversaryKind::CrossPeriod
        ) {
            return Vec::new();
        }
        let b = if self.side_b.contains(&from) {
            true
        } else if self.side_a.contains(&from) {
            false
        } else {
            return Vec::new();
        };
        let Ok(Message::Vote(v)) = decode(bytes) else {
            return Vec::new();
        };
        if v.voter != from {
            return Vec::new();
        }
        self.prune(v.height.0);
        if matches!(
            self.kind,
            AdversaryKind::SplitPinned | AdversaryKind::LateSplitProposals
        ) {
            return self.split_echo(b, &v);
        }
        if self.kind == AdversaryKind::CrossPeriod && b && v.period.0 == 1 && !v.step.is_next() {
            return Vec::new();
        }
        if !self
            .echoed
            .insert((v.height.0, v.period.0, v.step, v.value, b))
        {
            return Vec::new();
        }
        let vote = self.sign_vote(&v, v.value);
        self.to_side(b, &encode(&Message::Vote(vote)), 0)
    }
}

fn flip(bytes: &mut [u8]) {
    if let Some(b) = bytes.first_mut() {
        *b ^= 0x01;
    }
}
