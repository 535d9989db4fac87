//! Oracles over a finished run, and the forensic cross-check that turns the honest nodes'
//! message logs into evidence when a fault escaped every single node's view (e.g. a proposer
//! that showed each half a different value).

use crate::codec::decode;
use crate::evidence::{Evidence, EvidenceKind};
use crate::traits::Verifier;
use crate::types::{
    proposal_message, Decided, Message, NodeId, Seed, ValueId, VoteStep, VoteValue,
};
use std::collections::{BTreeMap, BTreeSet};

type VoteKey = (NodeId, u64, u32, VoteStep);
type ProposalKey = (NodeId, u64, u32);

/// Signed votes and proposals as received by honest nodes (at most two versions per slot).
#[derive(Default)]
pub(crate) struct ForensicLog {
    votes: BTreeMap<VoteKey, BTreeMap<VoteValue, Vec<u8>>>,
    proposals: BTreeMap<ProposalKey, BTreeMap<ValueId, Vec<u8>>>,
}

impl ForensicLog {
    /// Logs a message an honest node received from `from` over an authenticated link.
    pub fn record(&mut self, from: NodeId, bytes: &[u8], verifier: &dyn Verifier) {
        match decode(bytes) {
            Ok(Message::Vote(v)) if v.voter == from => {
                let slot = self
                    .votes
                    .entry((from, v.height.0, v.period.0, v.step))
                    .or_default();
                if slot.len() < 3 {
                    slot.entry(v.value).or_insert_with(|| bytes.to_vec());
                }
            }
            Ok(Message::Proposal(p)) if p.proposer == from => {
                let slot = self
                    .proposals
                    .entry((from, p.height.0, p.period.0))
                    .or_default();
                if slot.len() < 2 {
                    slot.entry(verifier.value_id(&p.value))
                        .or_insert_with(|| bytes.to_vec());
                }
            }
            _ => {}
        }
    }

    /// Evidence of double votes and double proposals whose signatures all verify.
    pub fn analyse(&self, verifier: &dyn Verifier) -> Vec<Evidence> {
        let mut out = Vec::new();
        for ((voter, h, _, step), versions) in &self.votes {
            let signed: Vec<(&VoteValue, &Vec<u8>)> = versions
                .iter()
                .filter(|(_, bytes)| match decode(bytes) {
                    Ok(Message::Vote(v)) => {
                        verifier.verify_share(v.voter, &v.message(), &v.signature)
                    }
                    _ => false,
                })
                .collect();
            let conflicting = if step.is_next() {
                signed
                    .iter()
                    .filter(|(v, _)| **v != VoteValue::Bottom)
                    .count()
                    >= 2
            } else {
                signed.len() >= 2
            };
            if conflicting {
                let proof = signed.iter().take(2).map(|(_, b)| (*b).clone()).collect();
                out.push(Evidence {
                    culprit: *voter,
                    kind: EvidenceKind::Equivocation,
                    height: crate::types::Height(*h),
                    proof,
                    attributable: verifier.attributable(),
                });
            }
        }
        for ((proposer, h, _), versions) in &self.proposals {
            let signed: Vec<&Vec<u8>> = versions
                .values()
                .filter(|bytes| match decode(bytes) {
                    Ok(Message::Proposal(p)) => verifier.verify_share(
                        p.proposer,
                        &proposal_message(p.epoch, p.height, p.period, verifier.value_id(&p.value)),
                        &p.signature,
                    ),
                    _ => false,
                })
                .collect();
            if signed.len() >= 2 {
                let proof = signed.iter().take(2).map(|b| (*b).clone()).collect();
                out.push(Evidence {
                    culprit: *proposer,
                    kind: EvidenceKind::ConflictingProposals,
                    height: crate::types::Height(*h),
                    proof,
                    attributable: verifier.attributable(),
                });
            }
        }
        out
    }
}

/// Inputs to the oracles.
pub(crate) struct Outcome<'a> {
    pub heights: u64,
    pub tolerated: u32,
    pub honest: &'a [NodeId],
    pub decisions: &'a BTreeMap<u32, Vec<Decided>>,
    pub integrity: &'a [String],
    pub evidence: &'a [Evidence],
    pub verifier: &'a dyn Verifier,
    pub genesis_seed: Seed,
    pub validate: &'a dyn Fn(u64, &[u8]) -> bool,
}

/// Runs every oracle; returns the violations.
pub(crate) fn check(o: &Outcome<'_>) -> Vec<String> {
    let mut violations: Vec<String> = o.integrity.to_vec();
    let mut agreement_broken = false;
    // Each node's sortition seeds, chained from genesis through its own decisions.
    let seeds: BTreeMap<u32, Vec<Seed>> = o
        .decisions
        .iter()
        .map(|(node, ds)| {
            let mut chain = vec![o.genesis_seed];
            for d in ds {
                let last = chain[chain.len() - 1];
                chain.push(o.verifier.next_seed(&last, &d.certificate));
            }
            (*node, chain)
        })
        .collect();
    for h in 1..=o.heights {
        let mut values: BTreeMap<ValueId, Vec<u32>> = BTreeMap::new();
        for node in o.honest {
            let decided = o
                .decisions
                .get(&node.0)
                .and_then(|ds| ds.iter().find(|d| d.certificate.height.0 == h));
            let Some(d) = decided else {
                violations.push(format!(
                    "liveness: node {} did not decide height {h}",
                    node.0
                ));
                continue;
            };
            values
                .entry(d.certificate.value_id)
                .or_default()
                .push(node.0);
            if !(o.validate)(h, &d.value) {
                violations.push(format!(
                    "validity: node {} decided an invalid value at height {h}",
                    node.0
                ));
            }
            let c = &d.certificate;
            let seed = seeds
                .get(&node.0)
                .and_then(|chain| chain.get(h as usize - 1))
                .copied()
                .unwrap_or(o.genesis_seed);
            if o.verifier.value_id(&d.value) != c.value_id
                || !crate::traits::verify_decision_certificate(o.verifier, &seed, c)
            {
                violations.push(format!(
                    "certificate: node {}'s certificate for height {h} does not verify",
                    node.0
                ));
            }
        }
        if values.len() > 1 {
            agreement_broken = true;
            let sides: Vec<String> = values
                .iter()
                .map(|(v, nodes)| format!("{:?} by {}", nodes, hex::encode(&v.0[..6])))
                .collect();
            violations.push(format!(
                "agreement: height {h} decided differently: {}",
                sides.join(" vs ")
            ));
        }
    }
    if agreement_broken {
        let culprits: BTreeSet<NodeId> = o
            .evidence
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EvidenceKind::Equivocation | EvidenceKind::ConflictingProposals
                )
            })
            .map(|e| e.culprit)
            .collect();
        if culprits.len() <= o.tolerated as usize {
            violations.push(format!(
                "accountability: safety broke but only {} culprits are proven",
                culprits.len()
            ));
        }
    }
    violations
}
