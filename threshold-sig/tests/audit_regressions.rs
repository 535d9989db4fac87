//! Regression tests for the threshold-signature findings of security issue #10. Each test replays
//! the attack the audit described; each failed on the code before the fix.

use conclave_threshold_sig::{
    deal, Combiner, Dealing, MinPk, MinSig, PartialSignature, Signature, Variant,
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
