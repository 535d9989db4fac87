//! What peers can make this engine hold and compute (issue #11 §3).
//!
//! - **Sizes.** Messages are decoded with the adapters' field sizes
//!   ([`crate::codec::WireSizes`]): a signature, credential or certificate of another length,
//!   or a value above [`Limits::max_value_bytes`], is rejected from its length prefix.
//! - **Quotas.** Everything kept from a peer at the current height (its votes, proposals,
//!   relayed payloads, bundles and a pending decision) is charged to it, at about what it
//!   occupies: at most [`Limits::round_bytes_per_peer`] per peer; the next-height buffer has
//!   its own per-peer quota; and all peer input together stays within
//!   [`Limits::peer_bytes_total`]. Over quota, input is dropped unverified (the peer re-sends
//!   what matters once old state is pruned). Charges are recounted exactly whenever the period
//!   changes (old periods' state is pruned then) and reset when the height is decided.
//! - **Work.** This node's sortition credentials are computed once per (period, step) and
//!   cached for the height, so inputs that find the node unselected cost no VRF evaluation.
//!
//! [`Limits::max_value_bytes`]: super::Limits::max_value_bytes
//! [`Limits::round_bytes_per_peer`]: super::Limits::round_bytes_per_peer
//! [`Limits::peer_bytes_total`]: super::Limits::peer_bytes_total

use super::tally::Entry;
use super::Engine;
use crate::types::{NodeId, Period, ValueId, VoteStep, VoteValue};
use std::collections::BTreeSet;

/// Bookkeeping bytes charged per stored item on top of its byte strings (map nodes, structs).
pub(super) const OVERHEAD: usize = 256;

/// The charge of a stored vote: its encoding plus the decoded copy in [`Entry::vote`].
pub(super) fn vote_charge(entry: &Entry) -> usize {
    2 * entry.bytes.len() + OVERHEAD
}

/// The charge of a stored proposal (or payload): its encoding plus the value's copy.
pub(super) fn proposal_charge(bytes: &[u8]) -> usize {
    2 * bytes.len() + OVERHEAD
}

impl Engine {
    /// Bytes this engine holds from peer input: the next-height buffer plus everything kept at
    /// the current height (bounded by [`super::Limits::peer_bytes_total`]).
    pub fn peer_bytes(&self) -> usize {
        self.buffered_bytes().saturating_add(self.round.held_total)
    }

    /// Bytes held from one peer (its share of [`Engine::peer_bytes`]; the current height's
    /// part is bounded by [`super::Limits::round_bytes_per_peer`], the next height's by
    /// [`super::Limits::future_bytes_per_peer`]).
    pub fn peer_bytes_of(&self, peer: NodeId) -> usize {
        let future = self.future_usage.get(&peer).map_or(0, |u| u.1);
        future.saturating_add(self.round.held.get(&peer).copied().unwrap_or(0))
    }

    /// True if `bytes` more from `peer` fit its current-height quota and the total.
    pub(super) fn has_room(&self, peer: NodeId, bytes: usize) -> bool {
        let limits = self.config.limits;
        let mine = self.round.held.get(&peer).copied().unwrap_or(0);
        mine.saturating_add(bytes) <= limits.round_bytes_per_peer
            && self.peer_bytes().saturating_add(bytes) <= limits.peer_bytes_total
    }

    /// Charges `bytes` of stored input to `peer` (after [`Engine::has_room`]).
    pub(super) fn charge(&mut self, peer: NodeId, bytes: usize) {
        *self.round.held.entry(peer).or_default() += bytes;
        self.round.held_total = self.round.held_total.saturating_add(bytes);
    }

    /// Returns a charge (the item was dropped again).
    pub(super) fn refund(&mut self, peer: NodeId, bytes: usize) {
        if let Some(held) = self.round.held.get_mut(&peer) {
            *held = held.saturating_sub(bytes);
        }
        self.round.held_total = self.round.held_total.saturating_sub(bytes);
    }

    /// This node's credential to propose (`step` `None`) or vote in `step` in `period` of the
    /// current height, evaluated once and cached (`None`: not selected).
    pub(super) fn own_credential(
        &mut self,
        period: Period,
        step: Option<VoteStep>,
    ) -> Option<Vec<u8>> {
        if let Some(cached) = self.round.own_credentials.get(&(period, step)) {
            return cached.clone();
        }
        let s = &self.adapters.sortition;
        let credential = match step {
            None => s.proposer_credential(&self.seed, self.height, period),
            Some(step) => s.voter_credential(&self.seed, self.height, period, step),
        };
        self.round
            .own_credentials
            .insert((period, step), credential.clone());
        credential
    }

    /// Drops what periods before `keep_from` left behind and recounts the charges: tallies
    /// (cert votes of every period still decide, so they stay), proposals, bundles, cached
    /// credentials, proofs of invalid input, values and payloads no longer referenced.
    pub(super) fn prune_round(&mut self, keep_from: Period) {
        let r = &mut self.round;
        r.tallies
            .retain(|(p, s), _| *s == VoteStep::Cert || *p >= keep_from);
        r.proposals.retain(|p, _| *p >= keep_from);
        // Next bundles that link period 1 to the kept periods (one per `period_window`
        // periods) stay: they move a node that fell further behind (see `send_chain`).
        let links: BTreeSet<_> = self
            .next_bundle_links(Period(1), keep_from)
            .into_iter()
            .collect();
        let r = &mut self.round;
        r.bundles
            .retain(|key, _| key.0 >= keep_from || links.contains(key));
        r.own_credentials.retain(|(p, _), _| *p >= keep_from);
        r.proven_invalid
            .retain(|(_, p, s)| *s == VoteStep::Cert || *p >= keep_from);
        r.muted_proposers.retain(|(_, p)| *p >= keep_from);
        let current = self.period;
        r.payload_misses.retain(|(_, p)| *p >= current);
        // Payloads to relay: values with a quorum in a kept period (or pinned by one).
        let mut relayed: BTreeSet<ValueId> = BTreeSet::new();
        relayed.extend(r.soft_quorum.range(keep_from..).map(|(_, id)| *id));
        for set in r.next_quorum.range(Period(keep_from.0.saturating_sub(1))..) {
            relayed.extend(set.1.iter().filter_map(|v| match v {
                VoteValue::Value(id) => Some(*id),
                VoteValue::Bottom => None,
            }));
        }
        r.payloads.retain(|id, _| relayed.contains(id));
        // Values still referenced: those, a kept proposal's, any period's soft quorum (a late
        // cert quorum of an old period may still decide it), the certificate's, a pending
        // decision's, and our own.
        let mut keep = relayed;
        keep.extend(
            r.proposals
                .values()
                .flat_map(|m| m.values().map(|e| e.value_id)),
        );
        keep.extend(r.soft_quorum.values().copied());
        keep.extend(r.certificate.as_ref().map(|c| c.value_id));
        keep.extend(
            r.pending_decision
                .as_ref()
                .map(|(_, d, _)| d.certificate.vote_id()),
        );
        keep.extend(r.own_value_id);
        r.values.retain(|id, _| keep.contains(id));
        let values = &r.values;
        r.seals.retain(|id, _| values.contains_key(id));
        self.recount();
    }

    /// Recomputes every charge from what is actually stored.
    fn recount(&mut self) {
        let me = self.config.id;
        let r = &mut self.round;
        r.held.clear();
        let mut attributed: Vec<(NodeId, usize)> = Vec::new();
        for tally in r.tallies.values() {
            for value in tally.by_value.values() {
                for e in value.verified.values().chain(value.pending.values()) {
                    if e.from != me {
                        attributed.push((e.from, vote_charge(e)));
                    }
                }
            }
        }
        for proposals in r.proposals.values() {
            for (proposer, e) in proposals {
                if *proposer != me {
                    attributed.push((*proposer, proposal_charge(&e.bytes)));
                }
            }
        }
        if let Some((Some(from), _, bytes)) = &r.pending_decision {
            attributed.push((*from, proposal_charge(bytes)));
        }
        let mut total = 0usize;
        for (peer, bytes) in attributed {
            *r.held.entry(peer).or_default() += bytes;
            total = total.saturating_add(bytes);
        }
        // Not charged to a peer, but counted in the total: payloads and bundles kept to relay,
        // and values and their seed seals (whether or not a proposal above also holds them).
        let shared: usize = r
            .payloads
            .values()
            .map(|b| b.len() + OVERHEAD)
            .sum::<usize>()
            + r.bundles
                .values()
                .map(|b| b.signature.len() + OVERHEAD)
                .sum::<usize>()
            + r.values
                .values()
                .map(|(v, _)| v.len() + OVERHEAD)
                .sum::<usize>()
            + r.seals.values().map(Vec::len).sum::<usize>();
        r.held_total = total.saturating_add(shared);
    }
}
