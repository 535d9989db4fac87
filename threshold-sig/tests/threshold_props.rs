//! Property tests for the algebraic laws of threshold signing and for the encodings.

use conclave_threshold_sig::{
    deal, interpolate_secret, Ciphersuite, Combiner, Commitment, Error, MinPk, MinSig,
    PartialSignature, PublicKey, PublicShare, Scheme, SecretKey, SecretShare, Signature, Variant,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// (n, t, seed, a permutation seed)
fn params() -> impl Strategy<Value = (u32, u32, u64, u64)> {
    (2u32..12).prop_flat_map(|n| (Just(n), 0..n, any::<u64>(), any::<u64>()))
}

fn subset(n: u32, size: usize, seed: u64) -> Vec<u32> {
    use rand::seq::SliceRandom;
    let mut all: Vec<u32> = (1..=n).collect();
    all.shuffle(&mut ChaCha20Rng::seed_from_u64(seed));
    all.truncate(size);
    all
}

fn laws<V: Variant>(n: u32, t: u32, seed: u64, perm: u64) -> Result<(), TestCaseError> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let dealing = deal::<V>(n, t, &mut rng).unwrap();
    let combiner = Combiner::new(dealing.commitment.clone(), n, DST).unwrap();
    let suite = Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, DST).unwrap();
    let gpk = dealing.commitment.group_public_key();
    let msg = seed.to_be_bytes();
    let sign = |set: &[u32]| -> Vec<PartialSignature<V>> {
        set.iter()
            .map(|&i| dealing.shares[(i - 1) as usize].sign::<V>(DST, &msg))
            .collect()
    };

    // Any t+1 shares combine to the same signature, which verifies under the group key.
    let a = combiner
        .combine(&msg, &sign(&subset(n, t as usize + 1, perm)), &mut rng)
        .unwrap();
    let b = combiner
        .combine(
            &msg,
            &sign(&subset(n, t as usize + 1, perm ^ 0x5555)),
            &mut rng,
        )
        .unwrap();
    prop_assert_eq!(a.signature, b.signature);
    prop_assert!(gpk.verify(&suite, &msg, &a.signature));
    prop_assert!(a.culprits.is_empty());

    // Order is irrelevant.
    let mut rev = sign(&subset(n, n as usize, perm));
    rev.reverse();
    prop_assert_eq!(
        combiner.combine(&msg, &rev, &mut rng).unwrap().signature,
        a.signature
    );

    // t shares never yield a valid signature: combine refuses, and interpolating t points
    // (as if they were enough) does not give the group signature.
    if t > 0 {
        let few = sign(&subset(n, t as usize, perm));
        let refused = matches!(
            combiner.combine(&msg, &few, &mut rng),
            Err(Error::NotEnoughPartials { .. })
        );
        prop_assert!(refused);
        let few_secret: Vec<SecretShare> = subset(n, t as usize, perm)
            .iter()
            .map(|&i| dealing.shares[(i - 1) as usize].clone())
            .collect();
        let guess = SecretKey::from_scalar(interpolate_secret(&few_secret).unwrap());
        if let Ok(guess) = guess {
            prop_assert!(guess.public_key::<V>() != gpk);
        }
    }

    // A corrupted partial is named as culprit; the rest still combine when enough remain.
    let set = subset(n, n as usize, perm);
    let mut partials = sign(&set);
    let victim = partials[0].index;
    // The victim's share signing another message: a well-formed point that does not verify.
    partials[0] = dealing.shares[(victim - 1) as usize].sign::<V>(DST, b"another message");
    match combiner.combine_verified(&msg, &partials, &mut rng) {
        Ok(out) => {
            prop_assert_eq!(&out.culprits, &vec![victim]);
            prop_assert_eq!(out.signature, a.signature);
        }
        Err(Error::NotEnoughPartials { culprits, .. }) => {
            prop_assert_eq!(culprits, vec![victim]);
            prop_assert!(n < t + 2);
        }
        Err(e) => return Err(TestCaseError::fail(format!("unexpected {e}"))),
    }
    // Optimistic combine also finds it when the corrupted partial is among the first t+1.
    if n >= t + 2 {
        let out = combiner.combine(&msg, &partials, &mut rng).unwrap();
        prop_assert_eq!(out.signature, a.signature);
        // All of 1..=n signed: the victim is among the t+1 lowest indices iff victim <= t+1;
        // only then does the optimistic attempt fail and the bisection name it.
        if victim <= t + 1 {
            prop_assert_eq!(out.culprits, vec![victim]);
        } else {
            prop_assert!(out.culprits.is_empty());
        }
    }

    // Public shares from forward differences equal Horner evaluation and the secret shares.
    let shares = dealing.commitment.public_shares(n).unwrap();
    for (k, ps) in shares.iter().enumerate() {
        prop_assert_eq!(ps.index(), k as u32 + 1);
        prop_assert_eq!(*ps, dealing.commitment.public_share(ps.index()).unwrap());
        prop_assert_eq!(*ps, dealing.shares[k].public_share::<V>());
        prop_assert!(dealing.shares[k].verify(&dealing.commitment));
    }
    // The t+1 secret shares interpolate to the group secret.
    let secret = interpolate_secret(&dealing.shares[..t as usize + 1]).unwrap();
    prop_assert_eq!(
        SecretKey::from_scalar(secret).unwrap().public_key::<V>(),
        gpk
    );
    Ok(())
}

fn roundtrips<V: Variant>(seed: u64) -> Result<(), TestCaseError> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let dealing = deal::<V>(5, 2, &mut rng).unwrap();
    let c = &dealing.commitment;
    prop_assert_eq!(&Commitment::<V>::from_bytes(&c.to_bytes()).unwrap(), c);
    let json = serde_json::to_string(c).unwrap();
    prop_assert_eq!(&serde_json::from_str::<Commitment<V>>(&json).unwrap(), c);
    let share = &dealing.shares[3];
    prop_assert_eq!(&SecretShare::from_bytes(&share.to_bytes()).unwrap(), share);
    prop_assert_eq!(
        &serde_json::from_str::<SecretShare>(&serde_json::to_string(share).unwrap()).unwrap(),
        share
    );
    let ps = share.public_share::<V>();
    prop_assert_eq!(PublicShare::<V>::from_bytes(&ps.to_bytes()).unwrap(), ps);
    let p = share.sign::<V>(DST, b"m");
    prop_assert_eq!(PartialSignature::<V>::from_bytes(&p.to_bytes()).unwrap(), p);
    prop_assert_eq!(
        serde_json::from_str::<PartialSignature<V>>(&serde_json::to_string(&p).unwrap()).unwrap(),
        p
    );
    prop_assert!(p.verify(&ps, DST, b"m"));
    prop_assert!(!p.verify(&ps, DST, b"other"));
    let sk = SecretKey::random(&mut rng);
    let pk = sk.public_key::<V>();
    prop_assert_eq!(PublicKey::<V>::from_bytes(&pk.to_bytes()).unwrap(), pk);
    prop_assert_eq!(pk.to_string().parse::<PublicKey<V>>().unwrap(), pk);
    prop_assert_eq!(&SecretKey::from_bytes(sk.to_bytes().as_ref()).unwrap(), &sk);
    let sig = sk.sign::<V>(&Ciphersuite::aug(), b"x");
    prop_assert_eq!(Signature::<V>::from_bytes(&sig.to_bytes()).unwrap(), sig);
    // bincode-like (non human-readable) path through serde is covered by to_bytes; JSON is hex.
    prop_assert_eq!(
        serde_json::to_string(&pk).unwrap(),
        format!("\"{}\"", hex::encode(pk.to_bytes()))
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn threshold_laws_min_pk((n, t, seed, perm) in params()) { laws::<MinPk>(n, t, seed, perm)?; }

    #[test]
    fn threshold_laws_min_sig((n, t, seed, perm) in params()) { laws::<MinSig>(n, t, seed, perm)?; }

    #[test]
    fn encodings_round_trip(seed in any::<u64>()) { roundtrips::<MinPk>(seed)?; roundtrips::<MinSig>(seed)?; }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Decoders never panic on arbitrary bytes, and whatever decodes re-encodes identically.
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = PublicKey::<MinPk>::from_bytes(&bytes) { prop_assert_eq!(p.to_bytes(), bytes.clone()); }
        if let Ok(p) = PublicKey::<MinSig>::from_bytes(&bytes) { prop_assert_eq!(p.to_bytes(), bytes.clone()); }
        if let Ok(s) = Signature::<MinPk>::from_bytes(&bytes) { prop_assert_eq!(s.to_bytes(), bytes.clone()); }
        if let Ok(s) = Signature::<MinSig>::from_bytes(&bytes) { prop_assert_eq!(s.to_bytes(), bytes.clone()); }
        let _ = SecretKey::from_bytes(&bytes);
        let _ = SecretShare::from_bytes(&bytes);
        let _ = PartialSignature::<MinPk>::from_bytes(&bytes);
        let _ = PartialSignature::<MinSig>::from_bytes(&bytes);
        let _ = PublicShare::<MinPk>::from_bytes(&bytes);
        let _ = Commitment::<MinPk>::from_bytes(&bytes);
        let _ = Commitment::<MinSig>::from_bytes(&bytes);
        let _ = serde_json::from_slice::<Commitment<MinPk>>(&bytes);
    }

    /// Points with a valid flag byte and random x: rejected or valid, never a panic.
    #[test]
    fn flagged_points_never_panic(x in proptest::collection::vec(any::<u8>(), 47), flag in 0u8..8) {
        let mut b = vec![(flag << 5) | (x[0] & 0x1f)];
        b.extend_from_slice(&x[1..]);
        b.push(0);
        let _ = Signature::<MinSig>::from_bytes(&b[..48]);
        let _ = PublicKey::<MinPk>::from_bytes(&b[..48]);
    }
}

#[test]
fn serde_of_dealing_polynomial_and_ciphersuite() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let poly = conclave_threshold_sig::Polynomial::random(3, &mut rng).unwrap();
    let back: conclave_threshold_sig::Polynomial =
        serde_json::from_str(&serde_json::to_string(&poly).unwrap()).unwrap();
    assert_eq!(back.evaluate(9), poly.evaluate(9));
    assert_eq!(
        format!("{poly:?}"),
        "Polynomial { degree: 3, coefficients: <redacted> }"
    );
    let dealing = deal::<MinSig>(4, 1, &mut rng).unwrap();
    let json = serde_json::to_string(&dealing).unwrap();
    let back: conclave_threshold_sig::Dealing<MinSig> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.commitment, dealing.commitment);
    assert_eq!(back.shares, dealing.shares);
    let suite = Ciphersuite::<MinPk>::with_dst(Scheme::Basic, b"drand".to_vec()).unwrap();
    let back: Ciphersuite<MinPk> =
        serde_json::from_str(&serde_json::to_string(&suite).unwrap()).unwrap();
    assert_eq!(back, suite);
}

fn shares_match_horner<V: Variant>(c: &Commitment<V>, n: u32) {
    let all = c.public_shares(n).unwrap();
    assert_eq!(all.len(), n as usize);
    for (k, ps) in all.iter().enumerate() {
        assert_eq!(
            *ps,
            c.public_share(k as u32 + 1).unwrap(),
            "index {}",
            k + 1
        );
    }
}

#[test]
fn public_shares_on_large_and_adversarial_commitments() {
    use group::prime::PrimeCurveAffine;
    use group::Curve;
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    // A larger random commitment.
    shares_match_horner(&deal::<MinPk>(90, 40, &mut rng).unwrap().commitment, 90);
    shares_match_horner(&deal::<MinSig>(50, 20, &mut rng).unwrap().commitment, 50);
    // Adversarial coefficients: identities, repeats and negations make equal x coordinates and
    // identities appear in the difference table (the special, projective path).
    let g = <MinPk as Variant>::PublicAffine::generator();
    let two = (g.to_curve() + g).to_affine();
    let id = <MinPk as Variant>::PublicAffine::identity();
    for points in [
        vec![g, g, g, g],
        vec![g, id, id, id, g],
        vec![g, -g, g, -g, two, id],
        vec![two, id, -two, id, two],
    ] {
        shares_match_horner(&Commitment::<MinPk>::from_points(points).unwrap(), 30);
    }
}

/// `verify_partials_with_signatures` (one check for a quorum of attributable votes: partials of
/// one message and ordinary signatures of another) against the oracle of checking every
/// signature alone, under each way a member could corrupt its part.
fn merged_check<V: Variant>(
    n: u32,
    seed: u64,
    corrupt: u8,
    at: usize,
) -> Result<(), TestCaseError> {
    use conclave_threshold_sig::verify_partials_with_signatures;
    use group::prime::PrimeCurveAffine;
    use group::Curve;
    const IND_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_individual";
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t = (n - 1) / 2;
    let dealing = deal::<V>(n, t, &mut rng).unwrap();
    let combiner = Combiner::new(dealing.commitment.clone(), n, DST).unwrap();
    let suite = Ciphersuite::<V>::with_dst(Scheme::Basic, IND_DST).unwrap();
    let msg = seed.to_le_bytes();
    let signed = [b"ind".as_slice(), &msg].concat();
    let keys: Vec<SecretKey> = (0..n).map(|_| SecretKey::random(&mut rng)).collect();
    let pks: Vec<PublicKey<V>> = keys.iter().map(|k| k.public_key::<V>()).collect();
    let mut partials: Vec<PartialSignature<V>> = dealing
        .shares
        .iter()
        .map(|s| s.sign::<V>(DST, &msg))
        .collect();
    let mut sigs: Vec<Signature<V>> = keys.iter().map(|k| k.sign(&suite, &signed)).collect();
    let a = at % n as usize;
    let b = (a + 1) % n as usize;
    match corrupt {
        // A partial over another message.
        1 => partials[a] = dealing.shares[a].sign::<V>(DST, b"other"),
        // An ordinary signature over the partials' message.
        2 => sigs[a] = keys[a].sign(&suite, &msg),
        // Two partials whose errors cancel under equal weights.
        3 => {
            let d = V::hash_to_signature_group(b"delta", DST, &[]);
            let pa = partials[a].signature.as_affine().to_curve() + d;
            let pb = partials[b].signature.as_affine().to_curve() - d;
            partials[a].signature = Signature::from_affine(pa.to_affine()).unwrap();
            partials[b].signature = Signature::from_affine(pb.to_affine()).unwrap();
        }
        // The same cancellation across the two sets.
        4 => {
            let d = V::hash_to_signature_group(b"delta", DST, &[]);
            let pa = partials[a].signature.as_affine().to_curve() + d;
            let sb = sigs[b].as_affine().to_curve() - d;
            partials[a].signature = Signature::from_affine(pa.to_affine()).unwrap();
            sigs[b] = Signature::from_affine(sb.to_affine()).unwrap();
        }
        // A partial under an index with no public share.
        5 => partials[a].index = n + 1,
        // The identity as a signature.
        6 => sigs[a] = Signature::from_affine(V::SignatureAffine::identity()).unwrap(),
        _ => {}
    }
    let lookup = |i: u32| combiner.public_share(i);
    let expected = partials.iter().all(|p| {
        combiner
            .public_share(p.index)
            .is_some_and(|ps| p.verify(&ps, DST, &msg))
    }) && pks
        .iter()
        .zip(&sigs)
        .all(|(pk, s)| pk.verify(&suite, &signed, s));
    prop_assert_eq!(expected, corrupt == 0 || corrupt > 6);
    let pairs: Vec<(&PublicKey<V>, &Signature<V>)> = pks.iter().zip(&sigs).collect();
    let got = verify_partials_with_signatures(
        &lookup, DST, &msg, &partials, &suite, &signed, &pairs, &mut rng,
    )
    .unwrap();
    prop_assert_eq!(got, expected);
    // Each set alone, and nothing at all.
    let partials_ok = partials.iter().all(|p| {
        combiner
            .public_share(p.index)
            .is_some_and(|ps| p.verify(&ps, DST, &msg))
    });
    prop_assert_eq!(
        verify_partials_with_signatures(
            &lookup,
            DST,
            &msg,
            &partials,
            &suite,
            &signed,
            &[],
            &mut rng
        )
        .unwrap(),
        partials_ok
    );
    prop_assert!(verify_partials_with_signatures::<V>(
        &lookup,
        DST,
        &msg,
        &[],
        &suite,
        &signed,
        &[],
        &mut rng
    )
    .unwrap());
    // The augmentation scheme is refused, not answered.
    let aug = Ciphersuite::<V>::new(Scheme::MessageAugmentation);
    prop_assert_eq!(
        verify_partials_with_signatures(
            &lookup, DST, &msg, &partials, &aug, &signed, &pairs, &mut rng
        ),
        Err(Error::AugmentationUnsupported)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn merged_vote_check_matches_one_by_one_min_pk(n in 2u32..9, seed in any::<u64>(), corrupt in 0u8..8, at in any::<usize>()) {
        merged_check::<MinPk>(n, seed, corrupt, at)?;
    }

    #[test]
    fn merged_vote_check_matches_one_by_one_min_sig(n in 2u32..9, seed in any::<u64>(), corrupt in 0u8..8, at in any::<usize>()) {
        merged_check::<MinSig>(n, seed, corrupt, at)?;
    }
}

/// `Combiner::verify_many` against checking each group signature alone.
fn many<V: Variant>(seed: u64, k: usize, corrupt: u8, at: usize) -> Result<(), TestCaseError> {
    use group::prime::PrimeCurveAffine;
    use group::Curve;
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let dealing = deal::<V>(5, 2, &mut rng).unwrap();
    let combiner = Combiner::new(dealing.commitment.clone(), 5, DST).unwrap();
    let suite = Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, DST).unwrap();
    let gpk = dealing.commitment.group_public_key();
    let msgs: Vec<Vec<u8>> = (0..k)
        .map(|i| [seed.to_le_bytes().as_slice(), &[i as u8]].concat())
        .collect();
    let mut sigs: Vec<Signature<V>> = msgs
        .iter()
        .map(|m| {
            let p: Vec<_> = dealing.shares.iter().map(|s| s.sign::<V>(DST, m)).collect();
            combiner.combine(m, &p, &mut rng).unwrap().signature
        })
        .collect();
    let a = at % k;
    let b = (a + 1) % k;
    match corrupt {
        // One signature of another message.
        1 => sigs[a] = sigs[b],
        // Errors that cancel under equal weights.
        2 if k > 1 => {
            let d = V::hash_to_signature_group(b"delta", DST, &[]);
            let sa = sigs[a].as_affine().to_curve() + d;
            let sb = sigs[b].as_affine().to_curve() - d;
            sigs[a] = Signature::from_affine(sa.to_affine()).unwrap();
            sigs[b] = Signature::from_affine(sb.to_affine()).unwrap();
        }
        // The identity.
        3 => sigs[a] = Signature::from_affine(V::SignatureAffine::identity()).unwrap(),
        _ => {}
    }
    let expected = msgs
        .iter()
        .zip(&sigs)
        .all(|(m, s)| gpk.verify(&suite, m, s));
    let items: Vec<(&[u8], &Signature<V>)> = msgs.iter().map(|m| m.as_slice()).zip(&sigs).collect();
    prop_assert_eq!(combiner.verify_many(&items, &mut rng), expected);
    prop_assert!(combiner.verify_many(&[], &mut rng));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn verify_many_matches_one_by_one(seed in any::<u64>(), k in 1usize..5, corrupt in 0u8..4, at in any::<usize>()) {
        many::<MinPk>(seed, k, corrupt, at)?;
        many::<MinSig>(seed, k, corrupt, at)?;
    }
}
