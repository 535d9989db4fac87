//! Fault evidence: who misbehaved, how, and the bytes that show it.
//!
//! Evidence of kind [`EvidenceKind::Equivocation`] and [`EvidenceKind::ConflictingProposals`] is
//! self-proving (two messages validly signed by the culprit). The other kinds name the
//! *transport sender* of a bad message; they prove misbehaviour only under the engine's
//! assumption of authenticated point-to-point channels (the proof is the offending message).

use crate::types::{Height, NodeId};
use serde::{Deserialize, Serialize};

/// The kind of misbehaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// Two different votes by one voter in one single-vote step.
    Equivocation,
    /// Two different proposals by one proposer in one period.
    ConflictingProposals,
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
