//! Structured evidence of misbehaviour: the culprit, the kind of fault, and the signed messages
//! that prove it (a silent dealer leaves none: absence is attested by the synchronous broadcast).

use conclave_threshold_sig::Variant;

use crate::messages::{Complaint, Dealing, Justification, Signed};

/// What a culprit did wrong.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The dealer sent no validly signed dealing before the deal deadline.
    Silent,
    /// The dealer's commitment has the wrong degree or (resharing) a constant term other than
    /// its public share.
    BadCommitment,
    /// The dealing is malformed (ciphertext count or size) or its ephemeral-key proof is invalid.
    InvalidDealing,
    /// The dealer signed two different dealings.
    Equivocation,
    /// A complaint proved the dealer's ciphertext undecryptable or inconsistent with its
    /// commitment, and the dealer did not justify.
    BadShare,
    /// The dealer answered an upheld complaint with a share inconsistent with its commitment.
    WrongJustification,
    /// A player complained with invalid evidence, or about a share that is in fact correct.
    FalseComplaint,
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
        }
    }

    /// Whether the culprit is a dealer (disqualified) or a player (evidence only).
    pub fn is_dealer_fault(&self) -> bool {
        !matches!(self, FaultKind::FalseComplaint)
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
