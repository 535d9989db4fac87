//! The two BLS12-381 variants behind one trait, so every algorithm is written once.
//!
//! * [`MinPk`]: public keys in G1 (48 bytes), signatures in G2 (96 bytes): Ethereum, drand mainnet.
//! * [`MinSig`]: public keys in G2 (96 bytes), signatures in G1 (48 bytes): drand quicknet.

use std::any::Any;
use std::fmt::Debug;
use std::hash::Hash;

use blst::{blst_p1_affine, blst_p2_affine, MultiPoint};
use blstrs::{G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use group::prime::{PrimeCurve, PrimeCurveAffine};
use group::{Group, GroupEncoding};

use crate::error::Error;
use crate::fixed_base::FixedBase;

mod private {
    pub trait Sealed {}
    impl Sealed for super::MinPk {}
    impl Sealed for super::MinSig {}
}

/// A BLS12-381 variant: which group holds public keys and which holds signatures.
///
/// The trait is sealed: the two implementations are [`MinPk`] and [`MinSig`].
pub trait Variant:
    private::Sealed + Copy + Clone + Debug + Default + PartialEq + Eq + Hash + Send + Sync + 'static
{
    /// Group of public keys, in projective form.
    type Public: PrimeCurve<Scalar = Scalar, Affine = Self::PublicAffine> + Send + Sync + 'static;
    /// Group of public keys, in affine form.
    type PublicAffine: PrimeCurveAffine<Scalar = Scalar, Curve = Self::Public>
        + GroupEncoding
        + Msm
        + FixedBase
        + Debug
        + Send
        + Sync
        + 'static;
    /// Group of signatures, in projective form.
    type Signature: PrimeCurve<Scalar = Scalar, Affine = Self::SignatureAffine>
        + Send
        + Sync
        + 'static;
    /// Group of signatures, in affine form.
    type SignatureAffine: PrimeCurveAffine<Scalar = Scalar, Curve = Self::Signature>
        + GroupEncoding
        + Msm
        + Debug
        + Send
        + Sync
        + 'static;

    /// `"min-pk"` or `"min-sig"`.
    const NAME: &'static str;
    /// Compressed size of a public key in bytes.
    const PUBLIC_KEY_SIZE: usize;
    /// Compressed size of a signature in bytes.
    const SIGNATURE_SIZE: usize;
    /// `"G1"` or `"G2"`: the group signatures live in, as named in the IETF DSTs.
    const SIGNATURE_GROUP: &'static str;

    /// Hash to the signature group (RFC 9380 `hash_to_curve`, `_RO_`), with `aug` prepended to `msg`.
    fn hash_to_signature_group(msg: &[u8], dst: &[u8], aug: &[u8]) -> Self::Signature;

    /// The raw blst affine point of a public key, for blst's pairing context.
    #[doc(hidden)]
    fn blst_public(p: &Self::PublicAffine) -> &dyn Any;
    /// The raw blst affine point of a signature, for blst's pairing context.
    #[doc(hidden)]
    fn blst_signature(p: &Self::SignatureAffine) -> &dyn Any;
    /// Add the Miller loop of `e(public, signature)` (in the right argument order) to a context.
    #[doc(hidden)]
    fn raw_pair(
        ctx: &mut blst::Pairing<'_>,
        public: &Self::PublicAffine,
        sig: &Self::SignatureAffine,
    );

    /// Decode a compressed point of the given group, distinguishing off-curve from off-subgroup.
    #[doc(hidden)]
    fn decode_public(bytes: &[u8]) -> Result<Self::PublicAffine, Error>;
    /// Decode a compressed signature-group point (identity allowed), subgroup-checked.
    #[doc(hidden)]
    fn decode_signature(bytes: &[u8]) -> Result<Self::SignatureAffine, Error>;
    /// [`Variant::decode_signature`] without the subgroup check (canonical and on the curve
    /// only): for points that only ever enter a combination whose result is checked.
    #[doc(hidden)]
    fn decode_signature_on_curve(bytes: &[u8]) -> Result<Self::SignatureAffine, Error>;

    /// Check that a public-key-group point is on the curve and in the prime-order subgroup
    /// (the identity passes; key types reject it separately). Points built with blstrs's
    /// `from_raw_unchecked` / `from_*_unchecked` can fail this.
    #[doc(hidden)]
    fn validate_public(p: &Self::PublicAffine) -> Result<(), Error>;
    /// [`Variant::validate_public`] for the signature group.
    #[doc(hidden)]
    fn validate_signature(p: &Self::SignatureAffine) -> Result<(), Error>;
}

/// Public keys in G1 (48 bytes), signatures in G2 (96 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MinPk;

/// Public keys in G2 (96 bytes), signatures in G1 (48 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MinSig;

/// Multi-scalar multiplication with blst's Pippenger on affine points.
pub trait Msm: PrimeCurveAffine<Scalar = Scalar> {
    /// `Σ scalars[i] · points[i]`, using the low `nbits` bits of each scalar (`nbits ≤ 255`;
    /// use 255 for full scalars). Extra points or scalars beyond the shorter list are ignored.
    fn msm(points: &[Self], scalars: &[Scalar], nbits: usize) -> Self::Curve;

    /// Normalise many projective points at once with one field inversion (blst's batch
    /// conversion; the identity maps to the identity).
    fn batch_from_curve(points: &[Self::Curve]) -> Vec<Self>;

    /// One step of a forward-difference table in affine coordinates: `a[k] ← a[k] + a[k+1]` for
    /// every `k < len − 1` (all from the old values), the slopes sharing one batched inversion.
    /// Pairs with an identity or equal `x` coordinates (never for honest random data, possible
    /// for adversarial input) take the projective path.
    fn difference_step(table: &mut [Self]);

    /// [`Msm::difference_step`] on consecutive tables of `segment` entries each (the last one
    /// may be shorter), all sharing one batched inversion: `a[k] ← a[k] + a[k+1]` for every
    /// `k` that is not the last entry of its table. `segment = 0` counts as one table.
    fn difference_step_segments(table: &mut [Self], segment: usize);

    /// `a[i] ← a[i] + b[i]` for every `i < min(len)`, in affine coordinates with the slopes
    /// sharing one batched inversion (about half the cost of a projective mixed addition).
    /// Identity operands, equal points (a doubling) and opposite points are handled exactly.
    fn batch_add(a: &mut [Self], b: &[Self]);

    /// `a[i] ← 2·a[i]` for every `i`, in affine coordinates with one batched inversion.
    fn batch_double(a: &mut [Self]);

    /// `Σ points[i]` with blst's batched affine accumulation (identities are skipped).
    fn sum(points: &[Self]) -> Self::Curve;
}

/// Bodies of [`Msm::batch_add`] and [`Msm::batch_double`] for one affine type (the coordinate
/// field types of blstrs are not exported, so they are only ever inferred).
macro_rules! batch_add_body {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        let n = a.len().min(b.len());
        let one = field_one(&Self::generator().x());
        let mut dens = Vec::with_capacity(n);
        let mut special = vec![false; n];
        for i in 0..n {
            let (p, q) = (a[i], b[i]);
            if bool::from(p.is_identity() | q.is_identity()) || p.x() == q.x() {
                dens.push(one);
                special[i] = true;
            } else {
                dens.push(q.x() - p.x());
            }
        }
        ff::BatchInvert::batch_invert(dens.iter_mut());
        for i in 0..n {
            let (p, q) = (a[i], b[i]);
            a[i] = if !special[i] {
                let (x1, y1, x2, y2) = (p.x(), p.y(), q.x(), q.y());
                let slope = (y2 - y1) * dens[i];
                let x3 = slope.square() - x1 - x2;
                let y3 = slope * (x1 - x3) - y1;
                Self::from_raw_unchecked(x3, y3, false)
            } else if bool::from(q.is_identity()) {
                p
            } else if bool::from(p.is_identity()) {
                q
            } else {
                // Equal or opposite points: blst's add-or-double.
                (p.to_curve() + q).to_affine()
            };
        }
    }};
}

macro_rules! batch_double_body {
    ($a:expr) => {{
        let a = $a;
        let one = field_one(&Self::generator().x());
        let zero = one - one;
        let mut dens = Vec::with_capacity(a.len());
        let mut special = vec![false; a.len()];
        let mut any = false;
        for (i, p) in a.iter().enumerate() {
            // y = 0 only at points of order 2, which prime-order subgroups do not have.
            if bool::from(p.is_identity()) || p.y() == zero {
                dens.push(one);
                special[i] = true;
            } else {
                dens.push(p.y().double());
                any = true;
            }
        }
        if any {
            ff::BatchInvert::batch_invert(dens.iter_mut());
        }
        for (i, p) in a.iter_mut().enumerate() {
            *p = if special[i] {
                if bool::from(p.is_identity()) {
                    continue;
                }
                p.to_curve().double().to_affine()
            } else {
                let (x, y) = (p.x(), p.y());
                let xx = x.square();
                let slope = (xx.double() + xx) * dens[i];
                let x3 = slope.square() - x.double();
                let y3 = slope * (x - x3) - y;
                Self::from_raw_unchecked(x3, y3, false)
            };
        }
    }};
}

/// Body of [`Msm::difference_step`] for one affine type (the coordinate field types of blstrs
/// are not exported, so they are only ever inferred).
macro_rules! difference_step_body {
    ($table:expr, $segment:expr) => {{
        let a = $table;
        let len = a.len();
        let segment = if $segment == 0 { len } else { $segment };
        // The last entry of each table has no successor in it.
        let last = |k: usize| (k + 1) % segment == 0;
        if len >= 2 {
            let one = field_one(&Self::generator().x());
            let mut dens = Vec::with_capacity(len - 1);
            let mut special = vec![false; len - 1];
            for k in 0..len - 1 {
                let (p, q) = (a[k], a[k + 1]);
                if last(k) {
                    dens.push(one);
                } else if bool::from(p.is_identity() | q.is_identity()) || p.x() == q.x() {
                    dens.push(one);
                    special[k] = true;
                } else {
                    dens.push(q.x() - p.x());
                }
            }
            ff::BatchInvert::batch_invert(dens.iter_mut());
            for k in 0..len - 1 {
                if last(k) {
                    continue;
                }
                let (p, q) = (a[k], a[k + 1]); // q not yet updated: k increases
                a[k] = if special[k] {
                    (p.to_curve() + q).to_affine()
                } else {
                    let (x1, y1, x2, y2) = (p.x(), p.y(), q.x(), q.y());
                    let slope = (y2 - y1) * dens[k];
                    let x3 = slope.square() - x1 - x2;
                    let y3 = slope * (x1 - x3) - y1;
                    Self::from_raw_unchecked(x3, y3, false)
                };
            }
        }
    }};
}

fn field_one<F: ff::Field>(_: &F) -> F {
    F::ONE
}

/// Scalars as little-endian bytes, `ceil(nbits/8)` bytes each, for blst's Pippenger.
fn scalar_bytes(scalars: &[Scalar], nbits: usize) -> Vec<u8> {
    let nbytes = nbits.div_ceil(8).min(32);
    let mut out = Vec::with_capacity(scalars.len() * nbytes);
    for s in scalars {
        out.extend_from_slice(&s.to_bytes_le()[..nbytes]);
    }
    out
}

/// Up to this many points [`Msm::msm`] runs Straus's method on the calling thread
/// ([`straus`]): below 32 points blst's `mult` hands every point to its thread pool for a
/// constant-time single multiplication, several times the CPU (and a thread hand-off per call,
/// e.g. for every batch verification of a small committee's quorum).
pub(crate) const STRAUS_MAX_POINTS: usize = 31;

/// Signed digits (width-`w` non-adjacent form, least significant first) of the low `nbits`
/// bits of `s`: every nonzero digit is odd, below `2^(w−1)` in magnitude, and followed by at
/// least `w − 1` zeros.
fn wnaf(s: &Scalar, nbits: usize, w: u32) -> Vec<i8> {
    let le = s.to_bytes_le();
    let mut limbs = [0u64; 5];
    for (i, chunk) in le.chunks(8).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        limbs[i] = u64::from_le_bytes(b);
    }
    for (i, l) in limbs.iter_mut().enumerate() {
        let low = 64 * i;
        if nbits <= low {
            *l = 0;
        } else if nbits < low + 64 {
            *l &= (1u64 << (nbits - low)) - 1;
        }
    }
    let window = 1u64 << w;
    let mut out = Vec::with_capacity(nbits + 1);
    while limbs.iter().any(|l| *l != 0) {
        let mut digit = 0i64;
        if limbs[0] & 1 == 1 {
            let m = limbs[0] & (window - 1);
            digit = if m >= window / 2 {
                m as i64 - window as i64
            } else {
                m as i64
            };
            // limbs -= digit, with borrow (digit > 0) or carry (digit < 0).
            let mut carry = digit.unsigned_abs();
            for l in limbs.iter_mut() {
                if carry == 0 {
                    break;
                }
                let (v, over) = if digit > 0 {
                    l.overflowing_sub(carry)
                } else {
                    l.overflowing_add(carry)
                };
                *l = v;
                carry = u64::from(over);
            }
        }
        out.push(digit as i8);
        for i in 0..5 {
            let next = if i + 1 < 5 { limbs[i + 1] << 63 } else { 0 };
            limbs[i] = (limbs[i] >> 1) | next;
        }
    }
    out
}

/// `Σ scalars[i]·points[i]` (low `nbits` bits of each scalar) by Straus's method: width-5
/// signed digits, the odd multiples `P, 3P, …, 15P` of every point normalised together (one
/// inversion) for mixed additions, one shared doubling chain. Variable time: for public
/// inputs and verification weights, as blst's Pippenger above this size.
fn straus<A: Msm>(points: &[A], scalars: &[Scalar], nbits: usize) -> A::Curve {
    const W: u32 = 5;
    const ODD: usize = 1 << (W - 2);
    let n = points.len().min(scalars.len());
    let mut multiples: Vec<A::Curve> = Vec::with_capacity(n * ODD);
    for p in &points[..n] {
        let p1 = p.to_curve();
        let p2 = p1.double();
        let mut m = p1;
        for _ in 0..ODD {
            multiples.push(m);
            m += p2;
        }
    }
    let table = A::batch_from_curve(&multiples);
    let digits: Vec<Vec<i8>> = scalars[..n].iter().map(|s| wnaf(s, nbits, W)).collect();
    let rounds = digits.iter().map(Vec::len).max().unwrap_or(0);
    let mut acc = A::Curve::identity();
    for r in (0..rounds).rev() {
        acc = acc.double();
        for (i, d) in digits.iter().enumerate() {
            match d.get(r).copied().unwrap_or(0) {
                0 => {}
                x if x > 0 => acc += table[i * ODD + (x as usize) / 2],
                x => acc -= table[i * ODD + (x.unsigned_abs() as usize) / 2],
            }
        }
    }
    acc
}

/// `Msm` for one blstrs affine type over its blst projective/affine types and batch converter.
macro_rules! impl_msm {
    ($affine:ident, $proj:ident, $raw:ident, $raw_affine:ident, $affines:ident) => {
        impl Msm for $affine {
            fn difference_step(table: &mut [Self]) {
                Self::difference_step_segments(table, 0)
            }

            fn difference_step_segments(table: &mut [Self], segment: usize) {
                use ff::Field as _;
                use group::Curve as _;
                difference_step_body!(table, segment)
            }

            fn batch_add(a: &mut [Self], b: &[Self]) {
                use ff::Field as _;
                use group::Curve as _;
                batch_add_body!(a, b)
            }

            fn sum(points: &[Self]) -> $proj {
                let raw: Vec<$raw_affine> = points
                    .iter()
                    .filter(|p| !bool::from(p.is_identity()))
                    .map(|p| *p.as_ref())
                    .collect();
                let mut out = $proj::identity();
                if !raw.is_empty() {
                    *out.as_mut() = raw.add();
                }
                out
            }

            fn batch_double(a: &mut [Self]) {
                use ff::Field as _;
                use group::Curve as _;
                batch_double_body!(a)
            }

            fn batch_from_curve(points: &[$proj]) -> Vec<Self> {
                if points.is_empty() {
                    return Vec::new();
                }
                let raw: Vec<blst::$raw> = points.iter().map(|p| *p.as_ref()).collect();
                blst::$affines::from(&raw)
                    .as_slice()
                    .iter()
                    .map(|a| {
                        let mut out = $affine::identity();
                        *out.as_mut() = *a;
                        out
                    })
                    .collect()
            }

            fn msm(points: &[Self], scalars: &[Scalar], nbits: usize) -> $proj {
                let n = points.len().min(scalars.len());
                let nbits = nbits.clamp(1, 255);
                // blst's Pippenger expects finite points; the identity contributes nothing anyway.
                let (finite, sc): (Vec<Self>, Vec<Scalar>) = points[..n]
                    .iter()
                    .zip(&scalars[..n])
                    .filter(|(p, _)| !bool::from(p.is_identity()))
                    .map(|(p, s)| (*p, *s))
                    .unzip();
                if finite.len() <= STRAUS_MAX_POINTS {
                    return straus(&finite, &sc, nbits);
                }
                let raw: Vec<$raw_affine> = finite.iter().map(|p| *p.as_ref()).collect();
                let mut out = $proj::identity();
                *out.as_mut() = raw.mult(&scalar_bytes(&sc, nbits), nbits);
                out
            }
        }
    };
}

impl_msm!(G1Affine, G1Projective, blst_p1, blst_p1_affine, p1_affines);
impl_msm!(G2Affine, G2Projective, blst_p2, blst_p2_affine, p2_affines);

/// A decoder for one group: canonical compressed encoding, on the curve, in the subgroup (the
/// identity is a valid encoding; public-key types reject it separately).
macro_rules! decoder {
    ($name:ident, $on_curve:ident, $affine:ident, $size:expr) => {
        fn $name(bytes: &[u8]) -> Result<$affine, Error> {
            let p = $on_curve(bytes)?;
            if !bool::from(p.is_torsion_free()) {
                return Err(Error::NotInSubgroup);
            }
            Ok(p)
        }

        /// Canonical encoding and on the curve (blst's decompression finds no point off it);
        /// not subgroup-checked.
        fn $on_curve(bytes: &[u8]) -> Result<$affine, Error> {
            let arr: &[u8; $size] = bytes.try_into().map_err(|_| Error::InvalidLength {
                expected: $size,
                actual: bytes.len(),
            })?;
            let p: $affine =
                Option::from($affine::from_compressed_unchecked(arr)).ok_or(Error::InvalidPoint)?;
            // Canonical encoding only: re-encoding must give the same bytes.
            if &p.to_compressed() != arr {
                return Err(Error::InvalidPoint);
            }
            Ok(p)
        }
    };
}

decoder!(decode_g1, decode_g1_on_curve, G1Affine, 48);
decoder!(decode_g2, decode_g2_on_curve, G2Affine, 96);

/// A validator for one group's affine points: on the curve and in the prime-order subgroup (the
/// identity passes).
macro_rules! validator {
    ($name:ident, $affine:ident) => {
        fn $name(p: &$affine) -> Result<(), Error> {
            if bool::from(p.is_identity()) {
                return Ok(());
            }
            if !bool::from(p.is_on_curve()) {
                return Err(Error::InvalidPoint);
            }
            if !bool::from(p.is_torsion_free()) {
                return Err(Error::NotInSubgroup);
            }
            Ok(())
        }
    };
}

validator!(validate_g1, G1Affine);
validator!(validate_g2, G2Affine);

impl Variant for MinPk {
    type Public = G1Projective;
    type PublicAffine = G1Affine;
    type Signature = G2Projective;
    type SignatureAffine = G2Affine;
    const NAME: &'static str = "min-pk";
    const PUBLIC_KEY_SIZE: usize = 48;
    const SIGNATURE_SIZE: usize = 96;
    const SIGNATURE_GROUP: &'static str = "G2";

    fn hash_to_signature_group(msg: &[u8], dst: &[u8], aug: &[u8]) -> G2Projective {
        G2Projective::hash_to_curve(msg, dst, aug)
    }
    fn blst_public(p: &G1Affine) -> &dyn Any {
        let raw: &blst_p1_affine = p.as_ref();
        raw
    }
    fn blst_signature(p: &G2Affine) -> &dyn Any {
        let raw: &blst_p2_affine = p.as_ref();
        raw
    }
    fn raw_pair(ctx: &mut blst::Pairing<'_>, public: &G1Affine, sig: &G2Affine) {
        ctx.raw_aggregate(sig.as_ref(), public.as_ref());
    }
    fn decode_public(bytes: &[u8]) -> Result<G1Affine, Error> {
        decode_g1(bytes)
    }
    fn decode_signature(bytes: &[u8]) -> Result<G2Affine, Error> {
        decode_g2(bytes)
    }
    fn decode_signature_on_curve(bytes: &[u8]) -> Result<G2Affine, Error> {
        decode_g2_on_curve(bytes)
    }
    fn validate_public(p: &G1Affine) -> Result<(), Error> {
        validate_g1(p)
    }
    fn validate_signature(p: &G2Affine) -> Result<(), Error> {
        validate_g2(p)
    }
}

impl Variant for MinSig {
    type Public = G2Projective;
    type PublicAffine = G2Affine;
    type Signature = G1Projective;
    type SignatureAffine = G1Affine;
    const NAME: &'static str = "min-sig";
    const PUBLIC_KEY_SIZE: usize = 96;
    const SIGNATURE_SIZE: usize = 48;
    const SIGNATURE_GROUP: &'static str = "G1";

    fn hash_to_signature_group(msg: &[u8], dst: &[u8], aug: &[u8]) -> G1Projective {
        G1Projective::hash_to_curve(msg, dst, aug)
    }
    fn blst_public(p: &G2Affine) -> &dyn Any {
        let raw: &blst_p2_affine = p.as_ref();
        raw
    }
    fn blst_signature(p: &G1Affine) -> &dyn Any {
        let raw: &blst_p1_affine = p.as_ref();
        raw
    }
    fn raw_pair(ctx: &mut blst::Pairing<'_>, public: &G2Affine, sig: &G1Affine) {
        ctx.raw_aggregate(public.as_ref(), sig.as_ref());
    }
    fn decode_public(bytes: &[u8]) -> Result<G2Affine, Error> {
        decode_g2(bytes)
    }
    fn decode_signature(bytes: &[u8]) -> Result<G1Affine, Error> {
        decode_g1(bytes)
    }
    fn decode_signature_on_curve(bytes: &[u8]) -> Result<G1Affine, Error> {
        decode_g1_on_curve(bytes)
    }
    fn validate_public(p: &G2Affine) -> Result<(), Error> {
        validate_g2(p)
    }
    fn validate_signature(p: &G1Affine) -> Result<(), Error> {
        validate_g1(p)
    }
}

/// Check `e(public, hashed) == e(generator, signature)` with one two-pair Miller loop and one
/// final exponentiation. `hashed` is the message already hashed to the signature group.
pub(crate) fn pairing_equation<V: Variant>(
    public: &V::PublicAffine,
    hashed: &V::SignatureAffine,
    signature: &V::SignatureAffine,
) -> bool {
    use group::prime::PrimeCurveAffine as _;
    // blst's Miller loop does not take a lone identity point; the equation is trivial then.
    let trivial_left = bool::from(public.is_identity()) || bool::from(hashed.is_identity());
    if trivial_left || bool::from(signature.is_identity()) {
        return trivial_left && bool::from(signature.is_identity());
    }
    let mut ctx = blst::Pairing::new(false, &[]);
    V::raw_pair(&mut ctx, public, hashed);
    let neg_gen = -V::PublicAffine::generator();
    V::raw_pair(&mut ctx, &neg_gen, signature);
    ctx.commit();
    ctx.finalverify(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff::Field;
    use group::Curve;
    use rand_chacha::rand_core::SeedableRng;

    /// Straus's method (small MSMs) equals blst's multiplication point by point, for full and
    /// short scalars, with identity points, equal points and scalars 0, 1 and −1.
    fn straus_matches<A: Msm>() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(81);
        for n in [1usize, 2, 3, 7, 11, 16, 31, 32, 43] {
            for nbits in [1usize, 5, 64, 128, 255] {
                let mut points: Vec<A> = (0..n)
                    .map(|_| (A::generator() * Scalar::random(&mut rng)).to_affine())
                    .collect();
                let mut scalars: Vec<Scalar> = (0..n).map(|_| Scalar::random(&mut rng)).collect();
                if n > 3 {
                    points[1] = A::identity();
                    points[2] = points[0];
                    scalars[0] = Scalar::ONE;
                    scalars[3] = -Scalar::ONE;
                }
                if n > 5 {
                    scalars[5] = Scalar::ZERO;
                }
                let mask = |s: &Scalar| {
                    let mut b = s.to_bytes_le();
                    for (i, byte) in b.iter_mut().enumerate() {
                        let low = 8 * i;
                        if nbits <= low {
                            *byte = 0;
                        } else if nbits < low + 8 {
                            *byte &= (1u8 << (nbits - low)) - 1;
                        }
                    }
                    Scalar::from_bytes_le(&b).unwrap()
                };
                let expect = points
                    .iter()
                    .zip(&scalars)
                    .fold(A::Curve::identity(), |acc, (p, s)| acc + *p * mask(s));
                assert_eq!(
                    A::msm(&points, &scalars, nbits),
                    expect,
                    "n {n} nbits {nbits}"
                );
            }
        }
        assert!(bool::from(A::msm(&[], &[], 255).is_identity()));
        assert!(bool::from(
            A::msm(&[A::identity()], &[Scalar::ONE], 255).is_identity()
        ));
    }

    #[test]
    fn small_msms_match_scalar_multiplication() {
        straus_matches::<G1Affine>();
        straus_matches::<G2Affine>();
    }

    #[test]
    fn wnaf_digits_recompose() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(82);
        for s in [
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            Scalar::random(&mut rng),
        ] {
            let digits = wnaf(&s, 255, 5);
            let back = digits.iter().rev().fold(Scalar::ZERO, |acc, d| {
                let m = Scalar::from(u64::from(d.unsigned_abs()));
                acc.double() + if *d < 0 { -m } else { m }
            });
            assert_eq!(back, s);
            assert!(digits
                .iter()
                .all(|d| *d == 0 || (d % 2 != 0 && d.abs() < 16)));
        }
    }
}
