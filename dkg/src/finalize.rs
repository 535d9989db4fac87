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
        // 4. Group commitment: a sum, or (resharing) the Lagrange combination, all coefficients
        //    at once (short weights: one batched-affine Straus run over every coefficient).
        let t = self.config.t as usize;
        let affine = match &self.config.previous {
            None => {
                let mut proj = Vec::with_capacity(t + 1);
                for k in 0..=t {
                    let pts: Vec<V::PublicAffine> = used
                        .iter()
                        .map(|d| self.valid[d].body.commitment.points()[k])
                        .collect();
                    proj.push(V::PublicAffine::sum(&pts));
                }
                let mut affine = vec![V::PublicAffine::identity(); t + 1];
                V::Public::batch_normalize(&proj, &mut affine);
                affine
            }
            Some(_) => {
                let commitments: Vec<&Commitment<V>> = used
                    .iter()
                    .map(|d| &self.valid[d].body.commitment)
                    .collect();
                Commitment::combine_points(&commitments, &weights)
            }
        };
        // Sums / Lagrange combinations of the points of validated commitments: in the subgroup,
        // so the t+1 subgroup checks of `from_points` would be wasted work.
        let commitment = Commitment::<V>::from_points_unchecked(affine)?;
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
        let public_shares = commitment.public_shares(self.config.players.seats())?;
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
