//! Exact, deterministic Algorand-style VRF sortition for conclave.
//!
//! Implements cryptographic sortition from Gilad, Chen, Micali, Vlachos, Zeldovich, *Algorand:
//! Scaling Byzantine Agreements for Cryptocurrencies* (SOSP 2017), §5, on the ristretto255 ECVRF
//! (`vrf-r255`, RFC 9381) with merlin transcripts for every derived input.
//!
//! * [`vrf`]: keys, proofs, outputs (validated decoders, zeroized secrets).
//! * [`transcript`]: the VRF input, bound to domain, epoch, seed, round, period, step and role.
//! * [`binomial`]: the binomial CDF walk in integer-only soft-float arithmetic, a one-sided error
//!   below `2^-71` on the CDF; [`SortitionTable`] for cached verification.
//! * [`sortition`]: credentials `(pk, π, weight)`, verification, proposer priority.
//! * [`seed`]: round seeds from a threshold-BLS beacon signature or Algorand's VRF seed chain.
//! * [`seats`]: drawing `c` DKG seats for an epoch, with the failure probability table.
//! * [`safety`]: exact per-step safety and liveness failure probabilities of sampled voting
//!   committees under an honest-stake assumption.
//! * [`encoding`]: hex and byte encodings; every public type has serde support.
//!
//! # The sortition mapping
//!
//! For a VRF output `β`, let `u` be the first 8 bytes (big-endian) of
//! `SHA-256("conclave-committee/v1/ratio" ‖ β)` and `ratio = (2u + 1) / 2^65`. The selected weight
//! is the smallest `j` with `ratio ≤ BinomCDF(j; w, τ/W)`, where the CDF is computed as a lower
//! bound with `0 ≤ CDF - CDF~ < 2^-71` and compared exactly. No floating point is used on this path:
//! results are bit-for-bit identical on every platform.
//!
//! # Assumptions
//!
//! The verifier knows each participant's stake `w` and the total `W` for the epoch and uses an
//! unpredictable seed (a beacon seed cannot be ground; the VRF chain can be biased by withholding).
//! Limits: `w ≤ 2^53`, `W ≤ 2^63`, `τ ≤ 10,000`.
//!
//! # Example
//!
//! ```
//! use conclave_committee::seed::Seed;
//! use conclave_committee::sortition::{select_proposer, sortition};
//! use conclave_committee::transcript::{Role, SortitionContext};
//! use conclave_committee::vrf::SecretKey;
//! use conclave_committee::SortitionParams;
//!
//! let stakes = [400u64, 300, 200, 100];
//! let total: u64 = stakes.iter().sum();
//! let keys: Vec<SecretKey> = (0..4).map(|i| SecretKey::derive(b"example seed", i)).collect();
//! let context = SortitionContext::new(Seed::from_bytes([7; 32]), 1).with_role(Role::Proposer);
//!
//! let mut verified = Vec::new();
//! for (key, &stake) in keys.iter().zip(&stakes) {
//!     let params = SortitionParams::new(stake, total, 20)?;
//!     // The participant proves ...
//!     let mine = sortition(key, &context, &params);
//!     // ... and anyone holding the stake table verifies (proof and weight).
//!     let checked = mine.credential().verify(&context, &params)?;
//!     assert_eq!(checked.weight(), mine.weight());
//!     verified.push(checked);
//! }
//! // The proposer is the selected participant with the lowest priority.
//! if let Some(winner) = select_proposer(&verified) {
//!     assert!(winner.weight() >= 1);
//! }
//! # Ok::<(), conclave_committee::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod binomial;
pub mod encoding;
mod error;
pub mod safety;
pub mod seats;
pub mod seed;
mod softfloat;
pub mod sortition;
pub mod transcript;
pub mod vrf;

pub use binomial::{SortitionParams, SortitionTable, MAX_STAKE, MAX_TAU, MAX_TOTAL_STAKE};
pub use error::Error;
