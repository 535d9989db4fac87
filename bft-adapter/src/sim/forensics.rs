//! Accountability after a fork: each honest node's own transcript of the signed votes and
//! proposals it received, and the forensic exchange that turns the pooled transcripts of a
//! forked height into evidence.
//!
//! This is what honest nodes would do once they see two certificates for one height: publish
//! what they received at that height, so that anyone can find a seat that signed two conflicting
//! statements (the quorum-intersection argument says at least f+1 seats must have): two votes
//! in one step, two proposals in one period, or, for certificates of different periods, a cert
//! vote and a conflicting next vote in one period ([`EvidenceKind::LockViolation`]; see
//! `crate::evidence` for what of the cross-period argument is provable). Nothing here
//! is trusted by the oracle: every piece of evidence built from the pooled transcripts is counted
//! only if [`Evidence::verify`] accepts it with the epoch's public verifier alone.
//!
//! Bounds: a transcript keeps at most two versions per vote slot (voter, period, step; three for
//! next steps, where a value and ⊥ are allowed) and two per proposal slot (proposer, period), and
//! only for heights some honest node has not decided yet (or that forked), so a long run holds a
//! few heights' worth, whatever it lasts.

use crate::codec::decode;
use crate::evidence::{Evidence, EvidenceKind};
use crate::traits::Verifier;
use crate::types::{Height, Message, NodeId, ValueId, VoteStep, VoteValue};
use std::collections::{BTreeMap, BTreeSet};

type VoteSlot = (NodeId, u32, VoteStep);
type ProposalSlot = (NodeId, u32);

/// One height of one node's transcript.
#[derive(Default)]
struct HeightTranscript {
    votes: BTreeMap<VoteSlot, BTreeMap<VoteValue, Vec<u8>>>,
    proposals: BTreeMap<ProposalSlot, BTreeMap<ValueId, Vec<u8>>>,
}

/// The signed messages one honest node received over its authenticated links, by height.
#[derive(Default)]
pub(crate) struct Transcript {
    heights: BTreeMap<u64, HeightTranscript>,
}

impl Transcript {
    /// Logs a message this node received from `from` (only the sender's own statements: a
    /// transcript is what the node can show it was told by whom).
    pub fn record(&mut self, from: NodeId, bytes: &[u8], verifier: &dyn Verifier) {
        match decode(bytes) {
            Ok(Message::Vote(v)) if v.voter == from => {
                let slot = self
                    .heights
                    .entry(v.height.0)
                    .or_default()
                    .votes
                    .entry((from, v.period.0, v.step))
                    .or_default();
                if slot.len() < 3 {
                    slot.entry(v.value).or_insert_with(|| bytes.to_vec());
                }
            }
            Ok(Message::Proposal(p)) if p.proposer == from => {
                let slot = self
                    .heights
                    .entry(p.height.0)
                    .or_default()
                    .proposals
                    .entry((from, p.period.0))
                    .or_default();
                if slot.len() < 2 {
                    slot.entry(verifier.value_id(&p.value))
                        .or_insert_with(|| bytes.to_vec());
                }
            }
            _ => {}
        }
    }

    /// Messages held.
    pub fn len(&self) -> usize {
        self.heights
            .values()
            .map(|t| {
                t.votes.values().map(BTreeMap::len).sum::<usize>()
                    + t.proposals.values().map(BTreeMap::len).sum::<usize>()
            })
            .sum()
    }

    /// The heights held below `height`.
    pub fn heights_below(&self, height: u64) -> impl Iterator<Item = u64> + '_ {
        self.heights.range(..height).map(|(h, _)| *h)
    }

    /// Forgets every height below `height` except those in `keep`.
    pub fn prune_below(&mut self, height: u64, keep: &BTreeSet<u64>) {
        self.heights.retain(|h, _| *h >= height || keep.contains(h));
    }
}

/// The forensic exchange for one forked height: pools the honest nodes' transcripts of that
/// height and returns every pair of conflicting statements of one seat (unverified: the oracle
/// counts a piece only if [`Evidence::verify`] accepts it).
pub(crate) fn exchange<'a>(
    height: u64,
    transcripts: impl IntoIterator<Item = &'a Transcript>,
    verifier: &dyn Verifier,
) -> Vec<Evidence> {
    let mut votes: BTreeMap<VoteSlot, BTreeMap<VoteValue, Vec<u8>>> = BTreeMap::new();
    let mut proposals: BTreeMap<ProposalSlot, BTreeMap<ValueId, Vec<u8>>> = BTreeMap::new();
    for t in transcripts {
        let Some(h) = t.heights.get(&height) else {
            continue;
        };
        for (slot, versions) in &h.votes {
            let pooled = votes.entry(*slot).or_default();
            for (value, bytes) in versions {
                pooled.entry(*value).or_insert_with(|| bytes.clone());
            }
        }
        for (slot, versions) in &h.proposals {
            let pooled = proposals.entry(*slot).or_default();
            for (id, bytes) in versions {
                pooled.entry(*id).or_insert_with(|| bytes.clone());
            }
        }
    }
    let attributable = verifier.attributable();
    let mut out = Vec::new();
    for ((voter, _, step), versions) in &votes {
        // Two values (for next steps: two non-⊥ values; a value and ⊥ is allowed).
        let conflicting: Vec<Vec<u8>> = versions
            .iter()
            .filter(|(v, _)| !step.is_next() || **v != VoteValue::Bottom)
            .map(|(_, b)| b.clone())
            .take(2)
            .collect();
        if conflicting.len() == 2 {
            out.push(Evidence {
                culprit: *voter,
                kind: EvidenceKind::Equivocation,
                height: Height(height),
                proof: conflicting,
                attributable,
            });
        }
    }
    // Lock violations: a cert vote for v and a next vote (any next step) for anything else in
    // the same period. One piece per voter is enough to prove it.
    let mut locked: BTreeSet<NodeId> = BTreeSet::new();
    for ((voter, period, step), versions) in &votes {
        if *step != VoteStep::Cert || locked.contains(voter) {
            continue;
        }
        let next = votes
            .range((*voter, *period, VoteStep::Next)..)
            .take_while(|((v, p, s), _)| v == voter && p == period && s.is_next());
        'found: for (_, next_versions) in next {
            for (cert_value, cert_bytes) in versions {
                if let Some((_, next_bytes)) = next_versions.iter().find(|(x, _)| *x != cert_value)
                {
                    out.push(Evidence {
                        culprit: *voter,
                        kind: EvidenceKind::LockViolation,
                        height: Height(height),
                        proof: vec![cert_bytes.clone(), next_bytes.clone()],
                        attributable,
                    });
                    locked.insert(*voter);
                    break 'found;
                }
            }
        }
    }
    for ((proposer, _), versions) in proposals {
        if versions.len() >= 2 {
            out.push(Evidence {
                culprit: proposer,
                kind: EvidenceKind::ConflictingProposals,
                height: Height(height),
                proof: versions.into_values().take(2).collect(),
                attributable,
            });
        }
    }
    out
}
