//! Round 4 (Finalize): resolve justifications, fix QUAL, and combine.
//!
//! QUAL is every dealer with a valid dealing and no upheld complaint left unjustified. Fresh DKG:
//! group commitment `Σ_{d∈QUAL} C_d`, share `Σ_{d∈QUAL} f_d(j)`. Resharing: with `S` the first
//! `t_old+1` seats of QUAL and `λ_d` their Lagrange coefficients at 0, commitment `Σ λ_d·C_d`
//! (whose constant term is the old group key, since `C_d[0]` is the old public share of `d`) and
//! share `Σ λ_d·f_d(j)`. The Lagrange combination uses short weights when the coefficients are
//! small integers (see [`ShortWeights`]).

use blstrs::Scalar;
use conclave_threshold_sig::{lagrange_coefficients, Commitment, Msm, SecretShare, Variant};
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::Curve;

use crate::error::Error;
use crate::evidence::{Evidence, FaultKind, SignedMessage};
use crate::participant::{Disqualified, DkgOutput, Participant};
use crate::verify::check_share;

impl<V: Variant> Participant<V> {
    pub(crate) fn finalize(&mut self) -> Result<DkgOutput<V>, Error> {
        let session = self.config.session;
        // 1. Justifications for upheld complaints.
        let upheld = self.upheld.clone();
        for (dealer, seats) in &upheld {
            let Some(dealing) = self.valid.get(dealer).cloned() else {
                continue;
            };
            let Some(owner) = self.config.dealers.owner_of(*dealer) else {
                continue;
            };
            let justification = self
                .received_justifications
                .get(dealer)
                .and_then(|c| c.iter().find(|j| j.verify(&session, &owner.signing_key)))
                .cloned();
            let mut failed = Vec::new();
            for &seat in seats {
                let revealed = justification.as_ref().and_then(|j| {
                    j.body
                        .shares
                        .iter()
                        .find(|s| s.seat == seat)
                        .map(|s| s.value)
                });
                match revealed {
                    Some(v) if check_share(&dealing.body.commitment, seat, &v) => {
                        if let Some(r) = self
                            .shares
                            .iter_mut()
                            .find(|r| r.dealer == *dealer && r.seat == seat)
                        {
                            r.value = v;
                        } else if self.player_seats().contains(&seat) {
                            self.shares.push(crate::participant::ReceivedShare {
                                dealer: *dealer,
                                seat,
                                value: v,
                            });
                        }
                    }
                    _ => failed.push(seat),
                }
            }
            if failed.is_empty() {
                continue;
            }
            let kind = if justification.is_some() {
                FaultKind::WrongJustification
            } else {
                FaultKind::BadShare
            };
            let mut messages = vec![SignedMessage::Dealing(Box::new(dealing))];
            for c in self.upheld_complaints.get(dealer).into_iter().flatten() {
                messages.push(SignedMessage::Complaint(c.clone()));
            }
            if let Some(j) = justification {
                messages.push(SignedMessage::Justification(j));
            }
            self.faults.insert(*dealer, kind);
            self.evidence.push(Evidence {
                culprit: *dealer,
                kind,
                detail: format!("unresolved complaints for seats {failed:?}"),
                messages,
            });
        }
        // 2. QUAL.
        let qualified: Vec<u32> = self
            .valid
            .keys()
            .copied()
            .filter(|d| !self.faults.contains_key(d))
            .collect();
        let needed = self.config.dealers_needed();
        if qualified.len() < needed {
            return Err(Error::NotEnoughQualified {
                needed,
                qualified: qualified.len(),
            });
        }
        // 3. Weights: 1 for a fresh DKG; Lagrange coefficients for a resharing.
        let (used, weights): (Vec<u32>, Vec<Scalar>) = match &self.config.previous {
            None => (qualified.clone(), vec![Scalar::ONE; qualified.len()]),
            Some(_) => {
                let used = qualified[..needed].to_vec();
                let w = lagrange_coefficients(&used)?;
                (used, w)
            }
        };
        // 4. Group commitment.
        let t = self.config.t as usize;
        let short = (self.config.previous.is_some()).then(|| ShortWeights::new(&weights));
        let mut proj = Vec::with_capacity(t + 1);
        for k in 0..=t {
            let pts: Vec<V::PublicAffine> = used
                .iter()
                .map(|d| self.valid[d].body.commitment.points()[k])
                .collect();
            let point = match &short {
                None => V::PublicAffine::sum(&pts),
                Some(w) => w.msm::<V>(&pts),
            };
            proj.push(point);
        }
        let mut affine = vec![V::PublicAffine::identity(); t + 1];
        V::Public::batch_normalize(&proj, &mut affine);
        let commitment = Commitment::<V>::from_points(affine)?;
        // 5. Own shares.
        let mut shares = Vec::new();
        for &seat in self.player_seats() {
            let mut value = Scalar::ZERO;
            for (d, w) in used.iter().zip(&weights) {
                let r = self
                    .shares
                    .iter()
                    .find(|r| r.dealer == *d && r.seat == seat)
                    .ok_or(Error::MissingShare { dealer: *d, seat })?;
                value += r.value * w;
            }
            shares.push(SecretShare::new(seat, value)?);
        }
        // O(n·t) additions (binomial-basis Horner, affine forward-difference walk).
        let public_shares = commitment.public_shares(self.config.players.seats());
        let disqualified = self
            .faults
            .iter()
            .map(|(&index, &reason)| Disqualified { index, reason })
            .collect();
        let mut evidence = self.evidence.clone();
        evidence.sort_by_key(|e| (e.culprit, e.kind));
        Ok(DkgOutput {
            group_public_key: commitment.group_public_key(),
            commitment,
            shares,
            public_shares,
            qualified,
            disqualified,
            evidence,
        })
    }
}

/// Lagrange weights prepared for the resharing combination `Σ_d λ_d·C_{d,k}` (one MSM per `k`).
///
/// The coefficients of the set `{1, …, m}` are the small integers `±binom(m, d)` (below `2^m`),
/// and other sets often give small values too; when every `λ_d` or its negation fits in fewer
/// than 255 bits, the negative ones are applied by negating the point and the MSM runs with
/// that many bits (3–6× fewer Pippenger windows at m = 43..85) instead of full-width scalars.
/// The result is identical.
struct ShortWeights {
    /// `|λ_d|` (the representative below `r/2`, as a scalar).
    magnitude: Vec<Scalar>,
    /// Whether `λ_d` is the negation of `magnitude`.
    negative: Vec<bool>,
    /// Bits of the largest magnitude.
    bits: usize,
}

impl ShortWeights {
    fn new(weights: &[Scalar]) -> Self {
        let bits_of = |s: &Scalar| {
            let le = s.to_bytes_le();
            le.iter()
                .rposition(|b| *b != 0)
                .map_or(0, |i| 8 * i + 8 - le[i].leading_zeros() as usize)
        };
        let mut magnitude = Vec::with_capacity(weights.len());
        let mut negative = Vec::with_capacity(weights.len());
        let mut bits = 1;
        for w in weights {
            let neg = -*w;
            let (m, is_neg) = if bits_of(&neg) < bits_of(w) {
                (neg, true)
            } else {
                (*w, false)
            };
            bits = bits.max(bits_of(&m));
            magnitude.push(m);
            negative.push(is_neg);
        }
        ShortWeights {
            magnitude,
            negative,
            bits,
        }
    }

    /// `Σ_d λ_d·points[d]`.
    fn msm<V: Variant>(&self, points: &[V::PublicAffine]) -> V::Public {
        let signed: Vec<V::PublicAffine> = points
            .iter()
            .zip(&self.negative)
            .map(|(p, neg)| if *neg { -*p } else { *p })
            .collect();
        V::PublicAffine::msm(&signed, &self.magnitude, self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conclave_threshold_sig::{MinPk, MinSig, Polynomial};
    use rand_chacha::rand_core::SeedableRng;

    fn check<V: Variant>(indices: &[u32], expect_bits_below: usize) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let weights = lagrange_coefficients(indices).unwrap();
        let short = ShortWeights::new(&weights);
        assert!(short.bits < expect_bits_below, "{} bits", short.bits);
        let points: Vec<V::PublicAffine> = (0..indices.len())
            .map(|_| Polynomial::random(0, &mut rng).commit::<V>().points()[0])
            .collect();
        let full = V::PublicAffine::msm(&points, &weights, 255);
        assert_eq!(short.msm::<V>(&points), full);
    }

    #[test]
    fn short_lagrange_weights_give_the_same_combination() {
        let first: Vec<u32> = (1..=43).collect();
        check::<MinPk>(&first, 44);
        check::<MinSig>(&first, 44);
        let gaps = [2, 3, 5, 8, 13, 21, 34];
        check::<MinPk>(&gaps, 256);
        check::<MinSig>(&gaps, 256);
    }
}
