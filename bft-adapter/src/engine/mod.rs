//! The sans-IO BA* engine: `handle(now, input) -> Step { actions }`.
//!
//! Implements the period structure of Chen, Gorbunov, Micali and Vlachos, "Algorand Agreement:
//! Super Fast and Partition Resilient Byzantine Agreement" (the protocol called BA* here), with
//! threshold-signed bundles:
//!
//! 1. **Propose** (period start): every selected proposer proposes its own value in period 1 or
//!    after a ⊥ next-quorum, else the pinned value v̄ of the previous period.
//! 2. **Soft** (filter timer, 2λ): soft-vote the lowest-priority valid proposal, or v̄.
//! 3. **Cert**: on a soft quorum for a valid v, cert-vote v (before next-voting). A cert quorum
//!    combines into a [`Certificate`] and decides.
//! 4. **Next** (next timer): next-vote the certified value, else ⊥ after a ⊥ quorum, else v̄
//!    (or ⊥ when nothing is pinned).
//! 5. **Next, late**: after step 4, next-vote v on seeing its soft quorum, and ⊥ after a ⊥
//!    quorum of the previous period if not certified (at most one value and one ⊥ per period).
//!
//! 6. **Next_k** (s = 5, 6, …, Algorand's recovery steps): each on its own timer after step 4,
//!    exponentially backed off (`next_ms · 2^(k−1)`, capped at `next_ms · max_backoff`) with a
//!    jitter drawn from host entropy ([`Input::Entropy`]); each re-evaluates and votes the
//!    cert-voted value, else a committable value (valid, with a soft quorum this period), else
//!    ⊥ once released, else v̄. Votes are counted per step ([`VoteStep::NextK`]), so nodes split
//!    across ⊥, v and v̄ in step 4/5 converge once they hear the same quorums.
//!
//! 7. **Fast recovery** (Algorand's late / redo / down steps, `dev/abft.md` "Fast
//!    recovery"): the next_k steps end at [`VoteStep::MAX_NEXT_K`], so a period that outlasts
//!    them (a long partition) needs another way to re-evaluate. About every λ_f
//!    ([`Timeouts::recovery_ms`], jittered, without end) after step 4 a node votes once
//!    per period in the step its current choice names: *late* ([`VoteStep::Late`]) for the
//!    cert-voted or committable value, else *down* ([`VoteStep::Down`]) for ⊥ once released,
//!    else *redo* ([`VoteStep::Redo`]) for v̄ (down when nothing is pinned) — the next_k
//!    choice, so the safety argument is the next_k steps'. As knowledge only grows, a node
//!    may vote in several of the three steps in one period, never twice in one; once a
//!    partition heals, everyone learns the same quorums within a re-send and votes in the same
//!    recovery step at its next firing, at most 1.25 λ_f later.
//!
//! A next-quorum for x in period p (in any next step) moves the node to p+1 with v̄ = x; a
//! next-quorum bundle for any later period is accepted (not only those in the vote window), so
//! a node left behind catches up. With sampled committees ([`Committee::sampled`]) a coalition
//! can find offline a far period where it alone holds a next quorum, so there a bundle counts
//! only within `Config::period_window` periods of the node's own, and a node further behind is
//! moved by a *chain* of them: a node that hears a peer vote in a period it left sends that
//! peer its next bundles from there to its own period (each within the window of the last, at
//! most once per re-send interval), and keeps such a chain with each decision it retains, sent
//! before the decision to a peer that asks for it. Soft and next quorums
//! can also arrive as [`Bundle`]s (one combined signature), which nodes forward soon after the
//! quorum completes (a node about to next-vote must hear it before its timer) and re-send with
//! their votes: a next bundle at once, a soft bundle combined from the node's own tally after
//! [`TimerId::SoftBundle`]'s delay (or at its next timer, if earlier), and not at all if the
//! node holds the period's certificate by then — in the common case the cert quorum follows
//! the soft quorum within one message delay, so no node pays for a third combine; the votes
//! stay in the tally, so the bundle can still be combined for any later re-send; that is what keeps nodes live when equivocators show different votes to different
//! nodes (Algorand relays votes and bundles for the same reason). Quorums are 2f+1 of n = 3f+1 seats in threshold mode (from [`Committee`]).
//!
//! **Sync path.** A node further behind than its peers' `retained_decisions` catches up
//! through its host: the host's ledger (or a sync peer) supplies certified decisions, one per
//! height, through [`Input::Synced`], and the engine verifies each certificate in order
//! (against the seed chained from the previous one) before moving to the next height, exactly
//! as it would a [`Decided`] from a peer. With threshold certificates
//! ([`Verifier::certificates_bind_quorum_at_any_period`]) such a decision is accepted whatever
//! its period.
//!
//! Catch-up by certificate ([`Decided`]) is bounded: a decision is accepted only if its period
//! is at most `Config::period_window` periods beyond the node's own (a period reachable by
//! verified next quorums: farther ones are ignored until a chain of next bundles brings the
//! node there), its
//! certificate and beacon verify against the height's seed, and the application accepted the
//! value (the engine emits [`Action::ValidateValue`] and waits). A cert quorum formed from
//! votes likewise decides only a value known to be valid. A peer that sent one invalid
//! certificate at a height has its further certificates and bundles at that height ignored.
//!
//! **Relay.** On a period change a node re-sends the signed proposal carrying v̄ (its
//! *payload*); on the next-vote timeout and with every periodic re-send it also re-sends the
//! freshest bundle and the payload of the current soft quorum's value, so a node that missed
//! the proposal of v̄ can still validate and cert-vote it. A relayed proposal only supplies a
//! value this node needs (its id is the hash of its bytes); see `relay.rs`.
//!
//! **Resources** (see `resources.rs`). Messages decode only with the field sizes the adapters
//! produce ([`Verifier::signature_sizes`], [`Sortition::credential_sizes`]) and values of at
//! most [`Limits::max_value_bytes`]; everything kept from a peer is charged to it
//! ([`Limits::round_bytes_per_peer`], [`Limits::future_bytes_per_peer`]) and all peer input
//! is bounded by [`Limits::peer_bytes_total`] ([`Engine::peer_bytes`]). A peer proven to send
//! an invalid signature or credential, or to equivocate, in a step has its further votes for
//! that step ignored unverified (likewise proposals per period); per-height state is dropped
//! when the height is decided. This node's sortition credentials are cached per (period,
//! step).
//!
//! Assumptions: point-to-point channels authenticate the *sender* (`from` in
//! [`Input::Message`]); honest nodes never relay other nodes' votes, and relay proposals only
//! as payloads. The engine
//! reads no clock, randomness, network or disk; its caller must carry out [`Action::Persist`]
//! before any later [`Action::Broadcast`] / [`Action::Send`] so a restarted node never
//! equivocates.
//!
//! [`Committee`]: crate::traits::Committee

mod aggregate;
mod receive;
mod relay;
mod resources;
mod rules;
pub(crate) mod tally;

pub use aggregate::aggregators;

use crate::evidence::{Evidence, EvidenceKind};
use crate::traits::{Committee, Signer, Sortition, Verifier};
use crate::types::{
    Bundle, Certificate, Decided, Epoch, Height, NodeId, Period, Proposal, Seed, Time, ValueId,
    Vote, VoteStep, VoteValue,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tally::StepTally;

/// The crypto and committee adapters an engine uses.
#[derive(Clone)]
pub struct Adapters {
    /// The epoch's committee.
    pub committee: Arc<dyn Committee>,
    /// This node's sortition (its own credentials; everyone's verification).
    pub sortition: Arc<dyn Sortition>,
    /// This node's signing key.
    pub signer: Arc<dyn Signer>,
    /// Public verification and combination.
    pub verifier: Arc<dyn Verifier>,
}

/// Protocol timeouts in milliseconds (multiplied by `min(period, max_backoff)`).
/// Non-exhaustive: start from [`Timeouts::default`] and set fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Timeouts {
    /// From period start to the soft vote (Algorand's 2λ).
    pub filter_ms: u64,
    /// From period start to the first next-vote (Algorand's λ + Λ).
    pub next_ms: u64,
    /// Interval at which a node re-sends its current votes (recovers from message loss).
    pub resend_ms: u64,
    /// Largest period multiplier applied to the timeouts above.
    pub max_backoff: u32,
    /// Algorand's λ_f: the fast-recovery period. While a period lasts, a node votes in the
    /// late, redo or down step ([`VoteStep::Late`]…) about every `recovery_ms` (at
    /// `j · recovery_ms` after the period started plus a jitter below `recovery_ms / 4`,
    /// j = 1, 2, …) — unlike the next_k steps, without end. Not multiplied by the period.
    #[serde(default = "default_recovery_ms")]
    pub recovery_ms: u64,
}

/// The default λ_f: 15 s = 25 × the default `next_ms`. Algorand runs λ_f = 5 min against a
/// 4 s filter and a 17 s first next timeout; 15 s keeps its ratio to the filter timeout (75×),
/// is over 3× the longest next_k interval (`next_ms · max_backoff` = 4.8 s, plus at most
/// half that in jitter), so a healthy network never reaches it, and bounds recovery after
/// a partition by ≈ 1.25 λ_f + `resend_ms`.
fn default_recovery_ms() -> u64 {
    15_000
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            filter_ms: 200,
            next_ms: 600,
            resend_ms: 1_200,
            max_backoff: 8,
            recovery_ms: default_recovery_ms(),
        }
    }
}

/// Static configuration of one engine. Non-exhaustive: start from [`Config::new`] and set
/// fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Config {
    /// This node's seat.
    pub id: NodeId,
    /// The committee epoch.
    pub epoch: Epoch,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// How many periods ahead of the current one votes are buffered.
    pub period_window: u32,
    /// How many decided heights are kept to answer catch-up requests.
    pub retained_decisions: usize,
    /// Bounds on what peers can make this engine hold.
    #[serde(default)]
    pub limits: Limits,
    /// κ, the vote aggregators per step (0, the default: off, every vote goes to everyone).
    /// With κ > 0, soft and cert votes go only to the κ seats [`aggregators`] picks for
    /// their step; an aggregator that completes a quorum broadcasts it as one bundle (soft)
    /// or one decision (cert), until the period's next timer, when every node falls back to
    /// all-to-all. See `aggregate.rs`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub aggregators: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// Resource bounds against peers that flood (issue #11 §3). Defaults: 512 buffered
/// next-height messages and 8 MiB per peer, 8 MiB of current-height state per peer, 64 MiB
/// from all peers together, values of at most 1 MiB. See [`Engine::peer_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Limits {
    /// Next-height messages buffered per peer.
    pub future_messages_per_peer: usize,
    /// Bytes of next-height messages buffered per peer.
    pub future_bytes_per_peer: usize,
    /// Bytes of next-height messages buffered from all peers together.
    pub future_bytes_total: usize,
    /// The largest value accepted in a proposal or a decision (longer ones do not decode
    /// and are reported as malformed).
    pub max_value_bytes: usize,
    /// Bytes of current-height state (votes, proposals, payloads, bundles, a pending
    /// decision) kept from one peer.
    pub round_bytes_per_peer: usize,
    /// Bytes kept from all peers together, both heights.
    pub peer_bytes_total: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            future_messages_per_peer: 512,
            future_bytes_per_peer: 8 << 20,
            future_bytes_total: 64 << 20,
            max_value_bytes: 1 << 20,
            round_bytes_per_peer: 8 << 20,
            peer_bytes_total: 64 << 20,
        }
    }
}

impl Config {
    /// A configuration with default timeouts and windows.
    pub fn new(id: NodeId, epoch: Epoch) -> Self {
        Config {
            id,
            epoch,
            timeouts: Timeouts::default(),
            period_window: 16,
            retained_decisions: 64,
            limits: Limits::default(),
            aggregators: 0,
        }
    }
}

/// A timer the engine asks its host to arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TimerId {
    /// The soft-vote (filter) timer of a period.
    Filter(Height, Period),
    /// The first next-vote timer of a period.
    Next(Height, Period),
    /// The periodic re-send timer of a height.
    Resend(Height),
    /// The timer of next_k step `k` (k ≥ 1) of a period: armed when step 4 (or step k−1)
    /// fires, after an exponentially backed-off, jittered delay.
    NextK(Height, Period, u8),
    /// The fast-recovery timer of a period (every λ_f, [`Timeouts::recovery_ms`]): armed on
    /// entering the period and re-armed each time it fires.
    Recovery(Height, Period),
    /// The deferred forward of a period's soft-quorum bundle that this node would combine from
    /// its own tally: armed when the quorum completes, `(next_ms − filter_ms) / 2` (times the
    /// period's backoff) later; when it fires the bundle is combined and broadcast unless the
    /// node holds a certificate by then (see [`Engine`]'s "Relay").
    SoftBundle(Height, Period),
    /// With vote aggregators ([`Config::aggregators`] > 0) only: the period's soft and cert
    /// votes stop going to aggregators only, at `next_ms − (next_ms − filter_ms) / 4` (times
    /// the period's backoff) after the period starts, early enough to cert-vote all-to-all
    /// before the next timer.
    Aggregation(Height, Period),
}

/// An input to the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// Start (or resume after [`Engine::restore`]): arms timers and asks for a value.
    Start,
    /// Bytes received from an authenticated peer.
    Message {
        /// The transport sender.
        from: NodeId,
        /// The raw bytes.
        bytes: Vec<u8>,
    },
    /// A timer fired.
    Timer(TimerId),
    /// Randomness from the host for the jitter of next_k timers (feed it once, e.g. at start;
    /// without it the jitter derives from the node id alone). The engine draws nothing else.
    Entropy([u8; 32]),
    /// A certified decision for the engine's **current** height that the host obtained out of
    /// band (its own ledger, or a sync peer): the sync path. It is verified exactly as a
    /// [`Decided`] message from a peer (value id, certificate and beacon against the height's
    /// seed, then the application's verdict through [`Action::ValidateValue`]), except that
    /// its period is not limited by `Config::period_window` when
    /// [`Verifier::certificates_bind_quorum_at_any_period`] holds. An accepted decision
    /// yields the usual [`Action::Persist`] and [`Action::Decide`] and moves the engine to the
    /// next height; a decision for another height or one that does not verify changes nothing
    /// (no actions, and no evidence: the host is not a peer). Feed height h+1's decision
    /// after h's [`Action::Decide`] (answer the [`Action::ValidateValue`] in between; the
    /// engine's height tells where it is).
    Synced {
        /// The decided value and its certificate.
        decided: Decided,
    },
    /// The application's answer to [`Action::RequestValue`].
    ProposedValue {
        /// Height asked for.
        height: Height,
        /// The value.
        value: Vec<u8>,
    },
    /// The application's answer to [`Action::ValidateValue`].
    ValueValidated {
        /// Height.
        height: Height,
        /// The value's id.
        value_id: ValueId,
        /// Verdict.
        valid: bool,
    },
}

/// An effect the host must carry out, in order.
///
/// Non-exhaustive: a later version may add actions. A host's `match` needs a wildcard arm, and
/// that arm must fail closed (stop, as `conclave-node` does) rather than skip the action, since
/// an unknown action may be a barrier the following ones depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Send to every other seat.
    Broadcast {
        /// Encoded message.
        bytes: Vec<u8>,
    },
    /// Send to one seat.
    Send {
        /// Recipient.
        to: NodeId,
        /// Encoded message.
        bytes: Vec<u8>,
    },
    /// Arm (or re-arm) a timer.
    SetTimer {
        /// Which timer.
        id: TimerId,
        /// When it should fire.
        at: Time,
    },
    /// Disarm a timer.
    CancelTimer {
        /// Which timer.
        id: TimerId,
    },
    /// Ask the application for a value to propose at a height.
    RequestValue {
        /// Height.
        height: Height,
    },
    /// Ask the application to validate a proposed value.
    ValidateValue {
        /// Height.
        height: Height,
        /// The value's id.
        value_id: ValueId,
        /// The value.
        value: Vec<u8>,
    },
    /// Durably store this state before carrying out any later action (a write barrier).
    Persist(Box<PersistedState>),
    /// A height is decided.
    Decide {
        /// The decided value and its certificate.
        decided: Decided,
    },
    /// Misbehaviour was detected.
    Evidence(Evidence),
}

/// The actions produced by one call to [`Engine::handle`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Effects, in the order they must be carried out.
    pub actions: Vec<Action>,
}

/// What an engine must find again after a crash: enough to never sign conflicting votes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedState {
    /// Current height.
    pub height: Height,
    /// Current period.
    pub period: Period,
    /// Sortition seed of the current height.
    pub seed: Seed,
    /// Next-quorums seen for the previous period (they pin v̄ or release it).
    pub previous_next_quorums: Vec<VoteValue>,
    /// Every vote this node signed at the current height.
    pub own_votes: Vec<Vote>,
    /// Every proposal this node signed at the current height.
    pub own_proposals: Vec<Proposal>,
    /// The last decision, to help peers catch up.
    pub last_decided: Option<Decided>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Validity {
    Pending,
    Valid,
    Invalid,
}

#[derive(Clone, Debug)]
struct ProposalEntry {
    priority: crate::types::Priority,
    /// The id votes name ([`crate::types::sealed_id`] of the value id and the seal).
    value_id: ValueId,
    /// The value id the proposer signed (what conflicting proposals differ in).
    signed_id: ValueId,
    /// The seal is the proposer's own (not a re-proposal of another seat's value).
    fresh: bool,
    /// The proposer's signature was checked. A proposal is checked only when a soft vote is
    /// about to name it (see `rules.rs`, `best_proposal`), when it is relayed, or when it is
    /// evidence; an unchecked one is never soft-voted for, relayed or used as evidence.
    verified: bool,
    /// The proposer's signature (for a deferred check).
    signature: Vec<u8>,
    bytes: Vec<u8>,
}

/// State of the height being decided.
#[derive(Default)]
struct Round {
    /// Keyed by the id votes name (the sealed id).
    values: BTreeMap<ValueId, (Vec<u8>, Option<Validity>)>,
    /// The seed seal of each sealed id in `values` (sampled mode; see `Proposal::seal`).
    seals: BTreeMap<ValueId, Vec<u8>>,
    proposals: BTreeMap<Period, BTreeMap<NodeId, ProposalEntry>>,
    tallies: BTreeMap<(Period, VoteStep), StepTally>,
    soft_quorum: BTreeMap<Period, ValueId>,
    next_quorum: BTreeMap<Period, BTreeSet<VoteValue>>,
    own_votes: BTreeMap<(Period, VoteStep), Vec<Vote>>,
    own_proposals: BTreeMap<Period, Proposal>,
    own_value: Option<Vec<u8>>,
    value_requested: bool,
    filter_expired: bool,
    next_expired: bool,
    /// The latest next_k step whose timer fired in the current period (0: none yet).
    next_k: u8,
    /// When the current period was entered (the fast-recovery timer's origin).
    period_start: u64,
    /// How many times the fast-recovery timer fired in the current period.
    recovery_fired: u32,
    /// The fast-recovery timer fired and its vote is not cast yet (it waits for step 4).
    recovery_due: bool,
    /// Periods whose soft-quorum bundle (combined from this node's tally) waits for its
    /// [`TimerId::SoftBundle`] (at most one per period with a soft quorum).
    soft_forward_due: BTreeSet<Period>,
    /// Re-sends since the current period began (the payload relay backs off with it).
    resends_this_period: u32,
    certificate: Option<Certificate>,
    bundles: BTreeMap<(Period, VoteStep, VoteValue), Bundle>,
    /// A verified `Decided` whose value the application has not yet judged, with its sender
    /// (`None`: the host, through [`Input::Synced`]) and its encoding.
    pending_decision: Option<(Option<NodeId>, Decided, Vec<u8>)>,
    /// (peer, period, step) for which the peer sent a vote with an invalid signature: its
    /// further votes for that step are ignored unverified (pruned with the height).
    proven_invalid: BTreeSet<(NodeId, Period, VoteStep)>,
    /// Signed proposals carrying values with a soft or next quorum, kept to relay them
    /// after their period's proposals are pruned (see `relay.rs`).
    payloads: BTreeMap<ValueId, Vec<u8>>,
    /// (peer, period) for which the peer relayed a payload this node did not need.
    payload_misses: BTreeSet<(NodeId, Period)>,
    /// (proposer, period) proven to have sent an invalid or a conflicting proposal: its
    /// further proposals for that period are ignored unverified.
    muted_proposers: BTreeSet<(NodeId, Period)>,
    /// Bytes of stored input charged to each peer (see `resources.rs`).
    held: BTreeMap<NodeId, usize>,
    /// Bytes of stored peer input at this height, charged or shared.
    held_total: usize,
    /// This node's sortition credentials by (period, step; `None` = proposer).
    own_credentials: BTreeMap<(Period, Option<VoteStep>), Option<Vec<u8>>>,
    /// The id of `own_value`.
    own_value_id: Option<ValueId>,
    /// The vote aggregators of each (period, step) at this height (see `aggregate.rs`).
    aggregators: BTreeMap<(Period, VoteStep), Vec<NodeId>>,
    /// The current period's aggregation timer fired (its votes go to everyone).
    aggregation_over: bool,
}

/// One node's BA* state machine.
pub struct Engine {
    config: Config,
    /// Soft-vote before the filter timer once every seat's proposal is in (see
    /// [`Engine::set_early_filter`]).
    early_filter: bool,
    adapters: Adapters,
    height: Height,
    period: Period,
    seed: Seed,
    round: Round,
    recent: BTreeMap<Height, Decided>,
    /// For each height in `recent`: next-quorum bundles that move a node from period 1 to
    /// within `period_window` of the decision's period (empty when it is that close already).
    chains: BTreeMap<Height, Vec<Bundle>>,
    /// When this node last sent each peer a chain of next bundles of the current height.
    chain_sent: BTreeMap<NodeId, Time>,
    /// The field sizes messages are decoded with (from the adapters and `Limits`).
    wire: crate::codec::WireSizes,
    future: Vec<(NodeId, Vec<u8>)>,
    /// Per peer: (messages, bytes) held in `future`.
    future_usage: BTreeMap<NodeId, (usize, usize)>,
    last_sync: BTreeMap<(NodeId, Height), Time>,
    reported: BTreeSet<(NodeId, EvidenceKind, Height)>,
    entropy: [u8; 32],
    now: Time,
    out: Vec<Action>,
    /// Proposals and votes abstained from because the signer failed (not persisted).
    signing_failures: u64,
}

impl Engine {
    /// A fresh engine at height 1, period 1, with the genesis sortition seed.
    pub fn new(config: Config, adapters: Adapters, genesis_seed: Seed) -> Self {
        let signatures = adapters.verifier.signature_sizes();
        let credentials = adapters.sortition.credential_sizes();
        let wire = crate::codec::WireSizes {
            share: signatures.share,
            certificate: signatures.certificate,
            proposer_credential: credentials.proposer,
            voter_credential: credentials.voter,
            max_value: config.limits.max_value_bytes,
        };
        Engine {
            wire,
            config,
            adapters,
            height: Height(1),
            period: Period(1),
            seed: genesis_seed,
            round: Round::default(),
            recent: BTreeMap::new(),
            chains: BTreeMap::new(),
            chain_sent: BTreeMap::new(),
            future: Vec::new(),
            future_usage: BTreeMap::new(),
            last_sync: BTreeMap::new(),
            reported: BTreeSet::new(),
            entropy: {
                let mut e = [0u8; 32];
                e[..4].copy_from_slice(&config.id.0.to_be_bytes());
                e
            },
            now: Time(0),
            out: Vec::new(),
            signing_failures: 0,
            early_filter: false,
        }
    }

    /// An engine resumed from its last [`Action::Persist`]; feed it [`Input::Start`] next.
    pub fn restore(config: Config, adapters: Adapters, state: PersistedState) -> Self {
        let mut engine = Engine::new(config, adapters, state.seed);
        engine.height = state.height;
        engine.period = state.period;
        if state.period.0 > 1 {
            let previous = Period(state.period.0 - 1);
            engine
                .round
                .next_quorum
                .insert(previous, state.previous_next_quorums.into_iter().collect());
        }
        for proposal in state.own_proposals {
            let id = crate::types::sealed_id(
                engine.adapters.verifier.value_id(&proposal.value),
                &proposal.seal,
            );
            engine
                .round
                .values
                .insert(id, (proposal.value.clone(), Some(Validity::Valid)));
            engine.round.seals.insert(id, proposal.seal.clone());
            engine.round.own_proposals.insert(proposal.period, proposal);
        }
        for vote in state.own_votes {
            engine.record_own_vote(vote);
        }
        if let Some(decided) = state.last_decided {
            engine.recent.insert(decided.certificate.height, decided);
        }
        engine
    }

    /// End the filter step early (default off): when a fresh proposal from **every** seat of
    /// the committee is in for the current period (possible only where sortition selects
    /// every seat as a proposer, as in threshold mode with at most `TAU_PROPOSER` seats), no
    /// lower-priority proposal can still arrive — a seat has one proposal per period, another
    /// one is equivocation — so the soft vote the filter timer would cast is already known and
    /// is cast at once. This only changes *when* a node soft-votes, never *what*: a liveness
    /// (latency) optimisation, not a safety rule. The filter timer still bounds the wait when
    /// a proposal is missing.
    pub fn set_early_filter(&mut self, on: bool) {
        self.early_filter = on;
    }

    /// Bytes of next-height messages currently buffered (bounded by [`Limits`]).
    pub fn buffered_bytes(&self) -> usize {
        self.future_usage.values().map(|u| u.1).sum()
    }

    /// How many proposals and votes this engine abstained from because its [`Signer`]
    /// failed (since it was created or restored). A host should alert on a rising count.
    ///
    /// [`Signer`]: crate::traits::Signer
    pub fn signing_failures(&self) -> u64 {
        self.signing_failures
    }

    /// The height being decided.
    pub fn height(&self) -> Height {
        self.height
    }

    /// The current period.
    pub fn period(&self) -> Period {
        self.period
    }

    /// This node's seat.
    pub fn id(&self) -> NodeId {
        self.config.id
    }

    /// Processes one input and returns the resulting actions.
    pub fn handle(&mut self, now: Time, input: Input) -> Step {
        self.now = now;
        match input {
            Input::Start => self.enter_period(self.period, true),
            Input::Message { from, bytes } => self.on_bytes(from, bytes),
            Input::Timer(id) => self.on_timer(id),
            Input::Entropy(seed) => self.entropy = seed,
            Input::Synced { decided } => self.on_decided(None, decided, Vec::new()),
            Input::ProposedValue { height, value } => {
                if height == self.height && self.round.own_value.is_none() {
                    let id = self.adapters.verifier.value_id(&value);
                    self.round
                        .values
                        .insert(id, (value.clone(), Some(Validity::Valid)));
                    self.round.own_value = Some(value);
                    self.round.own_value_id = Some(id);
                }
            }
            Input::ValueValidated {
                height,
                value_id,
                valid,
            } => self.on_validated(height, value_id, valid),
        }
        self.progress();
        Step {
            actions: std::mem::take(&mut self.out),
        }
    }

    fn on_timer(&mut self, id: TimerId) {
        match id {
            TimerId::Filter(h, p) if h == self.height && p == self.period => {
                self.round.filter_expired = true
            }
            TimerId::Next(h, p)
                if h == self.height && p == self.period && !self.round.next_expired =>
            {
                self.round.next_expired = true;
                self.arm_next_k(1);
                // A deferred soft bundle of this period goes now, before the freshest bundle.
                self.forward_soft_bundle(p);
                self.relay_on_timeout();
                self.aggregation_fallback();
            }
            TimerId::NextK(h, p, k)
                if h == self.height && p == self.period && k > self.round.next_k =>
            {
                self.round.next_k = k;
                if k < VoteStep::MAX_NEXT_K {
                    self.arm_next_k(k + 1);
                }
            }
            TimerId::Recovery(h, p) if h == self.height && p == self.period => {
                self.round.recovery_due = true;
                self.arm_recovery();
            }
            TimerId::SoftBundle(h, p) if h == self.height => self.forward_soft_bundle(p),
            TimerId::Aggregation(h, p) if h == self.height && p == self.period => {
                self.aggregation_fallback()
            }
            TimerId::Resend(h) if h == self.height => {
                self.resend();
                self.arm(TimerId::Resend(h), self.config.timeouts.resend_ms);
            }
            _ => {} // stale timer: no-op
        }
    }

    fn backoff(&self) -> u64 {
        u64::from(
            self.period
                .0
                .clamp(1, self.config.timeouts.max_backoff.max(1)),
        )
    }

    /// Arms next_k step `k`: `min(next_ms · 2^(k−1), next_ms · max_backoff)` after now, plus a
    /// jitter in `[0, that / 2)` drawn deterministically from the host's entropy (so nodes that
    /// reach a step together do not stay in lock-step with an adversarial scheduler).
    fn arm_next_k(&mut self, k: u8) {
        let t = self.config.timeouts;
        let cap = t.next_ms.saturating_mul(u64::from(t.max_backoff.max(1)));
        let base = t
            .next_ms
            .saturating_mul(1u64 << u32::from(k.saturating_sub(1)).min(32))
            .min(cap)
            .max(1);
        let digest = sha2::Sha256::new()
            .chain_update(b"conclave-bft/next-k-jitter/v1")
            .chain_update(self.entropy)
            .chain_update(self.height.0.to_be_bytes())
            .chain_update(self.period.0.to_be_bytes())
            .chain_update([k])
            .finalize();
        let mut word = [0u8; 8];
        word.copy_from_slice(&digest[..8]);
        let jitter = u64::from_be_bytes(word) % (base / 2).max(1);
        self.arm(
            TimerId::NextK(self.height, self.period, k),
            base.saturating_add(jitter),
        );
    }

    /// Arms the next fast-recovery firing of the current period: at `j · λ_f` after the
    /// period started plus a jitter in `[0, λ_f / 4)` drawn from the host's entropy, for the
    /// next j (so consecutive firings are at most 1.25 λ_f apart, and a node fires in every
    /// window of that length however long the period lasts).
    fn arm_recovery(&mut self) {
        let lambda = self.config.timeouts.recovery_ms.max(1);
        self.round.recovery_fired = self.round.recovery_fired.saturating_add(1);
        let j = u64::from(self.round.recovery_fired);
        let digest = sha2::Sha256::new()
            .chain_update(b"conclave-bft/recovery-jitter/v1")
            .chain_update(self.entropy)
            .chain_update(self.height.0.to_be_bytes())
            .chain_update(self.period.0.to_be_bytes())
            .chain_update(j.to_be_bytes())
            .finalize();
        let mut word = [0u8; 8];
        word.copy_from_slice(&digest[..8]);
        let jitter = u64::from_be_bytes(word) % (lambda / 4).max(1);
        let at = self
            .round
            .period_start
            .saturating_add(lambda.saturating_mul(j))
            .saturating_add(jitter)
            .max(self.now.0.saturating_add(1));
        self.out.push(Action::SetTimer {
            id: TimerId::Recovery(self.height, self.period),
            at: Time(at),
        });
    }

    fn arm(&mut self, id: TimerId, after_ms: u64) {
        self.out.push(Action::SetTimer {
            id,
            at: Time(self.now.0.saturating_add(after_ms)),
        });
    }

    /// Enters `period` of the current height (re-arming timers on a fresh start).
    fn enter_period(&mut self, period: Period, start: bool) {
        let old = self.period;
        if !start {
            self.out.push(Action::CancelTimer {
                id: TimerId::Filter(self.height, old),
            });
            self.out.push(Action::CancelTimer {
                id: TimerId::Next(self.height, old),
            });
            if self.round.next_expired {
                self.out.push(Action::CancelTimer {
                    id: TimerId::NextK(self.height, old, self.round.next_k.saturating_add(1)),
                });
            }
            self.out.push(Action::CancelTimer {
                id: TimerId::Recovery(self.height, old),
            });
        }
        self.period = period;
        self.round.filter_expired = false;
        self.round.next_expired = false;
        self.round.next_k = 0;
        self.round.period_start = self.now.0;
        self.round.recovery_fired = 0;
        self.round.recovery_due = false;
        self.round.resends_this_period = 0;
        let factor = self.backoff();
        let t = self.config.timeouts;
        self.arm(TimerId::Filter(self.height, period), t.filter_ms * factor);
        self.arm(TimerId::Next(self.height, period), t.next_ms * factor);
        self.arm_aggregation(old, start);
        self.arm_recovery();
        if start {
            self.arm(TimerId::Resend(self.height), t.resend_ms);
            if self.round.own_value.is_none() && !self.round.value_requested {
                self.round.value_requested = true;
                self.out.push(Action::RequestValue {
                    height: self.height,
                });
            }
        }
        if !start {
            self.relay_on_period_change();
        }
        // Drop tallies and proposals that can no longer matter (cert votes of any period still
        // decide, so they are kept for the height).
        self.prune_round(Period(period.0.saturating_sub(1)));
    }

    /// Records a decision and moves to the next height.
    fn decide(&mut self, decided: Decided) {
        let height = self.height;
        self.out.push(Action::CancelTimer {
            id: TimerId::Filter(height, self.period),
        });
        self.out.push(Action::CancelTimer {
            id: TimerId::Next(height, self.period),
        });
        self.out.push(Action::CancelTimer {
            id: TimerId::Resend(height),
        });
        self.out.push(Action::CancelTimer {
            id: TimerId::Recovery(height, self.period),
        });
        for p in std::mem::take(&mut self.round.soft_forward_due) {
            self.out.push(Action::CancelTimer {
                id: TimerId::SoftBundle(height, p),
            });
        }
        self.cancel_aggregation(self.period);
        self.seed = self
            .adapters
            .verifier
            .next_seed(&self.seed, &decided.certificate);
        self.recent.insert(height, decided.clone());
        let target = Period(
            decided
                .certificate
                .period
                .0
                .saturating_sub(self.config.period_window),
        );
        let chain = self.next_bundle_chain(Period(1), target);
        self.chains.insert(height, chain);
        while self.recent.len() > self.config.retained_decisions.max(1) {
            if let Some((h, _)) = self.recent.pop_first() {
                self.chains.remove(&h);
            }
        }
        self.chain_sent.clear();
        self.last_sync.retain(|(_, h), _| *h > height);
        // Evidence already reported for decided heights can no longer recur; keep only the
        // height-less kinds (at most one per peer and kind).
        self.reported.retain(|(_, _, h)| h.0 == 0 || *h > height);
        self.future_usage.clear();
        self.height = Height(height.0 + 1);
        self.period = Period(1);
        self.round = Round::default();
        self.persist();
        self.out.push(Action::Decide { decided });
        self.enter_period(Period(1), true);
        for (from, bytes) in std::mem::take(&mut self.future) {
            self.on_bytes(from, bytes);
        }
    }

    fn persist(&mut self) {
        let previous = Period(self.period.0.saturating_sub(1));
        let state = PersistedState {
            height: self.height,
            period: self.period,
            seed: self.seed,
            previous_next_quorums: self
                .round
                .next_quorum
                .get(&previous)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default(),
            own_votes: self.round.own_votes.values().flatten().cloned().collect(),
            own_proposals: self.round.own_proposals.values().cloned().collect(),
            last_decided: self.recent.values().next_back().cloned(),
        };
        self.out.push(Action::Persist(Box::new(state)));
    }

    fn report(&mut self, culprit: NodeId, kind: EvidenceKind, height: Height, proof: Vec<Vec<u8>>) {
        if culprit == self.config.id || !self.reported.insert((culprit, kind, height)) {
            return;
        }
        let attributable = matches!(
            kind,
            EvidenceKind::Equivocation | EvidenceKind::ConflictingProposals
        ) && self.adapters.verifier.attributable();
        self.out.push(Action::Evidence(Evidence {
            culprit,
            kind,
            height,
            proof,
            attributable,
        }));
    }

    /// Re-broadcasts this node's current-period votes and the previous period's next-votes,
    /// and (with backoff, see `relay.rs`) its proposal, so peers recover from lost messages.
    fn resend(&mut self) {
        let p = self.period;
        let previous = Period(p.0.saturating_sub(1));
        let mut messages = Vec::new();
        let payloads = self.payload_resend_due();
        if let Some(prop) = self.round.own_proposals.get(&p).filter(|_| payloads) {
            messages.push(crate::types::Message::Proposal(prop.clone()));
        }
        // Of each period's next_k votes only the latest is re-sent: a node re-votes in every
        // next_k step, so the latest step is where a quorum can still form (and re-sends stay
        // bounded however long a period lasts).
        let mut latest_k: BTreeMap<Period, u8> = BTreeMap::new();
        for (vp, s) in self.round.own_votes.keys() {
            if let VoteStep::NextK(k) = s {
                let e = latest_k.entry(*vp).or_insert(*k);
                *e = (*e).max(*k);
            }
        }
        for ((vp, step), votes) in &self.round.own_votes {
            let stale_k =
                matches!(step, VoteStep::NextK(k) if latest_k.get(vp).is_some_and(|l| l != k));
            if (*vp == p && !stale_k) || (*vp == previous && step.is_next()) {
                messages.extend(votes.iter().cloned().map(crate::types::Message::Vote));
            }
        }
        if self.round.certificate.is_some() {
            messages.push(crate::types::Message::SyncRequest {
                height: self.height,
            });
        }
        let mut wanted: Vec<(Period, VoteStep, VoteValue)> = Vec::new();
        if let Some(id) = self.round.soft_quorum.get(&p) {
            wanted.push((p, VoteStep::Soft, VoteValue::Value(*id)));
        }
        for (qp, set) in self.round.next_quorum.range(previous..) {
            for x in set {
                // The bundle of whichever next step formed the quorum.
                let step = self
                    .round
                    .bundles
                    .keys()
                    .find(|(bp, s, v)| bp == qp && s.is_next() && v == x)
                    .map(|k| k.1)
                    .unwrap_or(VoteStep::Next);
                wanted.push((*qp, step, *x));
            }
        }
        for key in wanted {
            if !self.round.bundles.contains_key(&key) {
                if let Some(b) = self.combine_bundle(key.0, key.1, key.2) {
                    self.round.bundles.insert(key, b);
                }
            }
            if let Some(b) = self.round.bundles.get(&key) {
                messages.push(crate::types::Message::Bundle(b.clone()));
            }
        }
        for m in messages {
            self.out.push(Action::Broadcast {
                bytes: crate::codec::encode(&m),
            });
        }
        if payloads {
            self.relay_on_resend();
        }
    }
}

#[cfg(test)]
mod tests;

impl Engine {
    /// A one-line description of the current round's tallies, for debugging simulations.
    pub fn debug_summary(&self) -> String {
        let mut parts = Vec::new();
        for ((p, s), t) in &self.round.tallies {
            for (v, vt) in &t.by_value {
                let v = match v {
                    VoteValue::Bottom => "⊥".to_string(),
                    VoteValue::Value(id) => hex::encode(&id.0[..3]),
                };
                parts.push(format!(
                    "{}{:?}:{}={}+{}",
                    p.0, s, v, vt.verified_weight, vt.pending_weight
                ));
            }
        }
        let own: Vec<String> = self
            .round
            .own_votes
            .keys()
            .map(|(p, s)| format!("{}{:?}", p.0, s))
            .collect();
        format!(
            "filter={} next={} own=[{}] props={:?} tallies=[{}] nq={:?}",
            self.round.filter_expired,
            self.round.next_expired,
            own.join(","),
            self.round
                .proposals
                .iter()
                .map(|(p, m)| (p.0, m.len()))
                .collect::<Vec<_>>(),
            parts.join(" "),
            self.round
                .next_quorum
                .iter()
                .map(|(p, s)| (p.0, s.len()))
                .collect::<Vec<_>>()
        )
    }
}
