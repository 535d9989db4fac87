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
//! **Attribution.** Partial signatures are not attributable (see [`crate::evidence`]): t+1
//! partials on a message give every seat's partial on it. [`ThresholdVerifier::attributable`]
//! is therefore false, and double-signing evidence is reported as not slashable, unless the
//! verifier is built [`ThresholdVerifier::with_individual_keys`]: then each seat also holds an
//! individual BLS key, registered with a proof of possession at setup, and every signature the
//! engine handles is `partial ‖ individual`, the second part a plain BLS signature by the seat's
//! own key over `"conclave-bft/individual/v1" ‖ message`. [`Verifier::verify_share`] and
//! [`Verifier::verify_batch`] check both parts (the individual parts of a batch with one
//! randomised [`conclave_threshold_sig::verify_batch`]), [`Verifier::combine`] uses the partial
//! parts, and certificates stay one threshold signature. The cost is one more signature per
//! vote on the wire and one more batch check per quorum. Measured (`tests/real_crypto.rs`,
//! `measure_attributable_mode_cost`, release, min-pk, 10 heights, no faults, trusted dealer):
//! wall time 529 → 972 ms at n = 4, 5.2 → 10.7 s at n = 16, 47 → 114 s at n = 64 (the whole
//! simulation, ×1.8–2.4); bytes on the wire +45 % (n = 4) to +52 % (n = 64). The individual
//! parts go through the generic triple batch, one pairing per share; one pairing per batch
//! (all shares sign one message, `e(Σ rᵢ·pkᵢ, H(m)) = e(g, Σ rᵢ·σᵢ)`) would cut most of it.
//!
//! **Chains share nothing but the DST.** Votes, certificates and beacons bind the epoch and the
//! height (see [`crate::types`]) but no chain identifier: the DST is the chain's domain. Two
//! chains served by the same committee key (a test net and a production net after a resharing
//! that kept the key, say) must sign under distinct DSTs, or a vote, certificate or beacon of
//! one verifies on the other and the beacon seeds coincide; derive the DST from the chain id, as
//! `conclave node` does from its genesis. [`ThresholdVerifier::new`] and
//! [`ThresholdSigner::new`] reject an empty DST.
//!
//! **Setup checks.** [`ThresholdVerifier::new`] rejects a commitment whose quorum t+1 does not
//! give quorum intersection with f = ⌊(n−1)/3⌋ faults (2(t+1) > n + f: two quorums share an
//! honest seat), e.g. a degree-f beacon key, and one the honest seats cannot reach alone
//! (t+1 > n − f).
//!
//! Batch weights are 64-bit and derived from a hash of a verifier secret and the batch's inputs,
//! so runs are reproducible; an adversary who cannot predict the verifier secret cannot choose
//! cancelling forgeries (the weights are odd: soundness error 2^-63 per batch check). A combined
//! signature is never trusted because a batch passed: `Combiner::combine` verifies every
//! signature it returns and falls back to one-by-one verification of the shares when that fails.

use super::{seeded_rng, CryptoCounters};
use crate::traits::{CombineError, Committee, Share, SignError, Signer, Verifier};
use crate::types::{Certificate, NodeId, Period, Seed, ValueId, VoteStep};
use conclave_threshold_sig::{
    verify_batch as verify_signatures_batch, verify_partials_batch,
    verify_partials_with_signatures, BatchItem, Ciphersuite, Combiner, Commitment,
    Error as TsError, PartialSignature, PublicKey, Scheme, SecretKey, SecretShare, Signature,
    Variant,
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

/// Prefix of the message an individual key signs in attributable threshold mode.
pub const INDIVIDUAL_DOMAIN: &[u8] = b"conclave-bft/individual/v1";

fn individual_message(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(INDIVIDUAL_DOMAIN.len() + message.len());
    out.extend_from_slice(INDIVIDUAL_DOMAIN);
    out.extend_from_slice(message);
    out
}

/// Why a [`ThresholdVerifier`] cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThresholdSetupError {
    /// Two quorums of `quorum` seats need not share an honest seat: 2·quorum ≤ n + f.
    #[error(
        "a key of degree {degree} (quorum {quorum}) over {n} seats with f = {f} has no quorum \
         intersection: need 2·quorum > n + f"
    )]
    NoQuorumIntersection {
        /// Degree of the commitment.
        degree: u32,
        /// Partials needed (degree + 1).
        quorum: u32,
        /// Seats.
        n: u32,
        /// Tolerated faults ⌊(n−1)/3⌋.
        f: u32,
    },
    /// The honest seats alone cannot reach the quorum: quorum > n − f.
    #[error("quorum {quorum} exceeds the {honest} honest seats of n = {n}")]
    QuorumUnreachable {
        /// Partials needed.
        quorum: u32,
        /// Seats.
        n: u32,
        /// n − f.
        honest: u32,
    },
    /// The individual keys do not match the seats.
    #[error("{keys} individual keys for {n} seats")]
    KeyCount {
        /// Keys given.
        keys: usize,
        /// Seats.
        n: u32,
    },
    /// A seat's individual key came without a valid proof of possession.
    #[error("the individual key of seat {0} has no valid proof of possession")]
    InvalidProofOfPossession(NodeId),
    /// The threshold parameters or the DST are refused by the combiner.
    #[error(transparent)]
    Combiner(#[from] TsError),
}

/// Why a [`ThresholdSigner`] cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThresholdSignerError {
    /// The share's index is not the seat's (share indices are seat + 1).
    #[error("share index {index} does not match seat {seat}")]
    ShareIndex {
        /// The share's index.
        index: u32,
        /// The seat.
        seat: NodeId,
    },
    /// The DST is refused (empty).
    #[error(transparent)]
    Dst(#[from] TsError),
}

/// The public side of a threshold committee: [`Committee`] and [`Verifier`].
pub struct ThresholdVerifier<V: Variant> {
    n: u32,
    combiner: Combiner<V>,
    suite: Ciphersuite<V>,
    group_public_key: PublicKey<V>,
    salt: [u8; 32],
    individual: Option<Vec<PublicKey<V>>>,
    /// Work counters (shared with the provider that built this verifier).
    pub counters: Arc<CryptoCounters>,
}

impl<V: Variant> ThresholdVerifier<V> {
    /// A verifier for seats `0..n` (share indices `1..=n`) of `commitment`, signing under `dst`.
    /// `salt` keys the batch-verification weights (keep it unpredictable to peers).
    ///
    /// Fails unless the quorum t+1 of the commitment (degree t) gives quorum intersection,
    /// 2(t+1) > n + f with f = ⌊(n−1)/3⌋, and is reachable by the n − f honest seats; and as
    /// `Combiner::new` does: `n` above `MAX_SHARES` or below `t+1`, an empty or `AUG` DST.
    pub fn new(
        commitment: Commitment<V>,
        n: u32,
        dst: &[u8],
        salt: [u8; 32],
    ) -> Result<Self, ThresholdSetupError> {
        let f = n.saturating_sub(1) / 3;
        let degree = commitment.degree();
        let quorum = degree.saturating_add(1);
        if u64::from(quorum) * 2 <= u64::from(n) + u64::from(f) {
            return Err(ThresholdSetupError::NoQuorumIntersection {
                degree,
                quorum,
                n,
                f,
            });
        }
        if quorum > n - f {
            return Err(ThresholdSetupError::QuorumUnreachable {
                quorum,
                n,
                honest: n - f,
            });
        }
        let group_public_key = commitment.group_public_key();
        Ok(ThresholdVerifier {
            n,
            combiner: Combiner::new(commitment, n, dst.to_vec())?,
            suite: Ciphersuite::with_dst(Scheme::ProofOfPossession, dst.to_vec())?,
            group_public_key,
            salt,
            individual: None,
            counters: Arc::default(),
        })
    }

    /// Attributable mode: seat `i` also signs with the individual key `keys[i].0`, whose proof
    /// of possession `keys[i].1` (IETF `PopProve`) is checked here. Every signature is then
    /// `partial ‖ individual` and double-signing evidence is slashable.
    pub fn with_individual_keys(
        mut self,
        keys: &[(PublicKey<V>, Signature<V>)],
    ) -> Result<Self, ThresholdSetupError> {
        if keys.len() != self.n as usize {
            return Err(ThresholdSetupError::KeyCount {
                keys: keys.len(),
                n: self.n,
            });
        }
        for (i, (key, pop)) in keys.iter().enumerate() {
            if !key.pop_verify(pop) {
                return Err(ThresholdSetupError::InvalidProofOfPossession(NodeId(
                    i as u32,
                )));
            }
        }
        self.individual = Some(keys.iter().map(|(k, _)| *k).collect());
        Ok(self)
    }

    /// The two halves of an attributable-mode signature, or the whole as the partial.
    fn split<'a>(&self, signature: &'a [u8]) -> Option<(&'a [u8], Option<&'a [u8]>)> {
        match self.individual {
            None => Some((signature, None)),
            Some(_) if signature.len() == 2 * V::SIGNATURE_SIZE => {
                let (p, i) = signature.split_at(V::SIGNATURE_SIZE);
                Some((p, Some(i)))
            }
            Some(_) => None,
        }
    }

    fn individual_ok(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool {
        let Some(keys) = &self.individual else {
            return true;
        };
        match (
            keys.get(signer.0 as usize),
            Signature::<V>::from_bytes(signature),
        ) {
            (Some(key), Ok(sig)) => key.verify(&self.suite, &individual_message(message), &sig),
            _ => false,
        }
    }

    /// The group public key certificates verify under.
    pub fn group_public_key(&self) -> &PublicKey<V> {
        &self.group_public_key
    }

    /// The DST every signature uses.
    pub fn dst(&self) -> &[u8] {
        self.suite.dst()
    }

    /// The partial-signature part of `signature`, decoded.
    fn partial(&self, signer: NodeId, signature: &[u8]) -> Option<PartialSignature<V>> {
        if signer.0 >= self.n {
            return None;
        }
        let (partial, _) = self.split(signature)?;
        Some(PartialSignature {
            index: signer.0 + 1,
            signature: Signature::from_bytes(partial).ok()?,
        })
    }

    /// (index, partial-signature bytes) of each share, undecoded; `None` if a signer is
    /// outside the committee or a signature has the wrong shape.
    fn encoded_partials<'a>(&self, shares: &[Share<'a>]) -> Option<Vec<(u32, &'a [u8])>> {
        shares
            .iter()
            .map(|s| {
                if s.signer.0 >= self.n {
                    return None;
                }
                Some((s.signer.0 + 1, self.split(s.signature)?.0))
            })
            .collect()
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
        let individual_ok = match self.split(signature) {
            Some((_, Some(individual))) => self.individual_ok(signer, message, individual),
            Some((_, None)) => true,
            None => false,
        };
        individual_ok
            && match (
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
        let mut individual: Vec<(NodeId, Signature<V>)> = Vec::new();
        for s in shares {
            match self.partial(s.signer, s.signature) {
                Some(p) => partials.push(p),
                None => {
                    bad.insert(s.signer);
                    continue;
                }
            }
            if let Some((_, Some(sig))) = self.split(s.signature) {
                match Signature::<V>::from_bytes(sig) {
                    Ok(sig) => individual.push((s.signer, sig)),
                    Err(_) => {
                        bad.insert(s.signer);
                    }
                }
            }
        }
        let mut rng = self.rng(message, shares);
        let lookup = |i: u32| self.combiner.public_share(i);
        if let Some(keys) = &self.individual {
            let signed = individual_message(message);
            // The common case, every vote valid: partials and individual signatures in one
            // pairing check (three Miller loops); any failure falls through to the separate
            // checks, which name the culprits.
            if bad.is_empty() && individual.len() == partials.len() {
                let pairs: Option<Vec<_>> = individual
                    .iter()
                    .map(|(signer, sig)| keys.get(signer.0 as usize).map(|k| (k, sig)))
                    .collect();
                if let Some(pairs) = pairs {
                    if let Ok(true) = verify_partials_with_signatures(
                        &lookup,
                        self.dst(),
                        message,
                        &partials,
                        &self.suite,
                        &signed,
                        &pairs,
                        &mut rng,
                    ) {
                        return Ok(());
                    }
                }
            }
            let items: Vec<BatchItem<'_, V>> = individual
                .iter()
                .map(|(signer, sig)| BatchItem {
                    public_key: &keys[signer.0 as usize],
                    message: &signed,
                    signature: sig,
                })
                .collect();
            if let Err(positions) = verify_signatures_batch(&self.suite, &items, &mut rng) {
                bad.extend(positions.into_iter().map(|i| individual[i].0));
            }
        }
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

    /// Both results interpolated from the shares, then checked together under the group key
    /// with one pairing product ([`Combiner::verify_many`]); if that check fails, each is
    /// combined robustly on its own, which names the culprits.
    fn combine_with_beacon(
        &self,
        message: &[u8],
        shares: &[Share<'_>],
        beacon_message: &[u8],
        period: Period,
        beacon_shares: &[Share<'_>],
    ) -> Result<(Vec<u8>, Vec<u8>), CombineError> {
        if let Some(pair) = self.combine_unverified_with_beacon(
            message,
            shares,
            beacon_message,
            period,
            beacon_shares,
        ) {
            return Ok(pair);
        }
        Ok((
            self.combine(message, shares)?,
            self.combine_beacon(beacon_message, period, beacon_shares)?,
        ))
    }

    /// The certificate and the beacon interpolated from the `t+1` lowest-index shares of each,
    /// none verified nor subgroup-checked, returned only if both results are in the subgroup
    /// and verify under the group key in one pairing product
    /// ([`Combiner::combine_encoded_verified`]), with weights drawn from the salt and every
    /// input. A threshold signature is unique: what this returns is byte for byte what
    /// combining verified shares returns. The individual halves of attributable-mode
    /// signatures are not looked at (the engine checks them where a vote is needed on its
    /// own).
    fn combine_unverified_with_beacon(
        &self,
        message: &[u8],
        shares: &[Share<'_>],
        beacon_message: &[u8],
        _period: Period,
        beacon_shares: &[Share<'_>],
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        let votes = self.encoded_partials(shares)?;
        let beacons = self.encoded_partials(beacon_shares)?;
        let mut parts: Vec<&[u8]> = vec![message, beacon_message];
        parts.extend(shares.iter().map(|s| s.signature));
        parts.extend(beacon_shares.iter().map(|s| s.signature));
        let mut rng = seeded_rng(&self.salt, &parts);
        let combined = self
            .combiner
            .combine_encoded_verified(&[(message, &votes), (beacon_message, &beacons)], &mut rng)?;
        self.counters.combines.fetch_add(2, Ordering::Relaxed);
        match combined.as_slice() {
            [cert, beacon] => Some((cert.to_bytes(), beacon.to_bytes())),
            _ => None,
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

    /// False for bare partial signatures (t+1 of them yield any seat's partial); true when
    /// every signature also carries the seat's individual BLS signature.
    fn attributable(&self) -> bool {
        self.individual.is_some()
    }

    /// True: a threshold signature under the group key needs t+1 shares in any period.
    fn certificates_bind_quorum_at_any_period(&self) -> bool {
        true
    }

    /// One signature of the variant per share (two in attributable mode: partial ‖
    /// individual); one per certificate.
    fn signature_sizes(&self) -> crate::traits::SignatureSizes {
        use crate::codec::FieldSize;
        let one = V::SIGNATURE_SIZE;
        crate::traits::SignatureSizes {
            share: FieldSize::Exact(if self.individual.is_some() {
                2 * one
            } else {
                one
            }),
            certificate: FieldSize::Exact(one),
        }
    }
}

/// One seat's key share (implements [`Signer`]), and in attributable mode its individual key.
pub struct ThresholdSigner<V: Variant> {
    id: NodeId,
    share: SecretShare,
    dst: Vec<u8>,
    individual: Option<SecretKey>,
    suite: Ciphersuite<V>,
}

impl<V: Variant> ThresholdSigner<V> {
    /// Seat `id` signing with `share` (whose index must be `id + 1`) under a non-empty `dst`.
    pub fn new(id: NodeId, share: SecretShare, dst: &[u8]) -> Result<Self, ThresholdSignerError> {
        let suite = Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, dst.to_vec())?;
        if share.index() != id.0 + 1 {
            return Err(ThresholdSignerError::ShareIndex {
                index: share.index(),
                seat: id,
            });
        }
        Ok(ThresholdSigner {
            id,
            share,
            dst: dst.to_vec(),
            individual: None,
            suite,
        })
    }

    /// Attributable mode: also sign every message with the seat's individual key (whose public
    /// key and proof of possession go to [`ThresholdVerifier::with_individual_keys`]).
    pub fn with_individual_key(mut self, key: SecretKey) -> Self {
        self.individual = Some(key);
        self
    }
}

impl<V: Variant> Signer for ThresholdSigner<V> {
    fn id(&self) -> NodeId {
        self.id
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut out = self
            .share
            .sign::<V>(&self.dst, message)
            .signature
            .to_bytes();
        if let Some(key) = &self.individual {
            out.extend(
                key.sign(&self.suite, &individual_message(message))
                    .to_bytes(),
            );
        }
        Ok(out)
    }
}
