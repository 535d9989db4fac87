//! Shares and partial signatures of t+1-of-n threshold BLS: a trusted-dealer `deal`, partial
//! signing, and partial verification (one at a time, or batched for one message with bisection to
//! the culprits).
//!
//! Share `i ∈ 1..=n` holds `f(i)` for the dealt polynomial `f` of degree `t`; its public share is
//! `F(i) = f(i)·G`, derived from the Feldman commitment. A partial signature of share `i` on `msg`
//! is `f(i)·H(msg)`, an ordinary BLS signature under the public share, so any `t+1` of them
//! interpolate (in the exponent) to the group signature `f(0)·H(msg)`.

use std::fmt;

use blstrs::Scalar;
use group::prime::PrimeCurveAffine;
use group::Curve;
use rand_core::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::fixed_base::FixedBase;
use crate::keys::{scalar_from_be, wipe_scalar, Signature};
use crate::poly::{Commitment, Polynomial, PublicShare};
use crate::variant::{pairing_equation, Msm, Variant};

/// A secret share: index `i ≥ 1` and the value `f(i)`. Zeroized on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct SecretShare {
    index: u32,
    value: Scalar,
}

impl SecretShare {
    /// A share with the given index and value. Fails for index 0.
    pub fn new(index: u32, value: Scalar) -> Result<Self, Error> {
        if index == 0 {
            return Err(Error::InvalidIndex(0));
        }
        Ok(SecretShare { index, value })
    }

    /// The share index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The share value `f(i)`.
    pub fn value(&self) -> &Scalar {
        &self.value
    }

    /// The matching public share `f(i)·G`.
    pub fn public_share<V: Variant>(&self) -> PublicShare<V> {
        PublicShare {
            index: self.index,
            point: V::PublicAffine::mul_generator(&self.value).to_affine(),
        }
    }

    /// Encoding: index (4 bytes, big-endian) ‖ value (32 bytes, big-endian). Zeroized on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(36));
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.value.to_bytes_be());
        out
    }

    /// Decode [`SecretShare::to_bytes`]: index ≥ 1, value < r.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != 36 {
            return Err(Error::InvalidLength {
                expected: 36,
                actual: bytes.len(),
            });
        }
        let index = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        Self::new(index, scalar_from_be(&bytes[4..])?)
    }

    /// Partial signature on `msg` with the given DST: `f(i)·H(msg)`.
    pub fn sign<V: Variant>(&self, dst: &[u8], msg: &[u8]) -> PartialSignature<V> {
        let sig = (V::hash_to_signature_group(msg, dst, &[]) * self.value).to_affine();
        PartialSignature {
            index: self.index,
            signature: Signature(sig),
        }
    }

    /// Check this share against a commitment: `f(i)·G == F(i)`.
    pub fn verify<V: Variant>(&self, commitment: &Commitment<V>) -> bool {
        V::PublicAffine::mul_generator(&self.value) == commitment.evaluate(self.index)
    }
}

impl Drop for SecretShare {
    fn drop(&mut self) {
        wipe_scalar(&mut self.value);
    }
}

impl zeroize::ZeroizeOnDrop for SecretShare {}

impl fmt::Debug for SecretShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretShare {{ index: {}, value: <redacted> }}",
            self.index
        )
    }
}

impl PartialEq for SecretShare {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && bool::from(self.value.ct_eq(&other.value))
    }
}
impl Eq for SecretShare {}

impl serde::Serialize for SecretShare {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::encoding::serialize_bytes(&self.to_bytes(), s)
    }
}

impl<'de> serde::Deserialize<'de> for SecretShare {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let bytes = Zeroizing::new(crate::encoding::deserialize_bytes(d)?);
        SecretShare::from_bytes(&bytes).map_err(D::Error::custom)
    }
}

/// A partial signature: the signer's share index and `f(i)·H(msg)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartialSignature<V: Variant> {
    /// The signer's share index (`≥ 1`).
    pub index: u32,
    /// `f(index)·H(msg)`.
    pub signature: Signature<V>,
}

impl<V: Variant> PartialSignature<V> {
    /// Encoding: index (4 bytes, big-endian) ‖ compressed signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.index.to_be_bytes().to_vec();
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// Decode [`PartialSignature::to_bytes`] (index ≥ 1, point subgroup-checked).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != 4 + V::SIGNATURE_SIZE {
            return Err(Error::InvalidLength {
                expected: 4 + V::SIGNATURE_SIZE,
                actual: bytes.len(),
            });
        }
        let index = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        if index == 0 {
            return Err(Error::InvalidIndex(0));
        }
        Ok(PartialSignature {
            index,
            signature: Signature::from_bytes(&bytes[4..])?,
        })
    }

    /// Verify against the signer's public share (which must carry the same index).
    pub fn verify(&self, public: &PublicShare<V>, dst: &[u8], msg: &[u8]) -> bool {
        let hashed = V::hash_to_signature_group(msg, dst, &[]).to_affine();
        self.verify_hashed(public, &hashed)
    }

    /// [`PartialSignature::verify`] with the message already hashed to the signature group.
    pub(crate) fn verify_hashed(
        &self,
        public: &PublicShare<V>,
        hashed: &V::SignatureAffine,
    ) -> bool {
        if public.index != self.index || bool::from(public.point.is_identity()) {
            return false;
        }
        pairing_equation::<V>(&public.point, hashed, self.signature.as_affine())
    }
}

crate::encoding::impl_byte_encoding!(PartialSignature<V: Variant>);

/// The output of a trusted dealer: the commitment (group public key first) and `n` secret shares.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct Dealing<V: Variant> {
    /// Feldman commitment to the dealt polynomial.
    pub commitment: Commitment<V>,
    /// Shares for indices `1..=n`.
    pub shares: Vec<SecretShare>,
}

/// The largest number of shares `n` (and so the largest share index) that [`deal`],
/// [`deal_polynomial`], [`Commitment::public_shares`] and [`Combiner`](crate::Combiner) accept:
/// 65 536. They allocate `O(n)` and compute `O(n·t)`, and `n` often comes from input (a
/// command line, a partial signature's index), so it is bounded; larger values fail with
/// [`Error::TooManyShares`] instead of exhausting memory. A commitment has at most this many
/// points.
pub const MAX_SHARES: u32 = 1 << 16;

/// `Err(TooManyShares)` when `n > MAX_SHARES`.
pub(crate) fn check_share_count(n: u64) -> Result<(), Error> {
    if n > u64::from(MAX_SHARES) {
        return Err(Error::TooManyShares { n, max: MAX_SHARES });
    }
    Ok(())
}

/// Trusted-dealer key generation: a random polynomial of degree `t`, shares for `1..=n`.
/// Requires `t < n ≤ MAX_SHARES`. For a dealer-free setup use the `conclave-dkg` crate.
pub fn deal<V: Variant>(
    n: u32,
    t: u32,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Dealing<V>, Error> {
    check_share_count(u64::from(n))?;
    if n == 0 || t >= n {
        return Err(Error::InvalidThreshold { t, n });
    }
    let poly = Polynomial::random(t, rng)?;
    deal_polynomial(&poly, n)
}

/// Shares of a given polynomial for indices `1..=n` and its commitment. Fails when
/// `n > MAX_SHARES`.
pub fn deal_polynomial<V: Variant>(poly: &Polynomial, n: u32) -> Result<Dealing<V>, Error> {
    check_share_count(u64::from(n))?;
    let shares = (1..=n)
        .map(|i| SecretShare {
            index: i,
            value: poly.evaluate(i),
        })
        .collect();
    Ok(Dealing {
        commitment: poly.commit(),
        shares,
    })
}

/// Bits of the random weights in [`verify_partials_batch`]: 64. The weights are odd (never
/// zero), so 2^63 values: a forged partial passes a batch with probability at most 2^-63 —
/// against an RNG the adversary cannot predict. A passing batch is not trusted on its own:
/// [`Combiner`](crate::Combiner) verifies every signature it returns.
pub const PARTIAL_BATCH_WEIGHT_BITS: usize = 64;

/// Verify partial signatures on one message in one batch:
/// `e(Σ r_i·PK_i, H(m)) == e(G, Σ r_i·σ_i)` with random odd 64-bit `r_i` (soundness error
/// 2^-63 per batch check), two MSMs and one two-pair pairing check. On failure, bisects and
/// returns the indices of the invalid partials (including those with no matching public
/// share).
///
/// The soundness holds only if `rng` is unpredictable to the signers (use `OsRng` or
/// `thread_rng()`): signers who know the weights can make two invalid partials cancel.
///
/// `public` maps a share index to its public share (e.g. a slice indexed by `index − 1`).
pub fn verify_partials_batch<V: Variant>(
    public: &dyn Fn(u32) -> Option<PublicShare<V>>,
    dst: &[u8],
    msg: &[u8],
    partials: &[PartialSignature<V>],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(), Vec<u32>> {
    let hashed = V::hash_to_signature_group(msg, dst, &[]).to_affine();
    verify_partials_batch_hashed(public, &hashed, partials, rng)
}

/// [`verify_partials_batch`] with the message already hashed to the signature group.
pub(crate) fn verify_partials_batch_hashed<V: Variant>(
    public: &dyn Fn(u32) -> Option<PublicShare<V>>,
    hashed: &V::SignatureAffine,
    partials: &[PartialSignature<V>],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(), Vec<u32>> {
    let mut bad = Vec::new();
    let mut items = Vec::with_capacity(partials.len());
    for p in partials {
        match public(p.index) {
            Some(pk) if pk.index == p.index && !bool::from(pk.point.is_identity()) => {
                items.push((pk.point, *p))
            }
            _ => bad.push(p.index),
        }
    }
    let all: Vec<usize> = (0..items.len()).collect();
    bisect_partials::<V>(hashed, &items, &all, false, rng, &mut bad);
    if bad.is_empty() {
        Ok(())
    } else {
        bad.sort_unstable();
        Err(bad)
    }
}

/// One randomised check of two sets of signatures at once: partial signatures of `msg` (under
/// their public shares, with `dst`) and ordinary signatures of a second message `signed` (under
/// their signers' keys, with `suite`). Attributable votes carry one of each, and this checks a
/// whole quorum with three Miller loops and one final exponentiation:
/// `e(Σ r_i·P_i, H(msg)) · e(Σ r'_j·pk_j, H(signed)) == e(g, Σ r_i·σ_i + Σ r'_j·τ_j)`.
///
/// `Ok(true)` only if every signature is valid, except with probability 2^-63 per invalid
/// partial (64-bit weights, as [`verify_partials_batch`]) and 2^-127 per invalid ordinary
/// signature (128-bit weights, as [`verify_batch`](crate::verify_batch)), against an RNG the
/// signers cannot predict. `Ok(false)` says only that something is invalid (or a degenerate
/// point made the combined check inapplicable): name the culprits with [`verify_partials_batch`]
/// and [`verify_batch`](crate::verify_batch). Both lists empty is `Ok(true)`.
/// `Err(AugmentationUnsupported)` for the message-augmentation scheme, whose signed messages
/// differ per key.
#[allow(clippy::too_many_arguments)]
pub fn verify_partials_with_signatures<V: Variant>(
    public: &dyn Fn(u32) -> Option<PublicShare<V>>,
    dst: &[u8],
    msg: &[u8],
    partials: &[PartialSignature<V>],
    suite: &crate::scheme::Ciphersuite<V>,
    signed: &[u8],
    signatures: &[(&crate::keys::PublicKey<V>, &Signature<V>)],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<bool, Error> {
    if suite.scheme() == crate::scheme::Scheme::MessageAugmentation {
        return Err(Error::AugmentationUnsupported);
    }
    if partials.is_empty() && signatures.is_empty() {
        return Ok(true);
    }
    let mut shares = Vec::with_capacity(partials.len());
    let mut share_weights = Vec::with_capacity(partials.len());
    let mut sigs = Vec::with_capacity(partials.len() + signatures.len());
    let mut sig_weights = Vec::with_capacity(partials.len() + signatures.len());
    for p in partials {
        match public(p.index) {
            Some(pk) if pk.index == p.index && !bool::from(pk.point.is_identity()) => {
                let w = Scalar::from(rng.next_u64() | 1);
                shares.push(pk.point);
                share_weights.push(w);
                sigs.push(*p.signature.as_affine());
                sig_weights.push(w);
            }
            _ => return Ok(false),
        }
    }
    let two64 = Scalar::from(1u64 << 32) * Scalar::from(1u64 << 32);
    let mut keys = Vec::with_capacity(signatures.len());
    let mut key_weights = Vec::with_capacity(signatures.len());
    for (pk, sig) in signatures {
        if bool::from(pk.as_affine().is_identity()) {
            return Ok(false);
        }
        let w = Scalar::from(rng.next_u64()) * two64 + Scalar::from(rng.next_u64() | 1);
        keys.push(*pk.as_affine());
        key_weights.push(w);
        sigs.push(*sig.as_affine());
        sig_weights.push(w);
    }
    let sig = V::SignatureAffine::msm(&sigs, &sig_weights, 128).to_affine();
    let mut terms: Vec<(V::PublicAffine, V::SignatureAffine)> = Vec::with_capacity(3);
    if !shares.is_empty() {
        let pk = V::PublicAffine::msm(&shares, &share_weights, PARTIAL_BATCH_WEIGHT_BITS);
        let hashed = V::hash_to_signature_group(msg, dst, &[]).to_affine();
        terms.push((pk.to_affine(), hashed));
    }
    if !keys.is_empty() {
        let pk = V::PublicAffine::msm(&keys, &key_weights, 128);
        let hashed = V::hash_to_signature_group(signed, suite.dst(), &[]).to_affine();
        terms.push((pk.to_affine(), hashed));
    }
    // blst's Miller loop takes no identity point; a degenerate sum is left to the exact checks.
    if bool::from(sig.is_identity())
        || terms
            .iter()
            .any(|(p, h)| bool::from(p.is_identity()) || bool::from(h.is_identity()))
    {
        return Ok(false);
    }
    let mut ctx = blst::Pairing::new(false, &[]);
    for (p, h) in &terms {
        V::raw_pair(&mut ctx, p, h);
    }
    let neg_gen = -V::PublicAffine::generator();
    V::raw_pair(&mut ctx, &neg_gen, &sig);
    ctx.commit();
    Ok(ctx.finalverify(None))
}

fn bisect_partials<V: Variant>(
    hashed: &V::SignatureAffine,
    items: &[(V::PublicAffine, PartialSignature<V>)],
    idx: &[usize],
    known_bad: bool,
    rng: &mut (impl RngCore + CryptoRng),
    bad: &mut Vec<u32>,
) {
    match idx.len() {
        0 => {}
        1 => {
            let (pk, p) = &items[idx[0]];
            if !pairing_equation::<V>(pk, hashed, p.signature.as_affine()) {
                bad.push(p.index);
            }
        }
        _ => {
            if !known_bad && check_partials::<V>(hashed, items, idx, rng) {
                return;
            }
            let (left, right) = idx.split_at(idx.len() / 2);
            let before = bad.len();
            bisect_partials::<V>(hashed, items, left, false, rng, bad);
            let right_known_bad = bad.len() == before;
            bisect_partials::<V>(hashed, items, right, right_known_bad, rng, bad);
        }
    }
}

fn check_partials<V: Variant>(
    hashed: &V::SignatureAffine,
    items: &[(V::PublicAffine, PartialSignature<V>)],
    idx: &[usize],
    rng: &mut (impl RngCore + CryptoRng),
) -> bool {
    let mut weights = Vec::with_capacity(idx.len());
    let mut pks = Vec::with_capacity(idx.len());
    let mut sigs = Vec::with_capacity(idx.len());
    for &i in idx {
        weights.push(Scalar::from(rng.next_u64() | 1));
        pks.push(items[i].0);
        sigs.push(*items[i].1.signature.as_affine());
    }
    let pk = V::PublicAffine::msm(&pks, &weights, PARTIAL_BATCH_WEIGHT_BITS);
    let sig = V::SignatureAffine::msm(&sigs, &weights, PARTIAL_BATCH_WEIGHT_BITS);
    pairing_equation::<V>(&pk.to_affine(), hashed, &sig.to_affine())
}

/// Interpolate secret shares at zero (recovers the dealt secret from any `t+1` shares).
pub fn interpolate_secret(shares: &[SecretShare]) -> Result<Scalar, Error> {
    let indices: Vec<u32> = shares.iter().map(|s| s.index).collect();
    let weights = crate::lagrange::lagrange_coefficients(&indices)?;
    Ok(shares.iter().zip(weights).map(|(s, w)| s.value * w).sum())
}
