//! Lagrange coefficients at zero for a set of share indices, computed in far less time than the
//! multi-scalar multiplication they feed.
//!
//! For indices `S` (distinct, `≥ 1`), `λ_i = Π_{j∈S, j≠i} j / (j − i)`. Index differences are small
//! integers: twenty of them (for indices below 4096) are multiplied in machine integers into one
//! 252-bit number, which enters the field through a single Montgomery multiplication without
//! conversion; the constant `R^{-K}` this leaves is the same for every `i` and is removed once.
//! Two exact formulas are used, whichever costs less:
//!
//! * **direct**: `λ_i = (−1)^{rank(i)} · N / (i · Π_{j≠i} |j − i|)` with `N = Π_{j∈S} j` and one
//!   batch inversion; `O(|S|²)` integer multiplications.
//! * **complement**: with `m = max S` and `C = [1, m] \ S`,
//!   `λ_i = (−1)^{rank(i)} · binom(m, i) · Π_{c∈C} |c − i| / Π_{c∈C} c`, which follows from the
//!   closed form `(−1)^{i−1}·binom(m, i)` of the weights of the full range `[1, m]`;
//!   `O(m + |S|·|C|)` operations, far cheaper when the signers are most of `[1, m]`.
//!
//! `rank(i)` is the position of `i` among the sorted indices (the number of smaller indices).

use blstrs::Scalar;
use ff::Field;

use crate::error::Error;

/// Products of index differences in the scalar field, `Π_{x ∈ xs} |x − i|` (all `x ≠ i`), computed
/// from the elements below `i` and above `i` separately so the inner loops are one subtraction and
/// one multiplication per factor.
///
/// `per_lane` differences (each of at most `⌊63 / per_lane⌋` bits) are multiplied in each of four
/// `u64` lanes, the lanes into one 256-bit integer `z < 2^252 < r`, and `z` enters the field through
/// one Montgomery multiplication *without conversion*, which computes `acc · z · R^{-1}` with
/// `R = 2^256 mod r`: about one field multiplication per twenty differences for indices below 4096.
/// The returned count `K` of such multiplications tells the caller which correction `R^K` applies.
struct Packing {
    per_lane: usize,
    /// `R^K` for the two possible chunk counts, `K_min` and `K_min + 1`.
    corrections: [Scalar; 2],
    k_min: usize,
}

impl Packing {
    /// Packing for products of `len` differences of indices up to `max`.
    fn new(max: u32, len: usize) -> Self {
        let bits = (32 - max.leading_zeros()).max(1) as usize;
        let per_lane = (63 / bits).clamp(1, 5);
        let k_min = len.div_ceil(4 * per_lane);
        // R = 2^256 mod r as a field element.
        let r = Scalar::from(2u64).pow_vartime([256]);
        let base = r.pow_vartime([k_min as u64]);
        Packing {
            per_lane,
            corrections: [base, base * r],
            k_min,
        }
    }

    /// `Π_{x ∈ below} (i − x) · Π_{x ∈ above} (x − i)`; `below` holds indices `< i`, `above` `> i`.
    fn product(&self, below: &[u32], above: &[u32], i: u32) -> Scalar {
        let mut acc = Scalar::ONE;
        let k = if self.per_lane == 5 {
            part::<5, true>(below, i, &mut acc) + part::<5, false>(above, i, &mut acc)
        } else {
            part_dyn(below, i, self.per_lane, true, &mut acc)
                + part_dyn(above, i, self.per_lane, false, &mut acc)
        };
        // k is k_min or k_min + 1 (splitting one sequence in two adds at most one partial chunk).
        acc * self.corrections[(k - self.k_min).min(1)]
    }
}

#[inline(always)]
fn feed(acc: &mut Scalar, lanes: [u64; 4]) {
    let x = u128::from(lanes[0]) * u128::from(lanes[1]);
    let y = u128::from(lanes[2]) * u128::from(lanes[3]);
    *acc *= Scalar::from(blst::blst_fr { l: mul_wide(x, y) });
}

#[inline(always)]
fn diff<const BELOW: bool>(x: u32, i: u32) -> u64 {
    u64::from(if BELOW { i - x } else { x - i })
}

/// One side of [`Packing::product`] with `PL` differences per lane; returns the chunks fed.
#[inline]
fn part<const PL: usize, const BELOW: bool>(xs: &[u32], i: u32, acc: &mut Scalar) -> usize {
    let mut chunks = xs.chunks_exact(4 * PL);
    let mut count = 0;
    for c in &mut chunks {
        let mut lanes = [1u64; 4];
        for (l, lane) in lanes.iter_mut().enumerate() {
            let mut p = 1u64;
            for &x in &c[l * PL..(l + 1) * PL] {
                p *= diff::<BELOW>(x, i);
            }
            *lane = p;
        }
        feed(acc, lanes);
        count += 1;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut lanes = [1u64; 4];
        for (lane, group) in lanes.iter_mut().zip(rest.chunks(PL)) {
            *lane = group.iter().map(|&x| diff::<BELOW>(x, i)).product();
        }
        feed(acc, lanes);
        count += 1;
    }
    count
}

/// [`part`] for a run-time lane width (indices of 4096 and above).
fn part_dyn(xs: &[u32], i: u32, per_lane: usize, below: bool, acc: &mut Scalar) -> usize {
    let mut count = 0;
    for chunk in xs.chunks(4 * per_lane) {
        let mut lanes = [1u64; 4];
        for (lane, group) in lanes.iter_mut().zip(chunk.chunks(per_lane)) {
            *lane = group
                .iter()
                .map(|&x| u64::from(if below { i - x } else { x - i }))
                .product();
        }
        feed(acc, lanes);
        count += 1;
    }
    count
}

/// The 256-bit product of two 128-bit integers, as little-endian limbs.
#[inline(always)]
fn mul_wide(x: u128, y: u128) -> [u64; 4] {
    let (x0, x1) = (x as u64 as u128, (x >> 64) as u64 as u128);
    let (y0, y1) = (y as u64 as u128, (y >> 64) as u64 as u128);
    let p00 = x0 * y0;
    let p01 = x0 * y1;
    let p10 = x1 * y0;
    let p11 = x1 * y1;
    let mid = (p00 >> 64) + (p01 as u64 as u128) + (p10 as u64 as u128);
    let high = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    [p00 as u64, mid as u64, high as u64, (high >> 64) as u64]
}

fn product_small(values: impl Iterator<Item = u32>) -> Scalar {
    values.fold(Scalar::ONE, |acc, v| acc * Scalar::from(u64::from(v)))
}

/// Validate indices (non-zero, distinct) and return them sorted.
pub(crate) fn sorted_indices(indices: &[u32]) -> Result<Vec<u32>, Error> {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    if let Some(&0) = sorted.first() {
        return Err(Error::InvalidIndex(0));
    }
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::DuplicateIndex(w[0]));
    }
    if sorted.is_empty() {
        return Err(Error::Empty);
    }
    Ok(sorted)
}

/// The Lagrange coefficients at zero for `indices`, in the order given.
///
/// Fails on an empty list, a zero index or a repeated index.
pub fn lagrange_coefficients(indices: &[u32]) -> Result<Vec<Scalar>, Error> {
    let sorted = sorted_indices(indices)?;
    let weights = coefficients_sorted(&sorted);
    if sorted == indices {
        return Ok(weights);
    }
    Ok(indices
        .iter()
        .map(|i| weights[sorted.binary_search(i).unwrap_or(0)])
        .collect())
}

/// Lagrange coefficients at zero for sorted, distinct, non-zero indices (same order).
pub(crate) fn coefficients_sorted(sorted: &[u32]) -> Vec<Scalar> {
    let k = sorted.len() as u64;
    let m = u64::from(*sorted.last().unwrap_or(&1));
    let complement = m - k;
    // Estimated integer multiplications: direct k², complement k·|C| + 4m field operations.
    let direct_cost = k * k;
    let complement_cost = k * complement + 40 * m;
    if complement_cost < direct_cost {
        complement_method(sorted, m as u32)
    } else {
        direct_method(sorted)
    }
}

fn sign(value: Scalar, negative: bool) -> Scalar {
    if negative {
        -value
    } else {
        value
    }
}

fn direct_method(sorted: &[u32]) -> Vec<Scalar> {
    let m = *sorted.last().unwrap_or(&1);
    let packing = Packing::new(m, sorted.len().saturating_sub(1));
    let numerator = product_small(sorted.iter().copied());
    // den_i = i · Π_{j≠i} |j − i|
    let mut dens: Vec<Scalar> = sorted
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            packing.product(&sorted[..rank], &sorted[rank + 1..], i) * Scalar::from(u64::from(i))
        })
        .collect();
    ff::BatchInvert::batch_invert(dens.iter_mut());
    dens.into_iter()
        .enumerate()
        .map(|(rank, inv)| sign(numerator * inv, rank % 2 == 1))
        .collect()
}

fn complement_method(sorted: &[u32], m: u32) -> Vec<Scalar> {
    let m_us = m as usize;
    // Factorials 0..=m and their inverses.
    let mut fact = Vec::with_capacity(m_us + 1);
    fact.push(Scalar::ONE);
    for x in 1..=u64::from(m) {
        let prev = fact[fact.len() - 1];
        fact.push(prev * Scalar::from(x));
    }
    let mut inv_fact = vec![Scalar::ZERO; m_us + 1];
    inv_fact[m_us] = Option::<Scalar>::from(fact[m_us].invert()).unwrap_or(Scalar::ZERO);
    for x in (1..=m_us).rev() {
        inv_fact[x - 1] = inv_fact[x] * Scalar::from(x as u64);
    }
    // The complement C = [1, m] \ S and K = 1 / Π_{c∈C} c = (Π_{j∈S} j) / m!.
    let mut complement = Vec::with_capacity(m_us - sorted.len());
    let mut next = 0usize;
    for x in 1..=m {
        if next < sorted.len() && sorted[next] == x {
            next += 1;
        } else {
            complement.push(x);
        }
    }
    let packing = Packing::new(m, complement.len());
    let k_factor = product_small(sorted.iter().copied()) * inv_fact[m_us];
    // binom(m, i) · K = m! · K / (i! (m−i)!) = (Π_{j∈S} j) / (i! (m−i)!)
    let base = k_factor * fact[m_us];
    let mut split = 0usize; // complement elements below the current index
    sorted
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            while split < complement.len() && complement[split] < i {
                split += 1;
            }
            let r = packing.product(&complement[..split], &complement[split..], i);
            let binom_k = base * inv_fact[i as usize] * inv_fact[(m - i) as usize];
            sign(binom_k * r, rank % 2 == 1)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook O(k²) field computation, as a reference.
    fn naive(indices: &[u32]) -> Vec<Scalar> {
        indices
            .iter()
            .map(|&i| {
                let mut num = Scalar::ONE;
                let mut den = Scalar::ONE;
                for &j in indices {
                    if j != i {
                        num *= Scalar::from(u64::from(j));
                        den *= Scalar::from(u64::from(j)) - Scalar::from(u64::from(i));
                    }
                }
                num * den.invert().unwrap()
            })
            .collect()
    }

    #[test]
    fn both_methods_match_the_textbook_formula() {
        let sets: Vec<Vec<u32>> = vec![
            vec![1],
            vec![7],
            vec![1, 2],
            vec![1, 2, 3, 4, 5],
            vec![2, 5, 9, 10, 11, 30],
            (1..=40).collect(),
            (1..=60).filter(|x| x % 3 != 0).collect(),
            vec![1, 1000, 4_000_000_000],
            vec![u32::MAX, u32::MAX - 1, 17],
        ];
        for mut s in sets {
            s.sort_unstable();
            let expect = naive(&s);
            assert_eq!(direct_method(&s), expect, "direct {s:?}");
            let m = *s.last().unwrap();
            if m < 100_000 {
                assert_eq!(complement_method(&s, m), expect, "complement {s:?}");
            }
            assert_eq!(lagrange_coefficients(&s).unwrap(), expect);
        }
    }

    #[test]
    fn order_of_input_is_respected() {
        let s = [9u32, 2, 5];
        let w = lagrange_coefficients(&s).unwrap();
        assert_eq!(w, naive(&s));
    }

    #[test]
    fn rejects_bad_index_sets() {
        assert_eq!(lagrange_coefficients(&[]), Err(Error::Empty));
        assert_eq!(lagrange_coefficients(&[0, 1]), Err(Error::InvalidIndex(0)));
        assert_eq!(
            lagrange_coefficients(&[3, 1, 3]),
            Err(Error::DuplicateIndex(3))
        );
    }

    #[test]
    fn weights_interpolate_a_polynomial_at_zero() {
        // f(x) = 5 + 3x + 2x²: any 3 points recover f(0) = 5.
        let f = |x: u64| Scalar::from(5 + 3 * x + 2 * x * x);
        for set in [[1u32, 2, 3], [4, 9, 2], [10, 11, 50]] {
            let w = lagrange_coefficients(&set).unwrap();
            let v: Scalar = set.iter().zip(&w).map(|(&i, w)| f(u64::from(i)) * w).sum();
            assert_eq!(v, Scalar::from(5u64));
        }
    }
}
