//! Integration tests: statistics, golden known answers, rejection of tampered credentials, decoders.

use conclave_committee::seed::{fallback_seed, seed_from_beacon, Seed};
use conclave_committee::sortition::{
    priority, ratio_value, select_proposer, sortition, verify_weight, Credential, Priority,
    VerifiedCredential,
};
use conclave_committee::transcript::{Role, SortitionContext};
use conclave_committee::vrf::{Proof, PublicKey, SecretKey, VrfOutput};
use conclave_committee::{Error, SortitionParams, SortitionTable};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn keys(n: u64) -> Vec<SecretKey> {
    (0..n)
        .map(|i| SecretKey::derive(b"integration", i))
        .collect()
}

/// Deterministic stream of ratio values (SHA-256 counter mode), for fast statistics on the weight
/// function alone.
fn ratio_stream(label: &[u8], n: usize) -> impl Iterator<Item = u64> + '_ {
    (0..n as u64).map(move |i| {
        let d = Sha256::new()
            .chain_update(label)
            .chain_update(i.to_be_bytes())
            .finalize();
        u64::from_be_bytes(d[..8].try_into().unwrap())
    })
}

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

#[test]
fn full_pipeline_total_weight_mean_and_variance() {
    let stakes = [500u64, 1_000, 1_500, 2_000, 2_500, 3_000, 4_000, 5_500];
    let total: u64 = stakes.iter().sum(); // 20,000
    let tau = 40;
    let p = tau as f64 / total as f64;
    let sks = keys(stakes.len() as u64);
    let params: Vec<_> = stakes
        .iter()
        .map(|&w| SortitionParams::new(w, total, tau).unwrap())
        .collect();
    let rounds = 300;
    let mut totals = Vec::new();
    let mut per_participant = vec![0f64; stakes.len()];
    for round in 0..rounds {
        let ctx = SortitionContext::new(Seed::from_bytes([0x5e; 32]), round);
        let mut sum = 0;
        for (i, (sk, prm)) in sks.iter().zip(&params).enumerate() {
            let w = sortition(sk, &ctx, prm).weight();
            sum += w;
            per_participant[i] += w as f64;
        }
        totals.push(sum as f64);
    }
    let (mean, var) = mean_var(&totals);
    let exact_var = tau as f64 * (1.0 - p);
    let sd_of_mean = (exact_var / rounds as f64).sqrt();
    assert!((mean - tau as f64).abs() < 4.0 * sd_of_mean, "mean {mean}");
    assert!(
        (var / exact_var - 1.0).abs() < 0.35,
        "variance {var} vs {exact_var}"
    );
    for (i, &w) in stakes.iter().enumerate() {
        let m = per_participant[i] / rounds as f64;
        let expected = w as f64 * p;
        let sd = (w as f64 * p * (1.0 - p) / rounds as f64).sqrt();
        assert!(
            (m - expected).abs() < 4.5 * sd,
            "participant {i}: {m} vs {expected}"
        );
    }
}

#[test]
fn weight_function_mean_variance_tight() {
    let n = 200_000;
    let params = SortitionParams::new(1 << 52, 1 << 53, 1_000).unwrap(); // w p = 500
    let table = SortitionTable::new(params);
    let xs: Vec<f64> = ratio_stream(b"tight", n)
        .map(|u| table.weight(u) as f64)
        .collect();
    let (mean, var) = mean_var(&xs);
    let exact_var = 500.0 * (1.0 - 1_000.0 / (1u64 << 53) as f64);
    assert!(
        (mean - 500.0).abs() < 4.0 * (exact_var / n as f64).sqrt(),
        "mean {mean}"
    );
    // Relative sd of the sample variance is about sqrt(2 / n) ≈ 0.32%.
    assert!((var / exact_var - 1.0).abs() < 0.015, "variance {var}");
}

#[test]
fn splitting_stake_does_not_change_expected_weight() {
    let (total, tau, n) = (10_000u64, 1_000u64, 100_000usize);
    let whole = SortitionTable::new(SortitionParams::new(3_000, total, tau).unwrap());
    let a = SortitionTable::new(SortitionParams::new(1_000, total, tau).unwrap());
    let b = SortitionTable::new(SortitionParams::new(2_000, total, tau).unwrap());
    let single: Vec<f64> = ratio_stream(b"whole", n)
        .map(|u| whole.weight(u) as f64)
        .collect();
    let split: Vec<f64> = ratio_stream(b"a", n)
        .zip(ratio_stream(b"b", n))
        .map(|(x, y)| (a.weight(x) + b.weight(y)) as f64)
        .collect();
    let (m1, v1) = mean_var(&single);
    let (m2, v2) = mean_var(&split);
    let sd = (300.0 * 0.9 / n as f64).sqrt();
    assert!(
        (m1 - 300.0).abs() < 4.0 * sd && (m2 - 300.0).abs() < 4.0 * sd,
        "{m1} {m2}"
    );
    assert!((m1 - m2).abs() < 5.0 * sd, "{m1} vs {m2}");
    // Same law (Bin(3000, p) either way): variances agree too.
    assert!((v1 / v2 - 1.0).abs() < 0.05, "{v1} vs {v2}");
}

#[test]
fn proposer_is_unique_lowest_priority() {
    let sks = keys(30);
    let total = 30 * 100;
    let params = SortitionParams::new(100, total, 26).unwrap();
    for round in 0..10 {
        let ctx = SortitionContext::new(Seed::from_bytes([1; 32]), round).with_role(Role::Proposer);
        let verified: Vec<VerifiedCredential> = sks
            .iter()
            .map(|sk| {
                sortition(sk, &ctx, &params)
                    .credential()
                    .verify(&ctx, &params)
                    .unwrap()
            })
            .collect();
        let priorities: Vec<Priority> = verified.iter().filter_map(|v| v.priority()).collect();
        let mut distinct = priorities.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            priorities.len(),
            "priorities must be distinct"
        );
        let winner = select_proposer(&verified).expect("someone is selected with τ = 26");
        let best = priorities.iter().min().unwrap();
        assert_eq!(winner.priority().as_ref(), Some(best));
        assert_eq!(
            verified
                .iter()
                .filter(|v| v.priority().as_ref() == Some(best))
                .count(),
            1
        );
    }
}

#[test]
fn tampered_and_misbound_credentials_rejected() {
    let sks = keys(2);
    let params = SortitionParams::new(1_000, 1_000, 500).unwrap();
    let ctx = SortitionContext::new(Seed::from_bytes([2; 32]), 7).with_step(2);
    let cred = *sortition(&sks[0], &ctx, &params).credential();
    assert!(cred.verify(&ctx, &params).is_ok());
    for bad in [
        ctx.clone().with_role(Role::Proposer),
        ctx.clone().with_step(3),
        ctx.clone().with_period(1),
        ctx.clone().with_epoch(1),
        SortitionContext::new(Seed::from_bytes([2; 32]), 8).with_step(2),
    ] {
        assert_eq!(cred.verify(&bad, &params), Err(Error::InvalidProof));
    }
    let wrong_key = Credential {
        public_key: sks[1].public_key(),
        ..cred
    };
    assert_eq!(wrong_key.verify(&ctx, &params), Err(Error::InvalidProof));
    // Flip each bit of the challenge and of the scalar's low bytes: never accepted.
    let bytes = cred.proof.to_bytes();
    for byte in (32..48).chain(48..56) {
        for bit in 0..8 {
            let mut t = bytes;
            t[byte] ^= 1 << bit;
            match Proof::from_bytes(&t) {
                Ok(proof) => {
                    let forged = Credential { proof, ..cred };
                    assert_eq!(forged.verify(&ctx, &params), Err(Error::InvalidProof));
                }
                Err(e) => assert_eq!(e, Error::InvalidProofEncoding),
            }
        }
    }
    // Wrong stake on record: the weight no longer matches (or the proof still verifies, but the
    // recomputed weight differs).
    let smaller = SortitionParams::new(10, 1_000, 500).unwrap();
    assert!(matches!(
        cred.verify(&ctx, &smaller),
        Err(Error::WeightMismatch { .. })
    ));
}

/// Golden answers: any change of a single bit in keys, inputs, the CDF walk, the ratio or the
/// priority mapping fails here.
#[test]
fn golden_known_answers() {
    let sks = keys(4);
    let stakes = [1u64 << 50, 3 << 50, 1 << 53, 12_345];
    let total = 1u64 << 60;
    let ctx = SortitionContext::new(Seed::from_bytes([0xc0; 32]), 42)
        .with_period(1)
        .with_step(3)
        .with_role(Role::Voter);
    let mut got = Vec::new();
    for (sk, &w) in sks.iter().zip(&stakes) {
        let params = SortitionParams::new(w, total, 10_000).unwrap();
        let v = sortition(sk, &ctx, &params);
        got.push(format!(
            "{} {} {}",
            &sk.public_key().to_string()[..16],
            v.weight(),
            v.priority()
                .map(|p| p.to_string()[..16].to_owned())
                .unwrap_or_default()
        ));
    }
    eprintln!("credentials: {got:?}");
    assert_eq!(got, GOLDEN_CREDENTIALS);

    // The integer path alone.
    let whale = SortitionParams::new(1 << 53, 1 << 63, 10_000).unwrap();
    let weights: Vec<u64> = [0, 1 << 62, 1 << 63, 3 << 62, u64::MAX]
        .iter()
        .map(|&u| whale.weight(u))
        .collect();
    eprintln!("whale: {weights:?} cdf9 {:032x}", whale.cdf_fixed(9));
    assert_eq!(weights, GOLDEN_WHALE_WEIGHTS);
    let big = SortitionParams::new(1 << 53, 1 << 53, 10_000).unwrap();
    let weights: Vec<u64> = [0, 1 << 62, 1 << 63, 3 << 62, u64::MAX]
        .iter()
        .map(|&u| big.weight(u))
        .collect();
    eprintln!("big: {weights:?}");
    assert_eq!(weights, GOLDEN_BIG_WEIGHTS);
    assert_eq!(format!("{:032x}", whale.cdf_fixed(9)), GOLDEN_WHALE_CDF9);

    // Seeds.
    eprintln!(
        "seeds: {} {}",
        seed_from_beacon("conclave-test", 5, b"beacon"),
        fallback_seed(&Seed::from_bytes([0; 32]), 1)
    );
    assert_eq!(
        seed_from_beacon("conclave-test", 5, b"beacon").to_string(),
        GOLDEN_BEACON_SEED
    );
    assert_eq!(
        fallback_seed(&Seed::from_bytes([0; 32]), 1).to_string(),
        GOLDEN_FALLBACK_SEED
    );
}

include!("data/golden.rs");

#[test]
fn verify_weight_matches_sortition() {
    let sk = SecretKey::derive(b"vw", 0);
    let params = SortitionParams::new(77, 100, 50).unwrap();
    let ctx = SortitionContext::new(Seed::from_bytes([3; 32]), 1);
    let v = sortition(&sk, &ctx, &params);
    let (w, out) = verify_weight(&sk.public_key(), &v.credential().proof, &ctx, &params).unwrap();
    assert_eq!(w, v.weight());
    assert_eq!(&out, v.output());
    assert_eq!(priority(&out, w), v.priority());
    assert_eq!(params.weight(ratio_value(&out)), w);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), text in ".{0,200}") {
        let _ = Credential::from_slice(&bytes);
        let _ = Proof::from_slice(&bytes);
        let _ = PublicKey::from_slice(&bytes);
        let _ = SecretKey::from_slice(&bytes);
        let _ = Seed::from_slice(&bytes);
        let _ = VrfOutput::from_slice(&bytes);
        let _ = Priority::from_slice(&bytes);
        let _ = text.parse::<Proof>();
        let _ = text.parse::<PublicKey>();
        let _ = text.parse::<Seed>();
        let _ = text.parse::<Role>();
        let _ = serde_json::from_str::<Credential>(&text);
        let _ = serde_json::from_str::<SortitionContext>(&text);
        let _ = serde_json::from_str::<SortitionParams>(&text);
        let _ = serde_json::from_slice::<Credential>(&bytes);
    }

    #[test]
    fn serde_round_trips(seed in any::<[u8; 32]>(), round in any::<u64>(), step in any::<u64>(), index in 0u64..1000, w in 0u64..100) {
        let ctx = SortitionContext::new(Seed::from_bytes(seed), round).with_step(step).with_role(Role::Proposer);
        let json = serde_json::to_string(&ctx).unwrap();
        prop_assert_eq!(serde_json::from_str::<SortitionContext>(&json).unwrap(), ctx.clone());
        let sk = SecretKey::derive(&seed, index);
        let params = SortitionParams::new(w, 100, 30).unwrap();
        let v = sortition(&sk, &ctx, &params);
        let cred = *v.credential();
        let json = serde_json::to_string(&cred).unwrap();
        prop_assert_eq!(serde_json::from_str::<Credential>(&json).unwrap(), cred);
        prop_assert_eq!(Credential::from_slice(&cred.to_bytes()).unwrap(), cred);
        prop_assert_eq!(cred.proof.to_string().parse::<Proof>().unwrap(), cred.proof);
        prop_assert_eq!(cred.public_key.to_string().to_uppercase().parse::<PublicKey>().unwrap(), cred.public_key);
        let json = serde_json::to_string(&sk).unwrap();
        prop_assert_eq!(serde_json::from_str::<SecretKey>(&json).unwrap(), sk);
        if let Some(p) = v.priority() {
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(serde_json::from_str::<Priority>(&json).unwrap(), p);
        }
    }
}
