//! A DKG or resharing whose messages are ordered by a consensus log instead of a synchronous
//! broadcast with wall-clock deadlines.
//!
//! [`LogDriver`] wraps one [`Participant`]. The host carries every message the participant
//! wants to broadcast ([`LogStep::submit`]) as a transaction into a block, and feeds every
//! decided block to every node's driver in height order ([`LogDriver::on_block`]). The phase
//! deadlines are block heights of a [`LogSchedule`]: a driver created at height `start` takes
//! dealings in blocks `start+1 ..= start+W`, complaints in `start+W+1 ..= start+2W` and
//! justifications in `start+2W+1 ..= start+3W` (`W` = [`LogSchedule::window`]); after block
//! `start+3W` it finishes. Since every honest node sees the same blocks in the same order, every
//! honest node hands its participant the same messages before the same deadline: the log *is*
//! the synchronous broadcast the DKG assumes, and QUAL, the group commitment and the evidence
//! are the same everywhere. No clock is involved.
//!
//! What a Byzantine node can put in the log, and what happens to it (each outcome is a
//! [`Rejected`] entry of the step, never an error and never a panic):
//!
//! * bytes that do not decode as an [`Envelope`] within the session's size limits, or a
//!   message of another session or epoch (the envelope's digest is not this configuration's
//!   [`DkgConfig::digest`]): dropped before any signature is checked;
//! * a message of the wrong round for the block's window (a dealing after the deal deadline
//!   height, a complaint during the deal window, …): dropped. The one exception is a
//!   complaint in the justify window: a complaint censored through its whole window (every
//!   proposer of it faulty or crashed) would otherwise qualify the dealer it proves bad and
//!   leave every honest player with a share inconsistent with the group commitment. It is
//!   judged at the end; only a share proven bad counts, which an honest dealer never deals,
//!   so a late complaint never disqualifies an honest dealer;
//! * a message from a non-member, or one claiming another member as its sender: the
//!   participant checks every message against the identity key of the sender it names, in this
//!   configuration's digest (which binds the session id, hence the epoch), and stores it only
//!   if it verifies;
//! * duplicates: ignored; two different signed bodies from one sender in one round:
//!   equivocation, proven by the two signed messages ([`crate::Evidence`]), and the dealer is
//!   disqualified.
//!
//! A resharing that ends with fewer than `t_old + 1` qualified old holders (or any other failure
//! of the participant at a deadline) is [`LogOutcome::Failed`] with the reason: no share and no
//! key come out of it, and the host keeps the old committee.
//!
//! The driver is serializable (serde) at any point, so a node that crashes mid-resharing
//! resumes from its last persisted driver and the blocks after it.
//!
//! Where the log's blocks are limited in size, the host must bound the transactions per
//! block; the driver bounds what it keeps exactly as [`Participant`] does (at most two
//! distinct bodies per sender and round).

use conclave_threshold_sig::Variant;

use crate::codec::{Reader, Writer};
use crate::config::DkgConfig;
use crate::error::Error;
use crate::messages::Message;
use crate::participant::{DkgOutput, Input, Output, Participant, Phase};

/// The heights of one log-ordered session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogSchedule {
    /// The height of the block that fixed the configuration (the session starts after it).
    pub start: u64,
    /// Blocks per phase (`≥ 1`): each round's messages must be in one of the `window` blocks
    /// after the previous deadline. Choose it so that a message submitted right after a
    /// deadline is decided within the window despite faulty proposers (each block is proposed
    /// by an honest seat with probability about 2/3 or more).
    pub window: u64,
}

impl LogSchedule {
    /// The last height of the window of `phase` (its deadline), `None` for `Init`/`Done`.
    pub fn deadline(&self, phase: Phase) -> Option<u64> {
        let k = match phase {
            Phase::Deal => 1,
            Phase::Complain => 2,
            Phase::Justify => 3,
            Phase::Init | Phase::Done => return None,
        };
        self.start.checked_add(self.window.checked_mul(k)?)
    }

    /// The height after which the session has finished (the justify deadline).
    pub fn end(&self) -> Option<u64> {
        self.deadline(Phase::Justify)
    }

    /// The phase whose messages block `height` may carry (`None` outside the session).
    pub fn window_of(&self, height: u64) -> Option<Phase> {
        if height <= self.start {
            return None;
        }
        [Phase::Deal, Phase::Complain, Phase::Justify]
            .into_iter()
            .find(|&p| self.deadline(p).is_some_and(|d| height <= d))
    }
}

/// A DKG message as carried in a block: the configuration digest it belongs to (so another
/// session's or epoch's messages are dropped unverified) and the signed message itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<V: Variant> {
    /// [`DkgConfig::digest`] of the session.
    pub session: [u8; 32],
    /// The message (signed by its sender inside).
    pub message: Message<V>,
}

/// The tag that starts every encoded [`Envelope`].
pub const ENVELOPE_TAG: &[u8; 8] = b"cdkglog1";

impl<V: Variant> Envelope<V> {
    /// Canonical encoding: [`ENVELOPE_TAG`], the digest, the message's canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.0.extend_from_slice(ENVELOPE_TAG);
        w.0.extend_from_slice(&self.session);
        w.0.extend_from_slice(&self.message.to_bytes());
        w.0
    }

    /// Decode within the size limits of `config` (see [`Message::from_bytes_limited`]).
    pub fn from_bytes(bytes: &[u8], config: &DkgConfig<V>) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        if r.take(ENVELOPE_TAG.len())? != ENVELOPE_TAG {
            return Err(Error::Malformed("not a DKG log envelope"));
        }
        let session: [u8; 32] = r.array()?;
        let message = Message::from_bytes_limited(r.rest(), &config.limits())?;
        Ok(Envelope { session, message })
    }

    /// True if `bytes` start with [`ENVELOPE_TAG`] (a host can tell DKG transactions from
    /// others without decoding them).
    pub fn is_envelope(bytes: &[u8]) -> bool {
        bytes.starts_with(ENVELOPE_TAG)
    }
}

/// A transaction of a block that the driver did not take in, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejected {
    /// Block height.
    pub height: u64,
    /// Position of the transaction among the block's DKG transactions.
    pub index: usize,
    /// Why (the decoding or verification error, or the schedule rule it broke).
    pub reason: String,
}

/// How a log-ordered session ended.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
#[non_exhaustive]
pub enum LogOutcome<V: Variant> {
    /// New shares (for a player) under the group commitment; for a resharing the group key is
    /// the previous one.
    Finished(Box<DkgOutput<V>>),
    /// No result: the old committee stays (a resharing) and nothing new may be used.
    Failed {
        /// The participant's error at the deadline (e.g. not enough qualified dealers).
        reason: String,
    },
}

/// What one block did to the session.
#[derive(Clone, Debug, Default)]
pub struct LogStep<V: Variant> {
    /// Encoded [`Envelope`]s the host must submit as transactions (to be included in later
    /// blocks). Silent Byzantine hosts drop them; an honest one must not.
    pub submit: Vec<Vec<u8>>,
    /// Transactions of the block that were not taken in.
    pub rejected: Vec<Rejected>,
    /// The end of the session, after the block of its last deadline.
    pub outcome: Option<LogOutcome<V>>,
}

/// Why [`LogDriver::on_block`] refused a block (a host error, not a peer's).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// Blocks must be fed in order, each exactly once.
    #[error("expected block {expected}, got block {got}")]
    OutOfOrder {
        /// The next height the driver takes.
        expected: u64,
        /// The height given.
        got: u64,
    },
    /// The session already ended.
    #[error("the session already ended at height {0}")]
    Ended(u64),
    /// The schedule's heights overflow or its window is zero.
    #[error("invalid schedule: window must be ≥ 1 and heights must fit in u64")]
    Schedule,
}

/// One node's log-ordered DKG or resharing (see the module docs). Serializable for
/// crash/resume.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct LogDriver<V: Variant> {
    participant: Participant<V>,
    schedule: LogSchedule,
    /// The last height fed.
    height: u64,
    ended: bool,
}

impl<V: Variant> LogDriver<V> {
    /// Start `participant` (created for the session's configuration, not yet started) at
    /// `schedule.start`. Returns the driver and the messages to submit (its dealings, if it
    /// deals).
    pub fn start(
        mut participant: Participant<V>,
        schedule: LogSchedule,
    ) -> Result<(Self, Vec<Vec<u8>>), Error> {
        if schedule.window == 0 || schedule.end().is_none() {
            return Err(Error::InvalidConfig(LogError::Schedule.to_string()));
        }
        let out = participant.handle(Input::Start)?;
        let mut driver = LogDriver {
            participant,
            schedule,
            height: schedule.start,
            ended: false,
        };
        let mut step = LogStep::default();
        driver.absorb(out, &mut step);
        Ok((driver, step.submit))
    }

    /// The schedule.
    pub fn schedule(&self) -> &LogSchedule {
        &self.schedule
    }

    /// The last height fed (`schedule.start` before any block).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// True once the session ended (an outcome was returned).
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The participant (its phase, seats, configuration).
    pub fn participant(&self) -> &Participant<V> {
        &self.participant
    }

    /// Feed decided block `height` (exactly `self.height() + 1`), given the block's DKG
    /// transactions in block order (the host passes every transaction that
    /// [`Envelope::is_envelope`]; others are not the driver's). Peer-controlled content never
    /// makes this fail: it ends up in [`LogStep::rejected`].
    pub fn on_block<B: AsRef<[u8]>>(
        &mut self,
        height: u64,
        txs: &[B],
    ) -> Result<LogStep<V>, LogError> {
        if self.ended {
            return Err(LogError::Ended(self.height));
        }
        let expected = self.height + 1;
        if height != expected {
            return Err(LogError::OutOfOrder {
                expected,
                got: height,
            });
        }
        self.height = height;
        let mut step = LogStep::default();
        let window = self.schedule.window_of(height);
        let context = *self.participant.context();
        for (index, tx) in txs.iter().enumerate() {
            let reject = |reason: String| Rejected {
                height,
                index,
                reason,
            };
            let envelope = match Envelope::from_bytes(tx.as_ref(), self.participant.config()) {
                Ok(e) => e,
                Err(e) => {
                    step.rejected.push(reject(e.to_string()));
                    continue;
                }
            };
            if envelope.session != context {
                step.rejected
                    .push(reject("message of another session or epoch".into()));
                continue;
            }
            let round = match envelope.message {
                Message::Deal(_) => Phase::Deal,
                Message::Complaint(_) => Phase::Complain,
                Message::Justify(_) => Phase::Justify,
            };
            // A complaint may also come late, in the justify window (see `Participant`).
            let late_complaint = round == Phase::Complain && window == Some(Phase::Justify);
            if window != Some(round) && !late_complaint {
                step.rejected.push(reject(format!(
                    "{} message outside its window (block {height} is in the {} window)",
                    round.as_str(),
                    window.map_or("no", |p| p.as_str())
                )));
                continue;
            }
            if let Err(e) = self.participant.handle(Input::Message(envelope.message)) {
                step.rejected.push(reject(e.to_string()));
            }
        }
        let phase = self.participant.phase();
        if self.schedule.deadline(phase) == Some(height) {
            match self.participant.handle(Input::DeadlinePassed(phase)) {
                Ok(out) => self.absorb(out, &mut step),
                Err(e) => {
                    self.ended = true;
                    step.outcome = Some(LogOutcome::Failed {
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok(step)
    }

    fn absorb(&mut self, outputs: Vec<Output<V>>, step: &mut LogStep<V>) {
        let session = *self.participant.context();
        for out in outputs {
            match out {
                Output::Broadcast(message) => {
                    step.submit.push(Envelope { session, message }.to_bytes());
                }
                Output::Finished(result) => {
                    self.ended = true;
                    step.outcome = Some(LogOutcome::Finished(result));
                }
            }
        }
    }
}

/// The session id of the resharing that hands the key of `chain` from epoch `epoch` to epoch
/// `epoch + 1` (the configuration digest adds both committees, the threshold and the old
/// commitment, so the messages of one epoch's resharing never verify in another's).
pub fn resharing_session(chain: &[u8], epoch: u64) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(b"conclave-dkg/log/v1/resharing")
        .chain_update((chain.len() as u64).to_be_bytes())
        .chain_update(chain)
        .chain_update(epoch.to_be_bytes())
        .finalize()
        .into()
}

/// The tag that starts every encoded [`Ready`].
pub const READY_TAG: &[u8; 8] = b"cdkgrdy1";
const READY_DOMAIN: &[u8] = b"conclave-dkg/v2/ready";
/// Encoded size of a [`Ready`].
pub const READY_SIZE: usize = 8 + 32 + 1 + 4 + crate::sigma::SchnorrSignature::SIZE;

/// A member's signed statement "I have nothing to post in this round" (for [`AdaptiveDriver`]:
/// no complaint, nothing to justify): it lets a window close as soon as every expected member
/// posted, including members with nothing to say. A member with a message posts the message
/// instead, never both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ready {
    /// [`DkgConfig::digest`] of the session.
    pub session: [u8; 32],
    /// The round (deal, complain or justify).
    pub round: Phase,
    /// The member.
    pub sender: u32,
    /// Its identity signature over (session, round, sender).
    pub signature: crate::sigma::SchnorrSignature,
}

fn round_code(p: Phase) -> Option<u8> {
    match p {
        Phase::Deal => Some(1),
        Phase::Complain => Some(2),
        Phase::Justify => Some(3),
        Phase::Init | Phase::Done => None,
    }
}

fn ready_digest(session: &[u8; 32], round: u8, sender: u32) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(b"conclave-dkg/log/ready/v1")
        .chain_update(session)
        .chain_update([round])
        .chain_update(sender.to_be_bytes())
        .finalize()
        .into()
}

impl Ready {
    /// Encoding: [`READY_TAG`], session, round code (1..=3), sender u32, signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(READY_SIZE);
        v.extend_from_slice(READY_TAG);
        v.extend_from_slice(&self.session);
        v.push(round_code(self.round).unwrap_or(0));
        v.extend_from_slice(&self.sender.to_be_bytes());
        v.extend_from_slice(&self.signature.to_bytes());
        v
    }

    /// Decode [`Self::to_bytes`] (exactly [`READY_SIZE`] bytes; the signature is not checked
    /// here, see [`Self::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != READY_SIZE || !bytes.starts_with(READY_TAG) {
            return Err(Error::Malformed("not a DKG ready statement"));
        }
        let session: [u8; 32] = bytes[8..40].try_into().expect("32 bytes");
        let round = match bytes[40] {
            1 => Phase::Deal,
            2 => Phase::Complain,
            3 => Phase::Justify,
            _ => return Err(Error::Malformed("ready statement for no round")),
        };
        let sender = u32::from_be_bytes(bytes[41..45].try_into().expect("4 bytes"));
        let signature = crate::sigma::SchnorrSignature::from_bytes(&bytes[45..])?;
        Ok(Ready {
            session,
            round,
            sender,
            signature,
        })
    }

    /// True if the sender is a member of `config` and signed this statement in it.
    pub fn verify<V: Variant>(&self, config: &DkgConfig<V>) -> bool {
        let Some(code) = round_code(self.round) else {
            return false;
        };
        let member = config
            .players
            .member(self.sender)
            .or_else(|| config.dealers.member(self.sender));
        self.session == config.digest()
            && member.is_some_and(|m| {
                self.signature.verify(
                    &m.signing_key,
                    READY_DOMAIN,
                    &ready_digest(&self.session, code, self.sender),
                )
            })
    }
}

/// What a transaction of an adaptive log is, once authenticated ([`AdaptiveDriver::check`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxInfo {
    /// Its round.
    pub round: Phase,
    /// The member that signed it.
    pub sender: u32,
    /// True for a [`Ready`] statement, false for a DKG message ([`Envelope`]).
    pub ready: bool,
}

/// What one block did to an adaptive session.
#[derive(Clone, Debug, Default)]
pub struct AdaptiveStep<V: Variant> {
    /// Transactions the host must submit for later blocks (this member's messages and its
    /// [`Ready`] statements).
    pub submit: Vec<Vec<u8>>,
    /// Transactions of the block that were not taken in.
    pub rejected: Vec<Rejected>,
    /// The round whose window this block closed, and whether it closed at its limit
    /// ([`AdaptiveDriver::max_window`] blocks) rather than because every expected member
    /// posted.
    pub closed: Option<(Phase, bool)>,
    /// The end of the session.
    pub outcome: Option<LogOutcome<V>>,
}

/// A log-ordered DKG or resharing whose windows close as soon as every expected member has
/// posted in the round, and at the latest after `max_window` blocks.
///
/// The deadline of each round is a function of the log alone, so every honest node that feeds
/// the same blocks closes each round at the same block, with the same messages: the property
/// the Joint-Feldman DKG needs from its broadcast, with no clock. A member *posts* in a round
/// when the window holds an authenticated message of that round from it or its [`Ready`]
/// statement. The deal window expects every dealer; a later window expects the members of its
/// role that posted in the previous window (a member that posted nothing there is counted as
/// faulty, exactly as a deadline would). Windows begin right after the previous one closed,
/// the first right after `start`.
///
/// The honest host submits what [`AdaptiveDriver::start`] and [`AdaptiveDriver::on_block`]
/// return (one transaction per round: its message, or its ready statement if it has none) and includes in its proposals every
/// authenticated transaction of the current round that it holds ([`AdaptiveDriver::check`]),
/// so a faulty proposer can delay, never suppress, an honest member's post. What a Byzantine
/// member puts in the log is handled as in [`LogDriver`]: a wrong round, session or signature
/// is a [`Rejected`] entry, never an error.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct AdaptiveDriver<V: Variant> {
    participant: Participant<V>,
    max_window: u64,
    height: u64,
    window_start: u64,
    posted: std::collections::BTreeSet<u32>,
    expected: std::collections::BTreeSet<u32>,
    ended: bool,
}

impl<V: Variant> AdaptiveDriver<V> {
    /// Start `participant` (not yet started) after block `start`, with windows of at most
    /// `max_window ≥ 1` blocks. Returns the driver and the transactions to submit.
    pub fn start(
        mut participant: Participant<V>,
        start: u64,
        max_window: u64,
    ) -> Result<(Self, Vec<Vec<u8>>), Error> {
        if max_window == 0 || start.checked_add(3 * max_window).is_none() {
            return Err(Error::InvalidConfig(LogError::Schedule.to_string()));
        }
        let out = participant.handle(Input::Start)?;
        let expected = participant
            .config()
            .dealers
            .members
            .iter()
            .map(|m| m.id)
            .collect();
        let mut driver = AdaptiveDriver {
            participant,
            max_window,
            height: start,
            window_start: start + 1,
            posted: Default::default(),
            expected,
            ended: false,
        };
        let mut step = AdaptiveStep::default();
        driver.absorb(out, &mut step);
        Ok((driver, step.submit))
    }

    /// The participant.
    pub fn participant(&self) -> &Participant<V> {
        &self.participant
    }

    /// The last height fed.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The most blocks a window lasts.
    pub fn max_window(&self) -> u64 {
        self.max_window
    }

    /// True once the session ended.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The round whose window the next block is in (`None` once ended).
    pub fn round(&self) -> Option<Phase> {
        (!self.ended)
            .then(|| self.participant.phase())
            .filter(|p| round_code(*p).is_some())
    }

    /// The members the current window waits for.
    pub fn expected(&self) -> &std::collections::BTreeSet<u32> {
        &self.expected
    }

    /// The members that posted in the current window so far.
    pub fn posted(&self) -> &std::collections::BTreeSet<u32> {
        &self.posted
    }

    /// Authenticate a transaction without taking it in: a DKG message ([`Envelope`]) or a
    /// [`Ready`] of this session, signed by the member it names. Hosts check peers'
    /// transactions with it before relaying, holding or proposing them, and validate proposed
    /// blocks with it (a block of the current window should carry only current-round
    /// transactions: compare [`TxInfo::round`] with [`Self::round`]).
    pub fn check(&self, tx: &[u8]) -> Result<TxInfo, Error> {
        let config = self.participant.config();
        if tx.starts_with(READY_TAG) {
            let r = Ready::from_bytes(tx)?;
            if !r.verify(config) {
                return Err(Error::InvalidSignature { sender: r.sender });
            }
            return Ok(TxInfo {
                round: r.round,
                sender: r.sender,
                ready: true,
            });
        }
        let e = Envelope::from_bytes(tx, config)?;
        if e.session != *self.participant.context() {
            return Err(Error::Malformed("message of another session or epoch"));
        }
        let sender = e.message.authenticate(config)?;
        Ok(TxInfo {
            round: e.message.round(),
            sender,
            ready: false,
        })
    }

    /// This member's [`Ready`] for `round`, encoded.
    fn ready(&self, round: Phase) -> Option<Vec<u8>> {
        let code = round_code(round)?;
        let session = *self.participant.context();
        let sender = self.participant.keys.signing.public();
        let config = self.participant.config();
        let id = config
            .players
            .members
            .iter()
            .chain(&config.dealers.members)
            .find(|m| m.signing_key == sender)?
            .id;
        let signature = crate::sigma::SchnorrSignature::sign(
            &self.participant.keys.signing,
            READY_DOMAIN,
            &ready_digest(&session, code, id),
            &mut rand_core::OsRng,
        );
        Some(
            Ready {
                session,
                round,
                sender: id,
                signature,
            }
            .to_bytes(),
        )
    }

    /// The role (committee) whose members post in `round`.
    fn role(&self, round: Phase) -> std::collections::BTreeSet<u32> {
        let c = self.participant.config();
        let committee = match round {
            Phase::Complain => &c.players,
            _ => &c.dealers,
        };
        committee.members.iter().map(|m| m.id).collect()
    }

    /// Feed decided block `height` (exactly `self.height() + 1`) with all its transactions in
    /// block order; those that are neither DKG messages nor ready statements are the host's
    /// and are skipped (pass only [`Envelope::is_envelope`] or [`READY_TAG`] ones if the log
    /// carries others).
    pub fn on_block<B: AsRef<[u8]>>(
        &mut self,
        height: u64,
        txs: &[B],
    ) -> Result<AdaptiveStep<V>, LogError> {
        if self.ended {
            return Err(LogError::Ended(self.height));
        }
        let expected_height = self.height + 1;
        if height != expected_height {
            return Err(LogError::OutOfOrder {
                expected: expected_height,
                got: height,
            });
        }
        self.height = height;
        let mut step = AdaptiveStep::default();
        let Some(round) = self.round() else {
            return Ok(step);
        };
        for (index, tx) in txs.iter().enumerate() {
            let reject = |reason: String| Rejected {
                height,
                index,
                reason,
            };
            let info = match self.check(tx.as_ref()) {
                Ok(i) => i,
                Err(e) => {
                    step.rejected.push(reject(e.to_string()));
                    continue;
                }
            };
            if info.round != round {
                step.rejected.push(reject(format!(
                    "{} message outside its window (block {height} is in the {} window)",
                    info.round.as_str(),
                    round.as_str()
                )));
                continue;
            }
            if !info.ready {
                let message =
                    Envelope::from_bytes(tx.as_ref(), self.participant.config()).map(|e| e.message);
                match message.map(|m| self.participant.handle(Input::Message(m))) {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) | Err(e) => {
                        step.rejected.push(reject(e.to_string()));
                        continue;
                    }
                }
            }
            self.posted.insert(info.sender);
        }
        let complete = self.expected.is_subset(&self.posted);
        let at_limit = height + 1 - self.window_start >= self.max_window;
        if complete || at_limit {
            step.closed = Some((round, !complete));
            let next = match round {
                Phase::Deal => Phase::Complain,
                _ => Phase::Justify,
            };
            let (current_role, next_role) = (self.role(round), self.role(next));
            self.expected = next_role
                .into_iter()
                .filter(|m| !current_role.contains(m) || self.posted.contains(m))
                .collect();
            self.posted.clear();
            self.window_start = height + 1;
            match self.participant.handle(Input::DeadlinePassed(round)) {
                Ok(out) => self.absorb(out, &mut step),
                Err(e) => {
                    self.ended = true;
                    step.outcome = Some(LogOutcome::Failed {
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok(step)
    }

    fn absorb(&mut self, outputs: Vec<Output<V>>, step: &mut AdaptiveStep<V>) {
        let session = *self.participant.context();
        let mut message = false;
        for out in outputs {
            match out {
                Output::Broadcast(m) => {
                    message = true;
                    step.submit.push(
                        Envelope {
                            session,
                            message: m,
                        }
                        .to_bytes(),
                    );
                }
                Output::Finished(result) => {
                    self.ended = true;
                    step.outcome = Some(LogOutcome::Finished(result));
                }
            }
        }
        // A member of the round's role with nothing to say posts a ready statement instead.
        // Never both: were the statement separate from a message, a faulty proposer could put
        // the statement in a block without the message and close the window without it.
        if let (Some(round), false) = (self.round(), message) {
            let me = self.ready(round);
            let member = me
                .as_ref()
                .and_then(|b| Ready::from_bytes(b).ok())
                .is_some_and(|r| self.role(round).contains(&r.sender));
            if member {
                step.submit.extend(me);
            }
        }
    }
}
