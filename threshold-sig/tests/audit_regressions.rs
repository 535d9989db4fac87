//! Regression tests for the threshold-signature findings of security issue #10. Each test replays
//! the attack the audit described; each failed on the code before the fix.

use conclave_threshold_sig::{
    deal, deal_polynomial, Ciphersuite, Combiner, Commitment, Dealing, Error, MinPk, MinSig,
    PartialSignature, Polynomial, PublicKey, PublicShare, Scheme, Signature, Variant, MAX_SHARES,
};
use group::prime::PrimeCurveAffine;
use group::Curve;
use rand::SeedableRng;
use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha20Rng;

const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Two colluding signers `a < b` who can predict the combiner's batch weights `r_a`, `r_b` send
/// `σ_a + r_b·Δ` and `σ_b − r_a·Δ`: the weighted batch sum is unchanged, so the batch passes,
/// while the interpolated signature is off by `(λ_a·r_b − λ_b·r_a)·Δ`.
fn colluding_partials<V: Variant>(
    dealing: &Dealing<V>,
    msg: &[u8],
    signers: &[u32],
    (a, b): (u32, u32),
    rng: &ChaCha20Rng,
) -> Vec<PartialSignature<V>> {
    let mut partials: Vec<PartialSignature<V>> = signers
        .iter()
        .map(|&i| dealing.shares[(i - 1) as usize].sign::<V>(DST, msg))
        .collect();
    partials.sort_by_key(|p| p.index);
    // The combiner's first batch check draws one weight per partial, in index order, from the
    // caller's RNG (nothing is drawn before it): replay that stream.
    let mut replay = rng.clone();
    let weights: Vec<u64> = partials.iter().map(|_| replay.next_u64() | 1).collect();
    let pos = |i: u32| partials.iter().position(|p| p.index == i).unwrap();
    let (r_a, r_b) = (weights[pos(a)], weights[pos(b)]);
    let delta = V::hash_to_signature_group(b"delta", DST, &[]);
    let shift = |p: &PartialSignature<V>, d: V::Signature| PartialSignature {
        index: p.index,
        signature: Signature::<V>::from_affine(
            (p.signature.as_affine().to_curve() + d).to_affine(),
        )
        .unwrap(),
    };
    let (pa, pb) = (pos(a), pos(b));
    partials[pa] = shift(&partials[pa], delta * blstrs::Scalar::from(r_b));
    partials[pb] = shift(&partials[pb], -(delta * blstrs::Scalar::from(r_a)));
    partials
}

fn batch_weight_collusion<V: Variant>() {
    let mut setup = ChaCha20Rng::seed_from_u64(1);
    let dealing = deal::<V>(7, 2, &mut setup).unwrap();
    let combiner = Combiner::new(dealing.commitment.clone(), 7, DST).unwrap();
    let msg = b"block 42";
    // The documented predictable RNG.
    let rng = ChaCha20Rng::seed_from_u64(7);
    // a = 1 and b = 2 are among the first t+1 = 3, so the optimistic attempt fails and the
    // combiner falls back to the (fooled) batch check.
    let partials = colluding_partials(&dealing, msg, &[1, 2, 3, 4, 5], (1, 2), &rng);

    let out = combiner
        .combine(msg, &partials, &mut rng.clone())
        .expect("three honest partials remain");
    assert!(
        combiner.verify(msg, &out.signature),
        "combine returned an invalid signature"
    );
    assert_eq!(out.culprits, vec![1, 2]);
    assert!(out.used.iter().all(|i| ![1, 2].contains(i)));

    let out = combiner
        .combine_verified(msg, &partials, &mut rng.clone())
        .expect("three honest partials remain");
    assert!(
        combiner.verify(msg, &out.signature),
        "combine_verified returned an invalid signature"
    );
    assert_eq!(out.culprits, vec![1, 2]);

    let many = combiner.combine_many(&[(&msg[..], &partials[..])], &mut rng.clone());
    let out = many[0].as_ref().expect("three honest partials remain");
    assert!(
        combiner.verify(msg, &out.signature),
        "combine_many returned an invalid signature"
    );
    assert_eq!(out.culprits, vec![1, 2]);

    // With only t+1 = 3 honest partials beyond the colluders gone... exactly 3 left: still fine;
    // with the colluders and one honest partial only, the combiner names them and fails.
    let few = colluding_partials(&dealing, msg, &[1, 2, 3], (1, 2), &rng);
    match combiner.combine(msg, &few, &mut rng.clone()) {
        Err(conclave_threshold_sig::Error::NotEnoughPartials {
            culprits, valid, ..
        }) => {
            assert_eq!((culprits, valid), (vec![1, 2], 1));
        }
        other => panic!("expected NotEnoughPartials naming 1 and 2, got {other:?}"),
    }
}

#[test]
fn batch_weight_collusion_with_predictable_rng_is_caught() {
    batch_weight_collusion::<MinPk>();
    batch_weight_collusion::<MinSig>();
}

/// Public shares that do not match the commitment (a caller mistake with
/// `Combiner::with_public_shares`) used to give `Ok` with a signature that does not verify under
/// the group key; every returned signature is verified now.
#[test]
fn mismatched_public_shares_never_yield_an_unverified_signature() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let a = deal::<MinPk>(5, 2, &mut rng).unwrap();
    let b = deal::<MinPk>(5, 2, &mut rng).unwrap();
    let combiner = Combiner::with_public_shares(
        a.commitment.clone(),
        b.commitment.public_shares(5).unwrap(),
        DST,
    )
    .unwrap();
    let msg = b"m";
    let partials: Vec<_> = b.shares.iter().map(|s| s.sign::<MinPk>(DST, msg)).collect();
    for result in [
        combiner.combine(msg, &partials, &mut rng),
        combiner.combine_verified(msg, &partials, &mut rng),
    ] {
        match result {
            Ok(out) => panic!(
                "Ok from inconsistent public shares; verifies: {}",
                combiner.verify(msg, &out.signature)
            ),
            Err(e) => assert_eq!(e, Error::VerificationFailed),
        }
    }
}

/// An off-subgroup point of G1 (on the curve: the first x with a curve point outside the
/// prime-order subgroup) and of G2, built with blstrs's unchecked decoders.
fn off_subgroup_points() -> (blstrs::G1Affine, blstrs::G2Affine) {
    let g1 = (1u8..)
        .find_map(|x| {
            let mut bytes = [0u8; 48];
            bytes[0] = 0x80;
            bytes[47] = x;
            Option::<blstrs::G1Affine>::from(blstrs::G1Affine::from_compressed_unchecked(&bytes))
                .filter(|p| !bool::from(p.is_torsion_free()))
        })
        .unwrap();
    let g2 = (1u8..)
        .find_map(|x| {
            let mut bytes = [0u8; 96];
            bytes[0] = 0x80;
            bytes[95] = x;
            Option::<blstrs::G2Affine>::from(blstrs::G2Affine::from_compressed_unchecked(&bytes))
                .filter(|p| !bool::from(p.is_torsion_free()))
        })
        .unwrap();
    (g1, g2)
}

/// `PublicKey::from_affine`, `Signature::from_affine`, `Commitment::from_points` and
/// `PublicShare` construction accepted points outside the prime-order subgroup (and off the
/// curve) while verification runs blst with its group checks off.
#[test]
fn constructors_from_points_reject_off_subgroup_off_curve_and_identity_keys() {
    let (p1, p2) = off_subgroup_points();
    assert!(bool::from(p1.is_on_curve()) && bool::from(p2.is_on_curve()));
    assert_eq!(
        PublicKey::<MinPk>::from_affine(p1),
        Err(Error::NotInSubgroup)
    );
    assert_eq!(
        PublicKey::<MinSig>::from_affine(p2),
        Err(Error::NotInSubgroup)
    );
    assert_eq!(
        Signature::<MinSig>::from_affine(p1),
        Err(Error::NotInSubgroup)
    );
    assert_eq!(
        Signature::<MinPk>::from_affine(p2),
        Err(Error::NotInSubgroup)
    );
    assert_eq!(PublicShare::<MinPk>::new(1, p1), Err(Error::NotInSubgroup));
    assert_eq!(PublicShare::<MinSig>::new(1, p2), Err(Error::NotInSubgroup));
    let g1 = blstrs::G1Affine::generator();
    let g2 = blstrs::G2Affine::generator();
    assert_eq!(
        Commitment::<MinPk>::from_points(vec![p1]),
        Err(Error::NotInSubgroup)
    );
    assert_eq!(
        Commitment::<MinPk>::from_points(vec![g1, p1]),
        Err(Error::NotInSubgroup)
    );
    assert_eq!(
        Commitment::<MinSig>::from_points(vec![g2, p2]),
        Err(Error::NotInSubgroup)
    );

    // Off the curve: coordinates of two different points.
    let two = (g1.to_curve() + g1).to_affine();
    let off = blstrs::G1Affine::from_raw_unchecked(g1.x(), two.y(), false);
    assert!(!bool::from(off.is_on_curve()));
    assert_eq!(
        PublicKey::<MinPk>::from_affine(off),
        Err(Error::InvalidPoint)
    );
    assert_eq!(
        Signature::<MinSig>::from_affine(off),
        Err(Error::InvalidPoint)
    );
    assert_eq!(
        Commitment::<MinPk>::from_points(vec![g1, off]),
        Err(Error::InvalidPoint)
    );
    assert_eq!(PublicShare::<MinPk>::new(2, off), Err(Error::InvalidPoint));

    // The identity: never a public key or a commitment's constant term; a valid (never
    // verifying) signature, a valid higher coefficient, a valid (useless) public share.
    let id1 = blstrs::G1Affine::identity();
    assert_eq!(
        PublicKey::<MinPk>::from_affine(id1),
        Err(Error::IdentityPublicKey)
    );
    assert_eq!(
        Commitment::<MinPk>::from_points(vec![id1, g1]),
        Err(Error::IdentityPublicKey)
    );
    assert!(Commitment::<MinPk>::from_points(vec![g1, id1]).is_ok());
    assert!(Signature::<MinSig>::from_affine(id1).is_ok());
    assert!(PublicShare::<MinPk>::new(1, id1).is_ok());
    assert_eq!(
        PublicShare::<MinPk>::new(0, g1),
        Err(Error::InvalidIndex(0))
    );
    // Valid points pass.
    assert_eq!(
        PublicKey::<MinPk>::from_affine(g1).unwrap().as_affine(),
        &g1
    );
    assert!(Signature::<MinPk>::from_affine(g2).is_ok());
}

fn duplicates_and_out_of_range<V: Variant>() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let dealing = deal::<V>(5, 2, &mut rng).unwrap();
    let combiner = Combiner::new(dealing.commitment.clone(), 5, DST).unwrap();
    let msg = b"m";
    let sign = |i: u32, m: &[u8]| dealing.shares[(i - 1) as usize].sign::<V>(DST, m);
    let wrong = |i: u32| sign(i, b"other");
    // Index 2: an invalid partial first, then the valid one (and the valid one again). Index 3:
    // two invalid partials. Indices 0 and 9: outside 1..=5. Valid: 1, 2, 4.
    let partials = vec![
        wrong(2),
        sign(1, msg),
        sign(2, msg),
        wrong(3),
        sign(2, msg),
        PartialSignature {
            index: 3,
            signature: sign(5, msg).signature,
        },
        PartialSignature {
            index: 9,
            signature: sign(4, msg).signature,
        },
        PartialSignature {
            index: 0,
            signature: sign(1, msg).signature,
        },
        sign(4, msg),
    ];
    for out in [
        combiner.combine(msg, &partials, &mut rng).unwrap(),
        combiner.combine_verified(msg, &partials, &mut rng).unwrap(),
    ] {
        assert!(combiner.verify(msg, &out.signature));
        assert_eq!(out.used, vec![1, 2, 4]);
        assert_eq!(out.culprits, vec![0, 2, 3, 9]);
    }
    // With only the conflicting index's valid partial and one more: not enough, culprits named.
    let few = vec![
        wrong(2),
        sign(2, msg),
        sign(1, msg),
        wrong(3),
        sign(3, b"x"),
    ];
    match combiner.combine_verified(msg, &few, &mut rng) {
        Err(Error::NotEnoughPartials {
            needed,
            valid,
            culprits,
        }) => {
            assert_eq!((needed, valid, culprits), (3, 2, vec![2, 3]));
        }
        other => panic!("{other:?}"),
    }
    // The unchecked combine cannot tell which duplicate is right: it still refuses.
    assert_eq!(
        combiner.combine_unchecked(&partials),
        Err(Error::DuplicateIndex(2))
    );
}

/// One conflicting duplicate or out-of-range index made the robust combine fail outright
/// (`DuplicateIndex` / `InvalidIndex`), so any sender could veto a certificate.
#[test]
fn conflicting_duplicate_or_out_of_range_index_no_longer_aborts_combine() {
    duplicates_and_out_of_range::<MinPk>();
    duplicates_and_out_of_range::<MinSig>();
}

/// A combiner built with the AUG ciphersuite produced signatures that fail `verify(aug)`; an
/// empty DST was accepted.
#[test]
fn aug_ciphersuite_and_empty_dst_are_rejected_by_the_combiner() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let dealing = deal::<MinPk>(4, 1, &mut rng).unwrap();
    let c = || dealing.commitment.clone();
    let aug = Ciphersuite::<MinPk>::aug();
    assert_eq!(
        Combiner::for_suite(c(), 4, &aug).err(),
        Some(Error::AugmentationUnsupported)
    );
    assert_eq!(
        Combiner::new(c(), 4, aug.dst()).err(),
        Some(Error::AugmentationUnsupported)
    );
    assert_eq!(
        Combiner::new(c(), 4, Ciphersuite::<MinSig>::aug().dst()).err(),
        Some(Error::AugmentationUnsupported)
    );
    let custom_aug =
        Ciphersuite::<MinPk>::with_dst(Scheme::MessageAugmentation, b"MY-APP".to_vec()).unwrap();
    assert_eq!(
        Combiner::for_suite(c(), 4, &custom_aug).err(),
        Some(Error::AugmentationUnsupported)
    );
    assert_eq!(
        Combiner::new(c(), 4, Vec::new()).err(),
        Some(Error::EmptyDst)
    );
    assert_eq!(
        Combiner::with_public_shares(c(), c().public_shares(4).unwrap(), b"".to_vec()).err(),
        Some(Error::EmptyDst)
    );
    // What is accepted verifies under the suite it was built for.
    for suite in [Ciphersuite::<MinPk>::pop(), Ciphersuite::<MinPk>::basic()] {
        let combiner = Combiner::for_suite(c(), 4, &suite).unwrap();
        let partials: Vec<_> = dealing.shares[..2]
            .iter()
            .map(|s| s.sign::<MinPk>(suite.dst(), b"m"))
            .collect();
        let out = combiner.combine(b"m", &partials, &mut rng).unwrap();
        assert!(dealing
            .commitment
            .group_public_key()
            .verify(&suite, b"m", &out.signature));
    }
}

/// `deal` with n = 2^32 − 1 aborted the process (allocation failure), and a combiner derived
/// as many public shares as the largest index it was given.
#[test]
fn huge_share_counts_are_typed_errors_not_allocation_failures() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let too_many = |n: u32| Error::TooManyShares {
        n: u64::from(n),
        max: MAX_SHARES,
    };
    assert_eq!(
        deal::<MinPk>(u32::MAX, 1, &mut rng).err(),
        Some(too_many(u32::MAX))
    );
    assert_eq!(
        deal::<MinSig>(MAX_SHARES + 1, 1, &mut rng).err(),
        Some(too_many(MAX_SHARES + 1))
    );
    let poly = Polynomial::random(1, &mut rng).unwrap();
    assert_eq!(
        deal_polynomial::<MinPk>(&poly, u32::MAX).err(),
        Some(too_many(u32::MAX))
    );
    let dealing = deal::<MinPk>(4, 1, &mut rng).unwrap();
    let c = dealing.commitment.clone();
    assert_eq!(c.public_shares(u32::MAX).err(), Some(too_many(u32::MAX)));
    assert_eq!(
        Combiner::new(c.clone(), u32::MAX, DST).err(),
        Some(too_many(u32::MAX))
    );
    // Fewer shares than the quorum: no combine could ever succeed.
    assert_eq!(
        Combiner::new(c.clone(), 1, DST).err(),
        Some(Error::InvalidThreshold { t: 1, n: 1 })
    );
    // Public shares out of order.
    let mut shares = c.public_shares(4).unwrap();
    shares.swap(0, 1);
    assert_eq!(
        Combiner::with_public_shares(c.clone(), shares, DST).err(),
        Some(Error::InvalidIndex(2))
    );
    // A commitment of more than MAX_SHARES points is refused before any point is decoded.
    let mut identity = [0u8; 48];
    identity[0] = 0xc0;
    let mut bytes = dealing.commitment.to_bytes()[..48].to_vec();
    bytes.extend(identity.repeat(MAX_SHARES as usize));
    assert_eq!(
        Commitment::<MinPk>::from_bytes(&bytes),
        Err(Error::TooManyShares {
            n: u64::from(MAX_SHARES) + 1,
            max: MAX_SHARES
        })
    );
    // The bound itself is fine.
    assert_eq!(
        c.public_shares(MAX_SHARES).unwrap().len(),
        MAX_SHARES as usize
    );
    // A partial index far outside 1..=n is a culprit, not a reason to allocate.
    let combiner = Combiner::new(c, 4, DST).unwrap();
    let mut partials: Vec<_> = dealing.shares[..2]
        .iter()
        .map(|s| s.sign::<MinPk>(DST, b"m"))
        .collect();
    partials.push(PartialSignature {
        index: u32::MAX,
        signature: partials[0].signature,
    });
    let out = combiner.combine(b"m", &partials, &mut rng).unwrap();
    assert_eq!(out.culprits, vec![u32::MAX]);
}

/// An empty DST gives no domain separation (RFC 9380 requires a non-empty tag): no ciphersuite
/// can be built with one, by constructor or by deserialization, so no signature is ever made or
/// checked under it. Before the fix `Ciphersuite::with_dst(_, "")` returned a usable suite.
#[test]
fn no_ciphersuite_has_an_empty_dst() {
    for scheme in [
        Scheme::Basic,
        Scheme::MessageAugmentation,
        Scheme::ProofOfPossession,
    ] {
        assert_eq!(
            Ciphersuite::<MinPk>::with_dst(scheme, Vec::new()).err(),
            Some(Error::EmptyDst)
        );
        assert_eq!(
            Ciphersuite::<MinSig>::with_dst(scheme, Vec::new()).err(),
            Some(Error::EmptyDst)
        );
    }
    let empty: Result<Ciphersuite<MinPk>, _> = serde_json::from_str(r#"{"scheme":"pop","dst":""}"#);
    assert!(empty.is_err(), "an empty DST deserialized");
    let custom: Ciphersuite<MinPk> =
        serde_json::from_str(r#"{"scheme":"pop","dst":"6170702d746167"}"#).unwrap();
    assert_eq!(custom.dst(), b"app-tag");
}

/// The degree of a random polynomial often comes from a configuration; before the fix
/// `Polynomial::random(u32::MAX, _)` tried to allocate 2³² coefficients (an abort, not an error).
#[test]
fn random_polynomial_degree_is_bounded() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    for t in [MAX_SHARES, MAX_SHARES + 1, u32::MAX] {
        assert!(matches!(
            Polynomial::random(t, &mut rng),
            Err(Error::TooManyShares { .. })
        ));
    }
    let p = Polynomial::random(MAX_SHARES - 1, &mut rng).unwrap();
    assert_eq!(p.degree(), MAX_SHARES - 1);
}
