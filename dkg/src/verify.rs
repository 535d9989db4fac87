//! Batched verification of received shares against Feldman commitments.
//!
//! A player holding seats `S` received `s_{d,j}` from every dealer `d` for every `j ∈ S`. Instead
//! of one evaluation in the exponent per `(d, j)`, it checks one random linear combination
//! with 64-bit weights `ρ_{d,j}`:
//!
//! `Σ_{d,j} ρ_{d,j}·s_{d,j}·G == Σ_d Σ_k (Σ_j ρ_{d,j}·j^k)·C_{d,k}`
//!
//! with secret random weights, so one bad dealer cannot cancel another's error. Two evaluation
//! strategies (see [`batch_check_shares`]): every `C_d(j)` by Horner's rule with the small index
//! `j`, all dealers at once in batched affine coordinates
//! ([`Commitment::evaluate_many`](conclave_threshold_sig::Commitment::evaluate_many)), then one
//! short-scalar MSM (one seat per player: ~2.5× faster at n = 64..128), or `t+1`
//! short-scalar MSMs over all dealers' `k`-th commitment points (players with many seats). Only
//! if the batch fails are the pairs checked one by one.
//!
//! Why weights rather than the plain sum `Σ_d s_{d,j}·G == (Σ_d C_d)(j)` (one evaluation): two
//! colluding dealers can send errors that cancel in the sum; if one of them is disqualified
//! later (for misbehaving towards somebody else), the honest player's final share is wrong and
//! it can no longer complain. Independent secret weights make the errors of different dealers
//! independent, so the check needs each `C_d(j)` — computed with small-integer doublings and
//! additions only.

use blstrs::Scalar;
use conclave_threshold_sig::{Commitment, FixedBase, Msm, Variant};
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::{Curve, Group, GroupEncoding};
use rand_core::{CryptoRng, RngCore};

/// The shares received from one dealer for some of the verifier's seats.
pub(crate) struct DealerShares<'a, V: Variant> {
    pub(crate) dealer: u32,
    pub(crate) commitment: &'a Commitment<V>,
    pub(crate) shares: Vec<(u32, Scalar)>,
}

/// Check one share: `s·G == C(seat)`.
pub(crate) fn check_share<V: Variant>(
    commitment: &Commitment<V>,
    seat: u32,
    share: &Scalar,
) -> bool {
    let lhs = V::PublicAffine::mul_generator(share).to_affine();
    let rhs = commitment.evaluate(seat).to_affine();
    lhs.to_bytes().as_ref() == rhs.to_bytes().as_ref()
}

/// Bits of the per-dealer weights `ρ_d` (and per-seat weights `μ_j`) of the batched check.
pub const SHARE_WEIGHT_BITS: usize = 64;

/// One batched check of all shares; `true` if all are consistent (error ≤ 2^-63). Uses
/// [`batch_check_horner`] or [`batch_check_msm`], whichever costs fewer group operations.
pub(crate) fn batch_check_shares<V: Variant>(
    items: &[DealerShares<'_, V>],
    rng: &mut (impl RngCore + CryptoRng),
) -> bool {
    let Some(len) = items.iter().map(|i| i.commitment.points().len()).max() else {
        return true;
    };
    if horner_is_cheaper(items, len) {
        batch_check_horner(items, rng)
    } else {
        batch_check_msm(items, rng)
    }
}

/// The batched check with per-dealer weights `ρ_d` and per-seat weights `μ_j` (64 bits each;
/// the check is a degree-2 polynomial identity in them, so a nonzero error survives with
/// probability ≤ 2·2^-64): `A_k = Σ_d ρ_d·C_{d,k}` are `t+1` short-scalar MSMs over all commitment points,
/// then `Σ_k (Σ_j μ_j·j^k)·A_k` is one small MSM, compared with `(Σ_{d,j} μ_j·ρ_d·s_{d,j})·G`.
/// This touches every commitment point once with a 64-bit scalar, about half the work of a
/// single MSM with full-width scalars `ρ_d·j^k`.
fn batch_check_msm<V: Variant>(
    items: &[DealerShares<'_, V>],
    rng: &mut (impl RngCore + CryptoRng),
) -> bool {
    let Some(len) = items.iter().map(|i| i.commitment.points().len()).max() else {
        return true;
    };
    let mut seats: Vec<(u32, Scalar)> = Vec::new();
    let mut rho = Vec::with_capacity(items.len());
    let mut lhs = Scalar::ZERO;
    for item in items {
        let r = Scalar::from(rng.next_u64() | 1);
        rho.push(r);
        for (seat, share) in &item.shares {
            let mu = match seats.iter().find(|(s, _)| s == seat) {
                Some((_, mu)) => *mu,
                None => {
                    let mu = Scalar::from(rng.next_u64() | 1);
                    seats.push((*seat, mu));
                    mu
                }
            };
            lhs += mu * r * share;
        }
    }
    // A_k over the dealers whose commitment has a k-th point.
    let mut a = Vec::with_capacity(len);
    for k in 0..len {
        let (pts, sc): (Vec<V::PublicAffine>, Vec<Scalar>) = items
            .iter()
            .zip(&rho)
            .filter_map(|(i, r)| i.commitment.points().get(k).map(|p| (*p, *r)))
            .unzip();
        a.push(V::PublicAffine::msm(&pts, &sc, SHARE_WEIGHT_BITS));
    }
    let mut a_affine = vec![V::PublicAffine::identity(); len];
    V::Public::batch_normalize(&a, &mut a_affine);
    let mut weights = vec![Scalar::ZERO; len];
    for (seat, mu) in &seats {
        let x = Scalar::from(u64::from(*seat));
        let mut pw = *mu;
        for w in weights.iter_mut() {
            *w += pw;
            pw *= x;
        }
    }
    a_affine.push(V::PublicAffine::generator());
    weights.push(-lhs);
    lhs = Scalar::ZERO; // a combination of secret shares: wipe it
    std::hint::black_box(&mut lhs);
    let ok = bool::from(V::PublicAffine::msm(&a_affine, &weights, 255).is_identity());
    if let Some(w) = weights.last_mut() {
        *w = Scalar::ZERO;
        std::hint::black_box(w);
    }
    ok
}

/// Whether evaluating every `C_d(j)` by Horner's rule (about `t·(bits(j)+1)` group operations per
/// received share) is cheaper than the `t+1` short-scalar MSMs over all dealers (about
/// `(t+1)·dealers·(64/c + 2)` with Pippenger windows of `c ≈ log2(dealers)` bits). With one
/// seat per player (the common case) Horner wins by about 2–3×; heavily weighted players use
/// the MSMs.
fn horner_is_cheaper<V: Variant>(items: &[DealerShares<'_, V>], len: usize) -> bool {
    let t = len as u64;
    let horner: u64 = items
        .iter()
        .flat_map(|i| &i.shares)
        .map(|(seat, _)| t * u64::from(33 - seat.leading_zeros()))
        .sum();
    let dealers = items.len() as u64;
    let window = u64::from(64 - dealers.max(2).leading_zeros()).max(1);
    let msm = t * dealers * (SHARE_WEIGHT_BITS as u64 / window + 2);
    horner <= msm
}

/// The batched check with every `C_d(j)` evaluated by Horner's rule with the small index `j`
/// (additions and doublings only) and an independent 64-bit weight `ρ_{d,j}` per share:
/// `Σ ρ_{d,j}·C_d(j) == (Σ ρ_{d,j}·s_{d,j})·G`, one short-scalar MSM over one point per share.
/// A nonzero error survives with probability ≤ 2^-63.
fn batch_check_horner<V: Variant>(
    items: &[DealerShares<'_, V>],
    rng: &mut (impl RngCore + CryptoRng),
) -> bool {
    let count = items.iter().map(|i| i.shares.len()).sum();
    let mut points = Vec::with_capacity(count);
    let mut weights = Vec::with_capacity(count);
    let mut lhs = Scalar::ZERO;
    // One batched (affine, shared-inversion) Horner run per distinct seat over every dealer
    // that sent a share for it.
    let mut seats: Vec<u32> = items
        .iter()
        .flat_map(|i| i.shares.iter().map(|(s, _)| *s))
        .collect();
    seats.sort_unstable();
    seats.dedup();
    for seat in seats {
        let (commitments, shares): (Vec<&Commitment<V>>, Vec<&Scalar>) = items
            .iter()
            .flat_map(|i| {
                i.shares
                    .iter()
                    .filter(move |(s, _)| *s == seat)
                    .map(move |(_, share)| (i.commitment, share))
            })
            .unzip();
        points.extend(Commitment::evaluate_many(&commitments, seat));
        for share in shares {
            let rho = Scalar::from(rng.next_u64() | 1);
            weights.push(rho);
            lhs += rho * share;
        }
    }
    let rhs = V::PublicAffine::msm(&points, &weights, SHARE_WEIGHT_BITS);
    let ok = rhs == V::PublicAffine::mul_generator(&lhs);
    lhs = Scalar::ZERO; // a combination of secret shares: wipe it
    std::hint::black_box(&mut lhs);
    ok
}

/// Resharing: the dealer seats whose commitment constant term is not their old public share
/// `previous(d)`. One batched check `Σ ρ_d·C_d[0] == Σ_k (Σ_d ρ_d·d^k)·P_k` (64-bit weights,
/// error ≤ 2^-63); only if it fails are the old public shares computed and compared one by one.
pub(crate) fn mismatched_constants<V: Variant>(
    previous: &Commitment<V>,
    constants: &[(u32, V::PublicAffine)],
    rng: &mut (impl RngCore + CryptoRng),
) -> Vec<u32> {
    if constants.is_empty() {
        return Vec::new();
    }
    let mut weights = vec![Scalar::ZERO; previous.points().len()];
    let (mut points, mut rhos) = (Vec::new(), Vec::new());
    for (seat, constant) in constants {
        let rho = Scalar::from(rng.next_u64() | 1);
        points.push(*constant);
        rhos.push(rho);
        let x = Scalar::from(u64::from(*seat));
        let mut pw = rho;
        for w in weights.iter_mut() {
            *w += pw;
            pw *= x;
        }
    }
    let lhs = V::PublicAffine::msm(&points, &rhos, SHARE_WEIGHT_BITS);
    if lhs == V::PublicAffine::msm(previous.points(), &weights, 255) {
        return Vec::new();
    }
    constants
        .iter()
        .filter(|(seat, c)| previous.evaluate(*seat).to_affine() != *c)
        .map(|(seat, _)| *seat)
        .collect()
}

/// Verify all shares; returns the `(dealer, seat)` pairs that are inconsistent.
pub(crate) fn find_bad_shares<V: Variant>(
    items: &[DealerShares<'_, V>],
    rng: &mut (impl RngCore + CryptoRng),
) -> Vec<(u32, u32)> {
    if items.is_empty() || batch_check_shares(items, rng) {
        return Vec::new();
    }
    let mut bad = Vec::new();
    for item in items {
        for (seat, share) in &item.shares {
            if !check_share(item.commitment, *seat, share) {
                bad.push((item.dealer, *seat));
            }
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_threshold_sig::{MinPk, MinSig, Polynomial};
    use rand_chacha::rand_core::SeedableRng;

    fn run<V: Variant>() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let polys: Vec<_> = (0..5)
            .map(|_| Polynomial::random(3, &mut rng).unwrap())
            .collect();
        let commits: Vec<Commitment<V>> = polys.iter().map(|p| p.commit()).collect();
        let mut items: Vec<_> = polys
            .iter()
            .zip(&commits)
            .enumerate()
            .map(|(d, (p, c))| DealerShares {
                dealer: d as u32 + 1,
                commitment: c,
                shares: vec![(2, p.evaluate(2)), (7, p.evaluate(7))],
            })
            .collect();
        assert!(batch_check_shares(&items, &mut rng));
        assert!(batch_check_msm(&items, &mut rng));
        assert!(batch_check_horner(&items, &mut rng));
        assert!(find_bad_shares(&items, &mut rng).is_empty());
        items[3].shares[1].1 += Scalar::ONE;
        assert!(!batch_check_msm(&items, &mut rng));
        assert!(!batch_check_horner(&items, &mut rng));
        items[1].shares[0].1 -= Scalar::ONE;
        assert!(!batch_check_shares(&items, &mut rng));
        assert!(!batch_check_msm(&items, &mut rng));
        assert!(!batch_check_horner(&items, &mut rng));
        // Errors of two dealers that cancel in a plain sum are still caught.
        items[1].shares[0].1 += Scalar::ONE;
        items[0].shares[0].1 -= Scalar::ONE;
        assert!(!batch_check_msm(&items, &mut rng));
        assert!(!batch_check_horner(&items, &mut rng));
        items[0].shares[0].1 += Scalar::ONE;
        items[1].shares[0].1 -= Scalar::ONE;
        assert_eq!(find_bad_shares(&items, &mut rng), vec![(2, 2), (4, 7)]);
    }

    #[test]
    fn batch_detects_bad_shares() {
        run::<MinPk>();
        run::<MinSig>();
    }

    #[test]
    fn constant_terms() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
        let prev: Commitment<MinSig> = Polynomial::random(3, &mut rng).unwrap().commit();
        let mut constants: Vec<(u32, _)> =
            (1..=7).map(|d| (d, prev.evaluate(d).to_affine())).collect();
        assert!(mismatched_constants(&prev, &constants, &mut rng).is_empty());
        constants.swap(2, 5);
        constants[2].0 = 3;
        constants[5].0 = 6;
        constants[0].1 = prev.points()[0];
        assert_eq!(
            mismatched_constants(&prev, &constants, &mut rng),
            vec![1, 3, 6]
        );
    }

    #[test]
    fn strategy_choice() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
        let polys: Vec<_> = (0..64)
            .map(|_| Polynomial::random(42, &mut rng).unwrap())
            .collect();
        let commits: Vec<Commitment<MinPk>> = polys.iter().map(|p| p.commit()).collect();
        let items = |seats: &[u32]| -> Vec<DealerShares<'_, MinPk>> {
            commits
                .iter()
                .zip(&polys)
                .zip(1..)
                .map(|((c, p), d)| DealerShares {
                    dealer: d,
                    commitment: c,
                    shares: seats.iter().map(|&j| (j, p.evaluate(j))).collect(),
                })
                .collect()
        };
        assert!(horner_is_cheaper(&items(&[37]), 43));
        let many: Vec<u32> = (1..=16).collect();
        assert!(!horner_is_cheaper(&items(&many), 43));
        assert!(batch_check_shares(&items(&many), &mut rng));
    }
}
