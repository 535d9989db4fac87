//! Protocol vocabulary: identifiers, vote steps, wire messages and the exact byte strings
//! that get signed.
//!
//! Every signed statement has a canonical encoding with a distinct domain-separation prefix,
//! so a signature on one kind of statement can never be replayed as another kind:
//!
//! | statement | bytes |
//! |---|---|
//! | vote / certificate | `"conclave-bft/vote/v1" ‖ epoch u64 ‖ height u64 ‖ period u32 ‖ step u8 ‖ value` |
//! | proposal | `"conclave-bft/proposal/v1" ‖ epoch u64 ‖ height u64 ‖ period u32 ‖ value id` |
//! | beacon | `"conclave-bft/beacon/v1" ‖ epoch u64 ‖ height u64` |
//!
//! Integers are big-endian; `value` is `0x00` for ⊥ or `0x01 ‖ 32-byte id`, where the id is
//! [`sealed_id`]`(value id, seed seal)` (the value id itself when the seal is empty, as in
//! threshold mode). A proposal signs the value id; the seal is self-authenticating (a VRF
//! proof).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A seat in the committee (a DKG share index minus one, or a sortition identity).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The committee epoch: one DKG'd key per epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Epoch(pub u64);

/// A position in the decided sequence (one agreement instance per height).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Height(pub u64);

/// A BA* period inside a height; periods start at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Period(pub u32);

/// Virtual or real time in milliseconds, supplied by the caller of the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Time(pub u64);

/// The 32-byte digest naming a proposed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ValueId(pub [u8; 32]);

/// The randomness that seeds sortition for one height.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Seed(pub [u8; 32]);

/// The sortition priority of a proposal: lower wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Priority(pub [u8; 32]);

/// The voting steps of a BA* period (the proposal step is carried by [`Proposal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum VoteStep {
    /// Step 2 (filtering): vote for the best proposal seen, or the pinned value.
    Soft,
    /// Step 3 (certifying): vote for a value with a soft quorum; a quorum of these decides.
    Cert,
    /// Steps 4 and 5 (period completing): the first next-vote on the next timer, and the late
    /// one reacting to quorums. An honest node next-votes at most one value and ⊥ here.
    Next,
    /// Algorand's later next steps s = 5 + k − 1, k = 1 ..= [`VoteStep::MAX_NEXT_K`], each
    /// on its own (backed-off, jittered) timer after step 4, each re-evaluating "certified or
    /// committable value, else ⊥ if released, else v̄". Votes and quorums are counted per
    /// step; an honest node casts one vote per step. Wire code `3 + k`.
    NextK(u8),
    /// Fast recovery, *late* (Algorand's step 253): every λ_f
    /// ([`crate::Timeouts::recovery_ms`]) a node whose period holds a committable value (one it
    /// cert-voted, or a valid value with a soft quorum in this period) votes for it here.
    /// Never ⊥. Wire code 253.
    Late,
    /// Fast recovery, *redo* (step 254): with nothing committable and the previous period
    /// ended by a next quorum for v̄ (and none for ⊥), a vote for v̄. Never ⊥. Wire code 254.
    Redo,
    /// Fast recovery, *down* (step 255): otherwise a vote for ⊥ (always ⊥). Wire code 255.
    Down,
}

impl VoteStep {
    /// The soft, cert and first next step (the steps every period may use before its next_k
    /// steps).
    pub const ALL: [VoteStep; 3] = [VoteStep::Soft, VoteStep::Cert, VoteStep::Next];

    /// The last next_k step; a node that reaches it keeps re-sending its votes.
    pub const MAX_NEXT_K: u8 = 200;

    /// The wire code of this step.
    pub fn code(self) -> u8 {
        match self {
            VoteStep::Soft => 1,
            VoteStep::Cert => 2,
            VoteStep::Next => 3,
            VoteStep::NextK(k) => 3u8.saturating_add(k),
            VoteStep::Late => 253,
            VoteStep::Redo => 254,
            VoteStep::Down => 255,
        }
    }

    /// Parses a wire code (`NextK(0)` is not a step: code 3 is [`VoteStep::Next`]).
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(VoteStep::Soft),
            2 => Some(VoteStep::Cert),
            3 => Some(VoteStep::Next),
            c if c > 3 && c - 3 <= Self::MAX_NEXT_K => Some(VoteStep::NextK(c - 3)),
            253 => Some(VoteStep::Late),
            254 => Some(VoteStep::Redo),
            255 => Some(VoteStep::Down),
            _ => None,
        }
    }

    /// True for next-votes (step 4/5, every next_k step and the three fast-recovery steps),
    /// whose quorums move a node to the next period.
    pub fn is_next(self) -> bool {
        matches!(
            self,
            VoteStep::Next | VoteStep::NextK(_) | VoteStep::Late | VoteStep::Redo | VoteStep::Down
        )
    }

    /// True for the fast-recovery steps ([`VoteStep::Late`], [`VoteStep::Redo`],
    /// [`VoteStep::Down`]), each voted at most once per period, with exactly one value.
    pub fn is_recovery(self) -> bool {
        matches!(self, VoteStep::Late | VoteStep::Redo | VoteStep::Down)
    }

    /// True where BA* lets an honest node sign both ⊥ and one value in the same step (step
    /// 4/5 and the next_k steps); in every other step any two different values equivocate.
    pub fn allows_bottom_and_value(self) -> bool {
        matches!(self, VoteStep::Next | VoteStep::NextK(_))
    }

    /// True if an honest node could sign `value` in this step: soft, cert, late and redo
    /// votes name a value, down votes ⊥.
    pub fn admits(self, value: VoteValue) -> bool {
        match self {
            VoteStep::Soft | VoteStep::Cert | VoteStep::Late | VoteStep::Redo => {
                value != VoteValue::Bottom
            }
            VoteStep::Down => value == VoteValue::Bottom,
            VoteStep::Next | VoteStep::NextK(_) => true,
        }
    }
}

/// What a vote is for: a value id, or ⊥ ("no value this period").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VoteValue {
    /// ⊥.
    Bottom,
    /// A concrete value.
    Value(ValueId),
}

/// A signed vote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// Committee epoch.
    pub epoch: Epoch,
    /// Height.
    pub height: Height,
    /// Period.
    pub period: Period,
    /// Step.
    pub step: VoteStep,
    /// The value voted for.
    pub value: VoteValue,
    /// The voter's seat.
    pub voter: NodeId,
    /// Sortition credential for this step (empty where every seat votes with weight 1).
    pub credential: Vec<u8>,
    /// The voter's partial signature over [`vote_message`].
    pub signature: Vec<u8>,
    /// Cert votes only: the voter's partial signature over [`beacon_message`].
    pub beacon_share: Vec<u8>,
}

impl Vote {
    /// The exact bytes this vote signs.
    pub fn message(&self) -> Vec<u8> {
        vote_message(self.epoch, self.height, self.period, self.step, self.value)
    }
}

/// A signed proposal carrying the value itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Committee epoch.
    pub epoch: Epoch,
    /// Height.
    pub height: Height,
    /// Period.
    pub period: Period,
    /// The proposer's seat.
    pub proposer: NodeId,
    /// The proposer's sortition credential for (seed, height, period).
    pub credential: Vec<u8>,
    /// The proposed value.
    pub value: Vec<u8>,
    /// The proposer's signature over [`proposal_message`] with the value's id.
    pub signature: Vec<u8>,
    /// The seed seal of the value's *original* proposer (sampled mode: its VRF proof on the
    /// height's seed, from which the next height's seed derives; a re-proposal of the pinned
    /// value carries its original proposer's seal). Empty where seeds do not come from
    /// proposers (threshold mode). Votes name [`sealed_id`]`(value id, seal)`, so a decision
    /// binds its seal.
    #[serde(default)]
    pub seal: Vec<u8>,
}

/// A decision certificate: a combined signature of a cert quorum plus the height's beacon.
///
/// With the threshold adapter both signatures are single BLS signatures, so a certificate is
/// `8 + 8 + 4 + 32 + 2 × 96 = 244` bytes of payload on the wire for MinPk (2 × 48 for MinSig),
/// independent of the committee size; the mock adapter's are 32-byte keyed hashes (84 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// Committee epoch.
    pub epoch: Epoch,
    /// Height decided.
    pub height: Height,
    /// Period in which the cert quorum formed.
    pub period: Period,
    /// The decided value's id.
    pub value_id: ValueId,
    /// Combined signature over [`Certificate::message`].
    pub signature: Vec<u8>,
    /// Combined signature over [`beacon_message`]; hashes to the next height's seed
    /// (threshold mode).
    pub beacon: Vec<u8>,
    /// The decided value's seed seal (see [`Proposal::seal`]): in sampled mode the next
    /// height's seed derives from it. Empty in threshold mode.
    #[serde(default)]
    pub seal: Vec<u8>,
}

impl Certificate {
    /// The id the cert votes named: [`sealed_id`]`(value_id, seal)`.
    pub fn vote_id(&self) -> ValueId {
        sealed_id(self.value_id, &self.seal)
    }

    /// The exact byte string the certificate signature signs.
    pub fn message(&self) -> Vec<u8> {
        vote_message(
            self.epoch,
            self.height,
            self.period,
            VoteStep::Cert,
            VoteValue::Value(self.vote_id()),
        )
    }

    /// The exact byte string the beacon signature signs.
    pub fn beacon_message(&self) -> Vec<u8> {
        beacon_message(self.epoch, self.height)
    }
}

/// A decided value with its certificate: lets a lagging node catch up without replaying votes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    /// The certificate.
    pub certificate: Certificate,
    /// The decided value (its id must match the certificate).
    pub value: Vec<u8>,
}

/// A quorum of soft or next votes combined into one signature over their common message
/// (what Algorand calls a bundle): lets a node that missed or was denied the votes themselves
/// learn the quorum (needed for liveness against equivocators and after message loss).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// Committee epoch.
    pub epoch: Epoch,
    /// Height.
    pub height: Height,
    /// Period.
    pub period: Period,
    /// Step (soft, or a next step: step 4/5, next_k or fast recovery).
    pub step: VoteStep,
    /// The value the quorum voted for.
    pub value: VoteValue,
    /// Combined signature over [`vote_message`].
    pub signature: Vec<u8>,
}

impl Bundle {
    /// The exact bytes the bundle's signature signs.
    pub fn message(&self) -> Vec<u8> {
        vote_message(self.epoch, self.height, self.period, self.step, self.value)
    }
}

/// A wire message between engines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Message {
    /// Step 1: a value proposal.
    Proposal(Proposal),
    /// Steps 2–5: a vote.
    Vote(Vote),
    /// A combined soft or next quorum.
    Bundle(Bundle),
    /// A decided height (catch-up answer).
    Decided(Decided),
    /// "I am at this height; send me its decision if you have it."
    SyncRequest {
        /// The height the sender is working on.
        height: Height,
    },
}

impl Message {
    /// The height the message is about.
    pub fn height(&self) -> Height {
        match self {
            Message::Proposal(p) => p.height,
            Message::Vote(v) => v.height,
            Message::Bundle(b) => b.height,
            Message::Decided(d) => d.certificate.height,
            Message::SyncRequest { height } => *height,
        }
    }
}

const VOTE_DOMAIN: &[u8] = b"conclave-bft/vote/v1";
const SEALED_DOMAIN: &[u8] = b"conclave-bft/sealed-value/v1";

/// The id votes name for a value with seed seal `seal`: the value id itself when `seal` is
/// empty (threshold mode), else `SHA-256("conclave-bft/sealed-value/v1" ‖ value id ‖ seal)`.
/// Binding the seal into what the quorum signs is what makes the seed a function of the
/// decision: two proposals of the same bytes with different seals are different candidates.
pub fn sealed_id(value_id: ValueId, seal: &[u8]) -> ValueId {
    if seal.is_empty() {
        return value_id;
    }
    use sha2::Digest;
    ValueId(
        sha2::Sha256::new()
            .chain_update(SEALED_DOMAIN)
            .chain_update(value_id.0)
            .chain_update(seal)
            .finalize()
            .into(),
    )
}
const PROPOSAL_DOMAIN: &[u8] = b"conclave-bft/proposal/v1";
const BEACON_DOMAIN: &[u8] = b"conclave-bft/beacon/v1";

/// The signed bytes of a vote (and of a certificate, for `step = Cert`).
pub fn vote_message(
    epoch: Epoch,
    height: Height,
    period: Period,
    step: VoteStep,
    value: VoteValue,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(VOTE_DOMAIN.len() + 54);
    out.extend_from_slice(VOTE_DOMAIN);
    out.extend_from_slice(&epoch.0.to_be_bytes());
    out.extend_from_slice(&height.0.to_be_bytes());
    out.extend_from_slice(&period.0.to_be_bytes());
    out.push(step.code());
    match value {
        VoteValue::Bottom => out.push(0),
        VoteValue::Value(id) => {
            out.push(1);
            out.extend_from_slice(&id.0);
        }
    }
    out
}

/// The signed bytes of a proposal.
pub fn proposal_message(
    epoch: Epoch,
    height: Height,
    period: Period,
    value_id: ValueId,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(PROPOSAL_DOMAIN.len() + 52);
    out.extend_from_slice(PROPOSAL_DOMAIN);
    out.extend_from_slice(&epoch.0.to_be_bytes());
    out.extend_from_slice(&height.0.to_be_bytes());
    out.extend_from_slice(&period.0.to_be_bytes());
    out.extend_from_slice(&value_id.0);
    out
}

/// The signed bytes of a height's randomness beacon (unique under a threshold key).
pub fn beacon_message(epoch: Epoch, height: Height) -> Vec<u8> {
    let mut out = Vec::with_capacity(BEACON_DOMAIN.len() + 16);
    out.extend_from_slice(BEACON_DOMAIN);
    out.extend_from_slice(&epoch.0.to_be_bytes());
    out.extend_from_slice(&height.0.to_be_bytes());
    out
}
