//! Behaviour of the IETF schemes for both variants: sign/verify per scheme, PoP, aggregation rules,
//! batch verification with culprits, KeyGen.

use conclave_threshold_sig::{
    aggregate_public_keys, aggregate_signatures, aggregate_verify, fast_aggregate_verify,
    verify_batch, BatchItem, Ciphersuite, Error, MinPk, MinSig, PublicKey, Scheme, SecretKey,
    Signature, Variant,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn keys(n: usize, seed: u64) -> Vec<SecretKey> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..n).map(|_| SecretKey::random(&mut rng)).collect()
}

fn schemes<V: Variant>() {
    let sks = keys(4, 1);
    for scheme in [
        Scheme::Basic,
        Scheme::MessageAugmentation,
        Scheme::ProofOfPossession,
    ] {
        let suite = Ciphersuite::<V>::new(scheme);
        let sig = sks[0].sign::<V>(&suite, b"hello");
        let pk = sks[0].public_key::<V>();
        assert!(pk.verify(&suite, b"hello", &sig), "{scheme:?}");
        assert!(!pk.verify(&suite, b"hellO", &sig), "{scheme:?}");
        assert!(
            !sks[1].public_key::<V>().verify(&suite, b"hello", &sig),
            "{scheme:?}"
        );
        // Domain separation: a signature under one suite never verifies under another.
        for other in [
            Scheme::Basic,
            Scheme::MessageAugmentation,
            Scheme::ProofOfPossession,
        ] {
            if other != scheme {
                assert!(!pk.verify(&Ciphersuite::<V>::new(other), b"hello", &sig));
            }
        }
        // AggregateVerify over distinct messages.
        let msgs: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 3]).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        let sigs: Vec<Signature<V>> = sks
            .iter()
            .zip(&refs)
            .map(|(sk, m)| sk.sign::<V>(&suite, m))
            .collect();
        let pks: Vec<PublicKey<V>> = sks.iter().map(|sk| sk.public_key::<V>()).collect();
        let agg = aggregate_signatures(&sigs).unwrap();
        assert!(aggregate_verify(&suite, &pks, &refs, &agg));
        assert!(!aggregate_verify(&suite, &pks[..3], &refs[..3], &agg));
        // Same message twice: the basic scheme must reject, AUG and POP accept.
        let same: Vec<&[u8]> = vec![b"m", b"m"];
        let agg2 = aggregate_signatures(&[
            sks[0].sign::<V>(&suite, b"m"),
            sks[1].sign::<V>(&suite, b"m"),
        ])
        .unwrap();
        assert_eq!(
            aggregate_verify(&suite, &pks[..2], &same, &agg2),
            scheme != Scheme::Basic,
            "{scheme:?}"
        );
    }
    // Proof of possession and FastAggregateVerify.
    let pop = Ciphersuite::<V>::pop();
    let pks: Vec<PublicKey<V>> = sks.iter().map(|sk| sk.public_key::<V>()).collect();
    for (sk, pk) in sks.iter().zip(&pks) {
        assert!(pk.pop_verify(&sk.pop_prove::<V>()));
    }
    assert!(!pks[1].pop_verify(&sks[0].pop_prove::<V>()));
    // A PoP is not a message signature on the key bytes (different DST).
    assert!(!pks[0].pop_verify(&sks[0].sign::<V>(&pop, &pks[0].to_bytes())));
    let sigs: Vec<Signature<V>> = sks.iter().map(|sk| sk.sign::<V>(&pop, b"block")).collect();
    let agg = aggregate_signatures(&sigs).unwrap();
    assert!(fast_aggregate_verify(&pop, &pks, b"block", &agg));
    assert!(!fast_aggregate_verify(&pop, &pks[1..], b"block", &agg));
    assert!(!fast_aggregate_verify(&pop, &[], b"block", &agg));
    assert_eq!(aggregate_public_keys::<V>(&[]), Err(Error::Empty));
    assert_eq!(aggregate_signatures::<V>(&[]), Err(Error::Empty));
    // The sum of a key and its negation is the identity: not a valid key.
    let neg = PublicKey::<V>::from_affine(-*pks[0].as_affine()).unwrap();
    assert_eq!(
        aggregate_public_keys(&[pks[0], neg]),
        Err(Error::IdentityPublicKey)
    );
}

#[test]
fn schemes_min_pk() {
    schemes::<MinPk>();
}

#[test]
fn schemes_min_sig() {
    schemes::<MinSig>();
}

fn batch<V: Variant>() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let suite = Ciphersuite::<V>::aug();
    let sks = keys(37, 2);
    let pks: Vec<PublicKey<V>> = sks.iter().map(|sk| sk.public_key::<V>()).collect();
    let msgs: Vec<Vec<u8>> = (0..37u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let mut sigs: Vec<Signature<V>> = sks
        .iter()
        .zip(&msgs)
        .map(|(sk, m)| sk.sign::<V>(&suite, m))
        .collect();
    let items = |sigs: &[Signature<V>]| -> Vec<(PublicKey<V>, Vec<u8>, Signature<V>)> {
        pks.iter()
            .cloned()
            .zip(msgs.iter().cloned())
            .zip(sigs.iter().cloned())
            .map(|((a, b), c)| (a, b, c))
            .collect()
    };
    let owned = items(&sigs);
    let view: Vec<BatchItem<'_, V>> = owned
        .iter()
        .map(|(p, m, s)| BatchItem {
            public_key: p,
            message: m,
            signature: s,
        })
        .collect();
    assert_eq!(verify_batch(&suite, &view, &mut rng), Ok(()));
    // Corrupt entries 0, 17 and 36 (swapped signatures).
    sigs.swap(0, 17);
    sigs[36] = sks[36].sign::<V>(&suite, b"other");
    let owned = items(&sigs);
    let view: Vec<BatchItem<'_, V>> = owned
        .iter()
        .map(|(p, m, s)| BatchItem {
            public_key: p,
            message: m,
            signature: s,
        })
        .collect();
    assert_eq!(verify_batch(&suite, &view, &mut rng), Err(vec![0, 17, 36]));
    assert_eq!(verify_batch(&suite, &view[1..17], &mut rng), Ok(()));
}

#[test]
fn batch_min_pk() {
    batch::<MinPk>();
}

#[test]
fn batch_min_sig() {
    batch::<MinSig>();
}

#[test]
fn key_gen_follows_ietf_rules() {
    assert_eq!(
        SecretKey::key_gen(&[1u8; 31]).unwrap_err(),
        Error::IkmTooShort(31)
    );
    let a = SecretKey::key_gen(&[7u8; 32]).unwrap();
    let b = SecretKey::key_gen(&[7u8; 32]).unwrap();
    let c = SecretKey::key_gen_with_info(&[7u8; 32], b"info").unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(format!("{a:?}"), "SecretKey(<redacted>)");
    assert_eq!(
        SecretKey::from_bytes(&[0u8; 32]).unwrap_err(),
        Error::ZeroSecretKey
    );
    // r itself is not canonical.
    let r =
        hex::decode("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001").unwrap();
    assert_eq!(
        SecretKey::from_bytes(&r).unwrap_err(),
        Error::NonCanonicalScalar
    );
}

#[test]
fn identity_public_keys_are_rejected() {
    let mut inf = vec![0u8; 48];
    inf[0] = 0xc0;
    assert_eq!(
        PublicKey::<MinPk>::from_bytes(&inf).unwrap_err(),
        Error::IdentityPublicKey
    );
    let mut inf2 = vec![0u8; 96];
    inf2[0] = 0xc0;
    assert_eq!(
        PublicKey::<MinSig>::from_bytes(&inf2).unwrap_err(),
        Error::IdentityPublicKey
    );
    // ... but the identity is a decodable signature, which never verifies.
    let sig = Signature::<MinPk>::from_bytes(&inf2).unwrap();
    let pk = keys(1, 3)[0].public_key::<MinPk>();
    assert!(!pk.verify(&Ciphersuite::pop(), b"x", &sig));
}
