//! Vote tallies with lazy batch verification.
//!
//! Votes are stored unverified on arrival. Only when the verified plus pending weight for one
//! (period, step, value) could reach a quorum are the pending partial signatures checked, all at
//! once, with one [`Verifier::verify_batch`] call (two for cert votes: the vote and the beacon
//! share). Invalid entries are named by the verifier (bisection) and evicted, so a node does one
//! batch verification per step in the common case, never one pairing per vote. A cert quorum
//! is first combined unverified, where the scheme allows it: the certificate's own check then
//! stands in for both batch checks, and the votes are verified only if it fails.

use crate::traits::{Share, Verifier};
use crate::types::{NodeId, Vote, VoteStep, VoteValue};
use std::collections::BTreeMap;

/// One vote as held in a tally.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The transport sender (equal to the voter for accepted votes).
    pub from: NodeId,
    /// The vote.
    pub vote: Vote,
    /// Its verified sortition weight.
    pub weight: u64,
    /// Its encoding, kept as evidence material.
    pub bytes: Vec<u8>,
}

/// The votes for one value in one (period, step).
#[derive(Clone, Debug, Default)]
pub(crate) struct ValueTally {
    pub verified: BTreeMap<NodeId, Entry>,
    pub pending: BTreeMap<NodeId, Entry>,
    pub verified_weight: u64,
    pub pending_weight: u64,
    /// Cert step only: (certificate, beacon certificate) combined from a quorum of these
    /// votes *without verifying them one by one*, returned by
    /// [`Verifier::combine_unverified_with_beacon`] because both verified. The votes stay
    /// pending: the certificate is proven, not each vote, so a conflict still checks the
    /// vote it needs on its own.
    pub combined: Option<(Vec<u8>, Vec<u8>)>,
}

impl ValueTally {
    /// If a quorum may exist, batch-verifies the pending votes; returns the evicted invalid ones.
    ///
    /// A cert quorum is first combined as it is, unverified
    /// ([`ValueTally::combine_unverified`]): when every vote is valid, the certificate's one
    /// pairing product replaces both batch checks. Only if that fails are the votes checked.
    pub fn settle(&mut self, quorum: u64, verifier: &dyn Verifier) -> Vec<Entry> {
        if self.verified_weight >= quorum
            || self.combined.is_some()
            || self.pending.is_empty()
            || self.verified_weight + self.pending_weight < quorum
        {
            return Vec::new();
        }
        if self.pending.values().next().map(|e| e.vote.step) == Some(VoteStep::Cert)
            && self.combine_unverified(quorum, verifier)
        {
            return Vec::new();
        }
        let pending = std::mem::take(&mut self.pending);
        self.pending_weight = 0;
        let first = match pending.values().next() {
            Some(e) => e,
            None => return Vec::new(),
        };
        let message = first.vote.message();
        let shares: Vec<Share<'_>> = pending
            .values()
            .map(|e| Share {
                signer: e.vote.voter,
                credential: &e.vote.credential,
                signature: &e.vote.signature,
            })
            .collect();
        let mut bad = verifier
            .verify_batch(&message, &shares)
            .err()
            .unwrap_or_default();
        if first.vote.step == VoteStep::Cert {
            let beacon = crate::types::beacon_message(first.vote.epoch, first.vote.height);
            let beacon_shares: Vec<Share<'_>> = pending
                .values()
                .map(|e| Share {
                    signer: e.vote.voter,
                    credential: &e.vote.credential,
                    signature: &e.vote.beacon_share,
                })
                .collect();
            bad.extend(
                verifier
                    .verify_batch(&beacon, &beacon_shares)
                    .err()
                    .unwrap_or_default(),
            );
        }
        let mut invalid = Vec::new();
        for (voter, entry) in pending {
            if bad.contains(&voter) {
                invalid.push(entry);
            } else {
                self.verified_weight += entry.weight;
                self.verified.insert(voter, entry);
            }
        }
        invalid
    }
}

impl ValueTally {
    /// Cert step: combines verified votes first (this node's own), then pending ones, up to
    /// `quorum` weight, into a certificate and beacon without verifying the votes; keeps the
    /// pair in [`ValueTally::combined`] if the verifier checked both. False if it did not
    /// (an invalid vote among them, or a scheme that cannot do this).
    fn combine_unverified(&mut self, quorum: u64, verifier: &dyn Verifier) -> bool {
        let mut weight = 0;
        let mut chosen = Vec::new();
        for e in self.verified.values().chain(self.pending.values()) {
            if weight >= quorum {
                break;
            }
            weight += e.weight;
            chosen.push(e);
        }
        let Some(first) = chosen.first() else {
            return false;
        };
        let message = first.vote.message();
        let beacon = crate::types::beacon_message(first.vote.epoch, first.vote.height);
        let shares: Vec<Share<'_>> = chosen
            .iter()
            .map(|e| Share {
                signer: e.vote.voter,
                credential: &e.vote.credential,
                signature: &e.vote.signature,
            })
            .collect();
        let beacon_shares: Vec<Share<'_>> = chosen
            .iter()
            .map(|e| Share {
                signer: e.vote.voter,
                credential: &e.vote.credential,
                signature: &e.vote.beacon_share,
            })
            .collect();
        self.combined = verifier.combine_unverified_with_beacon(
            &message,
            &shares,
            &beacon,
            first.vote.period,
            &beacon_shares,
        );
        self.combined.is_some()
    }
}

/// What happened when a vote was added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AddOutcome {
    /// The same vote was already held: a no-op.
    Duplicate,
    /// Stored.
    Added,
    /// The voter already voted differently in this step.
    Conflict(VoteValue),
}

/// All votes of one (period, step).
#[derive(Clone, Debug, Default)]
pub(crate) struct StepTally {
    by_voter: BTreeMap<NodeId, Vec<VoteValue>>,
    pub by_value: BTreeMap<VoteValue, ValueTally>,
}

impl StepTally {
    /// Adds a vote; `trusted` votes (our own) skip verification.
    ///
    /// One vote per voter per step, except step 4/5 and next_k votes, where BA* lets an
    /// honest node next-vote ⊥ and a value (one of each); fast-recovery steps hold one vote.
    pub fn add(&mut self, entry: Entry, trusted: bool) -> AddOutcome {
        let voter = entry.vote.voter;
        let value = entry.vote.value;
        let prior = self.by_voter.entry(voter).or_default();
        if prior.contains(&value) {
            return AddOutcome::Duplicate;
        }
        let conflicting = prior.iter().copied().find(|p| {
            !entry.vote.step.allows_bottom_and_value()
                || (*p == VoteValue::Bottom) == (value == VoteValue::Bottom)
        });
        if let Some(existing) = conflicting {
            return AddOutcome::Conflict(existing);
        }
        prior.push(value);
        let tally = self.by_value.entry(value).or_default();
        if trusted {
            tally.verified_weight += entry.weight;
            tally.verified.insert(voter, entry);
        } else {
            tally.pending_weight += entry.weight;
            tally.pending.insert(voter, entry);
        }
        AddOutcome::Added
    }

    /// The stored vote of `voter` for `value`, if any.
    pub fn get(&self, voter: NodeId, value: VoteValue) -> Option<&Entry> {
        let t = self.by_value.get(&value)?;
        t.verified.get(&voter).or_else(|| t.pending.get(&voter))
    }

    /// True if `voter`'s vote for `value` is still unverified.
    pub fn is_pending(&self, voter: NodeId, value: VoteValue) -> bool {
        self.by_value
            .get(&value)
            .is_some_and(|t| t.pending.contains_key(&voter))
    }

    /// Forgets a vote (found invalid), so the voter's genuine vote can still be counted.
    pub fn remove(&mut self, voter: NodeId, value: VoteValue) {
        if let Some(prior) = self.by_voter.get_mut(&voter) {
            prior.retain(|v| *v != value);
        }
        if let Some(t) = self.by_value.get_mut(&value) {
            if let Some(e) = t.pending.remove(&voter) {
                t.pending_weight -= e.weight;
            }
            if let Some(e) = t.verified.remove(&voter) {
                t.verified_weight -= e.weight;
            }
        }
    }

    /// Forgets votes evicted by [`ValueTally::settle`] from the per-voter index.
    pub fn forget(&mut self, voter: NodeId, value: VoteValue) {
        if let Some(prior) = self.by_voter.get_mut(&voter) {
            prior.retain(|v| *v != value);
        }
    }

    /// Values whose verified weight reaches `quorum`, or (cert step) whose quorum combined
    /// into a verified certificate.
    pub fn quorum_values(&self, quorum: u64) -> Vec<VoteValue> {
        self.by_value
            .iter()
            .filter(|(_, t)| t.verified_weight >= quorum || t.combined.is_some())
            .map(|(v, _)| *v)
            .collect()
    }
}
