//! Min-of-N timing of combine vs the raw Pippenger floor, robust to a noisy shared machine:
//! `taskset -c 0 cargo run --release -p conclave-benches --example ratios [sizes]`.
//! (Criterion's medians in `benches/threshold.rs` are the reference; this prints quick ratios.)

use std::time::{Duration, Instant};

use blst::{blst_p1_affine, blst_p2_affine, MultiPoint};
use conclave_threshold_sig::{Combiner, MinPk, MinSig, Scalar, Variant};
use ff::Field;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn min_time(reps: usize, mut f: impl FnMut()) -> Duration {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn run<V: Variant>(k: u32, reps: usize, rng: &mut ChaCha20Rng) {
    let c = conclave_benches::combine_inputs::<V>(k, b"ratio", 8, rng);
    let subsets = c.subsets;
    let combiner = Combiner::new(c.dealing.commitment, c.n, c.dst).expect("valid parameters");
    let scalars: Vec<Scalar> = (0..k).map(|_| Scalar::random(&mut *rng)).collect();
    let bytes: Vec<u8> = scalars.iter().flat_map(|s| s.to_bytes_le()).collect();
    let pts: Vec<_> = subsets[0]
        .iter()
        .map(|p| *p.signature.as_affine())
        .collect();
    let floor = if V::SIGNATURE_SIZE == 48 {
        let raw: Vec<blst_p1_affine> = pts
            .iter()
            .map(|p| {
                *(p as &dyn std::any::Any)
                    .downcast_ref::<blstrs::G1Affine>()
                    .unwrap()
                    .as_ref()
            })
            .collect();
        min_time(reps, || {
            std::hint::black_box(raw.mult(&bytes, 255));
        })
    } else {
        let raw: Vec<blst_p2_affine> = pts
            .iter()
            .map(|p| {
                *(p as &dyn std::any::Any)
                    .downcast_ref::<blstrs::G2Affine>()
                    .unwrap()
                    .as_ref()
            })
            .collect();
        min_time(reps, || {
            std::hint::black_box(raw.mult(&bytes, 255));
        })
    };
    let mut i = 0;
    let cold = min_time(reps, || {
        combiner.clear_cache();
        i = (i + 1) % subsets.len();
        std::hint::black_box(combiner.combine_unchecked(&subsets[i]).unwrap());
    });
    let warm = min_time(reps, || {
        drop(std::hint::black_box(
            combiner.combine_unchecked(&subsets[0]).unwrap(),
        ))
    });
    let weights = min_time(reps, || {
        let idx: Vec<u32> = subsets[1].iter().map(|p| p.index).collect();
        std::hint::black_box(conclave_threshold_sig::lagrange_coefficients(&idx).unwrap());
    });
    println!(
        "{:7} {:5}  floor {:9.3} ms  combine(cold) {:9.3} ms  x{:.3}  combine(cached) x{:.3}  weights {:7.3} ms ({:.1}% of floor)",
        V::NAME,
        k,
        floor.as_secs_f64() * 1e3,
        cold.as_secs_f64() * 1e3,
        cold.as_secs_f64() / floor.as_secs_f64(),
        warm.as_secs_f64() / floor.as_secs_f64(),
        weights.as_secs_f64() * 1e3,
        100.0 * weights.as_secs_f64() / floor.as_secs_f64()
    );
}

fn main() {
    let sizes: Vec<u32> = std::env::args()
        .nth(1)
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 34, 128, 342, 683, 1366]);
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for &k in &sizes {
        let reps = if k > 500 { 15 } else { 40 };
        run::<MinPk>(k, reps, &mut rng);
        run::<MinSig>(k, reps, &mut rng);
    }
}
