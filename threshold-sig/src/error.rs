//! Typed errors of the crate. Every decoder and every operation on external input returns one of
//! these; nothing in this crate panics on bad input.

use thiserror::Error;

/// Why an operation or a decoding failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input has the wrong number of bytes.
    #[error("invalid length: expected {expected} bytes, got {actual}")]
    InvalidLength {
        /// Bytes the encoding needs.
        expected: usize,
        /// Bytes that were given.
        actual: usize,
    },
    /// The input is not valid hexadecimal.
    #[error("invalid hex encoding")]
    InvalidHex,
    /// The bytes are not a canonical compressed encoding of a point on the curve.
    #[error("not a valid compressed point on the curve")]
    InvalidPoint,
    /// The point is on the curve but outside the prime-order subgroup.
    #[error("point is not in the prime-order subgroup")]
    NotInSubgroup,
    /// A public key (or public share) is the identity point (IETF KeyValidate).
    #[error("public key is the identity point")]
    IdentityPublicKey,
    /// A scalar encoding is not less than the group order.
    #[error("scalar is not less than the group order r")]
    NonCanonicalScalar,
    /// A secret key (or secret share) is zero.
    #[error("secret key is zero")]
    ZeroSecretKey,
    /// Key generation input keying material is shorter than 32 bytes.
    #[error("input keying material must be at least 32 bytes, got {0}")]
    IkmTooShort(usize),
    /// An operation that needs at least one element got none.
    #[error("empty input")]
    Empty,
    /// Two lists that must have the same length do not.
    #[error("length mismatch: {left} vs {right}")]
    LengthMismatch {
        /// Length of the first list.
        left: usize,
        /// Length of the second list.
        right: usize,
    },
    /// The basic scheme requires distinct messages in AggregateVerify.
    #[error("aggregate verify (basic scheme): messages are not distinct")]
    DuplicateMessage,
    /// A share index is zero (indices start at 1) or out of range.
    #[error("invalid share index {0} (indices are 1..=n)")]
    InvalidIndex(u32),
    /// The same share index appears twice.
    #[error("duplicate share index {0}")]
    DuplicateIndex(u32),
    /// Threshold parameters are inconsistent.
    #[error("invalid threshold parameters: t = {t}, n = {n} (need t < n)")]
    InvalidThreshold {
        /// Polynomial degree (t+1 shares are needed).
        t: u32,
        /// Number of shares.
        n: u32,
    },
    /// Fewer than t+1 valid partial signatures: the culprits are the invalid ones.
    #[error(
        "not enough valid partial signatures: need {needed}, have {valid}; invalid from {}",
        index_list(culprits)
    )]
    NotEnoughPartials {
        /// t+1.
        needed: usize,
        /// Valid partials that were supplied.
        valid: usize,
        /// Indices whose partial signatures did not verify.
        culprits: Vec<u32>,
    },
    /// A signature did not verify.
    #[error("signature verification failed")]
    VerificationFailed,
    /// More shares (or a larger share index) than [`MAX_SHARES`](crate::MAX_SHARES) allows.
    #[error("too many shares: {n} (at most {max})")]
    TooManyShares {
        /// The number of shares (or the index) asked for.
        n: u64,
        /// [`MAX_SHARES`](crate::MAX_SHARES).
        max: u32,
    },
    /// An empty domain separation tag (RFC 9380 requires a non-empty DST).
    #[error("empty domain separation tag")]
    EmptyDst,
    /// Threshold signing does not support the message-augmentation (`AUG`) scheme: partial
    /// signatures would have to hash the group key with the message, and they do not.
    #[error("the message-augmentation (AUG) scheme is not supported for threshold signatures")]
    AugmentationUnsupported,
    /// A scheme name other than `basic` (or `nul`), `aug` and `pop`.
    #[error("unknown scheme {0:?} (expected basic, aug or pop)")]
    UnknownScheme(String),
}

/// Indices for a message: `2, 5, 7`, or `none`.
fn index_list(indices: &[u32]) -> String {
    if indices.is_empty() {
        return "none".into();
    }
    indices
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn messages_list_indices_without_debug_formatting() {
        let e = Error::NotEnoughPartials {
            needed: 3,
            valid: 1,
            culprits: vec![2, 5],
        };
        assert_eq!(
            e.to_string(),
            "not enough valid partial signatures: need 3, have 1; invalid from 2, 5"
        );
        let none = Error::NotEnoughPartials {
            needed: 3,
            valid: 2,
            culprits: vec![],
        };
        assert!(none.to_string().ends_with("invalid from none"), "{none}");
    }
}
