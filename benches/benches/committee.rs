//! Sortition benchmarks: proving, credential verification (VRF verify + weight) next to the raw
//! `vrf-r255` verification it must stay within 1.1× of, and the CDF walk alone.
//!
//! Run: `cargo bench -p conclave-benches --bench committee -- --warm-up-time 1 --measurement-time 3`

use conclave_committee::seed::Seed;
use conclave_committee::sortition::{ratio_value, sortition};
use conclave_committee::transcript::{Role, SortitionContext};
use conclave_committee::vrf::SecretKey;
use conclave_committee::{SortitionParams, SortitionTable};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    let secret = SecretKey::derive(b"bench", 0);
    let context = SortitionContext::new(Seed::from_bytes([0x42; 32]), 1_000)
        .with_period(0)
        .with_step(2)
        .with_role(Role::Voter);
    // The largest stake (2^53) in the largest population (2^63) with τ = 10,000: w p ≈ 9.8.
    let typical = SortitionParams::new(1 << 53, 1 << 63, 10_000).unwrap();
    // Worst case: one participant holds all the stake, so w p = τ = 10,000.
    let whale = SortitionParams::new(1 << 53, 1 << 53, 10_000).unwrap();
    let whale_table = SortitionTable::new(whale);

    let credential = *sortition(&secret, &context, &typical).credential();
    let whale_credential = *sortition(&secret, &context, &whale).credential();

    // Raw VRF baseline on the same input.
    let alpha = context.vrf_input();
    let raw_secret = vrf_r255::SecretKey::from_bytes(*secret.to_bytes()).unwrap();
    let raw_public = vrf_r255::PublicKey::from(raw_secret);
    let raw_proof = raw_secret.prove(&alpha);

    c.bench_function("vrf_r255/verify", |b| {
        b.iter(|| black_box(raw_public.verify(black_box(&alpha), black_box(&raw_proof))))
    });
    c.bench_function("committee/prove", |b| {
        b.iter(|| black_box(sortition(&secret, black_box(&context), &typical)))
    });
    c.bench_function("committee/verify", |b| {
        b.iter(|| black_box(credential.verify(black_box(&context), &typical).unwrap()))
    });
    c.bench_function("committee/verify/whale_cold", |b| {
        b.iter(|| {
            black_box(
                whale_credential
                    .verify(black_box(&context), &whale)
                    .unwrap(),
            )
        })
    });
    c.bench_function("committee/verify/whale_table", |b| {
        b.iter(|| {
            black_box(
                whale_credential
                    .verify_with_table(black_box(&context), &whale_table)
                    .unwrap(),
            )
        })
    });
    let u = ratio_value(&credential.proof.output());
    c.bench_function("committee/weight/typical", |b| {
        b.iter(|| black_box(typical.weight(black_box(u))))
    });
    c.bench_function("committee/weight/whale", |b| {
        b.iter(|| black_box(whale.weight(black_box(u))))
    });
    c.bench_function("committee/table/whale_build", |b| {
        b.iter(|| black_box(SortitionTable::new(black_box(whale))))
    });
}

criterion_group!(committee, benches);
criterion_main!(committee);
