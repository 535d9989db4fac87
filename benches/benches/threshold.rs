//! Threshold-signature and aggregation benchmarks, each next to its raw blst floor.
//!
//! Ids (see the README for the ratio targets):
//! * `combine/<variant>/<t+1>`: cold combine (weights computed, cache cleared) of t+1 partials drawn
//!   at random from 1..=n, n = ⌈1.5·(t+1)⌉; `combine_cached/…` reuses the weights of the index set;
//!   `msm/<group>/<t+1>`: blst Pippenger on the same number of affine points (the floor).
//! * `robust_combine_all_valid/<variant>/<t+1>`: `Combiner::combine`, optimistic: one MSM + one
//!   verification of the result (one pairing check; cold weights); floor
//!   `msm_plus_verify/<variant>/<t+1>`. Every robust combine verifies what it returns.
//! * `robust_combine_verified_all_valid/<variant>/<t+1>`: `Combiner::combine_verified`: one batch
//!   check of all partials (two 64-bit MSMs + one pairing check, as `batch_partial_verify`), then
//!   one MSM + the final verification of the result (one more pairing check; cold weights).
//! * `verify/<variant>` vs `verify_raw/<variant>` (blst `Signature::verify`),
//!   `fast_aggregate_verify/<variant>/1000` and `aggregate_verify/<variant>/128` vs their blst `_raw`.
//! * `batch_partial_verify/<variant>/<t+1>` (one message, public shares cached).
//! * `public_shares/<variant>/1024` (all n = 1024 public shares of a degree-682 commitment).
//! * `fixed_base/g1`, `fixed_base/g2`: constant-time `s·G` from the precomputed generator table
//!   (`FixedBase::mul_generator`), against blst's generic multiplication `generator() * s` as
//!   `fixed_base/g1_generic`, `fixed_base/g2_generic` (target: ≥ 3x).
//!
//! Run on one core, as the targets are stated: `taskset -c 0 cargo bench -p conclave-benches --bench threshold`.
//! Quick check that everything runs: `cargo bench -p conclave-benches --bench threshold -- --test`.

use std::time::Duration;

use blst::{blst_p1_affine, blst_p2_affine, MultiPoint};
use conclave_threshold_sig::{
    aggregate_signatures, aggregate_verify, deal, fast_aggregate_verify, verify_partials_batch,
    Ciphersuite, Combiner, FixedBase, MinPk, MinSig, Msm, PartialSignature, PublicKey, Scalar,
    Scheme, SecretKey, Signature, Variant,
};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::Curve;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const SIZES: [u32; 6] = [8, 34, 128, 342, 683, 1366];
const SUBSETS: usize = 8;

fn sizes() -> Vec<u32> {
    // CONCLAVE_BENCH_SIZES=8,34 limits the sweep (handy for quick runs).
    match std::env::var("CONCLAVE_BENCH_SIZES") {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => SIZES.to_vec(),
    }
}

fn configure(c: &mut Criterion) -> &mut Criterion {
    c
}

/// Random affine points of a group (for the raw MSM floor).
fn raw_points<A: PrimeCurveAffine<Scalar = Scalar>>(n: usize, rng: &mut ChaCha20Rng) -> Vec<A> {
    (0..n)
        .map(|_| (A::generator() * Scalar::random(&mut *rng)).to_affine())
        .collect()
}

fn scalar_bytes(s: &[Scalar]) -> Vec<u8> {
    s.iter().flat_map(|x| x.to_bytes_le()).collect()
}

fn bench_msm_floor(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("msm");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for k in sizes() {
        let scalars: Vec<Scalar> = (0..k).map(|_| Scalar::random(&mut rng)).collect();
        let bytes = scalar_bytes(&scalars);
        let p1: Vec<blst_p1_affine> = raw_points::<blstrs::G1Affine>(k as usize, &mut rng)
            .iter()
            .map(|p| *p.as_ref())
            .collect();
        let p2: Vec<blst_p2_affine> = raw_points::<blstrs::G2Affine>(k as usize, &mut rng)
            .iter()
            .map(|p| *p.as_ref())
            .collect();
        g.bench_with_input(BenchmarkId::new("g1", k), &k, |b, _| {
            b.iter(|| black_box(p1.mult(&bytes, 255)))
        });
        g.bench_with_input(BenchmarkId::new("g2", k), &k, |b, _| {
            b.iter(|| black_box(p2.mult(&bytes, 255)))
        });
    }
    g.finish();
}

struct Setup<V: Variant> {
    combiner: Combiner<V>,
    subsets: Vec<Vec<PartialSignature<V>>>,
    msg: Vec<u8>,
}

fn setup<V: Variant>(k: u32, rng: &mut ChaCha20Rng) -> Setup<V> {
    let msg = b"benchmark message".to_vec();
    let c = conclave_benches::combine_inputs::<V>(k, &msg, SUBSETS, rng);
    Setup {
        combiner: Combiner::new(c.dealing.commitment, c.n, c.dst).expect("valid parameters"),
        subsets: c.subsets,
        msg,
    }
}

fn bench_combine_variant<V: Variant>(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for k in sizes() {
        let s = setup::<V>(k, &mut rng);
        let mut g = c.benchmark_group("combine");
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        let mut i = 0;
        g.bench_with_input(BenchmarkId::new(V::NAME, k), &k, |b, _| {
            b.iter(|| {
                s.combiner.clear_cache();
                i = (i + 1) % SUBSETS;
                black_box(s.combiner.combine_unchecked(&s.subsets[i]).unwrap())
            })
        });
        g.finish();
        let mut g = c.benchmark_group("combine_cached");
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        g.bench_with_input(BenchmarkId::new(V::NAME, k), &k, |b, _| {
            b.iter(|| black_box(s.combiner.combine_unchecked(&s.subsets[0]).unwrap()))
        });
        g.finish();
        let mut g = c.benchmark_group("robust_combine_all_valid");
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        g.bench_with_input(BenchmarkId::new(V::NAME, k), &k, |b, _| {
            b.iter(|| {
                s.combiner.clear_cache();
                i = (i + 1) % SUBSETS;
                let out = s.combiner.combine(&s.msg, &s.subsets[i], &mut rng).unwrap();
                assert!(out.culprits.is_empty());
                black_box(out)
            })
        });
        g.finish();
        let mut g = c.benchmark_group("robust_combine_verified_all_valid");
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        g.bench_with_input(BenchmarkId::new(V::NAME, k), &k, |b, _| {
            b.iter(|| {
                s.combiner.clear_cache();
                i = (i + 1) % SUBSETS;
                let out = s
                    .combiner
                    .combine_verified(&s.msg, &s.subsets[i], &mut rng)
                    .unwrap();
                assert!(out.culprits.is_empty());
                black_box(out)
            })
        });
        g.finish();
        // Floor for the robust combine: the MSM plus one verification, on the same inputs.
        let points: Vec<V::SignatureAffine> = s.subsets[0]
            .iter()
            .map(|p| *p.signature.as_affine())
            .collect();
        let scalars: Vec<Scalar> = (0..k).map(|_| Scalar::random(&mut rng)).collect();
        let gpk = s.combiner.group_public_key();
        let suite =
            Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, s.combiner.dst()).unwrap();
        let sig = s
            .combiner
            .combine_unchecked(&s.subsets[0])
            .unwrap()
            .signature;
        let mut g = c.benchmark_group("msm_plus_verify");
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        g.bench_with_input(BenchmarkId::new(V::NAME, k), &k, |b, _| {
            b.iter(|| {
                black_box(V::SignatureAffine::msm(&points, &scalars, 255));
                assert!(gpk.verify(&suite, &s.msg, &sig));
            })
        });
        g.finish();
        let mut g = c.benchmark_group("batch_partial_verify");
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        let lookup = |i: u32| s.combiner.public_share(i);
        g.bench_with_input(BenchmarkId::new(V::NAME, k), &k, |b, _| {
            b.iter(|| {
                i = (i + 1) % SUBSETS;
                assert!(verify_partials_batch(
                    &lookup,
                    s.combiner.dst(),
                    &s.msg,
                    &s.subsets[i],
                    &mut rng
                )
                .is_ok())
            })
        });
        g.finish();
    }
}

fn bench_public_shares<V: Variant>(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let dealing = deal::<V>(1024, 682, &mut rng).unwrap();
    let mut g = c.benchmark_group("public_shares");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.bench_function(BenchmarkId::new(V::NAME, 1024), |b| {
        b.iter(|| black_box(dealing.commitment.public_shares(1024).unwrap()))
    });
    g.finish();
}

/// One group's `fixed_base/<group>` and `fixed_base/<group>_generic` (the table is built before
/// timing; its one-off build time is printed).
fn bench_fixed_base_group<A: FixedBase>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
) {
    let start = std::time::Instant::now();
    A::precompute_generator_table();
    eprintln!(
        "fixed_base/{name}: table {} bytes, first build (or reuse) {:?}",
        A::GENERATOR_TABLE_BYTES,
        start.elapsed()
    );
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let scalars: Vec<Scalar> = (0..64).map(|_| Scalar::random(&mut rng)).collect();
    let mut i = 0;
    g.bench_function(name, |b| {
        b.iter(|| {
            i = (i + 1) % scalars.len();
            black_box(A::mul_generator(black_box(&scalars[i])))
        })
    });
    g.bench_function(format!("{name}_generic"), |b| {
        b.iter(|| {
            i = (i + 1) % scalars.len();
            black_box(A::generator() * black_box(scalars[i]))
        })
    });
}

fn bench_fixed_base(c: &mut Criterion) {
    let mut g = c.benchmark_group("fixed_base");
    bench_fixed_base_group::<blstrs::G1Affine>(&mut g, "g1");
    bench_fixed_base_group::<blstrs::G2Affine>(&mut g, "g2");
    g.finish();
}

fn bench_verify<V: Variant, R>(
    c: &mut Criterion,
    prep: impl Fn(&[u8], &[u8]) -> R,
    raw: impl Fn(&R, &[u8]) -> bool,
) {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let suite = Ciphersuite::<V>::pop();
    let sk = SecretKey::random(&mut rng);
    let pk = sk.public_key::<V>();
    let sig = sk.sign::<V>(&suite, b"msg");
    let mut g = c.benchmark_group("verify");
    g.bench_function(V::NAME, |b| {
        b.iter(|| assert!(pk.verify(&suite, b"msg", &sig)))
    });
    g.finish();
    let prepared = prep(&pk.to_bytes(), &sig.to_bytes());
    let mut g = c.benchmark_group("verify_raw");
    g.bench_function(V::NAME, |b| b.iter(|| assert!(raw(&prepared, b"msg"))));
    g.finish();
}

fn bench_aggregates<V: Variant, R>(
    c: &mut Criterion,
    prep: impl Fn(&[Vec<u8>], &[u8]) -> R,
    fav_raw: impl Fn(&R, &[u8]) -> bool,
    av_raw: impl Fn(&R, &[Vec<u8>]) -> bool,
) {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let suite = Ciphersuite::<V>::pop();
    let sks: Vec<SecretKey> = (0..1000).map(|_| SecretKey::random(&mut rng)).collect();
    let pks: Vec<PublicKey<V>> = sks.iter().map(|s| s.public_key::<V>()).collect();
    let sigs: Vec<Signature<V>> = sks.iter().map(|s| s.sign::<V>(&suite, b"same")).collect();
    let agg = aggregate_signatures(&sigs).unwrap();
    let pk_bytes: Vec<Vec<u8>> = pks.iter().map(|p| p.to_bytes()).collect();
    let prepared = prep(&pk_bytes, &agg.to_bytes());
    let mut g = c.benchmark_group("fast_aggregate_verify");
    g.sample_size(20);
    g.bench_function(BenchmarkId::new(V::NAME, 1000), |b| {
        b.iter(|| assert!(fast_aggregate_verify(&suite, &pks, b"same", &agg)))
    });
    g.bench_function(BenchmarkId::new(format!("{}_raw", V::NAME), 1000), |b| {
        b.iter(|| assert!(fav_raw(&prepared, b"same")))
    });
    g.finish();
    let msgs: Vec<Vec<u8>> = (0..128u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
    let sigs: Vec<Signature<V>> = sks[..128]
        .iter()
        .zip(&refs)
        .map(|(s, m)| s.sign::<V>(&suite, m))
        .collect();
    let agg = aggregate_signatures(&sigs).unwrap();
    let prepared = prep(&pk_bytes[..128], &agg.to_bytes());
    let mut g = c.benchmark_group("aggregate_verify");
    g.sample_size(20);
    g.bench_function(BenchmarkId::new(V::NAME, 128), |b| {
        b.iter(|| assert!(aggregate_verify(&suite, &pks[..128], &refs, &agg)))
    });
    g.bench_function(BenchmarkId::new(format!("{}_raw", V::NAME), 128), |b| {
        b.iter(|| assert!(av_raw(&prepared, &msgs)))
    });
    g.finish();
}

const POP_G2: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
const POP_G1: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

macro_rules! raw_floors {
    ($c:expr, $v:ty, $m:ident, $dst:expr) => {{
        bench_verify::<$v, _>(
            $c,
            |pk, s| {
                (
                    blst::$m::PublicKey::from_bytes(pk).unwrap(),
                    blst::$m::Signature::from_bytes(s).unwrap(),
                )
            },
            |(pk, s), m| s.verify(false, m, $dst, &[], pk, false) == blst::BLST_ERROR::BLST_SUCCESS,
        );
        bench_aggregates::<$v, _>(
            $c,
            |pks, s| {
                let pks: Vec<_> = pks
                    .iter()
                    .map(|p| blst::$m::PublicKey::from_bytes(p).unwrap())
                    .collect();
                (pks, blst::$m::Signature::from_bytes(s).unwrap())
            },
            |(pks, s), m| {
                let refs: Vec<_> = pks.iter().collect();
                s.fast_aggregate_verify(false, m, $dst, &refs) == blst::BLST_ERROR::BLST_SUCCESS
            },
            |(pks, s), ms| {
                let refs: Vec<_> = pks.iter().collect();
                let msgs: Vec<&[u8]> = ms.iter().map(|m| m.as_slice()).collect();
                s.aggregate_verify(false, &msgs, $dst, &refs, false)
                    == blst::BLST_ERROR::BLST_SUCCESS
            },
        );
    }};
}

fn all(c: &mut Criterion) {
    let c = configure(c);
    bench_fixed_base(c);
    raw_floors!(c, MinPk, min_pk, POP_G2);
    raw_floors!(c, MinSig, min_sig, POP_G1);
    bench_msm_floor(c);
    bench_combine_variant::<MinPk>(c);
    bench_combine_variant::<MinSig>(c);
    bench_public_shares::<MinPk>(c);
    bench_public_shares::<MinSig>(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
