//! Constant-time multiplication of the G1 and G2 generators by a secret scalar, from a table
//! precomputed once per process ([`FixedBase`]).
//!
//! Method: signed fixed windows with one table row per window position, so evaluation needs no
//! doublings. The scalar `s < r` is recoded into `N` signed digits of `W` bits,
//! `s = Σ dᵢ·2^(W·i)` with `dᵢ ∈ [−2^(W−1), 2^(W−1))`, and row `i` holds `j·2^(W·i)·G` for
//! `j = 1..=2^(W−1)` in affine form. Then `s·G = Σ sign(dᵢ)·row[i][|dᵢ|]`:
//! 1. one constant-time lookup per row;
//! 2. the entries of rows `2j` and `2j + 1` added in affine coordinates, all slopes sharing one
//!    field inversion (per call, so the batch form shares it between all its scalars);
//! 3. the `⌈N/2⌉` sums accumulated with complete mixed additions (projective + affine).
//!
//! That is about `N/2` affine and `N/2` mixed additions, against about 128 doublings and 50
//! additions for blst's generic (GLV) multiplication.
//!
//! | group | `W` | rows `N` | entries per row | table   |
//! |-------|-----|----------|-----------------|---------|
//! | G1    | 6   | 43       | 32              | 129 KiB |
//! | G2    | 7   | 37       | 64              | 444 KiB |
//!
//! The widths minimise `N·(addition + 2^(W−1)·entry scan)`. Each table is built on first use
//! (about 2 ms for G1 and 7 ms for G2) and kept for the life of the process.
//!
//! Constant time (the scalar is secret; the table, `W` and `N` are public):
//! * the recoding is branch-free arithmetic on the scalar's limbs;
//! * each lookup reads every entry of the row and keeps the wanted one with a mask (digit 0
//!   keeps none: all-zero limbs, blst's affine identity); see [`lookup`] for the optimisation
//!   barrier;
//! * a negative digit negates `y` on the raw limbs with a mask (blstrs' affine `Neg` branches on
//!   the identity, so it is not used);
//! * the affine pair additions never meet `P + P` or `P + (−P)` (see [`add_pairs`]), handle an
//!   identity operand with selects, and invert with blst's constant-time inversion;
//! * the accumulation is blst's `add_or_double_affine` (blstrs' `Projective += &Affine`), which
//!   handles an identity on either side, doubling and `P + (−P)` with masks, not branches; the
//!   first sum is converted with blst's `from_affine`, also branch-free;
//! * the scalar limbs, digits, masks, selected limbs and points are wiped after use.
//!
//! The release disassembly of `mul_generator` (x86-64) was checked for branches: the only
//! conditional jumps are on loop counters.

use std::sync::OnceLock;

use blstrs::{G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::{Curve, Group};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, Zeroizing};

use crate::variant::Msm;

/// Multiplication of the group generator by a secret scalar: constant time in the scalar (no
/// secret-dependent branches or memory indices), using a table precomputed on first use.
///
/// Implemented for [`G1Affine`] and [`G2Affine`]; the public-key group of every
/// [`Variant`](crate::Variant) has it.
pub trait FixedBase: Msm {
    /// Window width `W` in bits of the signed-digit recoding.
    const GENERATOR_WINDOW: usize;
    /// Number of digits `N` of the recoding, which is the number of table rows.
    const GENERATOR_WINDOWS: usize;
    /// Size of the precomputed table in bytes.
    const GENERATOR_TABLE_BYTES: usize;

    /// `s·G` for the group generator `G`, in time independent of `s`. The first call in a process
    /// also builds the table (a few milliseconds, independent of `s`).
    fn mul_generator(s: &Scalar) -> Self::Curve;

    /// `[s₀·G, …, s_k·G]` in affine form: the affine additions of all scalars share one field
    /// inversion and the results are normalised together with another.
    fn mul_generator_batch(scalars: &[Scalar]) -> Vec<Self>;

    /// Build the table now if it is not built yet (it is otherwise built on first use).
    fn precompute_generator_table();
}

/// The top 64 bits of the group order r.
const R_TOP_LIMB: u64 = 0x73ed_a753_299d_7d48;

/// The base-field modulus p, little-endian `u64` limbs.
const P_LIMBS: [u64; 6] = [
    0xb9fe_ffff_ffff_aaab,
    0x1eab_fffe_b153_ffff,
    0x6730_d2a0_f6b0_f624,
    0x6477_4b84_f385_12bf,
    0x4b1b_a7b6_434b_acd7,
    0x1a01_11ea_397f_e69a,
];

/// The number of `w`-bit signed digits needed for every scalar `s < r`: the top digit, plus a
/// carry of at most 1 from below, must stay under `2^(w−1)` so that no carry leaves it.
const fn windows(w: usize) -> usize {
    assert!(w >= 2 && w <= 8, "digits must fit an i8");
    let mut n = 255usize.div_ceil(w);
    loop {
        let offset = w * (n - 1);
        assert!(offset >= 192, "the top digit lies in the top limb");
        let top = if offset >= 256 {
            0
        } else {
            R_TOP_LIMB >> (offset - 192)
        };
        if top + 1 < 1 << (w - 1) {
            return n;
        }
        n += 1;
    }
}

/// Bits `offset .. offset + w` of a 256-bit little-endian value (zero beyond bit 255). The offset
/// is public; only the limb values are secret.
fn window_bits(limbs: &[u64; 4], offset: usize, w: usize) -> u64 {
    if offset >= 256 {
        return 0;
    }
    let (q, r) = (offset / 64, offset % 64);
    let mut v = limbs[q] >> r;
    if r + w > 64 && q + 1 < 4 {
        v |= limbs[q + 1] << (64 - r);
    }
    v & ((1 << w) - 1)
}

/// Signed `W`-bit digits of `s`, least significant first: `s = Σ dᵢ·2^(W·i)`,
/// `dᵢ ∈ [−2^(W−1), 2^(W−1))`. Branch-free in `s`.
fn recode<const W: usize, const N: usize>(s: &Scalar) -> Zeroizing<[i8; N]> {
    let bytes = Zeroizing::new(s.to_bytes_le());
    let mut limbs = Zeroizing::new([0u64; 4]);
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(word);
        word.zeroize();
    }
    let mut digits = Zeroizing::new([0i8; N]);
    let mut carry = 0i64;
    for (i, d) in digits.iter_mut().enumerate() {
        let v = window_bits(&limbs, W * i, W) as i64 + carry;
        // v ∈ [0, 2^W]: recentre into [−2^(W−1), 2^(W−1)) and carry 1 when v ≥ 2^(W−1).
        carry = (v + (1 << (W - 1))) >> W;
        *d = (v - (carry << W)) as i8;
    }
    // `windows` makes the last carry 0 for every s < r.
    carry.zeroize();
    digits
}

/// The table for the generator of `A`'s group: row `i` holds `j·2^(W·i)·G` for
/// `j = 1..=2^(W−1)`, affine, row-major. The data is public: variable time is fine here.
fn build_table<A: Msm>(w: usize, n: usize) -> Vec<A> {
    let half = 1usize << (w - 1);
    let mut points = Vec::with_capacity(n * half);
    let mut base = A::Curve::generator();
    for _ in 0..n {
        let mut p = base;
        for _ in 0..half {
            points.push(p);
            p += base;
        }
        // The last entry is 2^(W−1)·base; the next row starts at 2^W·base.
        base = points[points.len() - 1].double();
    }
    // No entry is the identity (r is prime and larger than every j), so all are finite.
    A::batch_from_curve(&points)
}

/// The entry of magnitude `m` of a row of `H` entries (`m = 0`: all-zero limbs, blst's affine
/// identity). Every entry is read and masked, so neither branches nor memory addresses depend on
/// `m`.
///
/// The masks are computed branch-free and then passed through [`std::hint::black_box`] as one
/// array: the optimiser can no longer see that exactly one mask is set, so it cannot turn the
/// masked OR into an indexed load or a branch (it does for the plain arithmetic version: checked
/// in the disassembly). This is the barrier `subtle` puts on every `Choice`, paid once per row
/// instead of once per entry; the scan costs half of what `subtle`'s per-entry
/// `conditional_assign` costs. Not inlined: inlined into [`evaluate`], the accumulators of the
/// scan are kept in memory instead of registers (10% slower in G2).
#[inline(never)]
fn lookup<const L: usize, const H: usize>(row: &[[u64; L]], m: u32) -> [u64; L] {
    let mut masks = [0u64; H];
    for (j, mask) in (1u32..).zip(masks.iter_mut()) {
        let diff = u64::from(m ^ j); // 0 iff j == m, otherwise below 2^32
        *mask = 0u64.wrapping_sub(diff.wrapping_sub(1) >> 63);
    }
    let mut masks = std::hint::black_box(masks);
    let mut out = [0u64; L];
    for (entry, &mask) in row.iter().zip(masks.iter()) {
        for (o, e) in out.iter_mut().zip(entry) {
            *o |= e & mask;
        }
    }
    masks.zeroize();
    out
}

/// Negate one base-field element (6 Montgomery limbs, `< p`) where `mask` is all ones: `p − a`,
/// or 0 for `a = 0`. Branch-free: both masks go through [`std::hint::black_box`], as without it
/// the optimiser turns "`mask` unless `a = 0`" into a jump on `a = 0` (the digit 0).
fn negate_fp(a: &mut [u64], mask: u64) {
    let any = a.iter().fold(0u64, |acc, l| acc | l);
    let nonzero = 0u64.wrapping_sub((any | any.wrapping_neg()) >> 63);
    let mask = std::hint::black_box(mask) & std::hint::black_box(nonzero);
    let mut borrow = 0u64;
    for (limb, p) in a.iter_mut().zip(P_LIMBS) {
        let (d, b1) = p.overflowing_sub(*limb);
        let (d, b2) = d.overflowing_sub(borrow);
        borrow = u64::from(b1 | b2);
        *limb = (*limb & !mask) | (d & mask);
    }
}

/// The signed entries `sign(dᵢ)·row[i][|dᵢ|]` for the digits of `s`, one per row, from
/// whole-row constant-time lookups, each with a flag for the identity (digit 0). The table rows
/// are `x` then `y` in raw limbs (`L/2` each, `y` a sequence of 6-limb base-field elements);
/// `point` turns the limbs into an affine point.
fn select_entries<A: Msm, const L: usize, const W: usize, const N: usize, const H: usize>(
    table: &[[u64; L]],
    s: &Scalar,
    point: fn(&[u64; L]) -> A,
) -> Vec<(A, Choice)> {
    debug_assert_eq!(H, 1 << (W - 1));
    debug_assert_eq!(table.len(), N * H);
    let digits = recode::<W, N>(s);
    let mut entries = Vec::with_capacity(N);
    for (row, &d) in table.chunks_exact(H).zip(digits.iter()) {
        let d = i32::from(d);
        let sign = d >> 31; // 0 or −1
        let magnitude = ((d ^ sign) - sign) as u32; // |d| ∈ [0, 2^(W−1)]
        let mut limbs = lookup::<L, H>(row, magnitude);
        let negative = sign as i64 as u64;
        for y in limbs[L / 2..].chunks_exact_mut(6) {
            negate_fp(y, negative);
        }
        entries.push((point(&limbs), magnitude.ct_eq(&0)));
        limbs.zeroize();
    }
    entries
}

/// One pair of affine points to add, each with its identity flag.
type Pair<A> = ((A, Choice), (A, Choice));

/// `a + b` for many pairs of affine points in affine coordinates, all slopes sharing one field
/// inversion (Montgomery's trick). Constant time: the only inversion is `invert`, which must be
/// constant time, and identities are handled with selects.
///
/// Precondition: no pair is `P + P` or `P + (−P)` with both points finite (then `x_a ≠ x_b`).
/// It holds for the entries of two adjacent rows: `dₐ·2^(W·i)·G = ±d_b·2^(W·(i+1))·G` means
/// `dₐ ≡ ±d_b·2^W (mod r)`, and both sides are below `2^(2W) < r` in absolute value, so
/// `dₐ = ±d_b·2^W`, impossible for `0 < |dₐ|, |d_b| ≤ 2^(W−1)`.
fn add_pairs<A: Copy, F: Field>(
    pairs: &[Pair<A>],
    coords: &impl Fn(&A) -> (F, F),
    point: &impl Fn(F, F) -> A,
    invert: &impl Fn(F) -> F,
) -> Vec<A> {
    let Some(first) = pairs.first() else {
        return Vec::new();
    };
    // Denominators x_b − x_a, or 1 when either point is the identity (its sum is a select).
    let mut prefix = Vec::with_capacity(pairs.len());
    let mut dens = Vec::with_capacity(pairs.len());
    let mut product = F::ONE;
    for ((a, a_zero), (b, b_zero)) in pairs {
        let (xa, _) = coords(a);
        let (xb, _) = coords(b);
        let den = F::conditional_select(&(xb - xa), &F::ONE, *a_zero | *b_zero);
        prefix.push(product);
        product *= den;
        dens.push(den);
    }
    let mut inv = invert(product);
    let mut sums = vec![first.0 .0; pairs.len()];
    for (k, ((a, a_zero), (b, b_zero))) in pairs.iter().enumerate().rev() {
        let inv_k = inv * prefix[k];
        inv *= dens[k];
        let (xa, ya) = coords(a);
        let (xb, yb) = coords(b);
        let slope = (yb - ya) * inv_k;
        let x = slope.square() - xa - xb;
        let y = slope * (xa - x) - ya;
        // a = O: b; b = O: a (both O: a, the identity).
        let x = F::conditional_select(&F::conditional_select(&x, &xb, *a_zero), &xa, *b_zero);
        let y = F::conditional_select(&F::conditional_select(&y, &yb, *a_zero), &ya, *b_zero);
        sums[k] = point(x, y);
    }
    wipe(&mut prefix, F::ZERO);
    wipe(&mut dens, F::ZERO);
    sums
}

/// `s·G` for each scalar: the signed entries of its rows (`entries_of`), rows `2j` and `2j + 1`
/// added in affine coordinates ([`add_pairs`], one inversion shared by all scalars), then the
/// sums (and the last row when the number of rows is odd) accumulated with blst's complete
/// mixed addition.
fn mul_generator_many<A: Msm, F: Field>(
    scalars: &[Scalar],
    entries_of: impl Fn(&Scalar) -> Vec<(A, Choice)>,
    coords: impl Fn(&A) -> (F, F),
    point: impl Fn(F, F) -> A,
    invert: impl Fn(F) -> F,
) -> Vec<A::Curve> {
    let mut pairs = Vec::new();
    let mut last_rows = Vec::with_capacity(scalars.len());
    let mut pairs_per_scalar = 0;
    for s in scalars {
        let mut entries = entries_of(s);
        pairs_per_scalar = entries.len() / 2;
        let mut chunks = entries.chunks_exact(2);
        pairs.extend(chunks.by_ref().map(|c| (c[0], c[1])));
        last_rows.push(chunks.remainder().first().map(|e| e.0));
        wipe(&mut entries, (A::identity(), Choice::from(0)));
    }
    let mut sums = add_pairs(&pairs, &coords, &point, &invert);
    wipe(
        &mut pairs,
        (
            (A::identity(), Choice::from(0)),
            (A::identity(), Choice::from(0)),
        ),
    );
    let out = sums
        .chunks_exact(pairs_per_scalar.max(1))
        .zip(&last_rows)
        .map(|(sums, last)| {
            let mut acc = sums[0].to_curve();
            for p in &sums[1..] {
                acc += p;
            }
            if let Some(p) = last {
                acc += p; // the number of rows is public
            }
            acc
        })
        .collect();
    wipe(&mut sums, A::identity());
    wipe(&mut last_rows, None);
    out
}

/// Overwrite secret-derived values with a public one in a way the optimiser keeps (as
/// `keys::wipe_scalar` does; the blstrs types do not implement `Zeroize`).
fn wipe<T: Copy>(values: &mut [T], public: T) {
    for v in values.iter_mut() {
        *v = public;
    }
    std::hint::black_box(values);
}

/// Copying blst's base-field elements to and from `u64` limbs (Montgomery form, as stored).
trait RawField {
    fn store(&self, out: &mut [u64]);
    fn load(&mut self, limbs: &[u64]);
}

impl RawField for blst::blst_fp {
    fn store(&self, out: &mut [u64]) {
        out.copy_from_slice(&self.l);
    }
    fn load(&mut self, limbs: &[u64]) {
        self.l.copy_from_slice(limbs);
    }
}

impl RawField for blst::blst_fp2 {
    fn store(&self, out: &mut [u64]) {
        let (c0, c1) = out.split_at_mut(6);
        self.fp[0].store(c0);
        self.fp[1].store(c1);
    }
    fn load(&mut self, limbs: &[u64]) {
        let (c0, c1) = limbs.split_at(6);
        self.fp[0].load(c0);
        self.fp[1].load(c1);
    }
}

/// `FixedBase` for one blstrs affine type: its raw blst affine type, number of `u64` limbs of a
/// point (`x` and `y`), and window width.
macro_rules! impl_fixed_base {
    ($affine:ident, $proj:ident, $raw:ident, $limbs:expr, $w:expr) => {
        impl FixedBase for $affine {
            const GENERATOR_WINDOW: usize = $w;
            const GENERATOR_WINDOWS: usize = windows($w);
            const GENERATOR_TABLE_BYTES: usize = windows($w) * (1 << ($w - 1)) * $limbs * 8;

            fn mul_generator(s: &Scalar) -> $proj {
                mul_generator_batch_projective(std::slice::from_ref(s))
                    .pop()
                    .unwrap_or_else($proj::identity)
            }

            fn mul_generator_batch(scalars: &[Scalar]) -> Vec<$affine> {
                Self::batch_from_curve(&mul_generator_batch_projective(scalars))
            }

            fn precompute_generator_table() {
                table();
            }
        }

        /// `[s·G for s in scalars]` ([`mul_generator_many`] for this group).
        fn mul_generator_batch_projective(scalars: &[Scalar]) -> Vec<$proj> {
            mul_generator_many(
                scalars,
                |s| {
                    select_entries::<$affine, $limbs, { $w }, { windows($w) }, { 1 << ($w - 1) }>(
                        table(),
                        s,
                        point,
                    )
                },
                |p: &$affine| (p.x(), p.y()),
                |x, y| $affine::from_raw_unchecked(x, y, false),
                // 1/d as the affine x = X/Z² of the Jacobian point (4d, d, 2d): blst's
                // constant-time inversion, as blstrs' field `invert` is the variable-time
                // Euclidean one. blst skips the inversion when Z is exactly 1, and d is 1
                // whenever every pair has a digit 0 (small scalars): Z = 2d is 1 only for
                // d = 1/2, which a product of point differences hits with probability ~2^-381.
                |d| {
                    let z = d.double();
                    $proj::from_raw_unchecked(z.double(), d, z).to_affine().x()
                },
            )
        }

        /// The generator table of this group as raw limbs (`x` then `y`), built on first use.
        pub(super) fn table() -> &'static [[u64; $limbs]] {
            static TABLE: OnceLock<Vec<[u64; $limbs]>> = OnceLock::new();
            TABLE.get_or_init(|| {
                build_table::<$affine>($w, windows($w))
                    .iter()
                    .map(limbs)
                    .collect()
            })
        }

        /// The raw limbs of an affine point, `x` then `y`.
        pub(super) fn limbs(p: &$affine) -> [u64; $limbs] {
            let raw: &blst::$raw = p.as_ref();
            let mut out = [0u64; $limbs];
            let (x, y) = out.split_at_mut($limbs / 2);
            raw.x.store(x);
            raw.y.store(y);
            out
        }

        /// The affine point with these raw limbs (all zero: the identity).
        pub(super) fn point(limbs: &[u64; $limbs]) -> $affine {
            let mut p = $affine::identity();
            let raw: &mut blst::$raw = p.as_mut();
            let (x, y) = limbs.split_at($limbs / 2);
            raw.x.load(x);
            raw.y.load(y);
            p
        }
    };
}

mod g1 {
    use super::*;
    impl_fixed_base!(G1Affine, G1Projective, blst_p1_affine, 12, 6);
}

mod g2 {
    use super::*;
    impl_fixed_base!(G2Affine, G2Projective, blst_p2_affine, 24, 7);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff::{Field, PrimeField};
    use group::Curve;
    use proptest::prelude::*;
    use rand_core::SeedableRng;

    /// r − 1 − k.
    fn minus(k: u64) -> Scalar {
        -Scalar::from(k + 1)
    }

    /// The scalar with these 32 little-endian bytes, reduced mod r.
    fn from_le(bytes: [u8; 32]) -> Scalar {
        let radix = Scalar::from(256u64);
        bytes.iter().rev().fold(Scalar::ZERO, |acc, &b| {
            acc * radix + Scalar::from(u64::from(b))
        })
    }

    /// Edge scalars: 0, 1, 2, small values, r−1, r−2, powers of two around the windows, and
    /// all-ones / alternating bit patterns.
    fn edge_scalars() -> Vec<Scalar> {
        let mut out = vec![
            Scalar::ZERO,
            Scalar::ONE,
            Scalar::from(2u64),
            Scalar::from(3u64),
            Scalar::from(31u64),
            Scalar::from(32u64),
            Scalar::from(33u64),
            Scalar::from(63u64),
            Scalar::from(64u64),
            Scalar::from(u64::MAX),
            minus(0),
            minus(1),
            minus(31),
            minus(32),
            minus(64),
            -Scalar::from(u64::MAX),
            Scalar::from(2u64).pow_vartime([254]),
            Scalar::from(2u64).pow_vartime([254]) - Scalar::ONE,
            Scalar::ROOT_OF_UNITY,
        ];
        for bit in (0..255).step_by(7) {
            out.push(Scalar::from(2u64).pow_vartime([bit]));
        }
        for pattern in [0xffu8, 0x55, 0xaa, 0x0f, 0xf0, 0x80, 0x01] {
            for top in [0x7fu8, 0x3f, 0x73, pattern & 0x7f] {
                let mut bytes = [pattern; 32];
                bytes[31] = top;
                out.push(from_le(bytes));
            }
        }
        out
    }

    fn check(s: &Scalar) {
        let g1 = G1Affine::mul_generator(s);
        assert_eq!(g1, G1Affine::generator() * s, "G1, s = {s:?}");
        let g2 = G2Affine::mul_generator(s);
        assert_eq!(g2, G2Affine::generator() * s, "G2, s = {s:?}");
    }

    #[test]
    fn window_counts_cover_every_scalar() {
        assert_eq!(windows(4), 65);
        assert_eq!(windows(5), 52);
        assert_eq!(windows(6), 43);
        assert_eq!(windows(7), 37);
        assert_eq!(windows(8), 32);
        assert_eq!(G1Affine::GENERATOR_TABLE_BYTES, 43 * 32 * 96);
        assert_eq!(G2Affine::GENERATOR_TABLE_BYTES, 37 * 64 * 192);
        assert_eq!(g1::table().len(), 43 * 32);
        assert_eq!(g2::table().len(), 37 * 64);
    }

    /// Σ dᵢ·2^(W·i) reconstructs s, and every digit is in range, for both widths in use.
    #[test]
    fn recoding_reconstructs_the_scalar() {
        fn check_recode<const W: usize, const N: usize>(s: &Scalar) {
            let digits = recode::<W, N>(s);
            let radix = Scalar::from(1u64 << W);
            let mut acc = Scalar::ZERO;
            for &d in digits.iter().rev() {
                assert!(-(1 << (W - 1)) <= i32::from(d) && i32::from(d) < 1 << (W - 1));
                let term = Scalar::from(u64::from(d.unsigned_abs()));
                acc = acc * radix + if d < 0 { -term } else { term };
            }
            assert_eq!(acc, *s);
        }
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        let random = (0..50).map(|_| Scalar::random(&mut rng));
        for s in edge_scalars().into_iter().chain(random) {
            check_recode::<6, { windows(6) }>(&s);
            check_recode::<7, { windows(7) }>(&s);
            check_recode::<5, { windows(5) }>(&s);
            check_recode::<8, { windows(8) }>(&s);
        }
    }

    #[test]
    fn matches_generic_multiplication_on_edge_scalars() {
        for s in edge_scalars() {
            check(&s);
        }
        assert!(bool::from(
            G1Affine::mul_generator(&Scalar::ZERO).is_identity()
        ));
        assert!(bool::from(
            G2Affine::mul_generator(&Scalar::ZERO).is_identity()
        ));
        assert_eq!(
            G1Affine::mul_generator(&Scalar::ONE).to_affine(),
            G1Affine::generator()
        );
        assert_eq!(
            G2Affine::mul_generator(&minus(0)),
            -G2Projective::generator()
        );
    }

    #[test]
    fn matches_generic_multiplication_on_random_scalars() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        for _ in 0..40 {
            check(&Scalar::random(&mut rng));
        }
    }

    #[test]
    fn batch_matches_single() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let mut scalars: Vec<Scalar> = (0..20).map(|_| Scalar::random(&mut rng)).collect();
        scalars.extend([Scalar::ZERO, Scalar::ONE, minus(0)]);
        let g1 = G1Affine::mul_generator_batch(&scalars);
        let g2 = G2Affine::mul_generator_batch(&scalars);
        assert_eq!(g1.len(), scalars.len());
        for ((s, p1), p2) in scalars.iter().zip(&g1).zip(&g2) {
            assert_eq!(*p1, (G1Affine::generator() * s).to_affine());
            assert_eq!(*p2, (G2Affine::generator() * s).to_affine());
        }
        assert!(G1Affine::mul_generator_batch(&[]).is_empty());
    }

    /// The limb negation agrees with blstrs' field negation, and keeps 0 at 0.
    #[test]
    fn limb_negation_matches_field_negation() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let points = [
            G1Affine::generator(),
            (G1Affine::generator() * Scalar::random(&mut rng)).to_affine(),
            (G1Affine::generator() * minus(0)).to_affine(),
        ];
        for p in points {
            let mut l = g1::limbs(&p);
            negate_fp(&mut l[6..], u64::MAX);
            assert_eq!(g1::point(&l), -p);
            negate_fp(&mut l[6..], 0);
            assert_eq!(g1::point(&l), -p);
        }
        let q = (G2Affine::generator() * Scalar::random(&mut rng)).to_affine();
        let mut l = g2::limbs(&q);
        for y in l[12..].chunks_exact_mut(6) {
            negate_fp(y, u64::MAX);
        }
        assert_eq!(g2::point(&l), -q);
        let mut zero = [0u64; 6];
        negate_fp(&mut zero, u64::MAX);
        assert_eq!(zero, [0; 6]);
    }

    #[test]
    fn lookup_selects_the_entry_or_the_identity() {
        let row = &g1::table()[..32];
        assert_eq!(lookup::<12, 32>(row, 0), [0; 12]);
        for m in 1..=32u32 {
            assert_eq!(lookup::<12, 32>(row, m), row[m as usize - 1]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

        #[test]
        fn matches_generic_multiplication(bytes in proptest::array::uniform32(any::<u8>())) {
            let mut bytes = bytes;
            bytes[31] &= 0x7f;
            check(&from_le(bytes));
        }
    }
}
