//! The real crypto adapter: the engine's traits over `conclave-threshold-sig` (BLS12-381),
//! `conclave-committee` (VRF sortition) and `conclave-dkg` (dealer-free key generation).
//!
//! - [`threshold`] (default): one DKG'd key of degree t = ⌊(n+f)/2⌋ (2f for n = 3f+1) per epoch;
//!   votes are partial signatures, certificates and beacons one BLS signature each.
//! - [`sampled`]: per-step VRF committees, individual BLS keys, multisignature certificates
//!   with the voters' credentials (for populations too large for one threshold key), with
//!   parameters from [`params::SampledParams`] (a stated honest-stake fraction, refused when
//!   the per-step failure probability exceeds a target; per-height bounds in
//!   [`params::HeightFailure`]).
//! - [`sortition`]: VRF credentials for proposers (both modes) and sampled voters.
//! - `RealProvider` (feature `sim`): builds all of it for the simulator, running the DKG among
//!   the seats.
//!
//! Every verifier counts its work ([`CryptoCounters`]), so tests can check that a node does one
//! batch verification per quorum (two for cert votes: vote and beacon shares) and one combine
//! per certificate or bundle, never one pairing per vote.

pub mod identity;
pub mod params;
#[cfg(feature = "sim")]
mod provider;
pub mod sampled;
pub mod sortition;
pub mod threshold;

pub use identity::{IdentitySetupError, IdentitySigner, IdentityVerifier};
pub use params::{HeightFailure, Ratio, SampledParams, SampledParamsError, STEPS_PER_PERIOD};
#[cfg(feature = "sim")]
pub use provider::{KeySetup, RealProvider, SetupInfo, SetupProgress, VariantChoice};
pub use sampled::{SampledSetupError, SampledSigner, SampledVerifier};
pub use sortition::{RosterError, VrfRoster, VrfSortition};
pub use threshold::{
    ThresholdSetupError, ThresholdSigner, ThresholdSignerError, ThresholdVerifier,
};

use rand::SeedableRng;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of the crypto work done through one verifier (shared by every seat of a simulation).
#[derive(Debug, Default)]
pub struct CryptoCounters {
    /// Calls to `verify_batch`.
    pub batch_verifications: AtomicU64,
    /// Shares checked inside those calls.
    pub batched_shares: AtomicU64,
    /// Batches that failed and were bisected.
    pub batch_failures: AtomicU64,
    /// Calls to `verify_share` (proposals, equivocation checks).
    pub single_verifications: AtomicU64,
    /// Calls to `combine`.
    pub combines: AtomicU64,
    /// Calls to `verify_certificate` (bundles, catch-up, oracles).
    pub certificate_verifications: AtomicU64,
    /// VRF credential verifications inside `verify_certificate` (sampled mode).
    pub credential_verifications: AtomicU64,
}

/// A plain copy of [`CryptoCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CounterSnapshot {
    /// Calls to `verify_batch`.
    pub batch_verifications: u64,
    /// Shares checked inside those calls.
    pub batched_shares: u64,
    /// Batches that failed and were bisected.
    pub batch_failures: u64,
    /// Calls to `verify_share`.
    pub single_verifications: u64,
    /// Calls to `combine`.
    pub combines: u64,
    /// Calls to `verify_certificate`.
    pub certificate_verifications: u64,
    /// VRF credential verifications inside `verify_certificate`.
    pub credential_verifications: u64,
}

impl CryptoCounters {
    /// Count one `verify_batch` call over `shares` shares.
    pub(crate) fn record_batch(&self, shares: usize) {
        self.batch_verifications.fetch_add(1, Ordering::Relaxed);
        self.batched_shares
            .fetch_add(shares as u64, Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> CounterSnapshot {
        let get = |x: &AtomicU64| x.load(Ordering::Relaxed);
        CounterSnapshot {
            batch_verifications: get(&self.batch_verifications),
            batched_shares: get(&self.batched_shares),
            batch_failures: get(&self.batch_failures),
            single_verifications: get(&self.single_verifications),
            combines: get(&self.combines),
            certificate_verifications: get(&self.certificate_verifications),
            credential_verifications: get(&self.credential_verifications),
        }
    }
}

/// A ChaCha20 RNG keyed by `SHA-256(domain ‖ salt ‖ len-prefixed parts)`: batch weights that are
/// reproducible for the simulator yet unpredictable to anyone without `salt`.
pub(crate) fn seeded_rng(salt: &[u8; 32], parts: &[&[u8]]) -> rand_chacha::ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(b"conclave-bft/batch-weights/v1");
    h.update(salt);
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    rand_chacha::ChaCha20Rng::from_seed(h.finalize().into())
}
