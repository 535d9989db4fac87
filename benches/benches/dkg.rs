//! DKG benchmarks: `dkg/deal/<n>`, `dkg/receive_dealings/<n>` (one player taking in all n
//! dealings as they arrive: the signature check of each), `dkg/verify_all_dealings/<n>` (one
//! player processing all n dealings: arrival plus the end-of-deal checks and decryption),
//! `dkg/finalize/<n>`, `dkg/full/<n>` (whole run, all players in process) with
//! t = 2f, n = 3f+1 (min-pk up to 64, min-sig from 128 on, as the commonware reference figures),
//! and `dkg/reshare/<n>`. Sizes: `DKG_BENCH_SIZES=16,64,128` (default 16,64,128,256); `full` and
//! `reshare` run for n ≤ `DKG_BENCH_FULL_MAX` (default 128; `DKG_BENCH_FULL_256` also enables
//! 256).
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use conclave_dkg::sim::{self, SimConfig};
use conclave_dkg::{Input, Phase};
use conclave_threshold_sig::{MinPk, MinSig, Variant};

fn t_of(n: u32) -> u32 {
    2 * ((n - 1) / 3)
}

fn sizes() -> Vec<u32> {
    std::env::var("DKG_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![16, 64, 128, 256])
}

fn variant_of(n: u32) -> &'static str {
    if n <= 64 {
        "min-pk"
    } else {
        "min-sig"
    }
}

fn bench(c: &mut Criterion) {
    for n in sizes() {
        match variant_of(n) {
            "min-pk" => run::<MinPk>(c, n),
            _ => run::<MinSig>(c, n),
        }
    }
}

fn run<V: Variant>(c: &mut Criterion, n: u32) {
    let t = t_of(n);
    let cfg = SimConfig::new(sim::SimVariant::of::<V>(), n, t, [4u8; 32]);
    let init = sim::dkg_parties::<V>(&cfg).unwrap();
    let (fresh, dealings) = sim::parties_and_dealings::<V>(n, t).unwrap();
    let parties = sim::parties_after_dealing::<V>(n, t).unwrap();
    let mut g = c.benchmark_group("dkg");
    g.sample_size(10);
    g.bench_with_input(BenchmarkId::new("deal", n), &n, |b, _| {
        let p = &init[0].participant;
        b.iter(|| p.clone_for_bench().handle(Input::Start).unwrap())
    });
    drop(init);
    g.bench_with_input(BenchmarkId::new("receive_dealings", n), &n, |b, _| {
        b.iter_batched(
            || (fresh[1].participant.clone_for_bench(), dealings.clone()),
            |(mut p, msgs)| {
                for m in msgs {
                    p.handle(Input::Message(m)).unwrap();
                }
                p
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_with_input(BenchmarkId::new("verify_all_dealings", n), &n, |b, _| {
        b.iter_batched(
            || (fresh[1].participant.clone_for_bench(), dealings.clone()),
            |(mut p, msgs)| {
                for m in msgs {
                    p.handle(Input::Message(m)).unwrap();
                }
                p.handle(Input::DeadlinePassed(Phase::Deal)).unwrap()
            },
            criterion::BatchSize::LargeInput,
        )
    });
    drop(fresh);
    let mut done = parties[1].participant.clone_for_bench();
    done.handle(Input::DeadlinePassed(Phase::Deal)).unwrap();
    done.handle(Input::DeadlinePassed(Phase::Complain)).unwrap();
    g.bench_with_input(BenchmarkId::new("finalize", n), &n, |b, _| {
        b.iter_batched(
            || done.clone_for_bench(),
            |mut p| p.handle(Input::DeadlinePassed(Phase::Justify)).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    let full_max: u32 = std::env::var("DKG_BENCH_FULL_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(128);
    if n <= full_max || std::env::var("DKG_BENCH_FULL_256").is_ok() {
        g.bench_with_input(BenchmarkId::new("full", n), &n, |b, _| {
            b.iter(|| sim::run_dkg(&cfg).unwrap())
        });
        let report = sim::run_dkg(&cfg).unwrap();
        let rc = sim::ReshareConfig::new(n, t, [6u8; 32]);
        g.bench_with_input(BenchmarkId::new("reshare", n), &n, |b, _| {
            b.iter(|| sim::run_reshare(&report, &rc).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
