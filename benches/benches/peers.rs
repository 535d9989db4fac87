//! Peer benchmarks (issue 6): conclave next to other BLS12-381 threshold libraries, in the same
//! process, on the same inputs. Built only with `--features peers` (and `peers-blsttc`).
//!
//! Ids are `<op>/<variant>/<size>/<impl>`, impl one of `conclave`, `commonware`, `fastcrypto`,
//! `blsttc`; `benches/report` pairs them and adds the raw blst floor `msm/<group>/<size>`.
//!
//! * `combine/<variant>/<t+1>/…`: cold combine of t+1 partial signatures drawn at random from
//!   1..=n, n = ⌈1.5·(t+1)⌉ (the same eight index subsets and the same signature points for every
//!   library; weights recomputed each time): ours `Combiner::combine_unchecked` after
//!   `clear_cache`, commonware `ops::threshold::recover` (mode `NonZeroCounter`, i.e. x = index),
//!   fastcrypto `ThresholdBls::aggregate` (min-sig only: it has no min-pk type). Floor
//!   `msm/<g1|g2>/<t+1>`: blst Pippenger on as many random affine points.
//! * `batch_partial_verify/<variant>/<t+1>/…`: t+1 valid partials on one message, public shares
//!   cached where the library caches them (ours: `Combiner::public_share`; commonware:
//!   `Sharing::precompute_partial_publics`; fastcrypto derives the check from the commitment's
//!   coefficients, it has no per-share cache). Each library signs with its own hash-to-curve DST
//!   (one hash per batch, the same for all), from the same secret shares.
//! * `public_shares/min-pk/1024/…`: all 1024 public shares of a degree-682 commitment (ours: the
//!   `O(n·t)` additions walk; commonware: `precompute_partial_publics` on a fresh `Sharing`).
//! * `dkg/verify_all_dealings/min-pk/64/…`: one player checking the dealings of all 64 dealers
//!   (t = 42): ours decrypts and checks its share of each broadcast dealing; commonware's
//!   Feldman–Desmedt `Player::dealer_message` checks each dealer's private share against the
//!   public commitment and signs an ack.
//! * `dkg/full/min-pk/64/…`: a whole fresh DKG (n = 64, t = 42, quorum 43, no faults), every role
//!   in process and every party doing its own checks: ours `sim::run_dkg` (deal, verify, complain,
//!   justify, finish, for all 64 participants); commonware's Joint-Feldman round with all 64
//!   dealing, every player checking and acking every dealing, every dealer checking its acks and
//!   signing its log, and every player checking all 64 signed logs and finalizing its share.
//!   commonware's `Player::finalize` checks and uses only the first quorum (43) of valid logs,
//!   ours qualifies all 64 dealers. Both run once untimed first and are checked (all players
//!   agree on the output, every share lies on the group polynomial). The setup of both `dkg/…`
//!   ids lives in `examples/dkg_peers.rs` (included below), a one-shot best-of-reps timing of the
//!   same two operations for larger n and for min-sig.
//! * With `--features peers-blsttc` only: `combine_portable/min-pk/<t+1>/{conclave,blsttc}` and
//!   the floor `msm_portable/g2/<t+1>`. blsttc turns on blst's `portable` feature for the whole
//!   binary (slower Fp2 kernels), so that build measures only these ids, never the ones above.
//!
//! Run (one core, as the targets are stated):
//! `taskset -c 0 cargo bench -p conclave-benches --features peers --bench peers`
//! `taskset -c 0 cargo bench -p conclave-benches --features peers-blsttc --bench peers`
//! `CONCLAVE_BENCH_SIZES=8,34` limits the t+1 sweep.

// The blsttc build registers only its own ids, so the shared helpers go partly unused there.
#![cfg_attr(feature = "peers-blsttc", allow(dead_code, unused_imports))]

use std::num::NonZeroU32;
use std::time::Duration;

use blst::{blst_p1_affine, blst_p2_affine, MultiPoint};
use conclave_threshold_sig::{
    deal, verify_partials_batch, Combiner, Commitment, Dealing, MinPk, MinSig, PartialSignature,
    Scalar, Variant,
};
use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion,
    SamplingMode,
};
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::{Curve, GroupEncoding};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const SIZES: [u32; 6] = [8, 34, 128, 342, 683, 1366];
const SUBSETS: usize = 8;
const MSG: &[u8] = b"benchmark message";

fn sizes() -> Vec<u32> {
    // CONCLAVE_BENCH_SIZES=8,34 limits the sweep (handy for quick runs).
    match std::env::var("CONCLAVE_BENCH_SIZES") {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => SIZES.to_vec(),
    }
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g
}

fn id<V: Variant>(size: u32, imp: &str) -> BenchmarkId {
    BenchmarkId::new(format!("{}/{size}", V::NAME), imp)
}

/// The shared inputs of one (variant, t+1): a dealing over n = ⌈1.5·(t+1)⌉ seats and eight random
/// (t+1)-subsets of its partial signatures on `MSG`.
struct Inputs<V: Variant> {
    k: u32,
    n: u32,
    dealing: Dealing<V>,
    combiner: Combiner<V>,
    subsets: Vec<Vec<PartialSignature<V>>>,
}

fn inputs<V: Variant>(k: u32, rng: &mut ChaCha20Rng) -> Inputs<V> {
    let c = conclave_benches::combine_inputs::<V>(k, MSG, SUBSETS, rng);
    Inputs {
        k,
        n: c.n,
        combiner: Combiner::new(c.dealing.commitment.clone(), c.n, c.dst)
            .expect("valid parameters"),
        dealing: c.dealing,
        subsets: c.subsets,
    }
}

/// Our combined signature of subset `i`, compressed (what every peer must reproduce).
fn expected<V: Variant>(s: &Inputs<V>, i: usize) -> Vec<u8> {
    s.combiner
        .combine_unchecked(&s.subsets[i])
        .unwrap()
        .signature
        .to_bytes()
}

fn bench_ours_combine<V: Variant>(g: &mut BenchmarkGroup<'_, WallTime>, s: &Inputs<V>) {
    let mut i = 0;
    g.bench_function(id::<V>(s.k, "conclave"), |b| {
        b.iter(|| {
            s.combiner.clear_cache();
            i = (i + 1) % SUBSETS;
            black_box(s.combiner.combine_unchecked(&s.subsets[i]).unwrap())
        })
    });
}

fn bench_ours_batch_verify<V: Variant>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    s: &Inputs<V>,
    rng: &mut ChaCha20Rng,
) {
    let lookup = |i: u32| s.combiner.public_share(i);
    let mut i = 0;
    g.bench_function(id::<V>(s.k, "conclave"), |b| {
        b.iter(|| {
            i = (i + 1) % SUBSETS;
            assert!(
                verify_partials_batch(&lookup, s.combiner.dst(), MSG, &s.subsets[i], rng).is_ok()
            )
        })
    });
}

/// The raw blst Pippenger floor on `k` random affine points of the signature group.
fn bench_msm_floor<V: Variant>(c: &mut Criterion, op: &str, k: u32, rng: &mut ChaCha20Rng) {
    let scalars: Vec<Scalar> = (0..k).map(|_| Scalar::random(&mut *rng)).collect();
    let bytes: Vec<u8> = scalars.iter().flat_map(|x| x.to_bytes_le()).collect();
    let mut g = group(c, op);
    if V::SIGNATURE_GROUP == "G1" {
        let p: Vec<blst_p1_affine> = (0..k)
            .map(|_| {
                *(blstrs::G1Affine::generator() * Scalar::random(&mut *rng))
                    .to_affine()
                    .as_ref()
            })
            .collect();
        g.bench_function(BenchmarkId::new("g1", k), |b| {
            b.iter(|| black_box(p.mult(&bytes, 255)))
        });
    } else {
        let p: Vec<blst_p2_affine> = (0..k)
            .map(|_| {
                *(blstrs::G2Affine::generator() * Scalar::random(&mut *rng))
                    .to_affine()
                    .as_ref()
            })
            .collect();
        g.bench_function(BenchmarkId::new("g2", k), |b| {
            b.iter(|| black_box(p.mult(&bytes, 255)))
        });
    }
    g.finish();
}

/// commonware-cryptography: threshold recovery, batch partial verification, public shares, DKG.
#[cfg(not(feature = "peers-blsttc"))]
mod cw {
    use super::*;
    use commonware_codec::{Decode, Encode};
    use commonware_cryptography::bls12381::primitives::group::{Private, Share};
    use commonware_cryptography::bls12381::primitives::ops::threshold;
    use commonware_cryptography::bls12381::primitives::sharing::{Mode, ModeVersion, Sharing};
    use commonware_cryptography::bls12381::primitives::variant::{self, PartialSignature as Ps};
    use commonware_parallel::Sequential;
    use commonware_utils::{Faults, Participant};
    use num_traits::ToPrimitive;

    /// Quorum ⌊2n/3⌋: with n = ⌈1.5·(t+1)⌉ this is exactly t+1 (commonware derives the number of
    /// partials it interpolates from a fault model).
    pub struct TwoThirds;
    impl Faults for TwoThirds {
        fn max_faults(n: impl ToPrimitive) -> u32 {
            let n = n.to_u32().expect("n fits in u32");
            n - 2 * n / 3
        }
    }

    /// Our variant's commonware twin, and the peers that only exist for one variant.
    pub trait Twin: Variant {
        type Cw: variant::Variant;
        /// fastcrypto's combine, where it has this variant.
        fn fastcrypto_combine(_g: &mut BenchmarkGroup<'_, WallTime>, _s: &Inputs<Self>) {}
        /// fastcrypto's batch partial verification, where it has this variant.
        fn fastcrypto_batch_verify(
            _g: &mut BenchmarkGroup<'_, WallTime>,
            _s: &Inputs<Self>,
            _rng: &mut ChaCha20Rng,
        ) {
        }
    }
    impl Twin for MinPk {
        type Cw = variant::MinPk;
    }
    impl Twin for MinSig {
        type Cw = variant::MinSig;
        fn fastcrypto_combine(g: &mut BenchmarkGroup<'_, WallTime>, s: &Inputs<Self>) {
            super::fc::combine(g, s)
        }
        fn fastcrypto_batch_verify(
            g: &mut BenchmarkGroup<'_, WallTime>,
            s: &Inputs<Self>,
            rng: &mut ChaCha20Rng,
        ) {
            super::fc::batch_verify(g, s, rng)
        }
    }

    fn decode<T: Decode<Cfg = ()>>(bytes: &[u8]) -> T {
        T::decode_cfg(bytes, &()).expect("commonware decodes our compressed encoding")
    }

    /// A commonware `Sharing` encoding of our commitment over n seats, x = 1..=n.
    pub fn sharing_bytes<V: Twin>(commitment: &Commitment<V>, n: u32) -> Vec<u8> {
        let coeffs: Vec<<V::Cw as variant::Variant>::Public> = commitment
            .points()
            .iter()
            .map(|p| decode(p.to_bytes().as_ref()))
            .collect();
        let mut out = Mode::NonZeroCounter.encode().to_vec();
        out.extend_from_slice(&n.encode());
        out.extend_from_slice(&coeffs.encode());
        out
    }

    pub fn sharing<V: Twin>(bytes: &[u8]) -> Sharing<V::Cw> {
        Sharing::decode_cfg(
            bytes,
            &(NonZeroU32::new(1 << 16).unwrap(), ModeVersion::v0()),
        )
        .unwrap()
    }

    fn partial<V: Twin>(p: &PartialSignature<V>) -> Ps<V::Cw> {
        Ps {
            index: Participant::new(p.index - 1),
            value: decode(&p.signature.to_bytes()),
        }
    }

    pub fn combine<V: Twin>(g: &mut BenchmarkGroup<'_, WallTime>, s: &Inputs<V>) {
        let sharing = sharing::<V>(&sharing_bytes(&s.dealing.commitment, s.n));
        assert_eq!(sharing.required::<TwoThirds>(), s.k);
        assert_eq!(
            sharing.public().encode().to_vec(),
            s.dealing.commitment.group_public_key().to_bytes()
        );
        let subsets: Vec<Vec<Ps<V::Cw>>> = s
            .subsets
            .iter()
            .map(|ps| ps.iter().map(partial).collect())
            .collect();
        for (i, ps) in subsets.iter().enumerate() {
            let sig = threshold::recover::<V::Cw, _, TwoThirds>(&sharing, ps, &Sequential).unwrap();
            assert_eq!(
                sig.encode().to_vec(),
                expected(s, i),
                "commonware recovers our signature"
            );
        }
        let mut i = 0;
        g.bench_function(id::<V>(s.k, "commonware"), |b| {
            b.iter(|| {
                i = (i + 1) % SUBSETS;
                black_box(
                    threshold::recover::<V::Cw, _, TwoThirds>(&sharing, &subsets[i], &Sequential)
                        .unwrap(),
                )
            })
        });
    }

    pub fn batch_verify<V: Twin>(g: &mut BenchmarkGroup<'_, WallTime>, s: &Inputs<V>) {
        let sharing = sharing::<V>(&sharing_bytes(&s.dealing.commitment, s.n));
        sharing.precompute_partial_publics();
        let shares: Vec<Share> = s
            .dealing
            .shares
            .iter()
            .map(|sh| {
                Share::new(
                    Participant::new(sh.index() - 1),
                    decode::<Private>(&sh.value().to_bytes_be()),
                )
            })
            .collect();
        // The same index subsets as ours, signed by commonware from the same secret shares.
        let subsets: Vec<Vec<Ps<V::Cw>>> = s
            .subsets
            .iter()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        threshold::sign_message::<V::Cw>(&shares[p.index as usize - 1], b"", MSG)
                    })
                    .collect()
            })
            .collect();
        let mut rng = commonware_utils::test_rng();
        let mut i = 0;
        g.bench_function(id::<V>(s.k, "commonware"), |b| {
            b.iter(|| {
                i = (i + 1) % SUBSETS;
                assert!(threshold::batch_verify_same_message::<_, V::Cw, _>(
                    &mut rng,
                    &sharing,
                    b"",
                    MSG,
                    &subsets[i],
                    &Sequential,
                )
                .is_ok())
            })
        });
    }

    pub fn public_shares<V: Twin>(
        g: &mut BenchmarkGroup<'_, WallTime>,
        commitment: &Commitment<V>,
        n: u32,
    ) {
        let bytes = sharing_bytes(commitment, n);
        let check = sharing::<V>(&bytes);
        for i in [1, n / 2, n] {
            assert_eq!(
                check
                    .partial_public(Participant::new(i - 1))
                    .unwrap()
                    .encode()
                    .to_vec(),
                commitment.public_share(i).unwrap().to_bytes()[4..].to_vec(),
                "commonware derives our public share {i}"
            );
        }
        g.bench_function(
            BenchmarkId::new(format!("{}/{n}", V::NAME), "commonware"),
            |b| {
                b.iter_batched(
                    || sharing::<V>(&bytes),
                    |s| {
                        s.precompute_partial_publics();
                        s
                    },
                    criterion::BatchSize::PerIteration,
                )
            },
        );
    }
}

/// fastcrypto-tbls: min-sig only (`ThresholdBls12381MinSig`; there is no min-pk type).
#[cfg(not(feature = "peers-blsttc"))]
mod fc {
    use super::*;
    use fastcrypto::groups::bls12381::{G1Element, G2Element, Scalar as FcScalar};
    use fastcrypto::serde_helpers::ToFromByteArray;
    use fastcrypto_tbls::polynomial::Poly;
    use fastcrypto_tbls::tbls::ThresholdBls;
    use fastcrypto_tbls::types::{IndexedValue, ThresholdBls12381MinSig as T};
    use rand::rngs::StdRng;
    use std::num::NonZeroU16;

    fn idx(i: u32) -> NonZeroU16 {
        NonZeroU16::new(u16::try_from(i).unwrap()).unwrap()
    }

    fn g1(bytes: &[u8]) -> G1Element {
        G1Element::from_byte_array(bytes.try_into().unwrap()).unwrap()
    }

    pub fn combine(g: &mut BenchmarkGroup<'_, WallTime>, s: &Inputs<MinSig>) {
        let subsets: Vec<Vec<IndexedValue<G1Element>>> = s
            .subsets
            .iter()
            .map(|ps| {
                ps.iter()
                    .map(|p| IndexedValue {
                        index: idx(p.index),
                        value: g1(&p.signature.to_bytes()),
                    })
                    .collect()
            })
            .collect();
        let t = u16::try_from(s.k).unwrap();
        for (i, ps) in subsets.iter().enumerate() {
            let sig = T::aggregate(t, ps.iter()).unwrap();
            assert_eq!(
                sig.to_byte_array().to_vec(),
                expected(s, i),
                "fastcrypto recovers ours"
            );
        }
        let mut i = 0;
        g.bench_function(id::<MinSig>(s.k, "fastcrypto"), |b| {
            b.iter(|| {
                i = (i + 1) % SUBSETS;
                black_box(T::aggregate(t, subsets[i].iter()).unwrap())
            })
        });
    }

    pub fn batch_verify(
        g: &mut BenchmarkGroup<'_, WallTime>,
        s: &Inputs<MinSig>,
        rng: &mut ChaCha20Rng,
    ) {
        // fastcrypto accepts only its `AllowedRng` types (StdRng, ThreadRng).
        let mut rng = StdRng::from_rng(rng).unwrap();
        let vss: Poly<G2Element> = Poly::from(
            s.dealing
                .commitment
                .points()
                .iter()
                .map(|p| {
                    G2Element::from_byte_array(p.to_bytes().as_ref().try_into().unwrap()).unwrap()
                })
                .collect::<Vec<_>>(),
        );
        let subsets: Vec<Vec<IndexedValue<G1Element>>> = s
            .subsets
            .iter()
            .map(|ps| {
                let shares: Vec<IndexedValue<FcScalar>> = ps
                    .iter()
                    .map(|p| {
                        let sh = &s.dealing.shares[p.index as usize - 1];
                        IndexedValue {
                            index: idx(sh.index()),
                            value: FcScalar::from_byte_array(&sh.value().to_bytes_be()).unwrap(),
                        }
                    })
                    .collect();
                T::partial_sign_batch(shares.iter(), MSG)
            })
            .collect();
        let mut i = 0;
        g.bench_function(id::<MinSig>(s.k, "fastcrypto"), |b| {
            b.iter(|| {
                i = (i + 1) % SUBSETS;
                assert!(T::partial_verify_batch(&vss, MSG, subsets[i].iter(), &mut rng).is_ok())
            })
        });
    }
}

#[cfg(not(feature = "peers-blsttc"))]
fn bench_threshold<V: cw::Twin>(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for k in sizes() {
        let s = inputs::<V>(k, &mut rng);
        // Each pair back to back, so their ratio sees the same machine load.
        let mut g = group(c, "combine");
        bench_ours_combine(&mut g, &s);
        cw::combine(&mut g, &s);
        V::fastcrypto_combine(&mut g, &s);
        g.finish();
        bench_msm_floor::<V>(c, "msm", k, &mut rng);
        let mut g = group(c, "batch_partial_verify");
        bench_ours_batch_verify(&mut g, &s, &mut rng);
        cw::batch_verify(&mut g, &s);
        V::fastcrypto_batch_verify(&mut g, &s, &mut rng);
        g.finish();
    }
}

#[cfg(not(feature = "peers-blsttc"))]
fn bench_public_shares(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let dealing = deal::<MinPk>(1024, 682, &mut rng).unwrap();
    let mut g = group(c, "public_shares");
    // commonware evaluates each share with its own MSM: seconds per run, so flat sampling.
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function(BenchmarkId::new("min-pk/1024", "conclave"), |b| {
        b.iter(|| black_box(dealing.commitment.public_shares(1024).unwrap()))
    });
    cw::public_shares(&mut g, &dealing.commitment, 1024);
    g.finish();
}

/// blsttc's combine next to ours, in the blsttc (portable blst) build only.
#[cfg(feature = "peers-blsttc")]
fn bench_blsttc(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for k in sizes() {
        let s = inputs::<MinPk>(k, &mut rng);
        let commitment: Vec<u8> = s
            .dealing
            .commitment
            .points()
            .iter()
            .flat_map(|p| p.to_bytes().as_ref().to_vec())
            .collect();
        let pks =
            blsttc::PublicKeySet::from(blsttc::poly::Commitment::from_bytes(commitment).unwrap());
        // blsttc evaluates share i at x = i + 1.
        let subsets: Vec<Vec<(u64, blsttc::SignatureShare)>> = s
            .subsets
            .iter()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        let bytes: [u8; 96] = p.signature.to_bytes().try_into().unwrap();
                        (
                            u64::from(p.index - 1),
                            blsttc::SignatureShare::from_bytes(bytes).unwrap(),
                        )
                    })
                    .collect()
            })
            .collect();
        for (i, ps) in subsets.iter().enumerate() {
            let sig = pks
                .combine_signatures(ps.iter().map(|(x, p)| (*x, p)))
                .unwrap();
            assert_eq!(
                sig.to_bytes().to_vec(),
                expected(&s, i),
                "blsttc recovers ours"
            );
        }
        let mut g = group(c, "combine_portable");
        g.sampling_mode(SamplingMode::Flat);
        bench_ours_combine(&mut g, &s);
        let mut i = 0;
        g.bench_function(id::<MinPk>(k, "blsttc"), |b| {
            b.iter(|| {
                i = (i + 1) % SUBSETS;
                black_box(
                    pks.combine_signatures(subsets[i].iter().map(|(x, p)| (*x, p)))
                        .unwrap(),
                )
            })
        });
        g.finish();
        bench_msm_floor::<MinPk>(c, "msm_portable", k, &mut rng);
    }
}

#[cfg(not(feature = "peers-blsttc"))]
fn all(c: &mut Criterion) {
    bench_threshold::<MinPk>(c);
    bench_threshold::<MinSig>(c);
    bench_public_shares(c);
    dkg::bench(c);
}

#[cfg(feature = "peers-blsttc")]
fn all(c: &mut Criterion) {
    bench_blsttc(c);
}

/// The DKG setup shared with the one-shot `dkg_peers` example (its `main` goes unused here).
#[cfg(not(feature = "peers-blsttc"))]
#[allow(dead_code)]
#[path = "../examples/dkg_peers.rs"]
mod dkg_peers;

/// An n = 64, t = 42 (n = 3f+1, quorum 2f+1) DKG, min-pk: one player checking every dealing, and
/// the whole run with every role in process.
#[cfg(not(feature = "peers-blsttc"))]
mod dkg {
    use super::dkg_peers::{
        check_conclave, check_cw, cw_full_run, cw_verify_all, degree, sim_config, CwVerify,
    };
    use super::*;
    use commonware_cryptography::bls12381::primitives::variant::MinPk as CwMinPk;
    use commonware_utils::N3f1;
    use conclave_dkg::{sim, Input, Phase};

    const N: u32 = 64;

    pub fn bench(c: &mut Criterion) {
        let t = degree(N);
        let mut g = group(c, "dkg");
        let name = format!("verify_all_dealings/{}/{N}", MinPk::NAME);

        // Ours as commonware's: every dealing taken in as it arrives (signature checked), then
        // the end-of-deal checks.
        let (parties, dealings) = sim::parties_and_dealings::<MinPk>(N, t).unwrap();
        g.bench_function(BenchmarkId::new(&name, "conclave"), |b| {
            b.iter_batched(
                || (parties[1].participant.clone_for_bench(), dealings.clone()),
                |(mut p, msgs)| {
                    for m in msgs {
                        p.handle(Input::Message(m)).unwrap();
                    }
                    p.handle(Input::DeadlinePassed(Phase::Deal)).unwrap()
                },
                criterion::BatchSize::LargeInput,
            )
        });
        drop(parties);

        let setup = CwVerify::<CwMinPk>::new::<N3f1>(N);
        g.bench_function(BenchmarkId::new(&name, "commonware"), |b| {
            b.iter_batched(
                || (setup.player(), setup.msgs.clone()),
                |(player, msgs)| cw_verify_all::<CwMinPk, N3f1>(player, msgs),
                criterion::BatchSize::LargeInput,
            )
        });

        bench_full(&mut g);
        g.finish();
    }

    /// A whole fresh DKG, all roles in process: ours `sim::run_dkg`, commonware `cw_full_run`.
    fn bench_full(g: &mut BenchmarkGroup<'_, WallTime>) {
        let name = format!("full/{}/{N}", MinPk::NAME);
        let cfg = sim_config::<MinPk>(N);
        // Checked once outside the timed part: everyone qualified, every share on the group's
        // polynomial (ours checks the latter inside `run_dkg` too, commonware in `check_cw`).
        check_conclave(&sim::run_dkg(&cfg).unwrap(), N);
        check_cw::<CwMinPk, N3f1>(&cw_full_run::<CwMinPk, N3f1>(N), N);

        // Seconds per run: flat sampling, ten runs each.
        g.sampling_mode(SamplingMode::Flat);
        g.bench_function(BenchmarkId::new(&name, "conclave"), |b| {
            b.iter(|| black_box(sim::run_dkg(&cfg).unwrap()))
        });
        g.bench_function(BenchmarkId::new(&name, "commonware"), |b| {
            b.iter(|| black_box(cw_full_run::<CwMinPk, N3f1>(N)))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = all
}
criterion_main!(benches);
