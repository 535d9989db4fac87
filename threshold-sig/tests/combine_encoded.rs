//! `Combiner::combine_encoded_verified`: partials taken as bytes, neither verified nor
//! subgroup-checked, and only the results checked. The oracle is the checked path
//! (`Combiner::combine`, which verifies every partial it uses) and plain BLS verification under
//! the group key: whatever the partials hold, the method returns exactly the group signatures
//! or nothing.

use conclave_threshold_sig::{
    deal, Ciphersuite, Combiner, Dealing, MinPk, MinSig, Scheme, Signature, Variant,
};
use group::prime::PrimeCurveAffine;
use group::Curve;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const N: u32 = 7;
const T: u32 = 4;

fn dst<V: Variant>() -> Vec<u8> {
    format!(
        "BLS_SIG_BLS12381{}_XMD:SHA-256_SSWU_RO_POP_",
        V::SIGNATURE_GROUP
    )
    .into_bytes()
}

/// The encodings of every seat's partial over `msg` (index `i + 1` at position `i`).
fn partials<V: Variant>(dealing: &Dealing<V>, msg: &[u8]) -> Vec<Vec<u8>> {
    dealing
        .shares
        .iter()
        .map(|s| s.sign::<V>(&dst::<V>(), msg).signature.to_bytes())
        .collect()
}

fn set(encoded: &[Vec<u8>], indices: &[u32]) -> Vec<(u32, Vec<u8>)> {
    indices
        .iter()
        .map(|&i| (i, encoded[(i - 1) as usize].clone()))
        .collect()
}

fn borrow(s: &[(u32, Vec<u8>)]) -> Vec<(u32, &[u8])> {
    s.iter().map(|(i, b)| (*i, b.as_slice())).collect()
}

/// The encoding of a curve point outside the prime-order subgroup, plus `sig` (`None`: the
/// point alone). Found as the first x of the signature group with such a point.
fn off_subgroup<V: Variant>(sig: Option<&[u8]>) -> Vec<u8>
where
    V::SignatureAffine: OffSubgroup,
{
    let point = V::SignatureAffine::off_subgroup();
    let moved = match sig {
        Some(bytes) => {
            let s = Signature::<V>::from_bytes(bytes).unwrap();
            (s.as_affine().to_curve() + point.to_curve()).to_affine()
        }
        None => point,
    };
    V::SignatureAffine::encode(&moved)
}

trait OffSubgroup: Sized {
    fn off_subgroup() -> Self;
    fn encode(p: &Self) -> Vec<u8>;
}

impl OffSubgroup for blstrs::G1Affine {
    fn off_subgroup() -> Self {
        (1u8..)
            .find_map(|x| {
                let mut bytes = [0u8; 48];
                bytes[0] = 0x80;
                bytes[47] = x;
                Option::<Self>::from(Self::from_compressed_unchecked(&bytes))
                    .filter(|p| !bool::from(p.is_torsion_free()))
            })
            .unwrap()
    }
    fn encode(p: &Self) -> Vec<u8> {
        p.to_compressed().to_vec()
    }
}

impl OffSubgroup for blstrs::G2Affine {
    fn off_subgroup() -> Self {
        (1u8..)
            .find_map(|x| {
                let mut bytes = [0u8; 96];
                bytes[0] = 0x80;
                bytes[95] = x;
                Option::<Self>::from(Self::from_compressed_unchecked(&bytes))
                    .filter(|p| !bool::from(p.is_torsion_free()))
            })
            .unwrap()
    }
    fn encode(p: &Self) -> Vec<u8> {
        p.to_compressed().to_vec()
    }
}

fn run<V: Variant>()
where
    V::SignatureAffine: OffSubgroup,
{
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let dealing = deal::<V>(N, T, &mut rng).unwrap();
    let combiner = Combiner::new(dealing.commitment.clone(), N, dst::<V>()).unwrap();
    let suite = Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, dst::<V>()).unwrap();
    let gpk = dealing.commitment.group_public_key();
    let (m1, m2) = (
        b"certificate message".as_slice(),
        b"beacon message".as_slice(),
    );
    let (e1, e2) = (partials(&dealing, m1), partials(&dealing, m2));
    let quorum = [1u32, 2, 3, 4, 5];
    let checked = |msg: &[u8]| {
        let parts: Vec<_> = dealing
            .shares
            .iter()
            .take(5)
            .map(|s| s.sign::<V>(&dst::<V>(), msg))
            .collect();
        combiner
            .combine(msg, &parts, &mut rng.clone())
            .unwrap()
            .signature
    };
    let combine = |a: &[(u32, Vec<u8>)], b: &[(u32, Vec<u8>)]| {
        combiner.combine_encoded_verified(
            &[(m1, &borrow(a)), (m2, &borrow(b))],
            &mut ChaCha20Rng::seed_from_u64(5),
        )
    };

    // Honest partials: exactly the checked path's signatures, valid under the group key;
    // any quorum (given in any order, with repeats) gives the same.
    let out = combine(&set(&e1, &quorum), &set(&e2, &quorum)).expect("honest");
    assert_eq!(out, vec![checked(m1), checked(m2)]);
    assert!(gpk.verify(&suite, m1, &out[0]));
    assert!(gpk.verify(&suite, m2, &out[1]));
    let mut shuffled = set(&e1, &[7, 3, 6, 4, 5, 3]);
    shuffled.reverse();
    assert_eq!(
        combine(&shuffled, &set(&e2, &[2, 4, 6, 7, 1])),
        Some(out.clone())
    );

    // A partial with an off-subgroup component (rejected by the checked decoder), or an
    // off-subgroup point alone, in either set: nothing.
    let tainted = off_subgroup::<V>(Some(&e1[1]));
    assert!(Signature::<V>::from_bytes(&tainted).is_err());
    for bad in [tainted, off_subgroup::<V>(None)] {
        let mut a = set(&e1, &quorum);
        a[1].1 = bad.clone();
        assert_eq!(combine(&a, &set(&e2, &quorum)), None);
        let mut b = set(&e2, &quorum);
        b[4].1 = bad;
        assert_eq!(combine(&set(&e1, &quorum), &b), None);
    }
    // A partial over the other message, undecodable bytes, a short encoding: nothing.
    let mut a = set(&e1, &quorum);
    a[2].1 = e2[2].clone();
    assert_eq!(combine(&a, &set(&e2, &quorum)), None);
    a[2].1 = vec![0xff; V::SIGNATURE_SIZE];
    assert_eq!(combine(&a, &set(&e2, &quorum)), None);
    a[2].1 = e1[2][1..].to_vec();
    assert_eq!(combine(&a, &set(&e2, &quorum)), None);
    // Two encodings at one index, an index outside 1..=n, too few partials, no items: nothing.
    let mut a = set(&e1, &quorum);
    a.push((1, e1[5].clone()));
    assert_eq!(combine(&a, &set(&e2, &quorum)), None);
    for index in [0, N + 1] {
        let mut a = set(&e1, &quorum);
        a.push((index, e1[0].clone()));
        assert_eq!(combine(&a, &set(&e2, &quorum)), None);
    }
    assert_eq!(combine(&set(&e1, &quorum[..4]), &set(&e2, &quorum)), None);
    assert_eq!(
        combiner.combine_encoded_verified(&[], &mut ChaCha20Rng::seed_from_u64(5)),
        None
    );
    // One message alone works too.
    assert_eq!(
        combiner.combine_encoded_verified(
            &[(m1, &borrow(&set(&e1, &quorum)))],
            &mut ChaCha20Rng::seed_from_u64(5)
        ),
        Some(vec![out[0]])
    );
}

#[test]
fn min_pk_returns_the_group_signatures_or_nothing() {
    run::<MinPk>();
}

#[test]
fn min_sig_returns_the_group_signatures_or_nothing() {
    run::<MinSig>();
}
