//! Structured evidence of misbehaviour: the culprit, the kind of fault, and the signed messages
//! that prove it (a silent dealer leaves none: absence is attested by the synchronous broadcast).
//! [`Evidence::verify`] re-checks evidence from the signed messages and the public session
//! configuration alone, so a third party (an accountability layer, a slashing contract) need not
//! trust the participant that reported it.

use conclave_threshold_sig::Variant;
use group::Curve;

use crate::config::{DkgConfig, Member};
use crate::encryption::{SharedSecret, CIPHERTEXT_SIZE};
use crate::error::Error;
use crate::messages::{Complaint, ComplaintEntry, Dealing, Justification, Signed};
use crate::verify::check_share;

/// What a culprit did wrong.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FaultKind {
    /// The dealer sent no validly signed dealing before the deal deadline.
    Silent,
    /// The dealer's commitment has the wrong degree or (resharing) a constant term other than
    /// its public share.
    BadCommitment,
    /// The dealing is malformed (ciphertext count or size) or its ephemeral-key proof is invalid.
    InvalidDealing,
    /// The dealer signed two different dealings, or two different justifications, for one seat.
    Equivocation,
    /// A complaint proved the dealer's ciphertext undecryptable or inconsistent with its
    /// commitment, and the dealer did not justify.
    BadShare,
    /// The dealer answered an upheld complaint with a share inconsistent with its commitment.
    WrongJustification,
    /// A player complained with invalid evidence, or about a share that is in fact correct.
    FalseComplaint,
    /// A player signed two different complaints (all of its complaints are then ignored).
    EquivocatingComplaint,
}

impl FaultKind {
    /// The kebab-case name (`"bad-share"`, …), as in the CLI output.
    pub fn as_str(&self) -> &'static str {
        match self {
            FaultKind::Silent => "silent",
            FaultKind::BadCommitment => "bad-commitment",
            FaultKind::InvalidDealing => "invalid-dealing",
            FaultKind::Equivocation => "equivocation",
            FaultKind::BadShare => "bad-share",
            FaultKind::WrongJustification => "wrong-justification",
            FaultKind::FalseComplaint => "false-complaint",
            FaultKind::EquivocatingComplaint => "equivocating-complaint",
        }
    }

    /// Whether the culprit is a dealer (disqualified) or a player (evidence only).
    pub fn is_dealer_fault(&self) -> bool {
        !matches!(
            self,
            FaultKind::FalseComplaint | FaultKind::EquivocatingComplaint
        )
    }
}

/// A signed protocol message quoted as evidence.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound = "", rename_all = "kebab-case")]
pub enum SignedMessage<V: Variant> {
    /// A dealing.
    Dealing(Box<Signed<Dealing<V>>>),
    /// A complaint.
    Complaint(Signed<Complaint>),
    /// A justification.
    Justification(Signed<Justification>),
}

/// Evidence against one culprit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
pub struct Evidence<V: Variant> {
    /// The culprit: a dealer seat for dealer faults, a player participant id for complaints.
    pub culprit: u32,
    /// The fault.
    pub kind: FaultKind,
    /// A human-readable detail (e.g. which seat's share was bad).
    pub detail: String,
    /// The signed messages that prove the fault.
    pub messages: Vec<SignedMessage<V>>,
}

impl<V: Variant> Evidence<V> {
    /// Re-check this evidence from its signed messages and the public session configuration
    /// alone (no trust in whoever produced it): every quoted message must carry a valid signature
    /// of its sender in `config`, the culprit must be the signer of the incriminating message,
    /// and the messages must prove the stated fault:
    ///
    /// * [`FaultKind::BadCommitment`]: the culprit's signed dealing has a commitment of degree
    ///   other than `config.t` or (resharing) a constant term other than its old public share;
    /// * [`FaultKind::InvalidDealing`]: its signed dealing has an invalid ephemeral-key proof or
    ///   malformed ciphertexts;
    /// * [`FaultKind::Equivocation`]: two different dealings, or two different justifications,
    ///   of the culprit seat, both signed by its owner;
    /// * [`FaultKind::BadShare`]: its signed dealing and a signed complaint whose revealed
    ///   Diffie–Hellman point has a valid DLEQ proof and decrypts a disputed ciphertext to
    ///   nothing or to a share inconsistent with the commitment;
    /// * [`FaultKind::WrongJustification`]: the same, plus the culprit's signed justification of
    ///   that dealing (by digest) that omits such a disputed share or reveals one inconsistent
    ///   with the commitment;
    /// * [`FaultKind::FalseComplaint`]: the culprit's signed complaint and, for the entry proven
    ///   false, the signed dealing *that entry names* (its digest): an entry names seats the
    ///   culprit does not hold, or has an invalid DLEQ proof for that dealing, or disputes a
    ///   share of that dealing that decrypts correctly and matches the commitment. A dealing
    ///   other than the one named proves nothing: its dealer could have made the proof fail
    ///   or the share come out right;
    /// * [`FaultKind::EquivocatingComplaint`]: two different complaints signed by the culprit.
    ///
    /// Every signature is checked in `config`'s digest ([`DkgConfig::digest`]), so messages
    /// of another session or configuration prove nothing.
    ///
    /// [`FaultKind::Silent`] is always rejected: silence is attested by the synchronous
    /// broadcast, not by any message, so it cannot be proven to a third party.
    pub fn verify(&self, config: &DkgConfig<V>) -> Result<(), Error> {
        let context = &config.digest();
        match self.kind {
            FaultKind::Silent => Err(Error::InvalidEvidence(
                "silence cannot be proven by messages",
            )),
            FaultKind::BadCommitment => {
                let d = self.culprit_dealing(config, context)?;
                let c = &d.body.commitment;
                let wrong_constant = config
                    .previous
                    .as_ref()
                    .is_some_and(|prev| prev.evaluate(self.culprit).to_affine() != c.points()[0]);
                if c.degree() != config.t || wrong_constant {
                    Ok(())
                } else {
                    Err(Error::InvalidEvidence("the commitment is well formed"))
                }
            }
            FaultKind::InvalidDealing => {
                let d = &self.culprit_dealing(config, context)?.body;
                let n = config.players.seats() as usize;
                let malformed = d.ciphertexts.len() != n
                    || d.ciphertexts.iter().any(|c| c.0.len() != CIPHERTEXT_SIZE);
                let bad_proof = !d.ephemeral_proof.verify(
                    &d.ephemeral,
                    b"ephemeral",
                    &Dealing::<V>::ephemeral_context(context, d.dealer),
                );
                if malformed || bad_proof {
                    Ok(())
                } else {
                    Err(Error::InvalidEvidence("the dealing is well formed"))
                }
            }
            FaultKind::Equivocation => {
                let key = dealer_key(config, self.culprit)?;
                let dealings: Vec<&Signed<Dealing<V>>> = self
                    .dealings()
                    .filter(|d| d.body.dealer == self.culprit && d.verify(context, &key))
                    .collect();
                let justifications: Vec<&Signed<Justification>> = self
                    .messages
                    .iter()
                    .filter_map(|m| match m {
                        SignedMessage::Justification(j)
                            if j.body.dealer == self.culprit && j.verify(context, &key) =>
                        {
                            Some(j)
                        }
                        _ => None,
                    })
                    .collect();
                if two_different(&dealings) || two_different(&justifications) {
                    Ok(())
                } else {
                    Err(Error::InvalidEvidence(
                        "no two different messages of one round signed by the culprit",
                    ))
                }
            }
            FaultKind::BadShare => {
                let d = self.culprit_dealing(config, context)?;
                if self.upheld_seats(config, context, d).is_empty() {
                    Err(Error::InvalidEvidence("no complaint proves a bad share"))
                } else {
                    Ok(())
                }
            }
            FaultKind::WrongJustification => {
                let d = self.culprit_dealing(config, context)?;
                let key = dealer_key(config, self.culprit)?;
                let upheld = self.upheld_seats(config, context, d);
                let wrong = self.messages.iter().any(|m| match m {
                    SignedMessage::Justification(j)
                        if j.body.dealer == self.culprit
                            && j.body.dealing == d.body.digest_for(context)
                            && j.verify(context, &key) =>
                    {
                        upheld.iter().any(|&seat| {
                            match j.body.shares.iter().find(|s| s.seat == seat) {
                                Some(s) => !check_share(&d.body.commitment, seat, &s.value),
                                None => true,
                            }
                        })
                    }
                    _ => false,
                });
                if wrong {
                    Ok(())
                } else {
                    Err(Error::InvalidEvidence(
                        "no signed justification fails an upheld complaint",
                    ))
                }
            }
            FaultKind::FalseComplaint => self.verify_false_complaint(config, context),
            FaultKind::EquivocatingComplaint => {
                let member = config
                    .players
                    .member(self.culprit)
                    .ok_or(Error::InvalidEvidence("the culprit is not a player"))?;
                let limits = config.limits();
                let signed: Vec<&Signed<Complaint>> = self
                    .complaints(&limits)
                    .filter(|c| {
                        c.body.complainer == self.culprit && c.verify(context, &member.signing_key)
                    })
                    .collect();
                if two_different(&signed) {
                    Ok(())
                } else {
                    Err(Error::InvalidEvidence(
                        "no two different complaints signed by the culprit",
                    ))
                }
            }
        }
    }

    fn dealings(&self) -> impl Iterator<Item = &Signed<Dealing<V>>> {
        self.messages.iter().filter_map(|m| match m {
            SignedMessage::Dealing(d) => Some(&**d),
            _ => None,
        })
    }

    /// The quoted complaints a participant could have accepted: those of the session's shape
    /// (at most one entry per dealer seat, bounded seat lists). Others prove nothing, and
    /// skipping them bounds the work of judging to one DLEQ check and decryption per dealer.
    fn complaints<'a>(
        &'a self,
        limits: &'a crate::config::Limits,
    ) -> impl Iterator<Item = &'a Signed<Complaint>> + 'a {
        self.messages.iter().filter_map(move |m| match m {
            SignedMessage::Complaint(c) if c.body.check_shape(limits).is_ok() => Some(c),
            _ => None,
        })
    }

    /// The first dealing of the culprit's seat with a valid signature of its owner.
    fn culprit_dealing(
        &self,
        config: &DkgConfig<V>,
        context: &[u8; 32],
    ) -> Result<&Signed<Dealing<V>>, Error> {
        let key = dealer_key(config, self.culprit)?;
        self.dealings()
            .find(|d| d.body.dealer == self.culprit && d.verify(context, &key))
            .ok_or(Error::InvalidEvidence("no dealing signed by the culprit"))
    }

    /// Seats of `dealing` that a quoted, validly signed complaint naming it proves bad.
    fn upheld_seats(
        &self,
        config: &DkgConfig<V>,
        context: &[u8; 32],
        dealing: &Signed<Dealing<V>>,
    ) -> Vec<u32> {
        let mut seats = Vec::new();
        let limits = config.limits();
        for c in self.complaints(&limits) {
            let Some(member) = config.players.member(c.body.complainer) else {
                continue;
            };
            if !c.verify(context, &member.signing_key) {
                continue;
            }
            for e in c
                .body
                .entries
                .iter()
                .filter(|e| e.dealer == dealing.body.dealer)
            {
                if let Judgement::Upheld(s) | Judgement::Mixed(s) =
                    judge(context, member, &dealing.body, e)
                {
                    seats.extend(s);
                }
            }
        }
        seats.sort_unstable();
        seats.dedup();
        seats
    }

    fn verify_false_complaint(
        &self,
        config: &DkgConfig<V>,
        context: &[u8; 32],
    ) -> Result<(), Error> {
        let member = config
            .players
            .member(self.culprit)
            .ok_or(Error::InvalidEvidence("the culprit is not a player"))?;
        let limits = config.limits();
        let complaint = self
            .complaints(&limits)
            .find(|c| c.body.complainer == self.culprit && c.verify(context, &member.signing_key))
            .ok_or(Error::InvalidEvidence("no complaint signed by the culprit"))?;
        for e in &complaint.body.entries {
            if e.seats.is_empty() || e.seats.iter().any(|s| !member.seats.contains(s)) {
                return Ok(());
            }
            let Ok(key) = dealer_key(config, e.dealer) else {
                continue;
            };
            // Only the dealing the entry names (by digest) can prove it false.
            let accused = self.dealings().find(|d| {
                d.body.dealer == e.dealer
                    && d.body.digest_for(context) == e.dealing
                    && d.verify(context, &key)
            });
            if let Some(d) = accused {
                if matches!(
                    judge(context, member, &d.body, e),
                    Judgement::False(_) | Judgement::Mixed(_)
                ) {
                    return Ok(());
                }
            }
        }
        Err(Error::InvalidEvidence(
            "no entry of the complaint is proven false",
        ))
    }
}

fn dealer_key<V: Variant>(config: &DkgConfig<V>, seat: u32) -> Result<crate::sigma::Point, Error> {
    config
        .dealers
        .owner_of(seat)
        .map(|m| m.signing_key)
        .ok_or(Error::InvalidEvidence("the culprit is not a dealer seat"))
}

/// Whether two of `items` differ in their bodies.
fn two_different<T: PartialEq>(items: &[&Signed<T>]) -> bool {
    items.iter().any(|a| items.iter().any(|b| a.body != b.body))
}

/// The outcome of checking one complaint entry against the accused dealing.
pub(crate) enum Judgement {
    /// The entry names another dealing (digest) than this one: nothing follows from it.
    Unrelated,
    /// The evidence is invalid, or every disputed share is in fact correct (why).
    False(&'static str),
    /// Every disputed seat's ciphertext is undecryptable or inconsistent (the listed seats).
    Upheld(Vec<u32>),
    /// Some disputed seats are bad (listed), others are correct: both facts hold.
    Mixed(Vec<u32>),
}

/// Judge one complaint entry of `member` against `dealing` in the configuration with digest
/// `context` (the same rule every participant applies at the end of round 2). Claiming seats
/// one does not hold is false whatever the dealing; everything else is judged only against
/// the dealing the entry names, whose digest the DLEQ proof is bound to — so an invalid proof
/// is the complainer's fault, never something the dealer could cause with another dealing.
pub(crate) fn judge<V: Variant>(
    context: &[u8; 32],
    member: &Member,
    dealing: &Dealing<V>,
    entry: &ComplaintEntry,
) -> Judgement {
    if entry.seats.is_empty() || entry.seats.iter().any(|s| !member.seats.contains(s)) {
        return Judgement::False("seats not held by the complainer");
    }
    let h = dealing.transcript_hash(context);
    if dealing.signed_digest(&h) != entry.dealing {
        return Judgement::Unrelated;
    }
    if !entry.proof.verify(
        &member.encryption_key,
        &dealing.ephemeral,
        &entry.shared_point,
        &entry.dealing,
    ) {
        return Judgement::False("invalid DLEQ proof");
    }
    let secret = SharedSecret::from_point(&entry.shared_point);
    let mut bad = Vec::new();
    let mut good = false;
    for &seat in &entry.seats {
        let ok = dealing
            .ciphertexts
            .get((seat as usize).wrapping_sub(1))
            .and_then(|ct| secret.decrypt_share(&h, seat, &ct.0))
            .is_some_and(|s| check_share(&dealing.commitment, seat, &s));
        if ok {
            good = true;
        } else {
            bad.push(seat);
        }
    }
    match (bad.is_empty(), good) {
        (true, _) => Judgement::False("the disputed shares are correct"),
        (false, false) => Judgement::Upheld(bad),
        (false, true) => Judgement::Mixed(bad),
    }
}
