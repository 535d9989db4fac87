//! Threshold mode: the epoch committee's n seats hold shares of one key of degree t (t = 2f for
//! n = 3f+1), and every quorum of t+1 votes combines into one ordinary BLS signature.
//!
//! - A vote (or proposal) signature is seat `i`'s partial signature `f(i+1)·H(m)` on the
//!   engine's exact message, encoded as the bare compressed signature (the share index is the
//!   seat + 1, known from the vote).
//! - [`Verifier::verify_batch`] is `conclave_threshold_sig::verify_partials_batch`: one random
//!   linear combination (two MSMs, one two-pairing check) for all shares on a message, bisection
//!   to the culprits on failure. Public shares are derived once, when the verifier is built.
//! - [`Verifier::combine`] is the robust `Combiner::combine` (Lagrange weights cached per index
//!   set, so a stable quorum reuses them across messages and heights; one MSM and one check of
//!   the result). The certificate is the combined signature: `G2` 96 bytes (min-pk) or `G1` 48
//!   bytes (min-sig), verifiable by any BLS library under the group key with this verifier's DST.
//! - The beacon of a height is the combined signature on the engine's beacon message, which is
//!   unique under the group key; the next seed is `SHA-256("conclave-bft/beacon-seed/v1" ‖ σ)`.
//!
//! Batch weights are 64-bit and derived from a hash of a verifier secret and the batch's inputs,
//! so runs are reproducible; an adversary who cannot predict the verifier secret cannot choose
//! cancelling forgeries (the weights are odd: soundness error 2^-63 per batch check). A combined
//! signature is never trusted because a batch passed: `Combiner::combine` verifies every
//! signature it returns and falls back to one-by-one verification of the shares when that fails.

use super::{seeded_rng, CryptoCounters};
use crate::traits::{CombineError, Committee, Share, Signer, Verifier};
use crate::types::{Certificate, NodeId, Seed, ValueId, VoteStep};
use conclave_threshold_sig::{
    verify_partials_batch, Ciphersuite, Combiner, Commitment, Error as TsError, PartialSignature,
    PublicKey, Scheme, SecretShare, Signature, Variant,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Domain tag of the value ids of the real adapters.
pub(crate) const VALUE_DOMAIN: &[u8] = b"conclave-bft/value/v1";
/// Domain tag of beacon seeds in threshold mode.
pub(crate) const BEACON_SEED_DOMAIN: &[u8] = b"conclave-bft/beacon-seed/v1";

pub(crate) fn value_id(value: &[u8]) -> ValueId {
    ValueId(
        Sha256::new()
            .chain_update(VALUE_DOMAIN)
            .chain_update(value)
            .finalize()
            .into(),
    )
}

/// The public side of a threshold committee: [`Committee`] and [`Verifier`].
pub struct ThresholdVerifier<V: Variant> {
    n: u32,
    combiner: Combiner<V>,
    suite: Ciphersuite<V>,
    group_public_key: PublicKey<V>,
    salt: [u8; 32],
    /// Work counters (shared with the provider that built this verifier).
    pub counters: Arc<CryptoCounters>,
}

impl<V: Variant> ThresholdVerifier<V> {
    /// A verifier for seats `0..n` (share indices `1..=n`) of `commitment`, signing under `dst`.
    /// `salt` keys the batch-verification weights (keep it unpredictable to peers). Fails as
    /// `Combiner::new` does: `n` above `MAX_SHARES` or below `t+1`, an empty or `AUG` DST.
    pub fn new(
        commitment: Commitment<V>,
        n: u32,
        dst: &[u8],
        salt: [u8; 32],
    ) -> Result<Self, TsError> {
        let group_public_key = commitment.group_public_key();
        Ok(ThresholdVerifier {
            n,
            combiner: Combiner::new(commitment, n, dst.to_vec())?,
            suite: Ciphersuite::with_dst(Scheme::ProofOfPossession, dst.to_vec()),
            group_public_key,
            salt,
            counters: Arc::default(),
        })
    }

    /// The group public key certificates verify under.
    pub fn group_public_key(&self) -> &PublicKey<V> {
        &self.group_public_key
    }

    /// The DST every signature uses.
    pub fn dst(&self) -> &[u8] {
        self.suite.dst()
    }

    fn partial(&self, signer: NodeId, signature: &[u8]) -> Option<PartialSignature<V>> {
        if signer.0 >= self.n {
            return None;
        }
        Some(PartialSignature {
            index: signer.0 + 1,
            signature: Signature::from_bytes(signature).ok()?,
        })
    }

    fn rng(&self, message: &[u8], shares: &[Share<'_>]) -> rand_chacha::ChaCha20Rng {
        let mut parts: Vec<&[u8]> = vec![message];
        parts.extend(shares.iter().map(|s| s.signature));
        seeded_rng(&self.salt, &parts)
    }
}

impl<V: Variant> Committee for ThresholdVerifier<V> {
    fn seats(&self) -> Vec<NodeId> {
        (0..self.n).map(NodeId).collect()
    }

    fn is_member(&self, node: NodeId) -> bool {
        node.0 < self.n
    }

    /// t+1 (= 2f+1 for n = 3f+1), the number of partials the key needs.
    fn quorum(&self, _step: VoteStep) -> u64 {
        self.combiner.quorum() as u64
    }
}

impl<V: Variant> Verifier for ThresholdVerifier<V> {
    fn verify_share(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool {
        self.counters
            .single_verifications
            .fetch_add(1, Ordering::Relaxed);
        match (
            self.partial(signer, signature),
            self.combiner.public_share(signer.0 + 1),
        ) {
            (Some(p), Some(public)) => p.verify(&public, self.dst(), message),
            _ => false,
        }
    }

    fn verify_batch(&self, message: &[u8], shares: &[Share<'_>]) -> Result<(), Vec<NodeId>> {
        self.counters.record_batch(shares.len());
        let mut bad = BTreeSet::new();
        let mut partials = Vec::with_capacity(shares.len());
        for s in shares {
            match self.partial(s.signer, s.signature) {
                Some(p) => partials.push(p),
                None => {
                    bad.insert(s.signer);
                }
            }
        }
        let mut rng = self.rng(message, shares);
        let lookup = |i: u32| self.combiner.public_share(i);
        if let Err(indices) =
            verify_partials_batch(&lookup, self.dst(), message, &partials, &mut rng)
        {
            self.counters.batch_failures.fetch_add(1, Ordering::Relaxed);
            bad.extend(indices.into_iter().map(|i| NodeId(i - 1)));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(bad.into_iter().collect())
        }
    }

    fn combine(&self, message: &[u8], shares: &[Share<'_>]) -> Result<Vec<u8>, CombineError> {
        self.counters.combines.fetch_add(1, Ordering::Relaxed);
        let need = self.combiner.quorum() as u64;
        let mut invalid = Vec::new();
        let mut partials = Vec::with_capacity(shares.len());
        for s in shares {
            match self.partial(s.signer, s.signature) {
                Some(p) => partials.push(p),
                None => invalid.push(s.signer),
            }
        }
        if !invalid.is_empty() {
            return Err(CombineError::InvalidShares(invalid));
        }
        let distinct: BTreeSet<u32> = partials.iter().map(|p| p.index).collect();
        if (distinct.len() as u64) < need {
            return Err(CombineError::NotEnoughShares {
                have: distinct.len() as u64,
                need,
            });
        }
        let mut rng = self.rng(message, shares);
        match self.combiner.combine(message, &partials, &mut rng) {
            Ok(c) => Ok(c.signature.to_bytes()),
            Err(TsError::NotEnoughPartials {
                valid, culprits, ..
            }) => {
                if culprits.is_empty() {
                    Err(CombineError::NotEnoughShares {
                        have: valid as u64,
                        need,
                    })
                } else {
                    Err(CombineError::InvalidShares(
                        culprits.into_iter().map(|i| NodeId(i - 1)).collect(),
                    ))
                }
            }
            Err(TsError::DuplicateIndex(i)) | Err(TsError::InvalidIndex(i)) => Err(
                CombineError::InvalidShares(vec![NodeId(i.saturating_sub(1))]),
            ),
            Err(_) => Err(CombineError::NotEnoughShares {
                have: distinct.len() as u64,
                need,
            }),
        }
    }

    fn verify_certificate(&self, _seed: &Seed, message: &[u8], certificate: &[u8]) -> bool {
        self.counters
            .certificate_verifications
            .fetch_add(1, Ordering::Relaxed);
        Signature::<V>::from_bytes(certificate)
            .is_ok_and(|sig| self.group_public_key.verify(&self.suite, message, &sig))
    }

    fn value_id(&self, value: &[u8]) -> ValueId {
        value_id(value)
    }

    fn next_seed(&self, _previous: &Seed, certificate: &Certificate) -> Seed {
        Seed(
            Sha256::new()
                .chain_update(BEACON_SEED_DOMAIN)
                .chain_update(&certificate.beacon)
                .finalize()
                .into(),
        )
    }
}

/// One seat's key share (implements [`Signer`]).
pub struct ThresholdSigner<V: Variant> {
    id: NodeId,
    share: SecretShare,
    dst: Vec<u8>,
    _variant: std::marker::PhantomData<V>,
}

impl<V: Variant> ThresholdSigner<V> {
    /// Seat `id` signing with `share` (whose index must be `id + 1`).
    pub fn new(id: NodeId, share: SecretShare, dst: &[u8]) -> Result<Self, String> {
        if share.index() != id.0 + 1 {
            return Err(format!(
                "share index {} does not match seat {}",
                share.index(),
                id
            ));
        }
        Ok(ThresholdSigner {
            id,
            share,
            dst: dst.to_vec(),
            _variant: std::marker::PhantomData,
        })
    }
}

impl<V: Variant> Signer for ThresholdSigner<V> {
    fn id(&self) -> NodeId {
        self.id
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.share
            .sign::<V>(&self.dst, message)
            .signature
            .to_bytes()
    }
}
