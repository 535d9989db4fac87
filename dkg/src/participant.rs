//! The sans-IO state machine of one participant (dealer, player, or both).
//!
//! Joint-Feldman with GJKR-style complaints (Gennaro, Jarecki, Krawczyk, Rabin: "Secure
//! Distributed Key Generation for Discrete-Log Based Cryptosystems", 1999/2007), driven by the
//! caller: inputs are [`Input::Start`], messages from the authenticated broadcast
//! ([`Input::Message`]) and [`Input::DeadlinePassed`] for the current [`Phase`]; outputs are
//! messages to broadcast and, at the end, the [`DkgOutput`]. No clock, thread, socket or global
//! RNG is used: randomness is derived from the seed given to [`Participant::new`], so a
//! participant persisted with serde resumes to exactly the same result.
//!
//! Assumptions: a reliable broadcast (every honest participant receives the same set of
//! messages before the phase deadline: synchrony), at most `t` corrupted seats for secrecy,
//! and `n ≥ 2t+1` for robustness. Shares travel encrypted inside the broadcast dealing, so no
//! private channel is needed.
//!
//! The participant does **not** trust the transport for authenticity: every message is
//! checked on arrival against the identity key of the sender it claims, in this session's
//! configuration digest ([`DkgConfig::digest`]), and stored only if it verifies, so a
//! message that arrives first, before [`Input::Start`], or in any number, cannot displace an
//! honest one. Per sender and round at most two different bodies are kept; two are proof of
//! equivocation, and the outcome does not depend on which ones arrived first. Every decision
//! (QUAL, upheld complaints, evidence) is a function of the *set* of authenticated messages.

use std::collections::{BTreeMap, BTreeSet};

use blstrs::Scalar;
use conclave_threshold_sig::{
    Commitment, Polynomial, PublicKey, PublicShare, SecretShare, Variant,
};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::config::{DkgConfig, IdentityKeys, Limits, Member};
use crate::error::Error;
use crate::evidence::{Evidence, FaultKind};
use crate::messages::{Complaint, Dealing, Justification, Message, Signed, MAX_CIPHERTEXT_SIZE};

/// Protocol phases, in order. Each ends when the caller reports its deadline.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Phase {
    /// Created, not started.
    Init,
    /// Round 1: dealings are broadcast.
    Deal,
    /// Round 2: complaints with evidence are broadcast.
    Complain,
    /// Round 3: accused dealers reveal disputed shares.
    Justify,
    /// Finished.
    Done,
}

impl Phase {
    /// The phase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Init => "init",
            Phase::Deal => "deal",
            Phase::Complain => "complain",
            Phase::Justify => "justify",
            Phase::Done => "done",
        }
    }
}

/// An input to [`Participant::handle`].
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
#[non_exhaustive]
pub enum Input<V: Variant> {
    /// Begin: a dealer broadcasts its dealings.
    Start,
    /// A message delivered by the authenticated broadcast.
    Message(Message<V>),
    /// The deadline of the given phase passed (ignored unless it is the current phase).
    DeadlinePassed(Phase),
}

/// An output of [`Participant::handle`].
#[derive(Clone, Debug)]
pub enum Output<V: Variant> {
    /// Send this message on the authenticated broadcast (to everybody, including oneself).
    Broadcast(Message<V>),
    /// The protocol finished.
    Finished(Box<DkgOutput<V>>),
}

/// A dealer that was excluded from QUAL, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Disqualified {
    /// Dealer seat.
    pub index: u32,
    /// The fault.
    pub reason: FaultKind,
}

/// The result of a DKG or resharing at one participant.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct DkgOutput<V: Variant> {
    /// The group commitment (public polynomial) of degree `t`.
    pub commitment: Commitment<V>,
    /// The group public key `commitment[0]` (unchanged by a resharing).
    pub group_public_key: PublicKey<V>,
    /// This participant's secret shares, one per player seat it holds.
    pub shares: Vec<SecretShare>,
    /// Every player seat's public share.
    pub public_shares: Vec<PublicShare<V>>,
    /// Qualified dealer seats.
    pub qualified: Vec<u32>,
    /// Disqualified dealer seats with reasons.
    pub disqualified: Vec<Disqualified>,
    /// Evidence against every culprit (dealers and false complainers).
    pub evidence: Vec<Evidence<V>>,
}

/// How a participant deviates from the protocol (used by the simulator and tests). The hook
/// exists only with the `sim` feature; without it [`Participant::misbehaves`] is constant
/// `false` and honest code paths are all that is compiled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(not(feature = "sim"), allow(dead_code))]
pub(crate) enum Misbehaviour {
    BadShare,
    BadCommitment,
    WrongJustification,
    FalseComplaint,
}

/// The participant's seed. Zeroized on drop; `Debug` is redacted.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Seed(#[serde(with = "crate::codec::hex32")] [u8; 32]);
impl Drop for Seed {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}
impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

/// A share received from a dealer. Zeroized on drop; `Debug` is redacted.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ReceivedShare {
    pub(crate) dealer: u32,
    pub(crate) seat: u32,
    #[serde(with = "crate::codec::scalar")]
    pub(crate) value: Scalar,
}
impl Drop for ReceivedShare {
    fn drop(&mut self) {
        self.value = Scalar::from(0u64);
        std::hint::black_box(&mut self.value);
    }
}
impl std::fmt::Debug for ReceivedShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ReceivedShare {{ dealer: {}, seat: {}, value: <redacted> }}",
            self.dealer, self.seat
        )
    }
}

/// An authenticated dealing and its transcript hash.
pub(crate) type ReceivedDealing<V> = (Signed<Dealing<V>>, [u8; 32]);

/// Distinct authenticated messages kept per sender and round: two different ones already
/// prove equivocation, so a third is never needed (bounds memory against a Byzantine sender).
const MAX_DISTINCT: usize = 2;

/// One participant of a DKG or resharing session. Serializable at any point (crash/resume).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct Participant<V: Variant> {
    pub(crate) config: DkgConfig<V>,
    /// [`DkgConfig::digest`]: what every message, proof and ciphertext is bound to.
    #[serde(with = "crate::codec::hex32")]
    pub(crate) context: [u8; 32],
    pub(crate) keys: IdentityKeys,
    seed: Seed,
    pub(crate) dealer: Option<Member>,
    pub(crate) player: Option<Member>,
    pub(crate) old_shares: Vec<SecretShare>,
    pub(crate) phase: Phase,
    /// Authenticated dealings per dealer seat, each with its transcript hash (computed once,
    /// on arrival, for the signature check; reused as the ciphertexts' associated data).
    pub(crate) received_dealings: BTreeMap<u32, Vec<ReceivedDealing<V>>>,
    pub(crate) received_complaints: BTreeMap<u32, Vec<Signed<Complaint>>>,
    /// Authenticated complaints that arrived after the complaint deadline, during the justify
    /// window (judged at the end, see [`Participant::finalize`]).
    #[serde(default)]
    pub(crate) late_complaints: BTreeMap<u32, Vec<Signed<Complaint>>>,
    pub(crate) received_justifications: BTreeMap<u32, Vec<Signed<Justification>>>,
    pub(crate) valid: BTreeMap<u32, Signed<Dealing<V>>>,
    pub(crate) faults: BTreeMap<u32, FaultKind>,
    pub(crate) evidence: Vec<Evidence<V>>,
    pub(crate) shares: Vec<ReceivedShare>,
    pub(crate) upheld: BTreeMap<u32, BTreeSet<u32>>,
    pub(crate) upheld_complaints: BTreeMap<u32, Vec<Signed<Complaint>>>,
    /// Test-only deviation (simulator); absent from the default build and from its state.
    #[cfg(feature = "sim")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) misbehaviour: Option<Misbehaviour>,
}

impl<V: Variant> Participant<V> {
    /// A participant of a fresh DKG. `seed` must be secret and fresh: all randomness of this
    /// participant (polynomials, nonces, batch weights) is derived from it.
    pub fn new(config: DkgConfig<V>, keys: IdentityKeys, seed: [u8; 32]) -> Result<Self, Error> {
        Self::new_resharing(config, keys, seed, Vec::new())
    }

    /// A participant of a resharing: `old_shares` are its current shares (one per dealer seat it
    /// holds); for a fresh DKG pass none.
    pub fn new_resharing(
        config: DkgConfig<V>,
        keys: IdentityKeys,
        seed: [u8; 32],
        old_shares: Vec<SecretShare>,
    ) -> Result<Self, Error> {
        config.validate()?;
        let signing = keys.signing.public();
        let dealer = config.dealers.by_signing_key(&signing).cloned();
        let player = config.players.by_signing_key(&signing).cloned();
        for m in dealer.iter().chain(&player) {
            if m.encryption_key != keys.encryption.public() {
                return Err(Error::InvalidConfig("encryption key does not match".into()));
            }
        }
        if dealer.is_none() && player.is_none() {
            return Err(Error::NotAParticipant);
        }
        if let (Some(prev), Some(me)) = (&config.previous, &dealer) {
            for &seat in &me.seats {
                let share = old_shares
                    .iter()
                    .find(|s| s.index() == seat)
                    .ok_or_else(|| Error::InvalidConfig(format!("missing old share {seat}")))?;
                if !crate::verify::check_share(prev, seat, share.value()) {
                    return Err(Error::InvalidConfig(format!(
                        "old share {seat} does not match the previous commitment"
                    )));
                }
            }
        }
        Ok(Participant {
            context: config.digest(),
            config,
            keys,
            seed: Seed(seed),
            dealer,
            player,
            old_shares,
            phase: Phase::Init,
            received_dealings: BTreeMap::new(),
            received_complaints: BTreeMap::new(),
            late_complaints: BTreeMap::new(),
            received_justifications: BTreeMap::new(),
            valid: BTreeMap::new(),
            faults: BTreeMap::new(),
            evidence: Vec::new(),
            shares: Vec::new(),
            upheld: BTreeMap::new(),
            upheld_complaints: BTreeMap::new(),
            #[cfg(feature = "sim")]
            misbehaviour: None,
        })
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The session configuration.
    pub fn config(&self) -> &DkgConfig<V> {
        &self.config
    }

    /// This participant's dealer seats (empty if it does not deal).
    pub fn dealer_seats(&self) -> &[u32] {
        self.dealer.as_ref().map_or(&[], |m| &m.seats)
    }

    /// This participant's player seats (empty if it receives no shares).
    pub fn player_seats(&self) -> &[u32] {
        self.player.as_ref().map_or(&[], |m| &m.seats)
    }

    /// The configuration digest every message of this session is bound to.
    pub fn context(&self) -> &[u8; 32] {
        &self.context
    }

    /// A deterministic RNG for one purpose, derived from the secret seed and the configuration
    /// digest (a seed reused in another session or configuration gives other polynomials).
    pub(crate) fn rng(&self, label: &[u8], index: u32) -> ChaCha20Rng {
        let mut h = Sha256::new();
        h.update(b"conclave-dkg/v2/rng");
        h.update(self.seed.0);
        h.update(self.context);
        h.update((label.len() as u32).to_be_bytes());
        h.update(label);
        h.update(index.to_be_bytes());
        ChaCha20Rng::from_seed(h.finalize().into())
    }

    /// True if this participant was told (by the simulator) to deviate in way `m`.
    #[cfg(feature = "sim")]
    pub(crate) fn misbehaves(&self, m: Misbehaviour) -> bool {
        self.misbehaviour == Some(m)
    }

    /// Without the `sim` feature no participant deviates.
    #[cfg(not(feature = "sim"))]
    #[inline(always)]
    pub(crate) fn misbehaves(&self, _m: Misbehaviour) -> bool {
        false
    }

    /// The secret polynomial of one of this participant's dealer seats (re-derived on demand).
    pub(crate) fn polynomial(&self, seat: u32) -> Result<Polynomial, Error> {
        let mut rng = self.rng(b"polynomial", seat);
        if self.misbehaves(Misbehaviour::BadCommitment) {
            return Ok(Polynomial::random(self.config.t + 1, &mut rng)?);
        }
        match &self.config.previous {
            None => Ok(Polynomial::random(self.config.t, &mut rng)?),
            Some(_) => {
                let old = self
                    .old_shares
                    .iter()
                    .find(|s| s.index() == seat)
                    .ok_or_else(|| Error::InvalidConfig(format!("missing old share {seat}")))?;
                Ok(Polynomial::with_constant(
                    *old.value(),
                    self.config.t,
                    &mut rng,
                )?)
            }
        }
    }

    /// Process one input; returns the messages to broadcast and, at the end, the result.
    pub fn handle(&mut self, input: Input<V>) -> Result<Vec<Output<V>>, Error> {
        match input {
            Input::Start => {
                if self.phase != Phase::Init {
                    return Err(self.wrong_phase("already started"));
                }
                self.phase = Phase::Deal;
                self.deal()
            }
            Input::Message(m) => {
                self.receive(m)?;
                Ok(Vec::new())
            }
            Input::DeadlinePassed(p) if p != self.phase => Ok(Vec::new()),
            Input::DeadlinePassed(Phase::Deal) => {
                let out = self.process_dealings()?;
                self.phase = Phase::Complain;
                Ok(out)
            }
            Input::DeadlinePassed(Phase::Complain) => {
                let out = self.evaluate_complaints()?;
                self.phase = Phase::Justify;
                Ok(out)
            }
            Input::DeadlinePassed(Phase::Justify) => {
                let result = self.finalize()?;
                self.phase = Phase::Done;
                Ok(vec![Output::Finished(Box::new(result))])
            }
            Input::DeadlinePassed(_) => Ok(Vec::new()),
        }
    }

    /// [`Input::Message`], telling whether the message added an authenticated body that was
    /// not stored before (`false`: a repeat, or a body over the per-sender bound, neither of
    /// them verified). A host that relays the messages it accepts relays only on `true`, so
    /// what it relays is authenticated and bounded per sender and round like what it stores.
    pub fn receive_new(&mut self, message: Message<V>) -> Result<bool, Error> {
        let before = self.stored_bodies();
        self.receive(message)?;
        Ok(self.stored_bodies() > before)
    }

    fn stored_bodies(&self) -> usize {
        let dealings: usize = self.received_dealings.values().map(Vec::len).sum();
        let complaints: usize = self
            .received_complaints
            .values()
            .chain(self.late_complaints.values())
            .map(Vec::len)
            .sum();
        let justifications: usize = self.received_justifications.values().map(Vec::len).sum();
        dealings + complaints + justifications
    }

    pub(crate) fn wrong_phase(&self, reason: &'static str) -> Error {
        Error::WrongPhase {
            phase: self.phase.as_str(),
            reason,
        }
    }

    /// Take in one broadcast message. Nothing is stored unless its signature verifies under
    /// the identity key of the sender it claims (the owner of the dealer seat, or the
    /// complainer), in this configuration: a message can take no slot, and crowd out no
    /// honest message, before it is authenticated. Size limits of the configuration are
    /// checked before any hashing. Per sender and round at most [`MAX_DISTINCT`] different
    /// bodies are kept (two already prove equivocation); repeats are ignored. A message with
    /// several dealings or justifications is taken in item by item: the valid ones are kept
    /// and the first rejected one is reported.
    pub(crate) fn receive(&mut self, message: Message<V>) -> Result<(), Error> {
        let limits = self.config.limits();
        match message {
            Message::Deal(dealings) => {
                if self.phase > Phase::Deal {
                    return Err(self.wrong_phase("dealing after the deal deadline"));
                }
                if dealings.len() > limits.dealer_seats as usize {
                    return Err(Error::Malformed("more dealings than dealer seats"));
                }
                // Every item is taken in; the first rejection is reported.
                dealings
                    .into_iter()
                    .map(|d| self.receive_dealing(d, &limits))
                    .fold(Ok(()), Result::and)
            }
            Message::Complaint(c) => {
                // A complaint that missed its window (e.g. censored by the proposers of every
                // block of it) is still taken in during the justify window: it is judged at
                // the end, and only a verifiably bad share counts (see `finalize`).
                if self.phase > Phase::Justify {
                    return Err(self.wrong_phase("complaint after the justify deadline"));
                }
                let id = c.body.complainer;
                let key = self
                    .config
                    .players
                    .member(id)
                    .ok_or(Error::UnknownSender(id))?
                    .signing_key;
                c.body.check_shape(&limits)?;
                let list = if self.phase == Phase::Justify {
                    self.late_complaints.entry(id).or_default()
                } else {
                    self.received_complaints.entry(id).or_default()
                };
                if !has_room(list, |x| x.body == c.body) {
                    return Ok(());
                }
                if !c.verify(&self.context, &key) {
                    return Err(Error::InvalidSignature { sender: id });
                }
                list.push(*c);
                Ok(())
            }
            Message::Justify(js) => {
                if self.phase > Phase::Justify {
                    return Err(self.wrong_phase("justification after the deadline"));
                }
                if js.len() > limits.dealer_seats as usize {
                    return Err(Error::Malformed("more justifications than dealer seats"));
                }
                js.into_iter()
                    .map(|j| self.receive_justification(j, &limits))
                    .fold(Ok(()), Result::and)
            }
        }
    }

    /// The signing key of the owner of dealer seat `seat`.
    fn dealer_key(&self, seat: u32) -> Result<crate::sigma::Point, Error> {
        Ok(self
            .config
            .dealers
            .owner_of(seat)
            .ok_or(Error::UnknownSender(seat))?
            .signing_key)
    }

    fn receive_dealing(&mut self, d: Signed<Dealing<V>>, limits: &Limits) -> Result<(), Error> {
        let seat = d.body.dealer;
        let key = self.dealer_key(seat)?;
        if d.body.commitment.points().len() > limits.commitment_points as usize
            || d.body.ciphertexts.len() > limits.player_seats as usize
            || d.body
                .ciphertexts
                .iter()
                .any(|c| c.0.len() > MAX_CIPHERTEXT_SIZE)
        {
            return Err(Error::Malformed(
                "dealing larger than the configuration allows",
            ));
        }
        let list = self.received_dealings.entry(seat).or_default();
        if !has_room(list, |(x, _)| x.body == d.body) {
            return Ok(());
        }
        // The transcript hash is kept for the deadline (the ciphertexts' associated data).
        let transcript = d.body.transcript_hash(&self.context);
        let digest = d.body.signed_digest(&transcript);
        if !d
            .signature
            .verify(&key, <Dealing<V> as crate::messages::Body>::DOMAIN, &digest)
        {
            return Err(Error::InvalidSignature { sender: seat });
        }
        list.push((d, transcript));
        Ok(())
    }

    fn receive_justification(
        &mut self,
        j: Signed<Justification>,
        limits: &Limits,
    ) -> Result<(), Error> {
        let seat = j.body.dealer;
        let key = self.dealer_key(seat)?;
        let mut seen = BTreeSet::new();
        if j.body.shares.len() > limits.player_seats as usize
            || !j.body.shares.iter().all(|s| seen.insert(s.seat))
        {
            return Err(Error::Malformed(
                "justification with too many or repeated seats",
            ));
        }
        let list = self.received_justifications.entry(seat).or_default();
        if !has_room(list, |x| x.body == j.body) {
            return Ok(());
        }
        if !j.verify(&self.context, &key) {
            return Err(Error::InvalidSignature { sender: seat });
        }
        list.push(j);
        Ok(())
    }
}

/// The one storage rule of every round: a new body takes a slot only while fewer than
/// [`MAX_DISTINCT`] different bodies are kept and it repeats none of them (repeats and extras are
/// ignored unverified); the caller then keeps it only if its signature verifies.
fn has_room<T>(list: &[T], repeats: impl Fn(&T) -> bool) -> bool {
    list.len() < MAX_DISTINCT && !list.iter().any(repeats)
}

impl<V: Variant> Participant<V> {
    /// A copy of this participant (benchmarks time one phase repeatedly from the same state).
    /// Cloning duplicates secrets: never use it to run the same participant twice for real.
    #[doc(hidden)]
    pub fn clone_for_bench(&self) -> Self {
        Participant {
            config: self.config.clone(),
            context: self.context,
            keys: self.keys.clone(),
            seed: self.seed.clone(),
            dealer: self.dealer.clone(),
            player: self.player.clone(),
            old_shares: self.old_shares.clone(),
            phase: self.phase,
            received_dealings: self.received_dealings.clone(),
            received_complaints: self.received_complaints.clone(),
            late_complaints: self.late_complaints.clone(),
            received_justifications: self.received_justifications.clone(),
            valid: self.valid.clone(),
            faults: self.faults.clone(),
            evidence: self.evidence.clone(),
            shares: self.shares.clone(),
            upheld: self.upheld.clone(),
            upheld_complaints: self.upheld_complaints.clone(),
            #[cfg(feature = "sim")]
            misbehaviour: self.misbehaviour,
        }
    }
}
