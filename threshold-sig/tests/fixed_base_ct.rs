//! Instruction-count check that `FixedBase` multiplication is constant time in the scalar: the
//! counts of the `measured_*` functions must be identical for every `CT_SCALAR`.
//!
//! ```text
//! cargo test --release -p conclave-threshold-sig --test fixed_base_ct --no-run   # prints the binary
//! for k in 0 1 2 3 17 12345; do
//!   CT_SCALAR=$k valgrind --tool=callgrind --callgrind-out-file=/tmp/fixed_base_ct.$k \
//!     --toggle-collect='*measured_*' <binary> --ignored --test-threads=1
//!   callgrind_annotate --inclusive=yes /tmp/fixed_base_ct.$k | grep measured_
//! done
//! ```
//! Only the allocator (`malloc`, `memcpy`) may differ by a few instructions, from the heap layout.
//! This caught the skipped inversion in blst's `to_affine` when every pair had a zero digit.

use blstrs::{G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
use conclave_threshold_sig::FixedBase;
use ff::Field;
use group::prime::PrimeCurveAffine;

#[inline(never)]
fn measured_g1(s: &Scalar) -> G1Projective {
    G1Affine::mul_generator(s)
}

#[inline(never)]
fn measured_g2(s: &Scalar) -> G2Projective {
    G2Affine::mul_generator(s)
}

#[inline(never)]
fn measured_batch_g2(s: &[Scalar]) -> Vec<G2Affine> {
    G2Affine::mul_generator_batch(s)
}

/// 0: zero, 1: one, 2: r − 1, 3: r − 2, k > 3: a scalar derived from k.
fn scalar(k: u64) -> Scalar {
    match k {
        0 => Scalar::ZERO,
        1 => Scalar::ONE,
        2 => -Scalar::ONE,
        3 => -Scalar::from(2u64),
        _ => Scalar::from(k).pow_vartime([k, 7 * k + 1, 3, 5]),
    }
}

#[test]
#[ignore = "run under valgrind, see the file docs"]
fn constant_time_probe() {
    let k = std::env::var("CT_SCALAR")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(17);
    let s = scalar(k);
    G1Affine::precompute_generator_table();
    G2Affine::precompute_generator_table();
    let g1 = measured_g1(&s);
    let g2 = measured_g2(&s);
    let batch = measured_batch_g2(&[s, s.square(), -s]);
    assert_eq!(g1, G1Affine::generator() * s);
    assert_eq!(g2, G2Affine::generator() * s);
    assert_eq!(batch[0], G2Affine::from(G2Affine::generator() * s));
}
