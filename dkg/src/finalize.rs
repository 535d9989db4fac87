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
        // 0. Late complaints (taken in during the justify window, after their own window was
        //    missed): judged like the others. Only a share proven bad by the complainer's
        //    revealed key is upheld, which an honest dealer never deals, so a late complaint
        //    can never disqualify an honest dealer (a false one is evidence against the
        //    complainer). A dealer with a late upheld complaint stays qualified only if it
        //    revealed those shares in the justify window anyway. A complainer whose complaint
        //    arrived in time is judged on that one only.
        let late: std::collections::BTreeMap<_, _> = std::mem::take(&mut self.late_complaints)
            .into_iter()
            .filter(|(id, _)| {
                self.received_complaints
                    .get(id)
                    .is_none_or(|c| c.is_empty())
            })
            .collect();
        let late_upheld = if late.is_empty() {
            Default::default()
        } else {
            let on_time = self.upheld.clone();
            let mut upheld = self.judge_complaints(&late);
            for (dealer, seats) in upheld.iter_mut() {
                if let Some(s) = on_time.get(dealer) {
                    seats.retain(|x| !s.contains(x));
                }
            }
            upheld
        };
        // 1. Justifications for upheld complaints (authenticated on arrival).
        let upheld = self.upheld.clone();
        for (dealer, seats) in &upheld {
            let Some(dealing) = self.valid.get(dealer).cloned() else {
                continue;
            };
            let justification = match self.received_justifications.get(dealer).map(Vec::as_slice) {
                None | Some([]) => None,
                // A justification of another dealing of this seat justifies nothing.
                Some([one]) => (one.body.dealing == dealing.body.digest_for(&self.context))
                    .then(|| one.clone()),
                Some([a, b, ..]) => {
                    // Two different signed justifications for one seat: equivocation,
                    // whichever one arrived first.
                    self.faults.insert(*dealer, FaultKind::Equivocation);
                    self.evidence.push(Evidence {
                        culprit: *dealer,
                        kind: FaultKind::Equivocation,
                        detail: "two different signed justifications".into(),
                        messages: vec![
                            SignedMessage::Justification(a.clone()),
                            SignedMessage::Justification(b.clone()),
                        ],
                    });
                    continue;
                }
            };
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
            // Seats disputed only by late complaints had no deadline to answer by: an
            // unrevealed one is a bad share, not a wrong justification.
            let late_only = late_upheld.get(dealer);
            let answered = |seat: &u32| late_only.is_none_or(|l| !l.contains(seat));
            let kind = if justification.is_some() && failed.iter().any(answered) {
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
                detail: format!(
                    "unresolved complaints for seats {}",
                    failed
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
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
        // Never output a share that does not match the group commitment.
        for share in &shares {
            let ok = public_shares
                .get((share.index() - 1) as usize)
                .is_some_and(|p| p.to_bytes() == share.public_share::<V>().to_bytes());
            if !ok {
                return Err(Error::InconsistentShare {
                    seat: share.index(),
                });
            }
        }
        // The received shares and old shares are not needed any more: wipe them now rather
        // than when the participant is dropped.
        self.shares.clear();
        self.old_shares.clear();
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

#[cfg(test)]
mod tests {
    use crate::participant::{Input, Output, Phase};
    use crate::sim::{dkg_parties, SimConfig, SimVariant};
    use crate::Error;
    use conclave_threshold_sig::MinPk;

    /// A player whose received share is wrong (however it got there) refuses to output a
    /// share inconsistent with the group commitment; an untouched one wipes what it received.
    #[test]
    fn inconsistent_own_share_is_an_error() {
        let cfg = SimConfig {
            variant: SimVariant::MinPk,
            n: 4,
            t: 1,
            seed: [3; 32],
            byzantine: Vec::new(),
        };
        let mut parties = dkg_parties::<MinPk>(&cfg).unwrap();
        for input in [
            Input::Start,
            Input::DeadlinePassed(Phase::Deal),
            Input::DeadlinePassed(Phase::Complain),
        ] {
            let mut outbox = Vec::new();
            for p in parties.iter_mut() {
                for o in p.participant.handle(input.clone()).unwrap() {
                    if let Output::Broadcast(m) = o {
                        outbox.push(m);
                    }
                }
            }
            for m in outbox {
                for p in parties.iter_mut() {
                    p.participant.handle(Input::Message(m.clone())).unwrap();
                }
            }
        }
        parties[0].participant.shares[1].value += blstrs::Scalar::from(1u64);
        assert_eq!(
            parties[0]
                .participant
                .handle(Input::DeadlinePassed(Phase::Justify))
                .unwrap_err(),
            Error::InconsistentShare { seat: 1 }
        );
        let p = &mut parties[1].participant;
        assert!(!p.shares.is_empty());
        let out = p.handle(Input::DeadlinePassed(Phase::Justify)).unwrap();
        assert!(matches!(&out[..], [Output::Finished(_)]));
        assert!(p.shares.is_empty(), "received shares kept after finalize");
    }
}
