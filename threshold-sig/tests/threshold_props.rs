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
