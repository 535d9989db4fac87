//! A cert quorum combined without checking its votes one by one
//! (`Verifier::combine_unverified_with_beacon`, what the engine tries before any batch check of
//! cert votes). The oracle is the group key: whatever the adapter returns must verify as an
//! ordinary BLS signature, and must be byte for byte the certificate honest shares make.
//! Whatever a member puts in its shares, the adapter returns either that certificate or
//! nothing.

use conclave_bft::adapter::{ThresholdSigner, ThresholdVerifier};
use conclave_bft::traits::{Share, Signer, Verifier};
use conclave_bft::types::{NodeId, Period, Seed};
use conclave_threshold_sig::{
    deal, lagrange_coefficients, standard_dst, Ciphersuite, MinPk, MinSig, Scheme, Signature,
    Variant,
};
use group::prime::PrimeCurveAffine;
use group::Curve;
use rand::SeedableRng;

const N: u32 = 7;
/// Degree 4: a quorum is t+1 = 5 shares.
const T: u32 = 4;

struct Setup<V: Variant> {
    verifier: ThresholdVerifier<V>,
    signers: Vec<ThresholdSigner<V>>,
    suite: Ciphersuite<V>,
}

fn setup<V: Variant>(seed: u64) -> Setup<V> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let dealing = deal::<V>(N, T, &mut rng).expect("dealing");
    let dst = standard_dst::<V>(Scheme::ProofOfPossession);
    let verifier =
        ThresholdVerifier::new(dealing.commitment.clone(), N, &dst, [9; 32]).expect("verifier");
    let signers = (0..N)
        .map(|i| {
            ThresholdSigner::new(NodeId(i), dealing.shares[i as usize].clone(), &dst)
                .expect("signer")
        })
        .collect();
    let suite = Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, dst).expect("suite");
    Setup {
        verifier,
        signers,
        suite,
    }
}

fn shares<'a>(seats: &[u32], sigs: &'a [Vec<u8>]) -> Vec<Share<'a>> {
    seats
        .iter()
        .map(|&i| Share {
            signer: NodeId(i),
            credential: &[],
            signature: &sigs[i as usize],
        })
        .collect()
}

/// `sig` plus `delta` (a point of the signature group), re-encoded.
fn moved<V: Variant>(sig: &[u8], delta: V::Signature) -> Vec<u8> {
    let point = Signature::<V>::from_bytes(sig)
        .expect("signature")
        .as_affine()
        .to_curve();
    Signature::<V>::from_affine((point + delta).to_affine())
        .expect("subgroup")
        .to_bytes()
}

fn run<V: Variant>() {
    let s = setup::<V>(11);
    let cert_msg = b"cert vote: height 3, period 1, value v".to_vec();
    let beacon_msg = b"beacon: height 3".to_vec();
    let sign_all =
        |msg: &[u8]| -> Vec<Vec<u8>> { s.signers.iter().map(|x| x.sign(msg).unwrap()).collect() };
    let votes = sign_all(&cert_msg);
    let beacons = sign_all(&beacon_msg);
    let group_key = s.verifier.group_public_key();
    let verifies = |msg: &[u8], bytes: &[u8]| {
        Signature::<V>::from_bytes(bytes).is_ok_and(|sig| group_key.verify(&s.suite, msg, &sig))
    };
    let quorum = [0u32, 1, 2, 3, 4];
    let combine = |votes: &[Vec<u8>], beacons: &[Vec<u8>], seats: &[u32]| {
        s.verifier.combine_unverified_with_beacon(
            &cert_msg,
            &shares(seats, votes),
            &beacon_msg,
            Period(1),
            &shares(seats, beacons),
        )
    };

    // Honest shares: the certificate, as the checked path makes it, under the group key.
    let (cert, beacon) = combine(&votes, &beacons, &quorum).expect("honest quorum");
    assert!(verifies(&cert_msg, &cert));
    assert!(verifies(&beacon_msg, &beacon));
    assert!(s
        .verifier
        .verify_certificate(&Seed([0; 32]), &cert_msg, &cert));
    let checked = s
        .verifier
        .combine_with_beacon(
            &cert_msg,
            &shares(&quorum, &votes),
            &beacon_msg,
            Period(1),
            &shares(&quorum, &beacons),
        )
        .expect("checked path");
    assert_eq!((cert.clone(), beacon.clone()), checked);
    // Any other quorum of honest shares gives the same bytes (the signature is unique).
    assert_eq!(
        combine(&votes, &beacons, &[2, 3, 4, 5, 6]),
        Some((cert.clone(), beacon.clone()))
    );

    // One bad share anywhere (vote or beacon; a share over another message, a moved point,
    // garbage bytes, a share of another seat): nothing.
    let other = sign_all(b"cert vote: height 3, period 1, value w");
    let delta = V::hash_to_signature_group(b"delta", b"test-dst", &[]);
    for z in quorum {
        let zi = z as usize;
        let mut bad_votes = votes.clone();
        bad_votes[zi] = other[zi].clone();
        assert_eq!(combine(&bad_votes, &beacons, &quorum), None, "vote of {z}");
        let mut bad_beacons = beacons.clone();
        bad_beacons[zi] = moved::<V>(&beacons[zi], delta);
        assert_eq!(
            combine(&votes, &bad_beacons, &quorum),
            None,
            "beacon of {z}"
        );
        let mut junk = votes.clone();
        junk[zi] = vec![0xff; V::SIGNATURE_SIZE];
        assert_eq!(combine(&junk, &beacons, &quorum), None, "junk of {z}");
        let mut stolen = votes.clone();
        stolen[zi] = votes[(zi + 5) % N as usize].clone();
        assert_eq!(
            combine(&stolen, &beacons, &quorum),
            None,
            "copied share at {z}"
        );
    }
    // Too few seats, or a seat outside the committee: nothing.
    assert_eq!(combine(&votes, &beacons, &quorum[..4]), None);
    let mut with_outside = shares(&quorum[..4], &votes);
    with_outside.push(Share {
        signer: NodeId(N),
        credential: &[],
        signature: &votes[0],
    });
    assert_eq!(
        s.verifier.combine_unverified_with_beacon(
            &cert_msg,
            &with_outside,
            &beacon_msg,
            Period(1),
            &shares(&quorum, &beacons),
        ),
        None
    );

    // Two colluders whose errors cancel under the quorum's Lagrange weights: their shares are
    // invalid (the batch check names both), yet the combination is the one valid certificate.
    // This is why the engine keeps such votes unverified: the certificate is proven, not them.
    let weights = lagrange_coefficients(&[1, 2, 3, 4, 5]).unwrap();
    let (a, b) = (1usize, 3usize);
    let mut colluding = votes.clone();
    colluding[a] = moved::<V>(&votes[a], delta * weights[b]);
    colluding[b] = moved::<V>(&votes[b], -(delta * weights[a]));
    assert_eq!(
        combine(&colluding, &beacons, &quorum),
        Some((cert.clone(), beacon.clone()))
    );
    assert_eq!(
        s.verifier
            .verify_batch(&cert_msg, &shares(&quorum, &colluding)),
        Err(vec![NodeId(a as u32), NodeId(b as u32)])
    );
}

#[test]
fn min_pk_returns_the_certificate_or_nothing() {
    run::<MinPk>();
}

#[test]
fn min_sig_returns_the_certificate_or_nothing() {
    run::<MinSig>();
}
