//! Batched verification of received shares against Feldman commitments.
//!
//! A player holding seats `S` received `s_{d,j}` from every dealer `d` for every `j ∈ S`. Instead
//! of one evaluation in the exponent per `(d, j)`, it checks one random linear combination
//! with 128-bit weights `ρ_{d,j}`:
//!
//! `Σ_{d,j} ρ_{d,j}·s_{d,j}·G == Σ_d Σ_k (Σ_j ρ_{d,j}·j^k)·C_{d,k}`
//!
//! as ONE multi-scalar multiplication over all commitment points (plus the generator). A bad
//! share passes with probability ≤ 2^-128, and one bad dealer cannot cancel another's error
//! because the weights are secret. Only if the batch fails are the pairs checked one by one.

use blstrs::Scalar;
use conclave_threshold_sig::{Commitment, Msm, Variant};
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::{Curve, Group, GroupEncoding};
use rand_core::{CryptoRng, RngCore};

use crate::sigma::random_weight;

/// The shares received from one dealer for some of the verifier's seats.
pub(crate) struct DealerShares<'a, V: Variant> {
    pub(crate) dealer: u32,
    pub(crate) commitment: &'a Commitment<V>,
    pub(crate) shares: Vec<(u32, Scalar)>,
}

/// Check one share: `s·G == C(seat)`.
pub(crate) fn check_share<V: Variant>(commitment: &Commitment<V>, seat: u32, share: &Scalar) -> bool {
    let lhs = (V::PublicAffine::generator() * share).to_affine();
    let rhs = commitment.evaluate(seat).to_affine();
    lhs.to_bytes().as_ref() == rhs.to_bytes().as_ref()
}

/// One batched check of all shares; `true` if all are consistent (up to 2^-128).
pub(crate) fn batch_check_shares<V: Variant>(
    items: &[DealerShares<'_, V>],
    rng: &mut (impl RngCore + CryptoRng),
) -> bool {
    let total: usize = items.iter().map(|i| i.commitment.points().len()).sum();
    let mut points = Vec::with_capacity(total + 1);
    let mut scalars = Vec::with_capacity(total + 1);
    let mut lhs = Scalar::ZERO;
    for item in items {
        let len = item.commitment.points().len();
        let mut w = vec![Scalar::ZERO; len];
        for (seat, share) in &item.shares {
            let rho = random_weight(rng);
            lhs += rho * share;
            let x = Scalar::from(u64::from(*seat));
            let mut pw = rho;
            for wk in w.iter_mut() {
                *wk += pw;
                pw *= x;
            }
        }
        points.extend_from_slice(item.commitment.points());
        scalars.extend(w);
    }
    points.push(V::PublicAffine::generator());
    scalars.push(-lhs);
    bool::from(V::PublicAffine::msm(&points, &scalars, 255).is_identity())
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
        let polys: Vec<_> = (0..5).map(|_| Polynomial::random(3, &mut rng)).collect();
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
        assert!(find_bad_shares(&items, &mut rng).is_empty());
        items[3].shares[1].1 += Scalar::ONE;
        items[1].shares[0].1 -= Scalar::ONE;
        assert!(!batch_check_shares(&items, &mut rng));
        assert_eq!(find_bad_shares(&items, &mut rng), vec![(2, 2), (4, 7)]);
    }

    #[test]
    fn batch_detects_bad_shares() {
        run::<MinPk>();
        run::<MinSig>();
    }
}
