//! Typed errors of the committee crate. Decoders and parameter checks return these; nothing panics on
//! bad input.

use thiserror::Error;

/// Everything that can go wrong in sortition, credential verification, seeds, seats and decoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A byte string has the wrong length for the value being decoded.
    #[error("invalid length for {what}: expected {expected} bytes, got {got}")]
    InvalidLength {
        /// What was being decoded.
        what: &'static str,
        /// The required length in bytes.
        expected: usize,
        /// The length that was supplied.
        got: usize,
    },
    /// A string is not valid hexadecimal.
    #[error("invalid hex for {what}")]
    InvalidHex {
        /// What was being decoded.
        what: &'static str,
    },
    /// The bytes are not a canonical, non-zero ristretto255 scalar.
    #[error("invalid VRF secret key encoding")]
    InvalidSecretKey,
    /// The bytes are not a valid, non-identity ristretto255 point.
    #[error("invalid VRF public key encoding")]
    InvalidPublicKey,
    /// The bytes are not a well-formed VRF proof (point or scalar not canonical).
    #[error("invalid VRF proof encoding")]
    InvalidProofEncoding,
    /// The VRF proof does not verify under the public key for this context.
    #[error("VRF proof does not verify for this public key and context")]
    InvalidProof,
    /// A credential claims a weight different from the one its proof yields.
    #[error("credential claims weight {claimed} but its proof yields {computed}")]
    WeightMismatch {
        /// The weight written in the credential.
        claimed: u64,
        /// The weight recomputed from the proof.
        computed: u64,
    },
    /// The total stake is zero or above [`crate::MAX_TOTAL_STAKE`].
    #[error("total stake {total} out of range 1..=2^63")]
    TotalStakeOutOfRange {
        /// The total stake supplied.
        total: u64,
    },
    /// A participant's stake exceeds [`crate::MAX_STAKE`].
    #[error("stake {stake} exceeds the maximum 2^53")]
    StakeTooLarge {
        /// The stake supplied.
        stake: u64,
    },
    /// A participant's stake exceeds the total stake.
    #[error("stake {stake} exceeds total stake {total}")]
    StakeExceedsTotal {
        /// The stake supplied.
        stake: u64,
        /// The total stake supplied.
        total: u64,
    },
    /// The expected committee size is zero, above [`crate::MAX_TAU`], or above the total stake.
    #[error("expected committee size {tau} out of range 1..=min(10000, total stake {total})")]
    TauOutOfRange {
        /// The expected committee size supplied.
        tau: u64,
        /// The total stake supplied.
        total: u64,
    },
    /// A role name is neither `proposer` nor `voter`.
    #[error("unknown role {0:?} (expected proposer or voter)")]
    UnknownRole(String),
    /// A seat draw was asked of a population without stake.
    #[error("the stake population is empty or has zero total stake")]
    EmptyPopulation,
    /// The sum of the population's stakes overflows or exceeds [`crate::MAX_TOTAL_STAKE`].
    #[error("the population's total stake exceeds 2^63")]
    PopulationTooLarge,
    /// A seat draw asked for more than [`crate::seats::MAX_SEATS`] seats.
    #[error("{requested} seats requested, at most {max} can be drawn")]
    TooManySeats {
        /// The number of seats asked for.
        requested: u32,
        /// The limit.
        max: u32,
    },
    /// A honest-fraction or seat-count argument is out of range.
    #[error("invalid seat parameters: {0}")]
    InvalidSeatParameters(&'static str),
}
