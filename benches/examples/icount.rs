//! Instruction-count profile of the weights versus the raw Pippenger floor, for a noisy machine:
//! `valgrind --tool=callgrind --toggle-collect='*measured_*' target/release/examples/icount 1366`
//! then `callgrind_annotate` shows the inclusive counts of `measured_weights` and `measured_msm_*`.

use blst::{blst_p1_affine, blst_p2_affine, MultiPoint};
use conclave_threshold_sig::{lagrange_coefficients, Scalar};
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::Curve;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

#[inline(never)]
fn measured_weights(idx: &[u32]) -> Vec<Scalar> {
    lagrange_coefficients(idx).unwrap()
}

#[inline(never)]
fn measured_msm_g1(p: &[blst_p1_affine], s: &[u8]) -> blst::blst_p1 {
    p.mult(s, 255)
}

#[inline(never)]
fn measured_msm_g2(p: &[blst_p2_affine], s: &[u8]) -> blst::blst_p2 {
    p.mult(s, 255)
}

fn main() {
    let k: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(683);
    let n = (3 * k).div_ceil(2);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut idx: Vec<u32> = (1..=n).collect();
    idx.shuffle(&mut rng);
    idx.truncate(k as usize);
    let scalars: Vec<u8> = (0..k)
        .flat_map(|_| Scalar::random(&mut rng).to_bytes_le())
        .collect();
    let g1: Vec<blst_p1_affine> = (0..k)
        .map(|_| {
            *(blstrs::G1Affine::generator() * Scalar::random(&mut rng))
                .to_affine()
                .as_ref()
        })
        .collect();
    let g2: Vec<blst_p2_affine> = (0..k)
        .map(|_| {
            *(blstrs::G2Affine::generator() * Scalar::random(&mut rng))
                .to_affine()
                .as_ref()
        })
        .collect();
    std::hint::black_box(measured_weights(&idx));
    std::hint::black_box(measured_msm_g1(&g1, &scalars));
    std::hint::black_box(measured_msm_g2(&g2, &scalars));
}
