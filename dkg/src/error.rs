//! Typed errors of the DKG. Nothing in this crate panics on external input; every failure names
//! the culprit (a dealer seat or a participant id) wherever one can be named.

use thiserror::Error;

/// Why a DKG operation, a decoding or a protocol step failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A byte encoding is truncated, too long or otherwise malformed.
    #[error("malformed encoding: {0}")]
    Malformed(&'static str),
    /// A ristretto255 point or scalar (identity keys, proofs) failed validation.
    #[error("invalid ristretto255 value: {0}")]
    InvalidPoint(&'static str),
    /// A curve point or scalar failed validation.
    #[error("invalid cryptographic value: {0}")]
    Crypto(#[from] conclave_threshold_sig::Error),
    /// Parameters are inconsistent (thresholds, seats, committees).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The identity keys given to a participant are not in the committees of the configuration.
    #[error("identity keys are neither a dealer nor a player of this session")]
    NotAParticipant,
    /// An input arrived that the current phase does not accept.
    #[error("input not accepted in phase {phase}: {reason}")]
    WrongPhase {
        /// The phase the participant is in.
        phase: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A message is attributed to a seat or participant that does not exist.
    #[error("unknown sender: {0}")]
    UnknownSender(u32),
    /// A message claims a sender (dealer seat or complainer id) whose identity key did not
    /// sign it in this configuration; it was not stored.
    #[error("invalid signature: the message does not come from sender {sender}")]
    InvalidSignature {
        /// The claimed sender.
        sender: u32,
    },
    /// A player's final share does not match the group commitment (never expected: the
    /// participant refuses to output it).
    #[error("own share for seat {seat} is inconsistent with the group commitment")]
    InconsistentShare {
        /// Player seat.
        seat: u32,
    },
    /// Too few dealers qualified to produce a key.
    #[error("not enough qualified dealers: need {needed}, have {qualified}")]
    NotEnoughQualified {
        /// Dealers needed (t+1 for a fresh DKG, t_old+1 for a resharing).
        needed: usize,
        /// Dealers that qualified.
        qualified: usize,
    },
    /// A share needed for the result is missing (never expected for an honest participant).
    #[error("missing share from dealer {dealer} for seat {seat}")]
    MissingShare {
        /// Dealer seat.
        dealer: u32,
        /// Player seat.
        seat: u32,
    },
    /// Honest participants of a simulation reached different results (a bug, never expected).
    #[error("simulation: honest participants disagree ({0})")]
    Disagreement(&'static str),
    /// [`crate::Evidence::verify`] found that the quoted messages do not prove the fault.
    #[error("evidence does not prove the fault: {0}")]
    InvalidEvidence(&'static str),
    /// A recovery transcript ([`crate::Participant::recover`]) does not match the QUAL it
    /// claims to be the transcript of.
    #[error("recovery transcript does not match QUAL: {0}")]
    TranscriptMismatch(&'static str),
    /// Invalid input to the simulator or the CLI (e.g. a malformed `--byzantine` list).
    #[error("{0}")]
    InvalidInput(String),
}
