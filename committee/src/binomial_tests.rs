//! Tests of the CDF walk against an exact big-rational reference.

use super::*;
use proptest::prelude::*;

/// A tiny unsigned big integer (little-endian u32 limbs), enough for the exact reference.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut x: u128) -> Big {
        let mut limbs = Vec::new();
        while x != 0 {
            limbs.push(x as u32);
            x >>= 32;
        }
        Big(limbs)
    }
    fn trim(mut self) -> Big {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        self
    }
    fn mul(&self, other: &Big) -> Big {
        let mut out = vec![0u64; self.0.len() + other.0.len() + 1];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u64;
            for (k, &b) in other.0.iter().enumerate() {
                let cur = out[i + k] + a as u64 * b as u64 + carry;
                out[i + k] = cur & 0xffff_ffff;
                carry = cur >> 32;
            }
            let mut idx = i + other.0.len();
            while carry != 0 {
                let cur = out[idx] + carry;
                out[idx] = cur & 0xffff_ffff;
                carry = cur >> 32;
                idx += 1;
            }
        }
        Big(out.into_iter().map(|x| x as u32).collect()).trim()
    }
    fn add(&self, other: &Big) -> Big {
        let n = self.0.len().max(other.0.len()) + 1;
        let mut out = Vec::with_capacity(n);
        let mut carry = 0u64;
        for i in 0..n {
            let cur =
                *self.0.get(i).unwrap_or(&0) as u64 + *other.0.get(i).unwrap_or(&0) as u64 + carry;
            out.push(cur as u32);
            carry = cur >> 32;
        }
        Big(out).trim()
    }
    fn pow(&self, n: u64) -> Big {
        let mut r = Big::from_u128(1);
        for _ in 0..n {
            r = r.mul(self);
        }
        r
    }
    fn cmp(&self, other: &Big) -> std::cmp::Ordering {
        let (a, b) = (self.clone().trim(), other.clone().trim());
        a.0.len()
            .cmp(&b.0.len())
            .then_with(|| a.0.iter().rev().cmp(b.0.iter().rev()))
    }
}

/// Exact `CDF(j) · W^w` numerators for j = 0..=w: `Σ_{k≤j} C(w,k) τ^k (W-τ)^(w-k)`.
fn exact_cdf_numerators(w: u64, total: u64, tau: u64) -> (Vec<Big>, Big) {
    let mut out = Vec::new();
    let mut acc = Big::from_u128(0);
    let mut binom: u128 = 1; // C(w, k), fits for w ≤ 60
    for k in 0..=w {
        let term = Big::from_u128(binom)
            .mul(&Big::from_u128(tau as u128).pow(k))
            .mul(&Big::from_u128((total - tau) as u128).pow(w - k));
        acc = acc.add(&term);
        out.push(acc.clone());
        binom = binom * (w - k) as u128 / (k + 1) as u128;
    }
    (out, Big::from_u128(total as u128).pow(w))
}

/// Checks `0 ≤ CDF(j)·2^127 - CDF~(j) < 2w + 5j + 66` for all j, exactly.
fn check_against_exact(w: u64, total: u64, tau: u64) {
    let params = SortitionParams::new(w, total, tau).unwrap();
    let (numerators, denominator) = exact_cdf_numerators(w, total, tau);
    let two127 = Big::from_u128(1 << 127);
    for (j, num) in numerators.iter().enumerate() {
        let j = j as u64;
        let approx = params.cdf_fixed(j);
        let exact_scaled = num.mul(&two127); // CDF · 2^127 · W^w
        let lower = Big::from_u128(approx).mul(&denominator);
        assert_ne!(
            lower.cmp(&exact_scaled),
            std::cmp::Ordering::Greater,
            "CDF~ above CDF at w={w} W={total} tau={tau} j={j}"
        );
        let slack = Big::from_u128(approx + (2 * w + 5 * j + 66) as u128).mul(&denominator);
        assert_eq!(
            slack.cmp(&exact_scaled),
            std::cmp::Ordering::Greater,
            "error bound violated at w={w} W={total} tau={tau} j={j}"
        );
    }
}

#[test]
fn matches_exact_reference_on_small_cases() {
    for &(total, tau) in &[
        (2, 1),
        (3, 1),
        (7, 3),
        (10, 9),
        (64, 5),
        (97, 20),
        (1000, 13),
        (1 << 40, 11),
    ] {
        for w in [1u64, 2, 3, 5, 8, 13, 21, 34, 55] {
            if w <= total {
                check_against_exact(w, total, tau);
            }
        }
    }
}

#[test]
fn p_one_and_zero_stake() {
    let all = SortitionParams::new(7, 10, 10).unwrap();
    assert_eq!(all.weight(0), 7);
    assert_eq!(all.weight(u64::MAX), 7);
    let none = SortitionParams::new(0, 10, 3).unwrap();
    assert_eq!(none.weight(u64::MAX), 0);
}

#[test]
fn parameter_ranges() {
    assert!(SortitionParams::new(1, 0, 1).is_err());
    assert!(SortitionParams::new(1, (1 << 63) + 1, 1).is_err());
    assert!(SortitionParams::new((1 << 53) + 1, 1 << 63, 1).is_err());
    assert!(SortitionParams::new(11, 10, 1).is_err());
    assert!(SortitionParams::new(1, 10, 0).is_err());
    assert!(SortitionParams::new(1, 10, 11).is_err());
    assert!(SortitionParams::new(1, 1 << 20, 10_001).is_err());
    assert!(SortitionParams::new(1 << 53, 1 << 63, 10_000).is_ok());
}

#[test]
fn extreme_parameters_terminate_with_sane_weights() {
    // The whale: all stake in one participant, τ = 10,000: weight ≈ τ.
    let whale = SortitionParams::new(1 << 53, 1 << 53, 10_000).unwrap();
    let mid = whale.weight(1 << 63);
    assert!((9_990..=10_010).contains(&mid), "median weight {mid}");
    let top = whale.weight(u64::MAX);
    assert!((10_800..11_100).contains(&top), "top weight {top}");
    let bottom = whale.weight(0);
    assert!((8_900..9_200).contains(&bottom), "bottom weight {bottom}");
    // p close to 1.
    let heavy = SortitionParams::new(10_001, 10_001, 10_000).unwrap();
    assert!(heavy.weight(1 << 63) >= 9_990);
    // Largest stake, largest total.
    let big = SortitionParams::new(1 << 53, 1 << 63, 10_000).unwrap();
    assert!(big.weight(u64::MAX) < 60);
}

#[test]
fn table_matches_walk() {
    for &(w, total, tau) in &[
        (1u64 << 53, 1u64 << 63, 10_000u64),
        (1000, 5000, 2000),
        (50, 100, 100),
        (0, 5, 1),
        (3, 3, 2),
    ] {
        let params = SortitionParams::new(w, total, tau).unwrap();
        let table = SortitionTable::new(params);
        let mut u = 0x0123_4567_89ab_cdefu64;
        for _ in 0..400 {
            u = u
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            assert_eq!(table.weight(u), params.weight(u));
        }
        for u in [0, 1, u64::MAX, u64::MAX - 1] {
            assert_eq!(table.weight(u), params.weight(u));
        }
    }
}

proptest! {
    #[test]
    fn cdf_monotone_and_weight_bounded(w in 0u64..200, extra in 0u64..1_000_000, tau in 1u64..300, u in any::<u64>()) {
        let total = (w + extra).max(tau).max(1);
        let params = SortitionParams::new(w, total, tau).unwrap();
        let mut prev = 0u128;
        for j in 0..=w.min(60) {
            let c = params.cdf_fixed(j);
            prop_assert!(c >= prev);
            prop_assert!(c <= 1 << 127);
            prev = c;
        }
        let weight = params.weight(u);
        prop_assert!(weight <= w);
        // The weight is the smallest j whose CDF~ covers u.
        let target = ratio_target(u);
        if weight < w {
            prop_assert!(target <= params.cdf_fixed(weight));
        }
        if weight > 0 {
            prop_assert!(target > params.cdf_fixed(weight - 1));
        }
        // The weight is monotone in u.
        prop_assert!(params.weight(u / 2) <= weight);
    }

    #[test]
    fn params_serde_round_trip(w in 0u64..1000, extra in 0u64..1000, tau in 1u64..100) {
        let total = (w + extra).max(tau);
        let params = SortitionParams::new(w, total, tau).unwrap();
        let json = serde_json::to_string(&params).unwrap();
        prop_assert_eq!(serde_json::from_str::<SortitionParams>(&json).unwrap(), params);
        let table = SortitionTable::new(params);
        let json = serde_json::to_string(&table).unwrap();
        prop_assert_eq!(serde_json::from_str::<SortitionTable>(&json).unwrap(), table);
    }
}

#[test]
fn invalid_params_rejected_by_serde() {
    assert!(
        serde_json::from_str::<SortitionParams>(r#"{"stake":5,"total_stake":4,"tau":1}"#).is_err()
    );
}

/// `floor(CDF(j) · 2^127)` for large stakes, computed offline with 110-digit decimal arithmetic
/// (Python `decimal`: `B(0) = exp(w · ln((W-τ)/W))`, then the term recurrence), accurate to ±1.
const HIGH_PRECISION_REFERENCE: &[(u64, u64, u64, u64, u128)] = &[
    (
        1 << 53,
        1 << 63,
        10_000,
        0,
        9764553729981278560935734077692722,
    ),
    (
        1 << 53,
        1 << 63,
        10_000,
        9,
        82956390284488623726531651346814875727,
    ),
    (
        1 << 53,
        1 << 63,
        10_000,
        20,
        169937175607187565350026509004444873484,
    ),
    (
        1 << 53,
        1 << 53,
        10_000,
        9500,
        40483005236066877224590781276218,
    ),
    (
        1 << 53,
        1 << 53,
        10_000,
        10000,
        85523096026345810635254065129408032040,
    ),
    (
        1 << 53,
        1 << 53,
        10_000,
        10400,
        170135329641283834512411144406267792059,
    ),
    (
        10_001,
        10_001,
        10_000,
        9990,
        1701792195675942546442217933059,
    ),
    (
        10_001,
        10_001,
        10_000,
        10000,
        107552869358411908173943118810785652890,
    ),
];

#[test]
fn matches_high_precision_reference_on_large_stakes() {
    for &(w, total, tau, j, exact) in HIGH_PRECISION_REFERENCE {
        let ours = SortitionParams::new(w, total, tau).unwrap().cdf_fixed(j);
        let bound = (2 * w + 5 * j + 66) as u128;
        assert!(
            ours <= exact + 1,
            "above the exact CDF: w={w} W={total} j={j}"
        );
        assert!(
            exact - ours <= bound + 1,
            "bound violated: w={w} W={total} j={j}: {}",
            exact - ours
        );
    }
}
