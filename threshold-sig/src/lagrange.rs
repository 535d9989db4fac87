//! Lagrange coefficients at zero for a set of share indices, computed in far less time than the
//! multi-scalar multiplication they feed.
//!
//! For indices `S` (distinct, `≥ 1`), `λ_i = Π_{j∈S, j≠i} j / (j − i)`. Index differences are small
//! integers, so products of them are accumulated in `u128` and only folded into the scalar field
//! when the next factor would overflow (about one field multiplication per eleven factors).
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

/// Multiply `acc` by the integer `factor`, folding the `u128` accumulator into `field` on overflow.
#[inline(always)]
fn push(acc: &mut u128, field: &mut Scalar, factor: u64) {
    match acc.checked_mul(u128::from(factor)) {
        Some(v) => *acc = v,
        None => {
            *field *= scalar_from_u128(*acc);
            *acc = u128::from(factor);
        }
    }
}

fn scalar_from_u128(v: u128) -> Scalar {
    let lo = Scalar::from(v as u64);
    let hi = Scalar::from((v >> 64) as u64);
    if v >> 64 == 0 {
        lo
    } else {
        hi * Scalar::from(u64::MAX) + hi + lo
    }
}

fn finish(acc: u128, field: Scalar) -> Scalar {
    field * scalar_from_u128(acc)
}

/// Batch inversion (Montgomery's trick): one field inversion for all elements. All inputs must be
/// non-zero (true for products of non-zero small integers).
fn batch_invert(values: &mut [Scalar]) {
    let mut prefix = Vec::with_capacity(values.len());
    let mut acc = Scalar::ONE;
    for v in values.iter() {
        prefix.push(acc);
        acc *= v;
    }
    let mut inv = Option::<Scalar>::from(acc.invert()).unwrap_or(Scalar::ZERO);
    for (v, p) in values.iter_mut().zip(prefix).rev() {
        let next = inv * *v;
        *v = inv * p;
        inv = next;
    }
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
    // N = Π j
    let (mut acc, mut field) = (1u128, Scalar::ONE);
    for &j in sorted {
        push(&mut acc, &mut field, u64::from(j));
    }
    let numerator = finish(acc, field);
    // den_i = i · Π_{j≠i} |j − i|
    let mut dens: Vec<Scalar> = sorted
        .iter()
        .map(|&i| {
            let (mut acc, mut field) = (u128::from(i), Scalar::ONE);
            for &j in sorted {
                if j != i {
                    push(&mut acc, &mut field, u64::from(j.abs_diff(i)));
                }
            }
            finish(acc, field)
        })
        .collect();
    batch_invert(&mut dens);
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
    let (mut acc, mut field) = (1u128, Scalar::ONE);
    for &j in sorted {
        push(&mut acc, &mut field, u64::from(j));
    }
    let k_factor = finish(acc, field) * inv_fact[m_us];
    // binom(m, i) · K = m! · K / (i! (m−i)!) = (Π_{j∈S} j) / (i! (m−i)!)
    let base = k_factor * fact[m_us];
    sorted
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let (mut acc, mut field) = (1u128, Scalar::ONE);
            for &c in &complement {
                push(&mut acc, &mut field, u64::from(c.abs_diff(i)));
            }
            let r = finish(acc, field);
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
