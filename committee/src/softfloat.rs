//! A minimal software binary float with a 128-bit significand, used by the binomial CDF walk.
//!
//! A [`SoftFloat`] is `m · 2^e` with `m` a `u128` whose top bit is set (or `m = 0` for zero) and `e`
//! an `i64`. There is exactly one rounding rule: **every operation truncates toward zero** (the exact
//! result is computed in wider integers and the bits below the 128-bit significand are dropped).
//! Because the significand of the exact result is at least `2^127` before truncation, each operation
//! returns `x · (1 - δ)` with `0 ≤ δ < 2^-127`, where `x` is the exact result of that operation on
//! the (already rounded) inputs. Only integer instructions are used, so results are bit-for-bit
//! identical on every platform.

/// `m · 2^e`, normalised (`m ≥ 2^127`) unless zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SoftFloat {
    m: u128,
    e: i64,
}

/// Full 256-bit product of two `u128` values as `(high, low)`.
#[inline]
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & MASK);
    let (b1, b0) = (b >> 64, b & MASK);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Middle column: at most 3 · (2^64 - 1) < 2^66, no overflow in u128.
    let mid = (p00 >> 64) + (p01 & MASK) + (p10 & MASK);
    let low = (mid << 64) | (p00 & MASK);
    let high = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (high, low)
}

impl SoftFloat {
    /// Zero.
    pub(crate) const ZERO: SoftFloat = SoftFloat { m: 0, e: 0 };
    /// One, exactly.
    pub(crate) const ONE: SoftFloat = SoftFloat {
        m: 1 << 127,
        e: -127,
    };

    /// The exact value of an integer.
    pub(crate) fn from_u64(x: u64) -> SoftFloat {
        if x == 0 {
            return SoftFloat::ZERO;
        }
        let lz = x.leading_zeros() as i64;
        SoftFloat {
            m: (x as u128) << (64 + lz),
            e: -(64 + lz),
        }
    }

    /// `floor`-rounded `num / den` (one truncation). `den` must be non-zero.
    pub(crate) fn ratio(num: u64, den: u64) -> SoftFloat {
        SoftFloat::from_u64(num).div_u64(den)
    }

    /// Product, truncated to 128 significant bits.
    #[inline]
    pub(crate) fn mul(self, other: SoftFloat) -> SoftFloat {
        if self.m == 0 || other.m == 0 {
            return SoftFloat::ZERO;
        }
        let (hi, lo) = mul_wide(self.m, other.m);
        // Both inputs are in [2^127, 2^128), so the product is in [2^254, 2^256).
        if hi >> 127 == 1 {
            SoftFloat {
                m: hi,
                e: self.e + other.e + 128,
            }
        } else {
            SoftFloat {
                m: (hi << 1) | (lo >> 127),
                e: self.e + other.e + 127,
            }
        }
    }

    /// Product with a non-zero integer, truncated to 128 significant bits.
    #[inline]
    pub(crate) fn mul_u64(self, k: u64) -> SoftFloat {
        if self.m == 0 || k == 0 {
            return SoftFloat::ZERO;
        }
        const MASK: u128 = u64::MAX as u128;
        let p0 = (self.m & MASK) * k as u128;
        let p1 = (self.m >> 64) * k as u128;
        // The 192-bit product is mid · 2^64 + r0.
        let r0 = p0 & MASK;
        let mid = p1 + (p0 >> 64);
        // self.m ≥ 2^127 and k ≥ 1, so the product is ≥ 2^127 and mid ≥ 2^63: lz ≤ 64.
        let lz = mid.leading_zeros();
        let m = if lz == 0 {
            mid
        } else {
            (mid << lz) | (r0 >> (64 - lz))
        };
        SoftFloat {
            m,
            e: self.e + 64 - lz as i64,
        }
    }

    /// Quotient by a non-zero integer, truncated to 128 significant bits.
    #[inline]
    pub(crate) fn div_u64(self, d: u64) -> SoftFloat {
        debug_assert!(d != 0);
        if self.m == 0 {
            return SoftFloat::ZERO;
        }
        let d128 = d as u128;
        // Schoolbook division of the 192-bit number m · 2^64 by d, one 64-bit limb at a time.
        let h = (self.m >> 64) as u64;
        let l = self.m as u64;
        let q2 = h / d;
        let r = (h % d) as u128;
        let t = (r << 64) | l as u128;
        let q1 = t / d128; // < 2^64 because r < d
        let r = t % d128;
        let q0 = (r << 64) / d128; // < 2^64 likewise
                                   // floor(m · 2^64 / d) = q2 · 2^128 + q1 · 2^64 + q0.
        if q2 == 0 {
            // Then d > h ≥ 2^63 and the quotient exceeds 2^127: it is already normalised.
            SoftFloat {
                m: (q1 << 64) | q0,
                e: self.e - 64,
            }
        } else {
            let lz = q2.leading_zeros();
            let top = (q2 as u128) << 64 | q1;
            let m = if lz == 0 {
                top
            } else {
                (top << lz) | (q0 >> (64 - lz))
            };
            SoftFloat {
                m,
                e: self.e - lz as i64,
            }
        }
    }

    /// Sum of two non-negative values, truncated to 128 significant bits (relative error below
    /// `2^-126`: the smaller operand is shifted with truncation, then a carry may drop one more bit).
    pub(crate) fn add(self, other: SoftFloat) -> SoftFloat {
        if self.m == 0 {
            return other;
        }
        if other.m == 0 {
            return self;
        }
        let (big, small) = if self.e >= other.e {
            (self, other)
        } else {
            (other, self)
        };
        let shift = big.e - small.e;
        let aligned = if shift >= 128 { 0 } else { small.m >> shift };
        match big.m.overflowing_add(aligned) {
            (sum, false) => SoftFloat { m: sum, e: big.e },
            (sum, true) => SoftFloat {
                m: (sum >> 1) | (1 << 127),
                e: big.e + 1,
            },
        }
    }

    /// `self^n` by square-and-multiply. Uses at most `2·bitlen(n)` truncating products; see the
    /// error analysis in [`crate::binomial`].
    pub(crate) fn pow(self, mut n: u64) -> SoftFloat {
        let mut result = SoftFloat::ONE;
        let mut base = self;
        let mut first = true;
        while n != 0 {
            if n & 1 == 1 {
                // The first factor is copied, not multiplied: no rounding.
                result = if first { base } else { result.mul(base) };
                first = false;
            }
            n >>= 1;
            if n != 0 {
                base = base.mul(base);
            }
        }
        result
    }

    /// The value as a fixed-point number with 127 fractional bits, truncated. Values `≥ 2` saturate
    /// (callers only convert probabilities, which are `≤ 1`).
    #[inline]
    pub(crate) fn to_fixed127(self) -> u128 {
        if self.m == 0 {
            return 0;
        }
        // value · 2^127 = m · 2^(e + 127).
        let shift = self.e + 127;
        if shift >= 0 {
            if shift == 0 {
                self.m
            } else {
                u128::MAX
            }
        } else if shift <= -128 {
            0
        } else {
            self.m >> (-shift)
        }
    }

    /// Orders two non-negative values (normalised significands: exponent first, then
    /// significand; zero is the smallest).
    pub(crate) fn cmp_value(&self, other: &SoftFloat) -> std::cmp::Ordering {
        match (self.m == 0, other.m == 0) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            (false, false) => (self.e, self.m).cmp(&(other.e, other.m)),
        }
    }

    /// The binary exponent of the leading bit (value in `[2^k, 2^(k+1))`), or `None` for zero.
    pub(crate) fn log2_floor(self) -> Option<i64> {
        (self.m != 0).then_some(self.e + 127)
    }

    /// The nearest `f64` (for display only: never used on the sortition path).
    pub(crate) fn to_f64_for_display(self) -> f64 {
        if self.m == 0 {
            return 0.0;
        }
        let top = (self.m >> 64) as u64 as f64; // exact to 53 bits after rounding
        let mut v = top;
        let mut e = self.e + 64;
        while e > 0 {
            v *= 2.0;
            e -= 1;
        }
        while e < 0 && v != 0.0 {
            v *= 0.5;
            e += 1;
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exact_small_values() {
        let three = SoftFloat::from_u64(3);
        assert_eq!(three.mul_u64(5), SoftFloat::from_u64(15));
        assert_eq!(SoftFloat::from_u64(15).div_u64(5), three);
        assert_eq!(three.mul(SoftFloat::from_u64(7)), SoftFloat::from_u64(21));
        assert_eq!(SoftFloat::from_u64(2).pow(10), SoftFloat::from_u64(1024));
        assert_eq!(SoftFloat::ONE.to_fixed127(), 1 << 127);
        assert_eq!(SoftFloat::ratio(1, 4).to_fixed127(), 1 << 125);
        assert_eq!(SoftFloat::ratio(1, 3).to_fixed127(), (1u128 << 127) / 3);
        assert_eq!(SoftFloat::from_u64(1 << 40).log2_floor(), Some(40));
        assert_eq!(
            SoftFloat::from_u64(u64::MAX)
                .add(SoftFloat::from_u64(1))
                .log2_floor(),
            Some(64)
        );
        assert_eq!(
            SoftFloat::from_u64(5).add(SoftFloat::from_u64(7)),
            SoftFloat::from_u64(12)
        );
        assert_eq!(
            SoftFloat::ratio(1, 2).add(SoftFloat::ZERO),
            SoftFloat::ratio(1, 2)
        );
    }

    proptest! {
        #[test]
        fn mul_u64_matches_integers(a in 1u64.., b in 1u64..) {
            let p = SoftFloat::from_u64(a).mul_u64(b);
            let exact = a as u128 * b as u128;
            let lz = exact.leading_zeros();
            prop_assert_eq!(p, SoftFloat { m: exact << lz, e: -(lz as i64) });
            prop_assert_eq!(SoftFloat::from_u64(a).mul(SoftFloat::from_u64(b)), p);
        }

        #[test]
        fn div_is_floor(a in 1u64.., d in 1u64..) {
            // floor(a · 2^127 / d) agrees with the fixed-point conversion when a < d.
            let (a, d) = if a < d { (a, d) } else if a > d { (d, a) } else { return Ok(()) };
            let q = SoftFloat::ratio(a, d).to_fixed127();
            let exact_num = (a as u128) << 63;
            // q = floor(a · 2^127 / d) computed with two-step long division in u128.
            let hi = exact_num / d as u128;
            let r = exact_num % d as u128;
            let lo = (r << 64) / d as u128;
            prop_assert_eq!(q, (hi << 64) | lo);
        }
    }
}
