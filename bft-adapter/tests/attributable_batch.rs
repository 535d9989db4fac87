//! Attributable threshold votes (partial ‖ individual signature) are batch-checked with one
//! pairing product for the whole quorum. Whatever a member puts in either half, the batch must
//! name exactly the shares that fail on their own (`verify_share`, the oracle), in both
//! variants, and accept a quorum of honest ones.

use conclave_bft::adapter::{ThresholdSigner, ThresholdVerifier};
use conclave_bft::traits::{Share, Signer, Verifier};
use conclave_bft::types::NodeId;
use conclave_threshold_sig::{
    deal, standard_dst, MinPk, MinSig, Scheme, SecretKey, Signature, Variant,
};
use group::prime::PrimeCurveAffine;
use group::Curve;
use rand::SeedableRng;

const N: u32 = 7;

fn setup<V: Variant>(seed: u64) -> (ThresholdVerifier<V>, Vec<ThresholdSigner<V>>) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let dealing = deal::<V>(N, 4, &mut rng).expect("dealing");
    let dst = standard_dst::<V>(Scheme::ProofOfPossession);
    let keys: Vec<SecretKey> = (0..N).map(|_| SecretKey::random(&mut rng)).collect();
    let public: Vec<_> = keys
        .iter()
        .map(|k| (k.public_key::<V>(), k.pop_prove::<V>()))
        .collect();
    let verifier = ThresholdVerifier::new(dealing.commitment.clone(), N, &dst, [3; 32])
        .expect("verifier")
        .with_individual_keys(&public)
        .expect("proofs of possession");
    let signers = (0..N)
        .map(|i| {
            let bytes = keys[i as usize].to_bytes();
            ThresholdSigner::new(NodeId(i), dealing.shares[i as usize].clone(), &dst)
                .expect("signer")
                .with_individual_key(SecretKey::from_bytes(&bytes[..]).expect("key"))
        })
        .collect();
    (verifier, signers)
}

/// `sig` with `delta` added to its partial (`sign = 1`) or individual (`sign = -1`: subtracted).
fn shift<V: Variant>(sig: &[u8], individual: bool, delta: V::Signature, add: bool) -> Vec<u8> {
    let (p, i) = sig.split_at(V::SIGNATURE_SIZE);
    let part = if individual { i } else { p };
    let point = Signature::<V>::from_bytes(part)
        .expect("signature")
        .as_affine()
        .to_curve();
    let moved = if add { point + delta } else { point - delta };
    let moved = Signature::<V>::from_affine(moved.to_affine())
        .expect("subgroup")
        .to_bytes();
    if individual {
        [p, &moved].concat()
    } else {
        [&moved, i].concat()
    }
}

fn run<V: Variant>() {
    let (verifier, signers) = setup::<V>(5);
    let msg = b"cert vote: height 9, period 1";
    let other = b"cert vote: height 9, period 2";
    let delta = V::hash_to_signature_group(b"delta", b"test-dst", &[]);
    for case in 0..8 {
        let mut sigs: Vec<Vec<u8>> = signers.iter().map(|s| s.sign(msg).unwrap()).collect();
        let z = 5usize;
        let c = 2usize;
        let half = V::SIGNATURE_SIZE;
        match case {
            // Z's individual half over another message.
            1 => {
                let o = signers[z].sign(other).unwrap();
                sigs[z] = [&sigs[z][..half], &o[half..]].concat();
            }
            // Z's partial half over another message.
            2 => {
                let o = signers[z].sign(other).unwrap();
                sigs[z] = [&o[..half], &sigs[z][half..]].concat();
            }
            // Z presents C's valid individual signature as its own.
            3 => sigs[z] = [&sigs[z][..half], &sigs[c][half..]].concat(),
            // Errors that cancel between Z's two halves.
            4 => {
                sigs[z] = shift::<V>(&sigs[z], false, delta, true);
                sigs[z] = shift::<V>(&sigs[z], true, delta, false);
            }
            // Errors that cancel between Z's partial and C's individual half.
            5 => {
                sigs[z] = shift::<V>(&sigs[z], false, delta, true);
                sigs[c] = shift::<V>(&sigs[c], true, delta, false);
            }
            // Errors that cancel between two partials.
            6 => {
                sigs[z] = shift::<V>(&sigs[z], false, delta, true);
                sigs[c] = shift::<V>(&sigs[c], false, delta, false);
            }
            // Halves swapped.
            7 => sigs[z] = [&sigs[z][half..], &sigs[z][..half]].concat(),
            _ => {}
        }
        let expected: Vec<NodeId> = (0..N)
            .map(NodeId)
            .filter(|&s| !verifier.verify_share(s, msg, &sigs[s.0 as usize]))
            .collect();
        assert_eq!(expected.is_empty(), case == 0, "case {case}: oracle");
        let shares: Vec<Share<'_>> = sigs
            .iter()
            .enumerate()
            .map(|(i, s)| Share {
                signer: NodeId(i as u32),
                credential: &[],
                signature: s,
            })
            .collect();
        let got = verifier.verify_batch(msg, &shares);
        if expected.is_empty() {
            assert_eq!(got, Ok(()), "case {case}");
        } else {
            assert_eq!(got, Err(expected), "case {case}");
        }
        // A quorum-sized subset without the culprits passes.
        let clean: Vec<Share<'_>> = shares
            .iter()
            .filter(|s| s.signer.0 != z as u32 && s.signer.0 != c as u32)
            .copied()
            .collect();
        assert_eq!(
            verifier.verify_batch(msg, &clean),
            Ok(()),
            "case {case}: clean"
        );
    }
}

#[test]
fn one_pairing_check_names_exactly_the_bad_votes_min_pk() {
    run::<MinPk>();
}

#[test]
fn one_pairing_check_names_exactly_the_bad_votes_min_sig() {
    run::<MinSig>();
}

/// A certificate and its beacon, interpolated and checked together, are exactly what the robust
/// combine gives; a bad share among them (our own unchecked vote, say) falls back to the robust
/// path, which names it.
fn cert_and_beacon<V: Variant>() {
    let (verifier, signers) = setup::<V>(9);
    let msg = b"cert: height 3";
    let beacon = b"beacon: height 3";
    let votes: Vec<Vec<u8>> = signers.iter().map(|s| s.sign(msg).unwrap()).collect();
    let beacons: Vec<Vec<u8>> = signers.iter().map(|s| s.sign(beacon).unwrap()).collect();
    // A quorum (5 of 7 for a degree-4 key), not the lowest seats.
    let who = [0u32, 2, 3, 4, 6];
    let pick = |sigs: &[Vec<u8>]| -> Vec<(NodeId, Vec<u8>)> {
        who.iter()
            .map(|&i| (NodeId(i), sigs[i as usize].clone()))
            .collect()
    };
    let (vs, bs) = (pick(&votes), pick(&beacons));
    let sv: Vec<Share<'_>> = vs
        .iter()
        .map(|(n, s)| Share {
            signer: *n,
            credential: &[],
            signature: s,
        })
        .collect();
    let sb: Vec<Share<'_>> = bs
        .iter()
        .map(|(n, s)| Share {
            signer: *n,
            credential: &[],
            signature: s,
        })
        .collect();
    let seed = conclave_bft::types::Seed([0; 32]);
    let period = conclave_bft::types::Period(1);
    let (cert, beacon_cert) = verifier
        .combine_with_beacon(msg, &sv, beacon, period, &sb)
        .expect("valid shares");
    assert_eq!(cert, verifier.combine(msg, &sv).unwrap());
    assert_eq!(beacon_cert, verifier.combine(beacon, &sb).unwrap());
    assert!(verifier.verify_certificate(&seed, msg, &cert));
    assert!(verifier.verify_beacon(&seed, beacon, period, &beacon_cert));
    // Seat 3's beacon share signs another message: the pair fails and the culprit is named.
    let mut bad = bs.clone();
    bad[2].1 = signers[3].sign(b"another").unwrap();
    let sbad: Vec<Share<'_>> = bad
        .iter()
        .map(|(n, s)| Share {
            signer: *n,
            credential: &[],
            signature: s,
        })
        .collect();
    assert_eq!(
        verifier.combine_with_beacon(msg, &sv, beacon, period, &sbad),
        Err(conclave_bft::traits::CombineError::InvalidShares(vec![
            NodeId(3)
        ]))
    );
}

#[test]
fn certificate_and_beacon_are_checked_together_min_pk() {
    cert_and_beacon::<MinPk>();
}

#[test]
fn certificate_and_beacon_are_checked_together_min_sig() {
    cert_and_beacon::<MinSig>();
}
