//! Recovery of the group signature from `t+1` partial signatures: Lagrange weights (cached per
//! index set) and one blst Pippenger multi-scalar multiplication, with a robust mode that names
//! and drops invalid partials.
//!
//! Robust combine (the default, [`Combiner::combine`]) is optimistic: it interpolates the first
//! `t+1` partials (by index), verifies the result once under the group key, and only if that fails
//! batch-verifies the partials with bisection to the culprits, drops them and interpolates `t+1`
//! valid ones.
//!
//! **Every signature a robust method returns has been verified** under the group key (one
//! two-pair pairing check), whatever path produced it: a passing batch check is never trusted on
//! its own. The batch weights are 64-bit (soundness error 2^-63 per check) and come from the
//! caller's RNG; signers who can predict them (a seeded RNG) can make two invalid partials
//! cancel in the batch. When the interpolated signature then fails its check, the combiner
//! verifies the remaining partials one by one (no randomness involved), names and drops the
//! invalid ones, interpolates again and verifies again. Use an unpredictable RNG
//! (`rand::rngs::OsRng`, `rand::thread_rng()`) all the same: with a predictable one, culprits
//! outside the interpolated set can go unnamed (the signature is still valid).
//!
//! Costs, with all partials valid: [`Combiner::combine`] is one MSM plus one pairing check;
//! [`Combiner::combine_verified`] is one batch check (two 64-bit MSMs and one pairing check)
//! plus one MSM plus one pairing check (the final verification). Invalid partials add the
//! bisection (`O(k log n)` batch checks for `k` culprits), and a fooled batch adds one pairing
//! check per remaining partial.
//!
//! Input hygiene: partials are sorted by index and exact duplicates merged. An index outside
//! `1..=n` is a culprit and is dropped. Several *different* partials under one index (at most one
//! of them can be valid: BLS signatures are unique) are verified one by one; the valid one, if
//! any, is kept and may be used, and the index is reported as a culprit all the same, since an
//! invalid partial arrived under it. Culprits name the index a partial claimed; they are blame
//! only if the caller authenticated who sent each partial.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use blstrs::Scalar;
use group::Curve;
use rand_core::{CryptoRng, RngCore};

use crate::error::Error;
use crate::keys::{PublicKey, Signature};
use crate::lagrange::coefficients_sorted;
use crate::poly::{Commitment, PublicShare};
use crate::scheme::{Ciphersuite, Scheme};
use crate::threshold::{check_share_count, verify_partials_batch_hashed, PartialSignature};
use crate::variant::{pairing_equation, Msm, Variant};

/// Index sets whose weights a [`Combiner`] keeps (the cache is cleared when full).
pub const WEIGHT_CACHE_CAPACITY: usize = 256;

/// The result of a combine: the group signature, the indices interpolated, and the indices whose
/// partial signatures were found invalid.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct Combined<V: Variant> {
    /// The recovered signature: an ordinary BLS signature under the group public key (verified,
    /// except from [`Combiner::combine_unchecked`]).
    pub signature: Signature<V>,
    /// The `t+1` share indices that were interpolated, ascending.
    pub used: Vec<u32>,
    /// Share indices under which an invalid partial signature was received, ascending: invalid
    /// signatures, indices outside `1..=n`, and indices with conflicting partials (whose one valid
    /// partial, if any, may also appear in `used`).
    pub culprits: Vec<u32>,
}

/// `Err(EmptyDst)` for an empty DST, `Err(AugmentationUnsupported)` for a DST whose scheme tag
/// (the IETF naming: `…_AUG_`) says message augmentation.
fn check_dst(dst: &[u8]) -> Result<(), Error> {
    if dst.is_empty() {
        return Err(Error::EmptyDst);
    }
    if dst.ends_with(b"_AUG_") {
        return Err(Error::AugmentationUnsupported);
    }
    Ok(())
}

/// Merge two ascending index lists into one ascending list without repeats.
fn merge(mut a: Vec<u32>, b: &[u32]) -> Vec<u32> {
    a.extend_from_slice(b);
    a.sort_unstable();
    a.dedup();
    a
}

/// Combines partial signatures for one group key: holds the public shares and a cache of
/// Lagrange weights per index set, reused across messages.
///
/// Threshold signatures are plain `H(msg)` signatures: the basic (`NUL`) and proof-of-possession
/// (`POP`) ciphersuites, or a custom DST used the same way. The message-augmentation (`AUG`)
/// scheme is rejected ([`Error::AugmentationUnsupported`]): its verification hashes the public key
/// with the message, which partial signatures do not. Prefer [`Combiner::for_suite`], which checks
/// the scheme; [`Combiner::new`] can only recognise the standard `…_AUG_` DSTs.
#[derive(Debug)]
pub struct Combiner<V: Variant> {
    commitment: Commitment<V>,
    public_shares: Vec<PublicShare<V>>,
    dst: Vec<u8>,
    cache: Mutex<HashMap<Vec<u32>, Arc<Vec<Scalar>>>>,
}

/// Partial signatures as (index, compressed encoding) pairs, not yet decoded.
pub type EncodedPartials<'a> = &'a [(u32, &'a [u8])];

impl<V: Variant> Combiner<V> {
    /// A combiner for shares `1..=n` of `commitment`, signing with `dst`. Public shares are derived
    /// once, with `O(n·t)` group additions. Fails when `n` exceeds
    /// [`MAX_SHARES`](crate::MAX_SHARES) ([`Error::TooManyShares`]) or is below the quorum `t+1`
    /// ([`Error::InvalidThreshold`]), for an empty DST ([`Error::EmptyDst`]) and for a
    /// standard `AUG` DST ([`Error::AugmentationUnsupported`]).
    pub fn new(commitment: Commitment<V>, n: u32, dst: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let dst = dst.into();
        check_dst(&dst)?;
        check_share_count(u64::from(n))?;
        Self::check_quorum(&commitment, n as usize)?;
        let public_shares = commitment.public_shares(n)?;
        Ok(Self::build(commitment, public_shares, dst))
    }

    /// [`Combiner::new`] with the ciphersuite's DST; rejects the `AUG` scheme whatever its DST.
    pub fn for_suite(
        commitment: Commitment<V>,
        n: u32,
        suite: &Ciphersuite<V>,
    ) -> Result<Self, Error> {
        if suite.scheme() == Scheme::MessageAugmentation {
            return Err(Error::AugmentationUnsupported);
        }
        Self::new(commitment, n, suite.dst())
    }

    /// A combiner with already-known public shares (`public_shares[i-1]` must have index `i`,
    /// else [`Error::InvalidIndex`]); the same checks as [`Combiner::new`]. Public shares that do
    /// not match the commitment cannot produce an invalid signature (every returned signature is
    /// verified under the group key); they make combining fail.
    pub fn with_public_shares(
        commitment: Commitment<V>,
        public_shares: Vec<PublicShare<V>>,
        dst: impl Into<Vec<u8>>,
    ) -> Result<Self, Error> {
        let dst = dst.into();
        check_dst(&dst)?;
        check_share_count(public_shares.len() as u64)?;
        Self::check_quorum(&commitment, public_shares.len())?;
        for (k, s) in public_shares.iter().enumerate() {
            if s.index() as usize != k + 1 {
                return Err(Error::InvalidIndex(s.index()));
            }
        }
        Ok(Self::build(commitment, public_shares, dst))
    }

    fn check_quorum(commitment: &Commitment<V>, n: usize) -> Result<(), Error> {
        if n < commitment.quorum() {
            return Err(Error::InvalidThreshold {
                t: commitment.degree(),
                n: n as u32,
            });
        }
        Ok(())
    }

    fn build(commitment: Commitment<V>, public_shares: Vec<PublicShare<V>>, dst: Vec<u8>) -> Self {
        Combiner {
            commitment,
            public_shares,
            dst,
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

    /// The message hashed to the signature group with this combiner's DST.
    fn hash(&self, msg: &[u8]) -> V::SignatureAffine {
        V::hash_to_signature_group(msg, &self.dst, &[]).to_affine()
    }

    /// Sort by index (stable: among conflicting partials the first given comes first) and merge
    /// exact duplicates; indices outside `1..=n` and conflicting duplicates become culprits (see
    /// the module docs). Returns the candidates (ascending, distinct, in range) and the culprits
    /// (ascending).
    fn screen(
        &self,
        partials: &[PartialSignature<V>],
        hashed: &V::SignatureAffine,
    ) -> (Vec<PartialSignature<V>>, Vec<u32>) {
        let mut sorted = partials.to_vec();
        sorted.sort_by_key(|p| p.index);
        let mut candidates = Vec::with_capacity(sorted.len());
        let mut culprits = Vec::new();
        for group in sorted.chunk_by(|a, b| a.index == b.index) {
            let first = group[0];
            let Some(public) = self.public_share(first.index) else {
                culprits.push(first.index);
                continue;
            };
            if group.iter().all(|p| *p == first) {
                candidates.push(first);
                continue;
            }
            culprits.push(first.index);
            if let Some(valid) = group.iter().find(|p| p.verify_hashed(&public, hashed)) {
                candidates.push(*valid);
            }
        }
        (candidates, culprits)
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

    /// Interpolate exactly the given partials (sorted, distinct indices) without verifying.
    fn interpolate(&self, chosen: &[PartialSignature<V>]) -> Signature<V> {
        let indices: Vec<u32> = chosen.iter().map(|p| p.index).collect();
        let weights = self.weights(&indices);
        let points: Vec<V::SignatureAffine> =
            chosen.iter().map(|p| *p.signature.as_affine()).collect();
        // A combination of subgroup points is in the subgroup.
        Signature(V::SignatureAffine::msm(&points, &weights, 255).to_affine())
    }

    /// One pairing check of a group signature on an already hashed message.
    fn verify_hashed(&self, hashed: &V::SignatureAffine, signature: &Signature<V>) -> bool {
        pairing_equation::<V>(
            self.commitment.group_public_key().as_affine(),
            hashed,
            signature.as_affine(),
        )
    }

    /// Several group signatures, each on its own message, checked with one pairing product:
    /// `e(gpk, Σ r_k·H(m_k)) == e(g, Σ r_k·σ_k)` with random odd 128-bit weights `r_k`, so two
    /// Miller loops and one final exponentiation whatever their number. `true` only if every
    /// signature is valid, except with probability 2^-127 per invalid one against an RNG the
    /// signers cannot predict; `true` for an empty list. A certificate and its beacon (two
    /// combines of one quorum) are verified together this way.
    pub fn verify_many(
        &self,
        items: &[(&[u8], &Signature<V>)],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> bool {
        use group::prime::PrimeCurveAffine as _;
        match items {
            [] => return true,
            [(msg, sig)] => return self.verify_hashed(&self.hash(msg), sig),
            _ => {}
        }
        let two64 = Scalar::from(1u64 << 32) * Scalar::from(1u64 << 32);
        let mut hashes = Vec::with_capacity(items.len());
        let mut sigs = Vec::with_capacity(items.len());
        let mut weights = Vec::with_capacity(items.len());
        for (msg, sig) in items {
            hashes.push(self.hash(msg));
            sigs.push(*sig.as_affine());
            weights.push(Scalar::from(rng.next_u64()) * two64 + Scalar::from(rng.next_u64() | 1));
        }
        let hashed = V::SignatureAffine::msm(&hashes, &weights, 128).to_affine();
        let signature = V::SignatureAffine::msm(&sigs, &weights, 128).to_affine();
        if bool::from(hashed.is_identity()) {
            // Only with negligible probability; decide exactly, one by one.
            return items
                .iter()
                .zip(&hashes)
                .all(|((_, sig), h)| self.verify_hashed(h, sig));
        }
        pairing_equation::<V>(
            self.commitment.group_public_key().as_affine(),
            &hashed,
            &signature,
        )
    }

    /// Group signatures interpolated from **encoded, unchecked** partials, one set per message
    /// (`(message, [(index, bytes)])`), returned only if every one is the valid group
    /// signature on its message; `None` otherwise, naming nobody (use [`Combiner::combine`]
    /// to find culprits).
    ///
    /// Each partial is decoded canonically and on the curve but **not** subgroup-checked,
    /// nor verified: the `t+1` lowest indices of each set are interpolated, each result is
    /// subgroup-checked, and all are verified together ([`Combiner::verify_many`]: one pairing
    /// product). A result that passes is in the subgroup and verifies under the group key, so
    /// it is *the* unique signature, whatever the partials held (torsion components or errors
    /// that cancel included): this proves the signatures, not the partials. Against `2·(t+1)`
    /// subgroup checks of the partials (about half of a decoding), two checks of the results.
    /// `None` on an empty list, fewer than `t+1` distinct indices, an index outside `1..=n`,
    /// two different encodings at one index, or any undecodable partial. `rng` draws the
    /// weights of the joint check: use one the signers cannot predict.
    pub fn combine_encoded_verified(
        &self,
        items: &[(&[u8], EncodedPartials<'_>)],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Option<Vec<Signature<V>>> {
        let q = self.quorum();
        let mut signatures = Vec::with_capacity(items.len());
        for (_, partials) in items {
            let mut sorted: Vec<(u32, &[u8])> = partials.to_vec();
            sorted.sort_by_key(|p| p.0);
            sorted.dedup();
            if sorted.windows(2).any(|w| w[0].0 == w[1].0)
                || sorted.iter().any(|p| self.public_share(p.0).is_none())
                || sorted.len() < q
            {
                return None;
            }
            let chosen = &sorted[..q];
            let points: Vec<V::SignatureAffine> = chosen
                .iter()
                .map(|(_, bytes)| V::decode_signature_on_curve(bytes).ok())
                .collect::<Option<_>>()?;
            let indices: Vec<u32> = chosen.iter().map(|p| p.0).collect();
            let weights = self.weights(&indices);
            let combined = V::SignatureAffine::msm(&points, &weights, 255).to_affine();
            V::validate_signature(&combined).ok()?;
            signatures.push(Signature(combined));
        }
        if items.is_empty() {
            return None;
        }
        let checks: Vec<(&[u8], &Signature<V>)> = items
            .iter()
            .zip(&signatures)
            .map(|((msg, _), sig)| (*msg, sig))
            .collect();
        self.verify_many(&checks, rng).then_some(signatures)
    }

    /// Interpolate the `t+1` lowest-index partials **without verifying anything**: the result is
    /// invalid if any of them is, and nothing names the culprits. Only for partials the caller
    /// has already verified (or for measuring the raw interpolation); every other method
    /// verifies what it returns. Fails on fewer than `t+1` distinct partials, conflicting
    /// duplicate indices or indices outside `1..=n`.
    pub fn combine_unchecked(
        &self,
        partials: &[PartialSignature<V>],
    ) -> Result<Combined<V>, Error> {
        let sorted = self.normalise(partials)?;
        let q = self.quorum();
        if sorted.len() < q {
            return Err(Error::NotEnoughPartials {
                needed: q,
                valid: sorted.len(),
                culprits: vec![],
            });
        }
        let chosen = &sorted[..q];
        Ok(Combined {
            signature: self.interpolate(chosen),
            used: chosen.iter().map(|p| p.index).collect(),
            culprits: vec![],
        })
    }

    /// Robust, optimistic combine (see the module docs): the returned signature is verified
    /// under the group key. With all partials valid it costs one MSM and one pairing check.
    /// Invalid partials beyond the first `t+1` are only detected when the optimistic attempt
    /// fails; use [`Combiner::combine_verified`] to check every partial. `rng` draws the batch
    /// weights of the fallback: use an unpredictable one (`OsRng`, `thread_rng()`).
    pub fn combine(
        &self,
        msg: &[u8],
        partials: &[PartialSignature<V>],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Combined<V>, Error> {
        let hashed = self.hash(msg);
        let (candidates, culprits) = self.screen(partials, &hashed);
        let q = self.quorum();
        if candidates.len() < q {
            return Err(Error::NotEnoughPartials {
                needed: q,
                valid: candidates.len(),
                culprits,
            });
        }
        let signature = self.interpolate(&candidates[..q]);
        if self.verify_hashed(&hashed, &signature) {
            return Ok(Combined {
                signature,
                used: candidates[..q].iter().map(|p| p.index).collect(),
                culprits,
            });
        }
        self.combine_after_check(&hashed, candidates, culprits, rng)
    }

    /// Batch-verify every partial (bisecting to the culprits), interpolate `t+1` valid ones and
    /// verify the result under the group key (one batch check, one MSM and one pairing check
    /// when all are valid). `rng` draws the batch weights: use an unpredictable one (`OsRng`,
    /// `thread_rng()`).
    pub fn combine_verified(
        &self,
        msg: &[u8],
        partials: &[PartialSignature<V>],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Combined<V>, Error> {
        let hashed = self.hash(msg);
        let (candidates, culprits) = self.screen(partials, &hashed);
        self.combine_after_check(&hashed, candidates, culprits, rng)
    }

    /// Batch-verify the candidates, drop the culprits, then [`Combiner::finish`].
    fn combine_after_check(
        &self,
        hashed: &V::SignatureAffine,
        candidates: Vec<PartialSignature<V>>,
        culprits: Vec<u32>,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Combined<V>, Error> {
        let lookup = |i: u32| self.public_share(i);
        let bad = verify_partials_batch_hashed(&lookup, hashed, &candidates, rng)
            .err()
            .unwrap_or_default();
        let valid: Vec<PartialSignature<V>> = candidates
            .into_iter()
            .filter(|p| bad.binary_search(&p.index).is_err())
            .collect();
        self.finish(hashed, valid, merge(culprits, &bad))
    }

    /// Interpolate `t+1` of the batch-verified partials and verify the result. If that fails,
    /// the batch check was fooled (a predictable RNG, or 2^-63 bad luck): verify the partials
    /// one by one, drop the invalid ones, interpolate and verify again.
    fn finish(
        &self,
        hashed: &V::SignatureAffine,
        mut valid: Vec<PartialSignature<V>>,
        mut culprits: Vec<u32>,
    ) -> Result<Combined<V>, Error> {
        let q = self.quorum();
        let mut checked_one_by_one = false;
        while valid.len() >= q {
            let chosen = &valid[..q];
            let signature = self.interpolate(chosen);
            if self.verify_hashed(hashed, &signature) {
                return Ok(Combined {
                    signature,
                    used: chosen.iter().map(|p| p.index).collect(),
                    culprits,
                });
            }
            if checked_one_by_one {
                // t+1 individually valid partials interpolate to the group signature unless the
                // public shares do not match the commitment (`with_public_shares`).
                return Err(Error::VerificationFailed);
            }
            let mut bad = Vec::new();
            valid.retain(|p| {
                let ok = self
                    .public_share(p.index)
                    .is_some_and(|public| p.verify_hashed(&public, hashed));
                if !ok {
                    bad.push(p.index);
                }
                ok
            });
            culprits = merge(culprits, &bad);
            checked_one_by_one = true;
        }
        Err(Error::NotEnoughPartials {
            needed: q,
            valid: valid.len(),
            culprits,
        })
    }

    /// Robust combine ([`Combiner::combine`]) for many messages; weights of a repeated index
    /// set are computed once. Every returned signature is verified.
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
        self.verify_hashed(&self.hash(msg), signature)
    }
}
