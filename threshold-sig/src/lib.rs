//! # conclave-threshold-sig
//!
//! BLS12-381 signatures on [`blstrs`]/[`blst`] for Byzantine-fault-tolerant protocols:
//!
//! * both variants through one [`Variant`] trait: [`MinPk`] (public keys in G1, signatures in G2)
//!   and [`MinSig`] (public keys in G2, signatures in G1);
//! * the IETF ciphersuites (draft-irtf-cfrg-bls-signature-05): basic, message augmentation and
//!   proof of possession, with the draft's exact DSTs or a custom one ([`Ciphersuite`]);
//!   IETF KeyGen, PopProve / PopVerify;
//! * aggregation: [`aggregate_signatures`], [`aggregate_public_keys`], [`fast_aggregate_verify`],
//!   [`aggregate_verify`], and [`verify_batch`] for independent triples, which names the invalid
//!   entries;
//! * **t+1-of-n threshold signing**: [`Polynomial`], Feldman [`Commitment`]s, zeroizing
//!   [`SecretShare`]s, [`PublicShare`]s derived in `O(n·t)` group additions, partial signatures and
//!   their (batched) verification, and [`Combiner`]: cached Lagrange weights + one Pippenger MSM,
//!   with a robust mode that names culprits and verifies every signature it returns (one
//!   pairing check); share counts are bounded by [`MAX_SHARES`];
//! * constant-time fixed-base multiplication of the G1 and G2 generators ([`FixedBase`], from a
//!   precomputed table, ≥ 3x faster than the generic multiplication) for public keys, public
//!   shares and Feldman commitments.
//!
//! Every decoder and every constructor from points validates (canonical compressed encoding, on
//! curve, in the prime-order subgroup; public keys must not be the identity) and returns a typed
//! [`Error`], so a [`PublicKey`], [`Signature`], [`Commitment`] or [`PublicShare`] always holds
//! subgroup points and verification skips blst's group checks; secrets are zeroized on drop and
//! their `Debug` output is redacted.
//!
//! ## Example: 3-of-5 threshold signature
//! ```
//! use conclave_threshold_sig::{deal, Ciphersuite, Combiner, MinPk, Scheme};
//!
//! // Keys and batch-verification weights need an RNG the signers cannot predict.
//! let mut rng = rand::rngs::OsRng;
//! let dealing = deal::<MinPk>(5, 2, &mut rng).unwrap(); // degree t = 2: any 3 shares sign
//! let suite = Ciphersuite::<MinPk>::new(Scheme::ProofOfPossession);
//! let msg = b"block 42";
//! let partials: Vec<_> = dealing.shares[1..4].iter().map(|s| s.sign::<MinPk>(suite.dst(), msg)).collect();
//!
//! let combiner = Combiner::for_suite(dealing.commitment.clone(), 5, &suite).unwrap();
//! // Verified before it is returned (one pairing check on top of the MSM).
//! let out = combiner.combine(msg, &partials, &mut rng).unwrap();
//! assert!(out.culprits.is_empty());
//! // An ordinary BLS signature under the group public key.
//! assert!(dealing.commitment.group_public_key().verify(&suite, msg, &out.signature));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod combine;
mod encoding;
mod error;
mod fixed_base;
mod keys;
mod lagrange;
mod poly;
mod scheme;
mod sign;
mod threshold;
mod variant;

pub use batch::{verify_batch, BatchItem, BATCH_WEIGHT_BITS};
pub use blstrs::Scalar;
pub use combine::{Combined, Combiner, EncodedPartials, WEIGHT_CACHE_CAPACITY};
pub use encoding::decode_hex;
pub use error::Error;
pub use fixed_base::FixedBase;
pub use keys::{PublicKey, SecretKey, Signature};
pub use lagrange::lagrange_coefficients;
pub use poly::{Commitment, Polynomial, PublicShare};
pub use scheme::{pop_dst, standard_dst, Ciphersuite, Scheme};
pub use sign::{
    aggregate_public_keys, aggregate_signatures, aggregate_verify, fast_aggregate_verify,
};
pub use threshold::{
    deal, deal_polynomial, interpolate_secret, verify_partials_batch,
    verify_partials_with_signatures, Dealing, PartialSignature, SecretShare, MAX_SHARES,
    PARTIAL_BATCH_WEIGHT_BITS,
};
pub use variant::{MinPk, MinSig, Msm, Variant};

/// RFC 9380 `hash_to_curve` (`_RO_`) to G1, compressed (48 bytes).
pub fn hash_to_g1(msg: &[u8], dst: &[u8]) -> [u8; 48] {
    use group::Curve;
    blstrs::G1Projective::hash_to_curve(msg, dst, &[])
        .to_affine()
        .to_compressed()
}

/// RFC 9380 `hash_to_curve` (`_RO_`) to G2, compressed (96 bytes).
pub fn hash_to_g2(msg: &[u8], dst: &[u8]) -> [u8; 96] {
    use group::Curve;
    blstrs::G2Projective::hash_to_curve(msg, dst, &[])
        .to_affine()
        .to_compressed()
}
