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
