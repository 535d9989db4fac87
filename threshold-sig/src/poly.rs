//! Secret polynomials and their Feldman commitments (public polynomials), with evaluation in the
//! exponent and fast derivation of all public shares.
//!
//! Share `i` (for `i` in `1..=n`) is the polynomial evaluated at `x = i`; the secret is `f(0)`.

use std::fmt;

use blstrs::Scalar;
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::{Curve, Group, GroupEncoding};
use rand_core::{CryptoRng, RngCore};

use crate::error::Error;
use crate::fixed_base::FixedBase;
use crate::keys::{wipe_scalar, PublicKey};

use crate::variant::{Msm, Variant};

/// A secret polynomial of degree `t` over the scalar field. Zeroized on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct Polynomial {
    coefficients: Vec<Scalar>,
}

impl Polynomial {
    /// A uniformly random polynomial of degree `t`.
    ///
    /// Fails with [`Error::TooManyShares`] when `t ≥ MAX_SHARES` (`t` must be below the share
    /// count, itself at most [`MAX_SHARES`](crate::MAX_SHARES)): `t` often comes from a
    /// configuration, and an unbounded one would allocate without limit.
    pub fn random(t: u32, rng: &mut (impl RngCore + CryptoRng)) -> Result<Self, Error> {
        if t >= crate::MAX_SHARES {
            return Err(Error::TooManyShares {
                n: u64::from(t) + 1,
                max: crate::MAX_SHARES,
            });
        }
        let coefficients = (0..=t).map(|_| Scalar::random(&mut *rng)).collect();
        Ok(Polynomial { coefficients })
    }

    /// A random polynomial of degree `t` with the given constant term (used for resharing).
    /// Fails as [`Polynomial::random`] does.
    pub fn with_constant(
        constant: Scalar,
        t: u32,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Self, Error> {
        let mut p = Self::random(t, rng)?;
        p.coefficients[0] = constant;
        Ok(p)
    }

    /// Build from coefficients (lowest degree first). Fails on an empty list.
    pub fn from_coefficients(coefficients: Vec<Scalar>) -> Result<Self, Error> {
        if coefficients.is_empty() {
            return Err(Error::Empty);
        }
        Ok(Polynomial { coefficients })
    }

    /// The degree bound `t` (the polynomial has `t+1` coefficients).
    pub fn degree(&self) -> u32 {
        (self.coefficients.len() - 1) as u32
    }

    /// The constant term `f(0)`: the shared secret.
    pub fn constant(&self) -> &Scalar {
        &self.coefficients[0]
    }

    /// `f(x)` by Horner's rule.
    pub fn evaluate(&self, x: u32) -> Scalar {
        let x = Scalar::from(u64::from(x));
        let mut acc = Scalar::ZERO;
        for c in self.coefficients.iter().rev() {
            acc = acc * x + c;
        }
        acc
    }

    /// The Feldman commitment `[c_0·G, …, c_t·G]` in the public-key group of `V`, computed with
    /// the constant-time fixed-base multiplication ([`FixedBase`]) and one batched normalisation.
    pub fn commit<V: Variant>(&self) -> Commitment<V> {
        Commitment {
            points: V::PublicAffine::mul_generator_batch(&self.coefficients),
        }
    }
}

impl Drop for Polynomial {
    fn drop(&mut self) {
        for c in &mut self.coefficients {
            wipe_scalar(c);
        }
    }
}

impl zeroize::ZeroizeOnDrop for Polynomial {}

/// Serialized as the list of coefficients, each 32-byte big-endian (hex in human-readable formats).
/// The output is secret: persist it encrypted.
impl serde::Serialize for Polynomial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.coefficients.len()))?;
        for c in &self.coefficients {
            let bytes = zeroize::Zeroizing::new(c.to_bytes_be());
            seq.serialize_element(&ScalarRef(&bytes))?;
        }
        seq.end()
    }
}

struct ScalarRef<'a>(&'a [u8; 32]);
impl serde::Serialize for ScalarRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::encoding::serialize_bytes(self.0, s)
    }
}

impl<'de> serde::Deserialize<'de> for Polynomial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw: Vec<PointBytes> = serde::Deserialize::deserialize(d)?;
        let coefficients = raw
            .iter()
            .map(|b| crate::keys::scalar_from_be(&b.0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(D::Error::custom)?;
        Polynomial::from_coefficients(coefficients).map_err(D::Error::custom)
    }
}

impl fmt::Debug for Polynomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Polynomial {{ degree: {}, coefficients: <redacted> }}",
            self.degree()
        )
    }
}

/// A Feldman commitment to a polynomial of degree `t`: `t+1` points of the public-key group,
/// `commitment[0]` being the group public key. By construction every point is on the curve and
/// in the prime-order subgroup (checked when decoded or built from points), the constant term is
/// never the identity, and there are at most [`MAX_SHARES`](crate::MAX_SHARES) points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment<V: Variant> {
    points: Vec<V::PublicAffine>,
}

/// `k · p` for a small non-negative integer `k` (double-and-add over the bits of `k`).
pub(crate) fn mul_small<G: Group>(p: &G, k: u64) -> G {
    let mut acc = G::identity();
    if k == 0 {
        return acc;
    }
    for bit in (0..64 - k.leading_zeros()).rev() {
        acc = acc.double();
        if (k >> bit) & 1 == 1 {
            acc += p;
        }
    }
    acc
}

/// Signed binary digits (non-adjacent form) of `x`, most significant first.
fn naf(mut x: u64) -> Vec<i8> {
    let mut digits = Vec::new();
    while x > 0 {
        let d = if x & 1 == 1 { 2 - (x & 3) as i8 } else { 0 };
        x = x.wrapping_sub(d as i64 as u64);
        digits.push(d);
        x >>= 1;
    }
    digits.reverse();
    digits
}

/// Evaluate many polynomials with group-element coefficients (lowest degree first) at one small
/// integer `x`: Horner's rule on all of them at once, in affine coordinates, so that every
/// doubling or addition round shares one field inversion across the polynomials
/// ([`Msm::batch_double`], [`Msm::batch_add`]); the multiplication by `x` follows its
/// non-adjacent form. Missing high coefficients of shorter polynomials count as the identity.
pub(crate) fn evaluate_batch<A: Msm>(polys: &[&[A]], x: u64) -> Vec<A> {
    let len = polys.iter().map(|p| p.len()).max().unwrap_or(0);
    let coeff = |p: &[A], k: usize| p.get(k).copied().unwrap_or_else(A::identity);
    if len == 0 {
        return vec![A::identity(); polys.len()];
    }
    let mut acc: Vec<A> = polys.iter().map(|p| coeff(p, len - 1)).collect();
    let digits = naf(x);
    let needs_negation = digits.contains(&-1);
    let mut column = Vec::with_capacity(polys.len());
    for k in (0..len - 1).rev() {
        // acc ← x·acc
        if x == 0 {
            acc.fill(A::identity());
        } else {
            let base = acc.clone();
            let negated: Vec<A> = if needs_negation {
                base.iter().map(|p| -*p).collect()
            } else {
                Vec::new()
            };
            for d in &digits[1..] {
                A::batch_double(&mut acc);
                match d {
                    1 => A::batch_add(&mut acc, &base),
                    -1 => A::batch_add(&mut acc, &negated),
                    _ => {}
                }
            }
        }
        column.clear();
        column.extend(polys.iter().map(|p| coeff(p, k)));
        A::batch_add(&mut acc, &column);
    }
    acc
}

/// `points[i] ← ks[i]·points[i]` for small integers `ks[i]`, all at once in affine
/// coordinates: the non-adjacent forms are aligned at their least significant digit, and each
/// round doubles (then adds or subtracts the original point for) every point whose form is
/// still running, with one shared inversion per round.
pub(crate) fn batch_mul_small<A: Msm>(points: &mut [A], ks: &[u64]) {
    let n = points.len().min(ks.len());
    // Digits least significant first; the last one is the leading 1.
    let digits: Vec<Vec<i8>> = ks[..n]
        .iter()
        .map(|&k| naf(k).into_iter().rev().collect())
        .collect();
    let bases: Vec<A> = points[..n].to_vec();
    for (p, d) in points.iter_mut().zip(&digits) {
        if d.is_empty() {
            *p = A::identity();
        }
    }
    let rounds = digits.iter().map(Vec::len).max().unwrap_or(0);
    let (mut idx, mut acc, mut add) = (Vec::new(), Vec::new(), Vec::new());
    for b in (0..rounds.saturating_sub(1)).rev() {
        idx.clear();
        idx.extend((0..n).filter(|&i| digits[i].len() >= b + 2));
        acc.clear();
        acc.extend(idx.iter().map(|&i| points[i]));
        A::batch_double(&mut acc);
        for (&i, p) in idx.iter().zip(&acc) {
            points[i] = *p;
        }
        // Only the points with a nonzero digit here take part in the addition round.
        idx.retain(|&i| digits[i][b] != 0);
        acc.clear();
        acc.extend(idx.iter().map(|&i| points[i]));
        add.clear();
        add.extend(idx.iter().map(|&i| {
            if digits[i][b] == 1 {
                bases[i]
            } else {
                -bases[i]
            }
        }));
        A::batch_add(&mut acc, &add);
        for (&i, p) in idx.iter().zip(&acc) {
            points[i] = *p;
        }
    }
}

/// Bit length of a scalar's canonical integer.
fn bit_length(s: &Scalar) -> usize {
    let le = s.to_bytes_le();
    le.iter()
        .rposition(|b| *b != 0)
        .map_or(0, |i| 8 * i + 8 - le[i].leading_zeros() as usize)
}

/// Signed binary digits (non-adjacent form) of a scalar's canonical integer, least significant
/// first.
fn naf_scalar(s: &Scalar) -> Vec<i8> {
    let le = s.to_bytes_le();
    let mut limbs = [0u64; 5];
    for (i, chunk) in le.chunks(8).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        limbs[i] = u64::from_le_bytes(b);
    }
    let mut digits = Vec::with_capacity(257);
    while limbs.iter().any(|l| *l != 0) {
        let d: i8 = if limbs[0] & 1 == 1 {
            2 - (limbs[0] & 3) as i8
        } else {
            0
        };
        // limbs -= d (d = ±1), with borrow or carry.
        if d == 1 {
            for l in limbs.iter_mut() {
                let (v, borrow) = l.overflowing_sub(1);
                *l = v;
                if !borrow {
                    break;
                }
            }
        } else if d == -1 {
            for l in limbs.iter_mut() {
                let (v, carry) = l.overflowing_add(1);
                *l = v;
                if !carry {
                    break;
                }
            }
        }
        digits.push(d);
        for i in 0..5 {
            let next = if i + 1 < 5 { limbs[i + 1] << 63 } else { 0 };
            limbs[i] = (limbs[i] >> 1) | next;
        }
    }
    digits
}

/// `Σ_d weights[d]·vectors[d]` coordinate by coordinate (shorter vectors count as padded with
/// the identity). Each weight is used as `±|w|` with the shorter of `w` and `−w`; when all
/// magnitudes are short (≤ 128 bits: Lagrange coefficients of consecutive indices are
/// `±binom(m, d)`), Straus's method runs on all coordinates at once in batched affine
/// coordinates (one doubling chain, one vector addition per non-zero signed digit, one
/// inversion per round); otherwise one Pippenger MSM per coordinate.
pub(crate) fn combine_vectors<A: Msm>(vectors: &[&[A]], weights: &[Scalar]) -> Vec<A> {
    let len = vectors.iter().map(|v| v.len()).max().unwrap_or(0);
    let m = vectors.len().min(weights.len());
    let signed: Vec<(Scalar, bool)> = weights[..m]
        .iter()
        .map(|w| {
            let neg = -*w;
            if bit_length(&neg) < bit_length(w) {
                (neg, true)
            } else {
                (*w, false)
            }
        })
        .collect();
    let bits = signed.iter().map(|(s, _)| bit_length(s)).max().unwrap_or(0);
    let coeff = |v: &[A], k: usize| v.get(k).copied().unwrap_or_else(A::identity);
    if bits > 128 {
        return (0..len)
            .map(|k| {
                let points: Vec<A> = vectors[..m].iter().map(|v| coeff(v, k)).collect();
                A::msm(&points, &weights[..m], 255).to_affine()
            })
            .collect();
    }
    let digits: Vec<Vec<i8>> = signed.iter().map(|(s, _)| naf_scalar(s)).collect();
    let rounds = digits.iter().map(Vec::len).max().unwrap_or(0);
    let mut acc = vec![A::identity(); len];
    let mut term = Vec::with_capacity(len);
    for r in (0..rounds).rev() {
        A::batch_double(&mut acc);
        for (d, (v, (_, neg))) in vectors[..m].iter().zip(&signed).enumerate() {
            let digit = digits[d].get(r).copied().unwrap_or(0);
            if digit == 0 {
                continue;
            }
            let minus = (digit == -1) != *neg;
            term.clear();
            term.extend((0..len).map(|k| {
                let p = coeff(v, k);
                if minus {
                    -p
                } else {
                    p
                }
            }));
            A::batch_add(&mut acc, &term);
        }
    }
    acc
}

/// The forward-difference table `[Δ^k G(0)]_k` of the polynomial with group-element
/// coefficients `points` (lowest degree first), as many entries as coefficients.
///
/// Horner's rule in the binomial basis `G(x) = Σ_k b_k·binom(x, k)`, using
/// `x·binom(x, k) = (k+1)·binom(x, k+1) + k·binom(x, k)`: multiplying the accumulator by `x`
/// maps its coefficients to `b_k ← k·(b_k + b_{k−1})`. Only small multiplications; each step
/// normalises its sums once (one batched inversion) so that the double-and-add
/// multiplications use affine additions. Afterwards `b_k = Δ^k G(0)`.
fn difference_table<A: Msm>(points: &[A]) -> Vec<A> {
    let t = points.len().saturating_sub(1);
    let mut a: Vec<A> = vec![A::identity(); t + 1];
    let ks: Vec<u64> = (1..=t as u64).collect();
    for (j, c) in points.iter().enumerate().rev() {
        let deg = t - j; // degree of the accumulated polynomial after this step
        if deg > 0 {
            // b_k ← k·(b_k + b_{k−1}) for k = 1..=deg, from the old values.
            let mut sums = a[1..=deg].to_vec();
            A::batch_add(&mut sums, &a[..deg]);
            batch_mul_small(&mut sums, &ks[..deg]);
            a[1..=deg].copy_from_slice(&sums);
        }
        a[0] = *c;
    }
    a
}

/// The number of pieces [`Commitment::public_shares`] splits `len` coefficients into for `n`
/// shares: the `s` minimising the estimated cost in affine additions, `s` set-ups of
/// `h²/2·(4/3)·⌈log₂ h⌉` (h = ⌈len/s⌉) plus `n·(s − 1)` scalar multiplications of about 150 each
/// (the walk, `n·len`, does not depend on `s`). Measured at len = 683, n = 1024.
fn piece_count(len: usize, n: usize) -> usize {
    // In thirds of an addition, integers only (the choice changes the speed, never the result).
    let cost = |s: usize| {
        let h = len.div_ceil(s) as u128;
        let log = u128::from((u128::BITS - h.leading_zeros()).max(1));
        s as u128 * h * h * 2 * log + (n * (s - 1)) as u128 * 450
    };
    (1..=len.clamp(1, 16)).min_by_key(|s| cost(*s)).unwrap_or(1)
}

impl<V: Variant> Commitment<V> {
    /// `Σ_d weights[d]·C_d` coefficient by coefficient (e.g. the Lagrange combination of
    /// resharing dealings), as points; see `combine_vectors` for the strategy.
    pub fn combine_points(commitments: &[&Self], weights: &[Scalar]) -> Vec<V::PublicAffine> {
        let vectors: Vec<&[V::PublicAffine]> = commitments.iter().map(|c| c.points()).collect();
        combine_vectors(&vectors, weights)
    }

    /// `F_i(x)` for many commitments at one small integer `x` (Horner on all of them at once in
    /// batched affine coordinates, see [`Msm::batch_add`]): 5–20%
    /// cheaper per commitment than [`Commitment::evaluate`] one at a time.
    pub fn evaluate_many(commitments: &[&Self], x: u32) -> Vec<V::PublicAffine> {
        let polys: Vec<&[V::PublicAffine]> = commitments.iter().map(|c| c.points()).collect();
        evaluate_batch(&polys, u64::from(x))
    }

    /// Build from points (lowest degree first). Every point must be on the curve and in the
    /// prime-order subgroup (higher coefficients may be the identity); fails on an empty list,
    /// an identity constant term, or more than [`MAX_SHARES`](crate::MAX_SHARES) points.
    pub fn from_points(points: Vec<V::PublicAffine>) -> Result<Self, Error> {
        Self::check_shape(&points)?;
        for p in &points {
            V::validate_public(p)?;
        }
        Ok(Commitment { points })
    }

    /// [`Commitment::from_points`] without the curve and subgroup checks (the length and the
    /// identity constant term are still checked). Only for points *computed* from checked points
    /// — sums and scalar multiples of the points of validated commitments, as the DKG's group
    /// commitment is — where the `t+1` subgroup checks would be wasted work. Never call it on
    /// points from input: verification relies on the subgroup membership.
    #[doc(hidden)]
    pub fn from_points_unchecked(points: Vec<V::PublicAffine>) -> Result<Self, Error> {
        Self::check_shape(&points)?;
        Ok(Commitment { points })
    }

    /// Non-empty, at most `MAX_SHARES` points, constant term not the identity.
    fn check_shape(points: &[V::PublicAffine]) -> Result<(), Error> {
        crate::threshold::check_share_count(points.len() as u64)?;
        match points.first() {
            None => Err(Error::Empty),
            Some(c0) if bool::from(c0.is_identity()) => Err(Error::IdentityPublicKey),
            Some(_) => Ok(()),
        }
    }

    /// Decode the concatenation of `t+1` compressed points.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let size = V::PUBLIC_KEY_SIZE;
        if bytes.is_empty() || bytes.len() % size != 0 {
            return Err(Error::InvalidLength {
                expected: size * (bytes.len() / size).max(1),
                actual: bytes.len(),
            });
        }
        crate::threshold::check_share_count((bytes.len() / size) as u64)?;
        let points = bytes
            .chunks(size)
            .map(V::decode_public)
            .collect::<Result<Vec<_>, _>>()?;
        // Decoding checked the curve and the subgroup.
        Self::from_points_unchecked(points)
    }

    /// The concatenation of the compressed points.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.points.len() * V::PUBLIC_KEY_SIZE);
        for p in &self.points {
            out.extend_from_slice(p.to_bytes().as_ref());
        }
        out
    }

    /// The committed points, lowest degree first.
    pub fn points(&self) -> &[V::PublicAffine] {
        &self.points
    }

    /// The degree `t`; `t+1` shares are needed to sign.
    pub fn degree(&self) -> u32 {
        (self.points.len() - 1) as u32
    }

    /// The number of partial signatures needed: `t+1`.
    pub fn quorum(&self) -> usize {
        self.points.len()
    }

    /// The group public key `commitment[0]`.
    pub fn group_public_key(&self) -> PublicKey<V> {
        PublicKey(self.points[0])
    }

    /// `F(x) = Σ_k x^k · C_k` by Horner's rule with small-integer multiplications.
    pub fn evaluate(&self, x: u32) -> V::Public {
        let mut acc = V::Public::identity();
        for c in self.points.iter().rev() {
            acc = mul_small(&acc, u64::from(x));
            acc += c;
        }
        acc
    }

    /// The public share of index `i` (`i ≥ 1`; any `u32`: this costs `O(t)` and allocates
    /// nothing): `F(i)`.
    pub fn public_share(&self, index: u32) -> Result<PublicShare<V>, Error> {
        if index == 0 {
            return Err(Error::InvalidIndex(0));
        }
        Ok(PublicShare {
            index,
            point: self.evaluate(index).to_affine(),
        })
    }

    /// The public shares of indices `1..=n`. Fails with [`Error::TooManyShares`] when
    /// `n > MAX_SHARES` (`n` often comes from input).
    ///
    /// The commitment is split into `s` pieces of `h = ⌈(t+1)/s⌉` coefficients,
    /// `F(x) = Σ_m x^{m·h}·G_m(x)`. Each piece's forward-difference table at 0 is built with
    /// small-integer multiplications only (`O(h²·log h)` of them, see `difference_table`), the
    /// tables walk `x = 1..=n` together (`n·t` affine additions, one shared inversion per step),
    /// and `F(x)` is assembled by Horner's rule in `y = x^h` (`s − 1` scalar multiplications per
    /// share). `s` minimises the estimated cost: one piece for small `t`; at t+1 = 683,
    /// n = 1024, `s = 4` cuts the set-up, which dominated, by about 5×.
    pub fn public_shares(&self, n: u32) -> Result<Vec<PublicShare<V>>, Error> {
        crate::threshold::check_share_count(u64::from(n))?;
        let pieces = piece_count(self.points.len(), n as usize);
        Ok(self.public_shares_in_pieces(n, pieces))
    }

    /// [`Commitment::public_shares`] with a given number of pieces (`n ≤ MAX_SHARES`).
    fn public_shares_in_pieces(&self, n: u32, pieces: usize) -> Vec<PublicShare<V>> {
        let len = self.points.len();
        if n == 0 {
            return Vec::new();
        }
        if len == 1 {
            return (1..=n)
                .map(|index| PublicShare {
                    index,
                    point: self.points[0],
                })
                .collect();
        }
        let h = len.div_ceil(pieces.clamp(1, len));
        // 1. The pieces' difference tables, concatenated (the last one may be shorter).
        let mut table: Vec<V::PublicAffine> = Vec::with_capacity(len);
        for piece in self.points.chunks(h) {
            table.extend(difference_table(piece));
        }
        let s = len.div_ceil(h);
        // 2. Walk x = 1..=n: D_k(x+1) = D_k(x) + D_{k+1}(x) within each table; D_0 = G_m(x).
        let mut values: Vec<Vec<V::PublicAffine>> = vec![Vec::with_capacity(n as usize); s];
        for _ in 0..n {
            V::PublicAffine::difference_step_segments(&mut table, h);
            for (m, v) in values.iter_mut().enumerate() {
                v.push(table[m * h]);
            }
        }
        if s == 1 {
            return values
                .swap_remove(0)
                .into_iter()
                .zip(1..=n)
                .map(|(point, index)| PublicShare { index, point })
                .collect();
        }
        // 3. F(x) = G_0(x) + y·(G_1(x) + y·(…)), y = x^h.
        let sums: Vec<V::Public> = (1..=n)
            .map(|x| {
                let y = Scalar::from(u64::from(x)).pow_vartime([h as u64]);
                let i = (x - 1) as usize;
                let mut acc = values[s - 1][i].to_curve();
                for v in values[..s - 1].iter().rev() {
                    acc = acc * y + v[i];
                }
                acc
            })
            .collect();
        // Combinations of subgroup points.
        V::PublicAffine::batch_from_curve(&sums)
            .into_iter()
            .zip(1..=n)
            .map(|(point, index)| PublicShare { index, point })
            .collect()
    }

    /// The sum of two commitments of possibly different degrees (Joint-Feldman aggregation).
    pub fn add(&self, other: &Self) -> Result<Self, Error> {
        let len = self.points.len().max(other.points.len());
        let mut proj = Vec::with_capacity(len);
        for k in 0..len {
            let mut acc = V::Public::identity();
            if let Some(p) = self.points.get(k) {
                acc += p;
            }
            if let Some(p) = other.points.get(k) {
                acc += p;
            }
            proj.push(acc);
        }
        // Sums of subgroup points.
        Self::from_points_unchecked(V::PublicAffine::batch_from_curve(&proj))
    }
}

impl<V: Variant> serde::Serialize for Commitment<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.points.len()))?;
        for p in &self.points {
            seq.serialize_element(&PointRef::<V>(p))?;
        }
        seq.end()
    }
}

struct PointRef<'a, V: Variant>(&'a V::PublicAffine);
impl<V: Variant> serde::Serialize for PointRef<'_, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::encoding::serialize_bytes(self.0.to_bytes().as_ref(), s)
    }
}

struct PointBytes(Vec<u8>);
impl<'de> serde::Deserialize<'de> for PointBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::encoding::deserialize_bytes(d).map(PointBytes)
    }
}

impl<'de, V: Variant> serde::Deserialize<'de> for Commitment<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw: Vec<PointBytes> = serde::Deserialize::deserialize(d)?;
        crate::threshold::check_share_count(raw.len() as u64).map_err(D::Error::custom)?;
        let points = raw
            .iter()
            .map(|b| V::decode_public(&b.0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(D::Error::custom)?;
        // Decoding checked the curve and the subgroup.
        Self::from_points_unchecked(points).map_err(D::Error::custom)
    }
}

/// The public share of index `i`: `F(i)`, the public key matching secret share `i`. The index is
/// `≥ 1` and the point is in the prime-order subgroup, by construction (the fields are private;
/// every constructor checks or computes from checked points). The point may be the identity (a
/// share value can be zero); such a share verifies nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicShare<V: Variant> {
    pub(crate) index: u32,
    pub(crate) point: V::PublicAffine,
}

impl<V: Variant> PublicShare<V> {
    /// A public share from an index (`≥ 1`) and a point, which must be on the curve and in the
    /// prime-order subgroup (the identity is accepted).
    pub fn new(index: u32, point: V::PublicAffine) -> Result<Self, Error> {
        if index == 0 {
            return Err(Error::InvalidIndex(0));
        }
        V::validate_public(&point)?;
        Ok(PublicShare { index, point })
    }

    /// A public share from an index (`≥ 1`) and an already validated public key (no point
    /// checks needed).
    pub fn from_public_key(index: u32, key: &PublicKey<V>) -> Result<Self, Error> {
        if index == 0 {
            return Err(Error::InvalidIndex(0));
        }
        Ok(PublicShare {
            index,
            point: *key.as_affine(),
        })
    }

    /// The share index (`≥ 1`).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// `F(index)`.
    pub fn point(&self) -> &V::PublicAffine {
        &self.point
    }

    /// Encoding: index (4 bytes, big-endian) ‖ compressed point.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.index.to_be_bytes().to_vec();
        out.extend_from_slice(self.point.to_bytes().as_ref());
        out
    }

    /// Decode [`PublicShare::to_bytes`]; the index must be `≥ 1` and the point in the subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != 4 + V::PUBLIC_KEY_SIZE {
            return Err(Error::InvalidLength {
                expected: 4 + V::PUBLIC_KEY_SIZE,
                actual: bytes.len(),
            });
        }
        let index = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        if index == 0 {
            return Err(Error::InvalidIndex(0));
        }
        Ok(PublicShare {
            index,
            point: V::decode_public(&bytes[4..])?,
        })
    }
}

crate::encoding::impl_byte_encoding!(PublicShare<V: Variant>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MinPk, MinSig};
    use rand_chacha::rand_core::SeedableRng;

    fn batch_matches<V: Variant>() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(77);
        let mut commits: Vec<Commitment<V>> = (0..6)
            .map(|i| Polynomial::random(i % 4 + 1, &mut rng).unwrap().commit())
            .collect();
        // Adversarial shapes: identity and repeated coefficients, a point and its negation, and
        // a coefficient that makes Horner's accumulator double (C_k = x·acc) or cancel.
        let g = commits[0].points()[0];
        let mut pts = vec![g, V::PublicAffine::identity(), g, -g, g];
        commits.push(Commitment {
            points: pts.clone(),
        });
        pts = vec![g, g, V::PublicAffine::identity()];
        commits.push(Commitment { points: pts });
        for x in [0u32, 1, 2, 3, 5, 7, 11, 64, 85, 127, 255, 1000] {
            let refs: Vec<&Commitment<V>> = commits.iter().collect();
            let batch = Commitment::evaluate_many(&refs, x);
            for (c, b) in commits.iter().zip(&batch) {
                assert_eq!(c.evaluate(x).to_affine(), *b, "x = {x}");
            }
        }
        // x = 2, C = [2g, g]: 2·g + 2g doubles inside batch_add; C = [-2g, g] cancels.
        let two_g = (g.to_curve().double()).to_affine();
        let doubling = Commitment::<V> {
            points: vec![two_g, g],
        };
        let cancel = Commitment::<V> {
            points: vec![-two_g, g],
        };
        let out = Commitment::evaluate_many(&[&doubling, &cancel], 2);
        assert_eq!(out[0], (two_g.to_curve().double()).to_affine());
        assert!(bool::from(out[1].is_identity()));
    }

    #[test]
    fn evaluate_many_matches_horner() {
        batch_matches::<MinPk>();
        batch_matches::<MinSig>();
    }

    fn combination_matches<V: Variant>(indices: &[u32], short: bool) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(79);
        let weights = crate::lagrange_coefficients(indices).unwrap();
        let max_bits = weights
            .iter()
            .map(|w| bit_length(w).min(bit_length(&-*w)))
            .max()
            .unwrap();
        assert_eq!(max_bits <= 128, short, "{max_bits} bits");
        let mut commits: Vec<Commitment<V>> = indices
            .iter()
            .map(|_| Polynomial::random(4, &mut rng).unwrap().commit())
            .collect();
        // A shorter commitment and an identity coefficient.
        commits[1] = Polynomial::random(2, &mut rng).unwrap().commit();
        commits[2].points[3] = V::PublicAffine::identity();
        let refs: Vec<&Commitment<V>> = commits.iter().collect();
        let got = Commitment::combine_points(&refs, &weights);
        assert_eq!(got.len(), 5);
        for (k, g) in got.iter().enumerate() {
            let expect = commits
                .iter()
                .zip(&weights)
                .fold(V::Public::identity(), |acc, (c, w)| {
                    acc + c.points().get(k).map_or(V::Public::identity(), |p| *p * w)
                });
            assert_eq!(*g, expect.to_affine(), "coefficient {k}");
        }
    }

    #[test]
    fn combine_points_matches_scalar_multiplication() {
        let first: Vec<u32> = (1..=43).collect();
        combination_matches::<MinPk>(&first, true);
        combination_matches::<MinSig>(&first, true);
        let gaps = [2, 3, 5, 8, 13, 21, 34];
        combination_matches::<MinPk>(&gaps, false);
        combination_matches::<MinSig>(&gaps, false);
        for s in [0u64, 1, 3, 7, 0x5555, u64::MAX] {
            let v = naf_scalar(&Scalar::from(s))
                .iter()
                .rev()
                .fold(0i128, |acc, d| 2 * acc + i128::from(*d));
            assert_eq!(v, i128::from(s));
        }
        let big = -Scalar::from(5u64);
        let digits = naf_scalar(&big);
        assert!(digits.len() <= 256 && digits.windows(2).all(|w| w[0] == 0 || w[1] == 0));
        let back = digits.iter().rev().fold(Scalar::ZERO, |acc, d| {
            acc.double()
                + Scalar::from(d.unsigned_abs() as u64)
                    * if *d < 0 { -Scalar::ONE } else { Scalar::ONE }
        });
        assert_eq!(back, big);
    }

    fn pieces_match<V: Variant>(t: u32, n: u32, pieces: usize, seed: u64, shape: u8) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut c: Commitment<V> = Polynomial::random(t, &mut rng).unwrap().commit();
        // Adversarial shapes: identity and repeated coefficients, a point and its negation.
        let len = c.points.len();
        let g = c.points[0];
        match shape {
            1 if len > 2 => c.points[len / 2] = V::PublicAffine::identity(),
            2 => c.points.iter_mut().for_each(|p| *p = g),
            3 if len > 1 => c.points[1] = -g,
            _ => {}
        }
        let got = c.public_shares_in_pieces(n, pieces);
        assert_eq!(got.len(), n as usize);
        for (k, ps) in got.iter().enumerate() {
            let index = k as u32 + 1;
            assert_eq!(ps.index, index);
            assert_eq!(
                ps.point,
                c.evaluate(index).to_affine(),
                "t {t} n {n} s {pieces} x {index}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Public shares in any number of pieces equal Horner's rule at every index.
        #[test]
        fn public_shares_in_pieces_match_horner(
            t in 0u32..40, n in 1u32..50, pieces in 1usize..9, seed: u64, shape in 0u8..4,
        ) {
            pieces_match::<MinPk>(t, n, pieces, seed, shape);
            pieces_match::<MinSig>(t, n, pieces, seed, shape);
        }
    }

    #[test]
    fn piece_count_is_one_for_small_degrees() {
        assert_eq!(piece_count(1, 1000), 1);
        assert_eq!(piece_count(8, 12), 1);
        assert!(piece_count(683, 1024) > 1);
    }

    #[test]
    fn batch_mul_small_matches() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(78);
        let pts: Vec<blstrs::G2Affine> = (0..40)
            .map(|i| {
                if i == 7 {
                    blstrs::G2Affine::identity()
                } else {
                    Polynomial::random(0, &mut rng)
                        .unwrap()
                        .commit::<MinSig>()
                        .points()[0]
                }
            })
            .collect();
        let ks: Vec<u64> = (0..40u64).map(|i| i * i * 7 % 300).collect();
        let mut out = pts.clone();
        batch_mul_small(&mut out, &ks);
        for ((p, k), o) in pts.iter().zip(&ks).zip(&out) {
            assert_eq!((p * Scalar::from(*k)).to_affine(), *o, "k = {k}");
        }
    }

    #[test]
    fn batch_double_and_add_special_cases() {
        let g = blstrs::G1Affine::generator();
        let id = blstrs::G1Affine::identity();
        let mut a = vec![g, id, g, g, -g];
        let b = vec![g, g, id, -g, g];
        blstrs::G1Affine::batch_add(&mut a, &b);
        let two = (g.to_curve().double()).to_affine();
        assert_eq!(a, vec![two, g, g, id, id]);
        let mut d = vec![g, id, two];
        blstrs::G1Affine::batch_double(&mut d);
        assert_eq!(d[0], two);
        assert!(bool::from(d[1].is_identity()));
        assert_eq!(d[2], (two.to_curve().double()).to_affine());
        let pts = vec![g, two, id, -g, two];
        assert_eq!(
            blstrs::G1Affine::sum(&pts),
            pts.iter()
                .fold(blstrs::G1Projective::identity(), |acc, p| acc + p)
        );
        assert!(bool::from(blstrs::G1Affine::sum(&[id]).is_identity()));
        assert!(bool::from(blstrs::G2Affine::sum(&[]).is_identity()));
        assert_eq!(naf(0), Vec::<i8>::new());
        for x in [1u64, 3, 7, 85, 1000, u64::from(u32::MAX)] {
            let v = naf(x).iter().fold(0i128, |acc, d| 2 * acc + i128::from(*d));
            assert_eq!(v, i128::from(x));
        }
    }
}
