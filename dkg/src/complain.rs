//! End of round 2: checking every complaint's evidence, and round 3: justifications.
//!
//! A complaint entry reveals `K = x·R` for one dealing with a DLEQ proof. Everyone checks the
//! proof, derives the keys, decrypts the complainer's ciphertexts and checks the shares against
//! the commitment. The complaint is *upheld* for the seats whose ciphertext is undecryptable or
//! inconsistent; otherwise (bad proof, or a share that is in fact correct) it is a *false
//! complaint*, and the signed complaint becomes evidence against the complainer; an honest
//! dealer is never disqualified by it. An accused dealer then reveals the disputed shares
//! (GJKR's justification); the complainer adopts a revealed share that matches the commitment.

use conclave_threshold_sig::Variant;

use crate::encryption::decrypt_share;
use crate::error::Error;
use crate::evidence::{Evidence, FaultKind, SignedMessage};
use crate::messages::{Justification, Message, RevealedShare, Signed};
use crate::participant::{Misbehaviour, Output, Participant};
use crate::verify::check_share;

impl<V: Variant> Participant<V> {
    /// End of round 2: judge every complaint; accused dealers (this participant included)
    /// justify.
    pub(crate) fn evaluate_complaints(&mut self) -> Result<Vec<Output<V>>, Error> {
        let session = self.config.session;
        let complaints = std::mem::take(&mut self.received_complaints);
        for (id, cands) in &complaints {
            let Some(member) = self.config.players.member(*id) else {
                continue;
            };
            // The first validly signed complaint of this complainer counts.
            let Some(signed) = cands
                .iter()
                .find(|c| c.verify(&session, &member.signing_key))
            else {
                continue;
            };
            let mut false_details = Vec::new();
            for entry in &signed.body.entries {
                let Some(dealing) = self.valid.get(&entry.dealer) else {
                    continue; // Already disqualified (or unknown): nothing to decide.
                };
                let d = &dealing.body;
                let h = d.transcript_hash(&session);
                if entry.seats.is_empty() || entry.seats.iter().any(|s| !member.seats.contains(s)) {
                    false_details.push(format!("dealer {}: seats not held", entry.dealer));
                    continue;
                }
                if !entry.proof.verify(
                    &member.encryption_key,
                    &d.ephemeral,
                    &entry.shared_point,
                    &h,
                ) {
                    false_details.push(format!("dealer {}: invalid DLEQ proof", entry.dealer));
                    continue;
                }
                for &seat in &entry.seats {
                    let ct = &d.ciphertexts[(seat - 1) as usize].0;
                    let good = decrypt_share(&entry.shared_point, &h, seat, ct)
                        .is_some_and(|s| check_share(&d.commitment, seat, &s));
                    if good {
                        false_details.push(format!(
                            "dealer {}: share of seat {seat} is valid",
                            entry.dealer
                        ));
                    } else {
                        self.upheld.entry(entry.dealer).or_default().insert(seat);
                        let list = self.upheld_complaints.entry(entry.dealer).or_default();
                        if !list.contains(signed) {
                            list.push(signed.clone());
                        }
                    }
                }
            }
            if !false_details.is_empty() {
                self.evidence.push(Evidence {
                    culprit: *id,
                    kind: FaultKind::FalseComplaint,
                    detail: false_details.join("; "),
                    messages: vec![SignedMessage::Complaint(signed.clone())],
                });
            }
        }
        self.received_complaints = complaints;
        self.justify()
    }

    /// Round 3: reveal the disputed shares of this participant's accused dealer seats.
    fn justify(&self) -> Result<Vec<Output<V>>, Error> {
        if self.misbehaviour == Some(Misbehaviour::BadShare) {
            return Ok(Vec::new()); // A bad-share dealer does not answer.
        }
        let mut out = Vec::new();
        let mut rng = self.rng(b"justify", 0);
        for &seat in self.dealer_seats() {
            let Some(accused) = self.upheld.get(&seat) else {
                continue;
            };
            let poly = self.polynomial(seat)?;
            let shares = accused
                .iter()
                .map(|&j| {
                    let mut value = poly.evaluate(j);
                    if self.misbehaviour == Some(Misbehaviour::WrongJustification) {
                        value += blstrs::Scalar::from(1u64);
                    }
                    RevealedShare { seat: j, value }
                })
                .collect();
            let body = Justification {
                dealer: seat,
                shares,
            };
            out.push(Signed::sign(
                &self.config.session,
                body,
                &self.keys.signing,
                &mut rng,
            ));
        }
        if out.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![Output::Broadcast(Message::Justify(out))])
    }
}
