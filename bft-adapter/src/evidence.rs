//! Fault evidence: who misbehaved, how, and the bytes that show it.
//!
//! Evidence of kind [`EvidenceKind::Equivocation`] and [`EvidenceKind::ConflictingProposals`]
//! is two conflicting messages signed for the culprit. It proves the fault to a third party
//! ([`Evidence::verify`]) **only if the signatures are attributable**
//! ([`Verifier::attributable`]):
//!
//! - With threshold partial signatures (the default mode) they are not. Anyone holding t+1
//!   partials on a message (2f+1 for n = 3f+1, e.g. the f Byzantine seats plus the honest votes
//!   for a value that just reached a quorum) can compute every other seat's partial on that
//!   message by Lagrange interpolation in the exponent. Pairing that computed partial with the
//!   seat's genuine vote for another value gives two "validly signed" conflicting votes for an
//!   honest seat. Such evidence is reported with `attributable: false`, and
//!   [`Evidence::verify`] refuses it ([`EvidenceError::NotAttributable`]): it may inform the
//!   operator, never slash.
//! - With individual keys (sampled mode, or threshold mode with
//!   [`crate::adapter::ThresholdVerifier::with_individual_keys`], where every vote also carries
//!   the seat's own BLS signature under a key registered with a proof of possession) the same
//!   evidence is real and slashable.
//!
//! **Cross-period forks.** A cert quorum C for v in period p and one for v' ≠ v in p' > p
//! imply, with fewer faulty seats than a quorum, a next-quorum N for something other than v
//! (⊥ or another value) in period p itself: honest nodes soft-vote v' in p' only when released
//! by a ⊥ next-quorum of p'−1 or pinned to v' by one, an honest next vote for anything but v̄
//! needs a release, a soft quorum of that period or a cert vote (which needs one), and so on
//! back to period p. C and N then share at least 2q − n seats (f+1 for n = 3f+1 and
//! q = 2f+1), each of which signed a cert vote for v and a conflicting next vote in p:
//! [`EvidenceKind::LockViolation`], provable from the two signed votes alone. What is *not*
//! provable is the later periods' part of the argument: a soft or next vote in p+1, …, p'
//! for another value than v̄ is honest if a ⊥ next-quorum of the previous period reached the
//! voter, and nothing the voter signed shows whether one did (votes carry no justification).
//! So with at least a quorum of faulty seats, or in sampled mode (where the cert and next
//! committees of p are different samples and need not intersect in f+1 seats), a
//! cross-period fork may have no proof; the simulator reports it as "unaccountable:
//! cross-period".
//!
//! The other kinds name the *transport sender* of a bad message; they prove misbehaviour only
//! under the engine's assumption of authenticated point-to-point channels (the proof is the
//! offending message), so they are never attributable to a third party.

use crate::codec::decode;
use crate::traits::Verifier;
use crate::types::{proposal_message, Epoch, Height, Message, NodeId, VoteStep, VoteValue};
use serde::{Deserialize, Serialize};

/// The kind of misbehaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EvidenceKind {
    /// Two different votes by one voter in one single-vote step.
    Equivocation,
    /// Two different proposals by one proposer in one period.
    ConflictingProposals,
    /// A cert vote for a value and a next vote (any next step) for anything else, ⊥ or another
    /// value, by one voter in one period. An honest node that cert-votes v next-votes only v
    /// in that period (it cert-votes before its first next vote, then step 4, step 5 and every
    /// next_k step name the value it cert-voted), so a seat that signed both broke the lock
    /// that makes certificates of different periods agree: see the module docs.
    LockViolation,
    /// A vote or proposal whose signature (or beacon share) does not verify.
    InvalidSignature,
    /// A proposer or voter credential that does not verify.
    InvalidCredential,
    /// A proposal whose value the application rejected.
    InvalidValue,
    /// A decision whose certificate does not verify.
    InvalidCertificate,
    /// Bytes that are not a canonical message.
    Malformed,
    /// A vote or proposal relayed by someone other than its signer (honest nodes never relay).
    Impersonation,
    /// A message from a node outside the committee or for another epoch.
    NotMember,
}

impl EvidenceKind {
    /// Every kind, in declaration order.
    pub const ALL: [EvidenceKind; 10] = [
        EvidenceKind::Equivocation,
        EvidenceKind::ConflictingProposals,
        EvidenceKind::LockViolation,
        EvidenceKind::InvalidSignature,
        EvidenceKind::InvalidCredential,
        EvidenceKind::InvalidValue,
        EvidenceKind::InvalidCertificate,
        EvidenceKind::Malformed,
        EvidenceKind::Impersonation,
        EvidenceKind::NotMember,
    ];

    /// The kind's name, as in JSON (`"conflicting-proposals"`).
    pub fn name(self) -> &'static str {
        match self {
            EvidenceKind::Equivocation => "equivocation",
            EvidenceKind::ConflictingProposals => "conflicting-proposals",
            EvidenceKind::LockViolation => "lock-violation",
            EvidenceKind::InvalidSignature => "invalid-signature",
            EvidenceKind::InvalidCredential => "invalid-credential",
            EvidenceKind::InvalidValue => "invalid-value",
            EvidenceKind::InvalidCertificate => "invalid-certificate",
            EvidenceKind::Malformed => "malformed",
            EvidenceKind::Impersonation => "impersonation",
            EvidenceKind::NotMember => "not-member",
        }
    }
}

impl std::fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    /// The misbehaving node.
    pub culprit: NodeId,
    /// What it did.
    pub kind: EvidenceKind,
    /// The height concerned (0 when unknown, e.g. malformed bytes).
    pub height: Height,
    /// Encoded messages demonstrating the fault.
    #[serde(with = "hex_list")]
    pub proof: Vec<Vec<u8>>,
    /// True if the proof convinces a third party on its own ([`Evidence::verify`]): a
    /// double-signing kind under attributable signatures. False for every transport-level kind
    /// and for double-signing evidence built from threshold partial signatures.
    #[serde(default)]
    pub attributable: bool,
}

/// Why [`Evidence::verify`] does not accept a piece of evidence as proof.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The kind names a transport sender; only the receiving node can judge it.
    #[error("{0} evidence is not self-proving (it relies on an authenticated channel)")]
    NotSelfProving(EvidenceKind),
    /// The verifier's signatures can be computed from other seats' (threshold partials).
    #[error("the signatures are not attributable: a quorum of partials yields any seat's partial")]
    NotAttributable,
    /// The proof must hold exactly two messages.
    #[error("the proof holds {0} messages, not 2")]
    ProofLength(usize),
    /// A proof message does not decode to the expected message type.
    #[error("proof message {0} is not a canonical message of the right type")]
    Malformed(usize),
    /// The two messages are not two different statements of the culprit for one slot of the
    /// evidence's height in this epoch.
    #[error("the proof messages do not conflict")]
    NotConflicting,
    /// A proof message's signature does not verify for the culprit.
    #[error("the signature of proof message {0} does not verify for the culprit")]
    BadSignature(usize),
}

impl Evidence {
    /// Checks, with nothing but the epoch's public `verifier`, that this evidence proves its
    /// culprit signed two conflicting statements: two votes for different values in one
    /// single-vote step (soft, cert and the fast-recovery steps; for step 4/5 and next_k
    /// votes, two different non-⊥ values), or two proposals of
    /// different values in one period, at this evidence's height, in `epoch`.
    ///
    /// [`EvidenceKind::LockViolation`]: the first message is the culprit's cert vote for a
    /// value, the second its vote in a next step of the same period for anything else.
    ///
    /// Refuses every other kind, and refuses these too when the verifier's signatures are not
    /// attributable (threshold partials): see the module docs.
    pub fn verify(&self, epoch: Epoch, verifier: &dyn Verifier) -> Result<(), EvidenceError> {
        if !matches!(
            self.kind,
            EvidenceKind::Equivocation
                | EvidenceKind::ConflictingProposals
                | EvidenceKind::LockViolation
        ) {
            return Err(EvidenceError::NotSelfProving(self.kind));
        }
        if !verifier.attributable() {
            return Err(EvidenceError::NotAttributable);
        }
        let [first, second] = self.proof.as_slice() else {
            return Err(EvidenceError::ProofLength(self.proof.len()));
        };
        let (a, b) = (decode(first), decode(second));
        match (self.kind, a, b) {
            (EvidenceKind::LockViolation, Ok(Message::Vote(a)), Ok(Message::Vote(b))) => {
                let same_period = a.epoch == epoch
                    && b.epoch == epoch
                    && a.height == self.height
                    && b.height == self.height
                    && a.period == b.period
                    && a.voter == self.culprit
                    && b.voter == self.culprit;
                let conflicting = a.step == VoteStep::Cert
                    && b.step.is_next()
                    && matches!(a.value, VoteValue::Value(_))
                    && b.value != a.value;
                if !same_period || !conflicting {
                    return Err(EvidenceError::NotConflicting);
                }
                for (i, v) in [&a, &b].into_iter().enumerate() {
                    if !verifier.verify_share(self.culprit, &v.message(), &v.signature) {
                        return Err(EvidenceError::BadSignature(i));
                    }
                }
                Ok(())
            }
            (EvidenceKind::Equivocation, Ok(Message::Vote(a)), Ok(Message::Vote(b))) => {
                let same_slot = a.epoch == epoch
                    && b.epoch == epoch
                    && a.height == self.height
                    && b.height == self.height
                    && a.period == b.period
                    && a.step == b.step
                    && a.voter == self.culprit
                    && b.voter == self.culprit;
                let conflicting = a.value != b.value
                    && (!a.step.allows_bottom_and_value()
                        || (a.value != VoteValue::Bottom && b.value != VoteValue::Bottom));
                if !same_slot || !conflicting {
                    return Err(EvidenceError::NotConflicting);
                }
                for (i, v) in [&a, &b].into_iter().enumerate() {
                    if !verifier.verify_share(self.culprit, &v.message(), &v.signature) {
                        return Err(EvidenceError::BadSignature(i));
                    }
                }
                Ok(())
            }
            (
                EvidenceKind::ConflictingProposals,
                Ok(Message::Proposal(a)),
                Ok(Message::Proposal(b)),
            ) => {
                let (ida, idb) = (verifier.value_id(&a.value), verifier.value_id(&b.value));
                let same_slot = a.epoch == epoch
                    && b.epoch == epoch
                    && a.height == self.height
                    && b.height == self.height
                    && a.period == b.period
                    && a.proposer == self.culprit
                    && b.proposer == self.culprit;
                if !same_slot || ida == idb {
                    return Err(EvidenceError::NotConflicting);
                }
                for (i, (p, id)) in [(&a, ida), (&b, idb)].into_iter().enumerate() {
                    let message = proposal_message(p.epoch, p.height, p.period, id);
                    if !verifier.verify_share(self.culprit, &message, &p.signature) {
                        return Err(EvidenceError::BadSignature(i));
                    }
                }
                Ok(())
            }
            (_, a, _) => Err(EvidenceError::Malformed(usize::from(a.is_ok()))),
        }
    }
}

mod hex_list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(items: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        items
            .iter()
            .map(hex::encode)
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        items
            .into_iter()
            .map(|h| hex::decode(h).map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn kind_names_are_the_json_names_and_show_without_debug() {
        for kind in EvidenceKind::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json.as_str(), Some(kind.name()), "{kind:?}");
            assert_eq!(kind.to_string(), kind.name());
        }
        let e = EvidenceError::NotSelfProving(EvidenceKind::InvalidSignature);
        assert_eq!(
            e.to_string(),
            "invalid-signature evidence is not self-proving (it relies on an authenticated channel)"
        );
        let shares = crate::traits::CombineError::InvalidShares(vec![NodeId(2), NodeId(5)]);
        assert_eq!(shares.to_string(), "invalid shares from 2, 5");
    }
}
