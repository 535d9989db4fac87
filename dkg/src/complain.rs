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

use crate::error::Error;
use crate::evidence::{judge, Evidence, FaultKind, Judgement, SignedMessage};
use crate::messages::{Justification, Message, RevealedShare, Signed};
use crate::participant::{Misbehaviour, Output, Participant};

impl<V: Variant> Participant<V> {
    /// End of round 2: judge every complaint; accused dealers (this participant included)
    /// justify.
    pub(crate) fn evaluate_complaints(&mut self) -> Result<Vec<Output<V>>, Error> {
        let complaints = std::mem::take(&mut self.received_complaints);
        self.judge_complaints(&complaints);
        self.received_complaints = complaints;
        self.justify()
    }

    /// Judge `complaints` (per complainer): upheld entries go to `upheld` and
    /// `upheld_complaints`, false ones and equivocating complainers become evidence. Returns
    /// the seats upheld, per dealer.
    pub(crate) fn judge_complaints(
        &mut self,
        complaints: &std::collections::BTreeMap<
            u32,
            Vec<crate::messages::Signed<crate::messages::Complaint>>,
        >,
    ) -> std::collections::BTreeMap<u32, std::collections::BTreeSet<u32>> {
        let context = self.context;
        let mut upheld_now: std::collections::BTreeMap<u32, std::collections::BTreeSet<u32>> =
            std::collections::BTreeMap::new();
        for (id, cands) in complaints {
            let Some(member) = self.config.players.member(*id) else {
                continue;
            };
            // Every stored complaint was authenticated on arrival. Two different ones from one
            // complainer are equivocation: all of its complaints are ignored (whichever pair
            // arrived, the outcome is the same), and the pair is the evidence.
            let signed = match cands.as_slice() {
                [] => continue,
                [one] => one,
                [a, b, ..] => {
                    self.evidence.push(Evidence {
                        culprit: *id,
                        kind: FaultKind::EquivocatingComplaint,
                        detail: "two different signed complaints".into(),
                        messages: vec![
                            SignedMessage::Complaint(a.clone()),
                            SignedMessage::Complaint(b.clone()),
                        ],
                    });
                    continue;
                }
            };
            let mut false_details = Vec::new();
            let mut accused = Vec::new();
            for entry in &signed.body.entries {
                let Some(dealing) = self.valid.get(&entry.dealer) else {
                    continue; // Already disqualified (or unknown): nothing to decide.
                };
                let (bad, false_detail) = match judge(&context, member, &dealing.body, entry) {
                    // The entry disputes another dealing of this seat than the one everybody
                    // holds: nothing can be decided, or proven, about it.
                    Judgement::Unrelated => continue,
                    Judgement::False(why) => (Vec::new(), why),
                    Judgement::Upheld(bad) => (bad, ""),
                    Judgement::Mixed(bad) => (bad, "some disputed shares are correct"),
                };
                if !false_detail.is_empty() {
                    false_details.push(format!("dealer {}: {false_detail}", entry.dealer));
                    accused.push(SignedMessage::Dealing(Box::new(dealing.clone())));
                }
                if !bad.is_empty() {
                    upheld_now
                        .entry(entry.dealer)
                        .or_default()
                        .extend(bad.iter().copied());
                    self.upheld.entry(entry.dealer).or_default().extend(bad);
                    let list = self.upheld_complaints.entry(entry.dealer).or_default();
                    if !list.contains(signed) {
                        list.push(signed.clone());
                    }
                }
            }
            if !false_details.is_empty() {
                // The complaint, and the accused dealings that show it false.
                let mut messages = vec![SignedMessage::Complaint(signed.clone())];
                messages.extend(accused);
                self.evidence.push(Evidence {
                    culprit: *id,
                    kind: FaultKind::FalseComplaint,
                    detail: false_details.join("; "),
                    messages,
                });
            }
        }
        upheld_now
    }

    /// Round 3: reveal the disputed shares of this participant's accused dealer seats.
    fn justify(&self) -> Result<Vec<Output<V>>, Error> {
        if self.misbehaves(Misbehaviour::BadShare) {
            return Ok(Vec::new()); // A bad-share dealer does not answer.
        }
        let mut out = Vec::new();
        let mut rng = self.rng(b"justify", 0);
        for &seat in self.dealer_seats() {
            let (Some(accused), Some(own)) = (self.upheld.get(&seat), self.valid.get(&seat)) else {
                continue;
            };
            let dealing = own.body.digest_for(&self.context);
            let poly = self.polynomial(seat)?;
            let shares = accused
                .iter()
                .map(|&j| {
                    let mut value = poly.evaluate(j);
                    if self.misbehaves(Misbehaviour::WrongJustification) {
                        value += blstrs::Scalar::from(1u64);
                    }
                    RevealedShare { seat: j, value }
                })
                .collect();
            let body = Justification {
                dealer: seat,
                dealing,
                shares,
            };
            out.push(Signed::sign(
                &self.context,
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
