//! Recovery of the group signature from `t+1` partial signatures: Lagrange weights (cached per
//! index set) and one blst Pippenger multi-scalar multiplication, with a robust mode that names
//! and drops invalid partials.
//!
//! Robust combine (the default, [`Combiner::combine`]) is optimistic: it interpolates the first
//! `t+1` partials (by index), verifies the result once under the group key, and only if that fails
//! batch-verifies the partials with bisection to the culprits, drops them and interpolates `t+1`
//! valid ones. With all partials valid it costs one MSM plus one verification.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use blstrs::Scalar;
use group::Curve;
use rand_core::{CryptoRng, RngCore};

use crate::error::Error;
use crate::keys::{PublicKey, Signature};
use crate::lagrange::coefficients_sorted;
use crate::poly::{Commitment, PublicShare};
use crate::threshold::{verify_partials_batch, PartialSignature};
use crate::variant::{pairing_equation, Msm, Variant};

/// Index sets whose weights a [`Combiner`] keeps (the cache is cleared when full).
pub const WEIGHT_CACHE_CAPACITY: usize = 256;

/// The result of a combine: the group signature, the indices interpolated, and the indices whose
/// partial signatures were found invalid.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct Combined<V: Variant> {
    /// The recovered signature: an ordinary BLS signature under the group public key.
    pub signature: Signature<V>,
    /// The `t+1` share indices that were interpolated, ascending.
    pub used: Vec<u32>,
    /// Share indices whose partial signatures did not verify, ascending.
    pub culprits: Vec<u32>,
}

/// Combines partial signatures for one group key: holds the public shares and a cache of
/// Lagrange weights per index set, reused across messages.
#[derive(Debug)]
pub struct Combiner<V: Variant> {
    commitment: Commitment<V>,
    public_shares: Vec<PublicShare<V>>,
    dst: Vec<u8>,
    cache: Mutex<HashMap<Vec<u32>, Arc<Vec<Scalar>>>>,
}

impl<V: Variant> Combiner<V> {
    /// A combiner for shares `1..=n` of `commitment`, signing with `dst`. Public shares are derived
    /// once, with `O(n·t)` group additions.
    pub fn new(commitment: Commitment<V>, n: u32, dst: impl Into<Vec<u8>>) -> Self {
        let public_shares = commitment.public_shares(n);
        Self::with_public_shares(commitment, public_shares, dst)
    }

    /// A combiner with already-known public shares (`public_shares[i-1]` has index `i`).
    pub fn with_public_shares(
        commitment: Commitment<V>,
        public_shares: Vec<PublicShare<V>>,
        dst: impl Into<Vec<u8>>,
    ) -> Self {
        Combiner {
            commitment,
            public_shares,
            dst: dst.into(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The commitment.
    pub fn commitment(&self) -> &Commitment<V> {
        &self.commitment
    }

    /// The group public key.
    pub fn group_public_key(&self) -> PublicKey<V> {
        self.commitment.group_public_key()
    }

    /// Partial signatures needed: `t+1`.
    pub fn quorum(&self) -> usize {
        self.commitment.quorum()
    }

    /// The DST partial and group signatures use.
    pub fn dst(&self) -> &[u8] {
        &self.dst
    }

    /// The public share of `index`, if `1 ≤ index ≤ n`.
    pub fn public_share(&self, index: u32) -> Option<PublicShare<V>> {
        index
            .checked_sub(1)
            .and_then(|i| self.public_shares.get(i as usize))
            .copied()
    }

    /// Lagrange weights at zero for sorted, distinct indices (cached).
    fn weights(&self, sorted: &[u32]) -> Arc<Vec<Scalar>> {
        if let Ok(cache) = self.cache.lock() {
            if let Some(w) = cache.get(sorted) {
                return Arc::clone(w);
            }
        }
        let w = Arc::new(coefficients_sorted(sorted));
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= WEIGHT_CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(sorted.to_vec(), Arc::clone(&w));
        }
        w
    }

    /// Forget cached weights (benchmarks use this to measure cold combines).
    pub fn clear_cache(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }

    /// Sort by index, drop exact duplicates, reject conflicting duplicates and unknown indices.
    fn normalise(
        &self,
        partials: &[PartialSignature<V>],
    ) -> Result<Vec<PartialSignature<V>>, Error> {
        let mut sorted = partials.to_vec();
        sorted.sort_by_key(|p| p.index);
        sorted.dedup();
        for w in sorted.windows(2) {
            if w[0].index == w[1].index {
                return Err(Error::DuplicateIndex(w[0].index));
            }
        }
        if let Some(p) = sorted.iter().find(|p| self.public_share(p.index).is_none()) {
            return Err(Error::InvalidIndex(p.index));
        }
        Ok(sorted)
    }

    /// [`Combiner::normalise`], failing when fewer than `t+1` partials remain.
    fn normalise_quorum(
        &self,
        partials: &[PartialSignature<V>],
    ) -> Result<Vec<PartialSignature<V>>, Error> {
        let sorted = self.normalise(partials)?;
        if sorted.len() < self.quorum() {
            return Err(Error::NotEnoughPartials {
                needed: self.quorum(),
                valid: sorted.len(),
                culprits: vec![],
            });
        }
        Ok(sorted)
    }

    /// Interpolate exactly the given partials (sorted, distinct indices) without verifying.
    fn interpolate(&self, chosen: &[PartialSignature<V>]) -> Signature<V> {
        let indices: Vec<u32> = chosen.iter().map(|p| p.index).collect();
        let weights = self.weights(&indices);
        let points: Vec<V::SignatureAffine> =
            chosen.iter().map(|p| *p.signature.as_affine()).collect();
        Signature(V::SignatureAffine::msm(&points, &weights, 255).to_affine())
    }

    /// Interpolate the `t+1` lowest-index partials without verifying anything. Fails on fewer
    /// than `t+1` distinct partials, duplicate indices or indices outside `1..=n`.
    pub fn combine_unchecked(
        &self,
        partials: &[PartialSignature<V>],
    ) -> Result<Combined<V>, Error> {
        let sorted = self.normalise_quorum(partials)?;
        let q = self.quorum();
        let chosen = &sorted[..q];
        Ok(Combined {
            signature: self.interpolate(chosen),
            used: chosen.iter().map(|p| p.index).collect(),
            culprits: vec![],
        })
    }

    /// Robust, optimistic combine (see the module docs). Invalid partials beyond the first `t+1`
    /// are only detected when the optimistic attempt fails; use [`Combiner::combine_verified`] to
    /// check every partial.
    pub fn combine(
        &self,
        msg: &[u8],
        partials: &[PartialSignature<V>],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Combined<V>, Error> {
        let sorted = self.normalise_quorum(partials)?;
        let q = self.quorum();
        let hashed = V::hash_to_signature_group(msg, &self.dst, &[]).to_affine();
        let signature = self.interpolate(&sorted[..q]);
        let gpk = self.group_public_key();
        if pairing_equation::<V>(gpk.as_affine(), &hashed, signature.as_affine()) {
            return Ok(Combined {
                signature,
                used: sorted[..q].iter().map(|p| p.index).collect(),
                culprits: vec![],
            });
        }
        self.combine_after_check(msg, sorted, rng)
    }

    /// Batch-verify every partial (bisecting to the culprits), then interpolate `t+1` valid ones.
    pub fn combine_verified(
        &self,
        msg: &[u8],
        partials: &[PartialSignature<V>],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Combined<V>, Error> {
        let sorted = self.normalise(partials)?;
        self.combine_after_check(msg, sorted, rng)
    }

    fn combine_after_check(
        &self,
        msg: &[u8],
        sorted: Vec<PartialSignature<V>>,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Combined<V>, Error> {
        let lookup = |i: u32| self.public_share(i);
        let culprits = match verify_partials_batch(&lookup, &self.dst, msg, &sorted, rng) {
            Ok(()) => vec![],
            Err(bad) => bad,
        };
        let valid: Vec<PartialSignature<V>> = sorted
            .into_iter()
            .filter(|p| culprits.binary_search(&p.index).is_err())
            .collect();
        let q = self.quorum();
        if valid.len() < q {
            return Err(Error::NotEnoughPartials {
                needed: q,
                valid: valid.len(),
                culprits,
            });
        }
        let chosen = &valid[..q];
        Ok(Combined {
            signature: self.interpolate(chosen),
            used: chosen.iter().map(|p| p.index).collect(),
            culprits,
        })
    }

    /// Robust combine for many messages; weights of a repeated index set are computed once.
    pub fn combine_many(
        &self,
        batches: &[(&[u8], &[PartialSignature<V>])],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Vec<Result<Combined<V>, Error>> {
        batches
            .iter()
            .map(|(msg, partials)| self.combine(msg, partials, rng))
            .collect()
    }

    /// Verify a group signature on `msg` (with this combiner's DST).
    pub fn verify(&self, msg: &[u8], signature: &Signature<V>) -> bool {
        let hashed = V::hash_to_signature_group(msg, &self.dst, &[]).to_affine();
        pairing_equation::<V>(
            self.commitment.group_public_key().as_affine(),
            &hashed,
            signature.as_affine(),
        )
    }
}
