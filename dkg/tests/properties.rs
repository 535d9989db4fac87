//! Property tests: random committee sizes and thresholds with `n ≥ 2t+1`, random Byzantine
//! subsets up to the robustness bound `t` with random kinds, both variants. After every run:
//! (a) silent / bad-share / bad-commitment / wrong-justification dealers are disqualified with
//! that reason, backed by evidence that verifies; (b) false complainers never get an honest
//! dealer disqualified and are named in verifiable evidence; (c) every honest player's share is
//! consistent with the group commitment; (d) a random set of `t+1` honest shares interpolates
//! to the secret key of the group public key. All honest participants agree.

use conclave_dkg::sim::{self, dkg_parties, run_parties, Behaviour, SimConfig};
use conclave_dkg::{DkgOutput, FaultKind};
use conclave_threshold_sig::{interpolate_secret, MinPk, MinSig, SecretKey, SecretShare, Variant};
use group::Curve;
use proptest::prelude::*;
use proptest::sample::subsequence;
use rand::seq::SliceRandom;
use rand::SeedableRng;

const KINDS: [Behaviour; 5] = [
    Behaviour::Silent,
    Behaviour::BadShare,
    Behaviour::BadCommitment,
    Behaviour::WrongJustification,
    Behaviour::FalseComplaint,
];

fn fault_of(b: Behaviour) -> Option<FaultKind> {
    match b {
        Behaviour::Silent => Some(FaultKind::Silent),
        Behaviour::BadShare => Some(FaultKind::BadShare),
        Behaviour::BadCommitment => Some(FaultKind::BadCommitment),
        Behaviour::WrongJustification => Some(FaultKind::WrongJustification),
        Behaviour::FalseComplaint => None,
        _ => unreachable!("a variant this test does not know"),
    }
}

/// A scenario: variant (min-sig?), n, t, Byzantine (seat, kind), seed.
type Scenario = (bool, u32, u32, Vec<(u32, Behaviour)>, [u8; 32]);

fn scenario(n_range: std::ops::RangeInclusive<u32>) -> impl Strategy<Value = Scenario> {
    n_range
        .prop_flat_map(|n| (Just(n), 1..=(n - 1) / 2))
        .prop_flat_map(|(n, t)| {
            (
                any::<bool>(),
                Just(n),
                Just(t),
                subsequence((1..=n).collect::<Vec<u32>>(), 0..=t as usize),
                proptest::collection::vec(proptest::sample::select(KINDS.to_vec()), t as usize),
                any::<[u8; 32]>(),
            )
        })
        .prop_map(|(min_sig, n, t, seats, kinds, seed)| {
            let byz = seats.into_iter().zip(kinds).collect();
            (min_sig, n, t, byz, seed)
        })
}

fn check<V: Variant>(n: u32, t: u32, byzantine: &[(u32, Behaviour)], seed: [u8; 32]) {
    let cfg =
        SimConfig::new(sim::SimVariant::of::<V>(), n, t, seed).with_byzantine(byzantine.to_vec());
    let mut parties = dkg_parties::<V>(&cfg).unwrap();
    let (results, _) = run_parties(&mut parties).unwrap();
    let config = parties[0].participant.config().clone();
    let honest: Vec<&DkgOutput<V>> = parties
        .iter()
        .zip(&results)
        .filter(|(p, _)| p.honest)
        .map(|(_, r)| r.as_ref().expect("honest party finished"))
        .collect();
    let first = honest[0];
    for o in &honest {
        assert_eq!(o.commitment, first.commitment);
        assert_eq!(o.qualified, first.qualified);
        assert_eq!(o.disqualified, first.disqualified);
        assert_eq!(o.evidence, first.evidence);
    }
    let kind_of = |i: u32| byzantine.iter().find(|(j, _)| *j == i).map(|b| b.1);
    // (a) Faulty dealers are disqualified with their reason and verifiable evidence.
    for &(i, b) in byzantine {
        let Some(fault) = fault_of(b) else { continue };
        let dq = first.disqualified.iter().find(|d| d.index == i);
        assert_eq!(dq.map(|d| d.reason), Some(fault), "dealer {i} ({b:?})");
        assert!(!first.qualified.contains(&i));
        let e = first
            .evidence
            .iter()
            .find(|e| e.culprit == i && e.kind == fault)
            .unwrap_or_else(|| panic!("no evidence against dealer {i}"));
        if fault != FaultKind::Silent {
            assert_eq!(e.verify(&config), Ok(()), "evidence against dealer {i}");
        }
    }
    // (b) Only faulty dealers are disqualified; false complainers are named in evidence.
    for d in &first.disqualified {
        assert!(
            kind_of(d.index).and_then(fault_of).is_some(),
            "honest dealer {} disqualified ({:?})",
            d.index,
            d.reason
        );
    }
    let dealers_qualified = (1..=n).filter(|i| kind_of(*i).and_then(fault_of).is_none());
    assert_eq!(first.qualified, dealers_qualified.collect::<Vec<_>>());
    for &(i, b) in byzantine {
        if b == Behaviour::FalseComplaint {
            let e = first
                .evidence
                .iter()
                .find(|e| e.culprit == i && e.kind == FaultKind::FalseComplaint)
                .unwrap_or_else(|| panic!("false complainer {i} not named"));
            assert_eq!(e.verify(&config), Ok(()));
        }
    }
    for e in &first.evidence {
        assert!(
            kind_of(e.culprit).is_some(),
            "evidence against honest {}",
            e.culprit
        );
    }
    // (c) Honest shares are consistent with the group commitment.
    assert_eq!(first.commitment.degree(), t);
    assert_eq!(
        first.group_public_key.as_affine(),
        &first.commitment.points()[0]
    );
    let mut shares: Vec<SecretShare> = Vec::new();
    for o in &honest {
        for s in &o.shares {
            let expected = first.commitment.evaluate(s.index()).to_affine();
            assert_eq!(
                *s.public_share::<V>().point(),
                expected,
                "share {}",
                s.index()
            );
            assert_eq!(
                *first.public_shares[(s.index() - 1) as usize].point(),
                expected
            );
            shares.push(s.clone());
        }
    }
    // (d) A random set of t+1 honest shares reconstructs the group secret key.
    let mut rng = rand::rngs::StdRng::from_seed(seed);
    shares.shuffle(&mut rng);
    assert!(shares.len() > t as usize);
    let secret = interpolate_secret(&shares[..=t as usize]).unwrap();
    let pk = SecretKey::from_scalar(secret).unwrap().public_key::<V>();
    assert_eq!(pk, first.group_public_key);
}

fn run(s: &Scenario) {
    let (min_sig, n, t, byz, seed) = s;
    if *min_sig {
        check::<MinSig>(*n, *t, byz, *seed);
    } else {
        check::<MinPk>(*n, *t, byz, *seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn small_committees(s in scenario(3..=16)) {
        run(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2, ..ProptestConfig::default() })]
    #[test]
    fn large_committees(s in scenario(30..=40)) {
        run(&s);
    }
}
