//! **Test-only** mock crypto: a keyed-hash "threshold signature" scheme with the right
//! semantics and none of the security of real signatures.
//!
//! - Seat i's key is `k_i = SHA-256("mock/key" ‖ master ‖ i)`; a partial signature on m is
//!   `SHA-256("mock/share" ‖ k_i ‖ m)`.
//! - [`Verifier::combine`] checks that the shares come from at least a quorum of distinct seats
//!   and are all valid, then outputs the constant-size certificate
//!   `SHA-256("mock/cert" ‖ g ‖ m)` for a group secret g. Like a threshold BLS signature it is
//!   unique per message (so it also works as the height's beacon) and, inside the simulator,
//!   obtainable only from a quorum of partials.
//! - Verification recomputes the hashes, so the verifier holds every secret: anyone with the
//!   verifier could forge. Use it for simulations and tests (`--crypto mock`), never in
//!   deployment. The real adapter wires conclave-threshold-sig, conclave-dkg and
//!   conclave-committee behind the same traits.
//!
//! Threshold mode only: every seat proposes and votes with weight 1; the quorum is the
//! general BFT quorum ⌊(n + f)/2⌋ + 1 (= 2f + 1 when n = 3f + 1) with f = ⌊(n − 1)/3⌋.

use crate::codec::FieldSize;
use crate::engine::Adapters;
use crate::traits::{
    bisect_culprits, CombineError, Committee, CredentialSizes, Share, SignError, SignatureSizes,
    Signer, Sortition, Verifier,
};
use crate::types::{Certificate, Height, NodeId, Period, Priority, Seed, ValueId, VoteStep};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// Counters of the crypto work done through a [`MockVerifier`] (for performance checks).
#[derive(Debug, Default)]
pub struct CryptoStats {
    /// Calls to `verify_batch`.
    pub batch_verifications: AtomicU64,
    /// Shares checked inside those calls.
    pub batched_shares: AtomicU64,
    /// Calls to `verify_share` (proposals and equivocation checks).
    pub single_verifications: AtomicU64,
    /// Calls to `combine`.
    pub combines: AtomicU64,
}

/// Keys and public parameters of a mock committee of `n` seats.
#[derive(Clone)]
pub struct MockCrypto {
    inner: Arc<MockVerifier>,
}

/// The mock's public side: committee, verification, sortition verification.
pub struct MockVerifier {
    keys: Vec<[u8; 32]>,
    group_secret: [u8; 32],
    master: [u8; 32],
    quorum: u64,
    attributable: bool,
    /// Expected proposers per period (`None`: every seat proposes).
    proposers: Option<u64>,
    /// Work counters.
    pub stats: CryptoStats,
}

impl MockCrypto {
    /// A committee of `nodes` seats with keys derived from `seed`.
    pub fn new(nodes: u32, seed: u64) -> Self {
        let master = hash(&[b"mock/master", &seed.to_be_bytes()]);
        let keys = (0..nodes)
            .map(|i| hash(&[b"mock/key", &master, &i.to_be_bytes()]))
            .collect();
        let f = nodes.saturating_sub(1) / 3;
        let quorum = u64::from((nodes + f) / 2 + 1);
        let group_secret = hash(&[b"mock/group", &master]);
        MockCrypto {
            inner: Arc::new(MockVerifier {
                keys,
                group_secret,
                master,
                quorum,
                attributable: true,
                proposers: None,
                stats: CryptoStats::default(),
            }),
        }
    }

    /// The same committee, but with a verifier that reports its shares as not attributable (as
    /// threshold partial signatures are), to test the engine's evidence in threshold mode.
    pub fn non_attributable(nodes: u32, seed: u64) -> Self {
        let mut crypto = Self::new(nodes, seed);
        if let Some(inner) = Arc::get_mut(&mut crypto.inner) {
            inner.attributable = false;
        }
        crypto
    }

    /// The same committee, but each seat proposes in a period only when its credential falls
    /// below `tau / n` (about `tau` proposers per period, as the real adapter's sortition with
    /// `TAU_PROPOSER`; a period may have none): for message counts at large `n`, where every
    /// seat proposing would put `n²` proposals on the wire.
    pub fn with_proposers(nodes: u32, seed: u64, tau: u64) -> Self {
        let mut crypto = Self::new(nodes, seed);
        if let Some(inner) = Arc::get_mut(&mut crypto.inner) {
            inner.proposers = Some(tau);
        }
        crypto
    }

    /// The adapters for seat `node`.
    pub fn adapters(&self, node: NodeId) -> Adapters {
        let node_view = Arc::new(MockNode {
            id: node,
            verifier: self.inner.clone(),
        });
        Adapters {
            committee: self.inner.clone(),
            sortition: node_view.clone(),
            signer: node_view,
            verifier: self.inner.clone(),
        }
    }

    /// The shared verifier (with its work counters).
    pub fn verifier(&self) -> Arc<MockVerifier> {
        self.inner.clone()
    }

    /// The sortition seed of height 1.
    pub fn genesis_seed(&self) -> Seed {
        Seed(hash(&[b"mock/genesis", &self.inner.master]))
    }

    /// A public commitment to the group secret, standing in for a group public key in reports.
    pub fn group_public_key(&self) -> [u8; 32] {
        hash(&[b"mock/group-public", &self.inner.group_secret])
    }
}

impl MockVerifier {
    fn key(&self, node: NodeId) -> Option<&[u8; 32]> {
        self.keys.get(node.0 as usize)
    }

    fn share(&self, node: NodeId, message: &[u8]) -> Option<[u8; 32]> {
        self.key(node).map(|k| hash(&[b"mock/share", k, message]))
    }

    fn proposer_credential_of(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
    ) -> Option<[u8; 32]> {
        let credential = self.key(node).map(|k| {
            hash(&[
                b"mock/credential",
                k,
                &seed.0,
                &height.0.to_be_bytes(),
                &period.0.to_be_bytes(),
            ])
        })?;
        match self.proposers {
            Some(tau) => {
                let n = (self.keys.len() as u64).max(1);
                let mut word = [0u8; 8];
                word.copy_from_slice(&credential[..8]);
                // Selected with probability ≈ τ / n (integer arithmetic, no floats).
                let limit = (u64::MAX / n).saturating_mul(tau.min(n));
                (u64::from_be_bytes(word) < limit || tau >= n).then_some(credential)
            }
            None => Some(credential),
        }
    }
}

impl Committee for MockVerifier {
    fn seats(&self) -> Vec<NodeId> {
        (0..self.keys.len() as u32).map(NodeId).collect()
    }
    fn is_member(&self, node: NodeId) -> bool {
        (node.0 as usize) < self.keys.len()
    }
    fn quorum(&self, _step: VoteStep) -> u64 {
        self.quorum
    }
}

impl Verifier for MockVerifier {
    fn verify_share(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool {
        self.stats
            .single_verifications
            .fetch_add(1, Ordering::Relaxed);
        self.share(signer, message)
            .is_some_and(|s| s.as_slice() == signature)
    }

    fn verify_batch(&self, message: &[u8], shares: &[Share<'_>]) -> Result<(), Vec<NodeId>> {
        self.stats
            .batch_verifications
            .fetch_add(1, Ordering::Relaxed);
        self.stats
            .batched_shares
            .fetch_add(shares.len() as u64, Ordering::Relaxed);
        let ok = |s: &Share<'_>| {
            self.share(s.signer, message)
                .is_some_and(|x| x.as_slice() == s.signature)
        };
        let culprits = bisect_culprits(
            shares,
            &mut |part: &[Share<'_>]| part.iter().all(ok),
            &|s| s.signer,
        );
        if culprits.is_empty() {
            Ok(())
        } else {
            Err(culprits)
        }
    }

    fn combine(&self, message: &[u8], shares: &[Share<'_>]) -> Result<Vec<u8>, CombineError> {
        self.stats.combines.fetch_add(1, Ordering::Relaxed);
        let signers: BTreeSet<NodeId> = shares.iter().map(|s| s.signer).collect();
        if (signers.len() as u64) < self.quorum {
            return Err(CombineError::NotEnoughShares {
                have: signers.len() as u64,
                need: self.quorum,
            });
        }
        let invalid: Vec<NodeId> = shares
            .iter()
            .filter(|s| {
                self.share(s.signer, message)
                    .is_none_or(|x| x.as_slice() != s.signature)
            })
            .map(|s| s.signer)
            .collect();
        if !invalid.is_empty() {
            return Err(CombineError::InvalidShares(invalid));
        }
        Ok(hash(&[b"mock/cert", &self.group_secret, message]).to_vec())
    }

    /// As for threshold signatures: the pair, only if every share is valid (a mock certificate
    /// is a keyed hash the shares cannot make, so the shares are checked here instead).
    fn combine_unverified_with_beacon(
        &self,
        message: &[u8],
        shares: &[Share<'_>],
        beacon_message: &[u8],
        period: Period,
        beacon_shares: &[Share<'_>],
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        Some((
            self.combine(message, shares).ok()?,
            self.combine_beacon(beacon_message, period, beacon_shares)
                .ok()?,
        ))
    }

    fn verify_certificate(&self, _seed: &Seed, message: &[u8], certificate: &[u8]) -> bool {
        hash(&[b"mock/cert", &self.group_secret, message]).as_slice() == certificate
    }

    fn value_id(&self, value: &[u8]) -> ValueId {
        ValueId(hash(&[b"mock/value", value]))
    }

    fn next_seed(&self, _previous: &Seed, certificate: &Certificate) -> Seed {
        Seed(hash(&[b"mock/seed", &certificate.beacon]))
    }

    /// Configurable ([`MockCrypto::non_attributable`]); attributable by default, since a mock
    /// share is a keyed hash that cannot be computed from other seats' shares.
    fn attributable(&self) -> bool {
        self.attributable
    }

    /// True, as for the threshold scheme it stands in for (a certificate needs a quorum of
    /// valid shares in any period).
    fn certificates_bind_quorum_at_any_period(&self) -> bool {
        true
    }

    /// Shares and certificates are 32-byte hashes.
    fn signature_sizes(&self) -> SignatureSizes {
        SignatureSizes {
            share: FieldSize::Exact(32),
            certificate: FieldSize::Exact(32),
        }
    }
}

/// One seat's private view: its signing key and sortition credentials.
struct MockNode {
    id: NodeId,
    verifier: Arc<MockVerifier>,
}

impl Signer for MockNode {
    fn id(&self) -> NodeId {
        self.id
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.verifier
            .share(self.id, message)
            .map(|s| s.to_vec())
            .ok_or_else(|| SignError::Unavailable(format!("no mock key for seat {}", self.id.0)))
    }
}

impl Sortition for MockNode {
    fn proposer_credential(&self, seed: &Seed, height: Height, period: Period) -> Option<Vec<u8>> {
        self.verifier
            .proposer_credential_of(self.id, seed, height, period)
            .map(|c| c.to_vec())
    }
    fn verify_proposer(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        credential: &[u8],
    ) -> Option<Priority> {
        let expected = self
            .verifier
            .proposer_credential_of(node, seed, height, period)?;
        (expected.as_slice() == credential).then(|| Priority(hash(&[b"mock/priority", &expected])))
    }
    fn voter_credential(&self, _: &Seed, _: Height, _: Period, _: VoteStep) -> Option<Vec<u8>> {
        Some(Vec::new())
    }
    fn verify_voter(
        &self,
        node: NodeId,
        _: &Seed,
        _: Height,
        _: Period,
        _: VoteStep,
        credential: &[u8],
    ) -> Option<u64> {
        (self.verifier.is_member(node) && credential.is_empty()).then_some(1)
    }
    /// 32-byte proposer credentials; voters carry none.
    fn credential_sizes(&self) -> CredentialSizes {
        CredentialSizes {
            proposer: FieldSize::Exact(32),
            voter: FieldSize::Exact(0),
        }
    }
}
