//! Timing wrappers around the engine's crypto adapters: each call is forwarded unchanged and
//! its duration observed in [`Metrics::time`] under the operation's name, so `/metrics` shows
//! how much of `Engine::handle` is signing, share verification, combination, certificate
//! checks, hashing and VRF work.

use std::sync::Arc;

use conclave_bft::traits::{
    CombineError, CredentialSizes, InvalidSeal, Share, SignatureSizes, Signer, Sortition, Verifier,
};
use conclave_bft::types::{Certificate, Height, NodeId, Period, Priority, Seed, ValueId, VoteStep};

use crate::metrics::Metrics;

/// A [`Verifier`] that times every call.
pub struct TimedVerifier {
    inner: Arc<dyn Verifier>,
    metrics: Arc<Metrics>,
}

impl TimedVerifier {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn Verifier>, metrics: Arc<Metrics>) -> Self {
        TimedVerifier { inner, metrics }
    }
}

impl Verifier for TimedVerifier {
    fn verify_share(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool {
        self.metrics.timed("verify_share", || {
            self.inner.verify_share(signer, message, signature)
        })
    }
    fn verify_batch(&self, message: &[u8], shares: &[Share<'_>]) -> Result<(), Vec<NodeId>> {
        self.metrics
            .timed("verify_batch", || self.inner.verify_batch(message, shares))
    }
    fn combine(&self, message: &[u8], shares: &[Share<'_>]) -> Result<Vec<u8>, CombineError> {
        self.metrics
            .timed("combine", || self.inner.combine(message, shares))
    }
    fn verify_certificate(&self, seed: &Seed, message: &[u8], certificate: &[u8]) -> bool {
        self.metrics.timed("verify_certificate", || {
            self.inner.verify_certificate(seed, message, certificate)
        })
    }
    fn combine_beacon(
        &self,
        message: &[u8],
        period: Period,
        shares: &[Share<'_>],
    ) -> Result<Vec<u8>, CombineError> {
        self.metrics.timed("combine_beacon", || {
            self.inner.combine_beacon(message, period, shares)
        })
    }
    fn combine_with_beacon(
        &self,
        message: &[u8],
        shares: &[Share<'_>],
        beacon_message: &[u8],
        period: Period,
        beacon_shares: &[Share<'_>],
    ) -> Result<(Vec<u8>, Vec<u8>), CombineError> {
        self.metrics.timed("combine_certificate", || {
            self.inner
                .combine_with_beacon(message, shares, beacon_message, period, beacon_shares)
        })
    }
    fn combine_unverified_with_beacon(
        &self,
        message: &[u8],
        shares: &[Share<'_>],
        beacon_message: &[u8],
        period: Period,
        beacon_shares: &[Share<'_>],
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        self.metrics.timed("combine_certificate", || {
            self.inner.combine_unverified_with_beacon(
                message,
                shares,
                beacon_message,
                period,
                beacon_shares,
            )
        })
    }
    fn verify_beacon(
        &self,
        seed: &Seed,
        message: &[u8],
        period: Period,
        certificate: &[u8],
    ) -> bool {
        self.metrics.timed("verify_beacon", || {
            self.inner.verify_beacon(seed, message, period, certificate)
        })
    }
    fn value_id(&self, value: &[u8]) -> ValueId {
        self.metrics
            .timed("value_id", || self.inner.value_id(value))
    }
    fn next_seed(&self, previous: &Seed, certificate: &Certificate) -> Seed {
        self.inner.next_seed(previous, certificate)
    }
    fn verify_seal(
        &self,
        seed: &Seed,
        height: Height,
        seal: &[u8],
    ) -> Result<Option<NodeId>, InvalidSeal> {
        self.inner.verify_seal(seed, height, seal)
    }
    fn attributable(&self) -> bool {
        self.inner.attributable()
    }
    fn certificates_bind_quorum_at_any_period(&self) -> bool {
        self.inner.certificates_bind_quorum_at_any_period()
    }
    fn signature_sizes(&self) -> SignatureSizes {
        self.inner.signature_sizes()
    }
}

/// A [`Signer`] that times every signature.
pub struct TimedSigner {
    inner: Arc<dyn Signer>,
    metrics: Arc<Metrics>,
}

impl TimedSigner {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn Signer>, metrics: Arc<Metrics>) -> Self {
        TimedSigner { inner, metrics }
    }
}

impl Signer for TimedSigner {
    fn id(&self) -> NodeId {
        self.inner.id()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, conclave_bft::traits::SignError> {
        self.metrics.timed("sign", || self.inner.sign(message))
    }
}

/// A [`Sortition`] that times the VRF proofs and checks.
pub struct TimedSortition {
    inner: Arc<dyn Sortition>,
    metrics: Arc<Metrics>,
}

impl TimedSortition {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn Sortition>, metrics: Arc<Metrics>) -> Self {
        TimedSortition { inner, metrics }
    }
}

impl Sortition for TimedSortition {
    fn proposer_credential(&self, seed: &Seed, height: Height, period: Period) -> Option<Vec<u8>> {
        self.metrics.timed("vrf_prove", || {
            self.inner.proposer_credential(seed, height, period)
        })
    }
    fn verify_proposer(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        credential: &[u8],
    ) -> Option<Priority> {
        self.metrics.timed("vrf_verify", || {
            self.inner
                .verify_proposer(node, seed, height, period, credential)
        })
    }
    fn voter_credential(
        &self,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
    ) -> Option<Vec<u8>> {
        self.inner.voter_credential(seed, height, period, step)
    }
    fn verify_voter(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
        credential: &[u8],
    ) -> Option<u64> {
        self.inner
            .verify_voter(node, seed, height, period, step, credential)
    }
    fn seed_seal(&self, seed: &Seed, height: Height) -> Vec<u8> {
        self.inner.seed_seal(seed, height)
    }
    fn credential_sizes(&self) -> CredentialSizes {
        self.inner.credential_sizes()
    }
}
