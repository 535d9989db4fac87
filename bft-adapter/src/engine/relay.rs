//! Relay of payloads (issue #11 §2): a node that holds the value of the pinned v̄ (or of the
//! current period's soft quorum) re-sends the signed proposal that carried it when the period
//! changes and on timeouts, so a node that missed that proposal can still validate and
//! cert-vote the value. Algorand relays the pinned proposal with the freshest bundle for the
//! same reason.
//!
//! A relayed proposal (sent by someone other than its proposer, or from a period outside the
//! vote window) is a *payload*: it never counts as a proposal of the current period. It is
//! accepted only when its value hashes to a value this node needs and does not hold (the
//! value id is a collision-resistant hash, so the bytes authenticate themselves: no signature
//! or credential check is needed). Each peer costs at most one useless hash per period of this
//! node: after a payload that matches nothing wanted, its further payloads are ignored until
//! the period changes.

use super::{Action, Engine, Validity};

/// The longest gap, in re-sends, between two relays of the pinned and soft-quorum payloads
/// within one period (see [`Engine::relay_on_resend`]).
pub(super) const PAYLOAD_RESEND_CAP: u32 = 8;
use crate::codec::encode;
use crate::types::{Message, NodeId, Proposal, ValueId, VoteStep, VoteValue};

impl Engine {
    /// Values this node needs in the current period but does not hold: the pinned v̄, the
    /// value of the current soft quorum, and a certified value.
    fn wanted_values(&self) -> Vec<ValueId> {
        let (pinned, _) = self.pinned();
        let mut ids: Vec<ValueId> = pinned
            .into_iter()
            .chain(self.round.soft_quorum.get(&self.period).copied())
            .chain(self.round.certificate.as_ref().map(|c| c.vote_id()))
            .filter(|id| !self.round.values.contains_key(id))
            .collect();
        ids.dedup();
        ids
    }

    /// The encoded signed proposal that carried `id`, if this node holds one whose signature
    /// checks (an unchecked one is checked now, once; an invalid one is dropped).
    fn payload(&mut self, id: &ValueId) -> Option<Vec<u8>> {
        if let Some(bytes) = self.round.payloads.get(id) {
            return Some(bytes.clone());
        }
        let carriers: Vec<(crate::types::Period, NodeId)> = self
            .round
            .proposals
            .iter()
            .flat_map(|(p, m)| m.iter().map(move |(n, e)| (*p, *n, e)))
            .filter(|(_, _, e)| e.value_id == *id)
            .map(|(p, n, _)| (p, n))
            .collect();
        carriers.into_iter().find_map(|(p, n)| {
            self.check_proposal(p, n)
                .then(|| {
                    self.round
                        .proposals
                        .get(&p)?
                        .get(&n)
                        .map(|e| e.bytes.clone())
                })
                .flatten()
        })
    }

    /// Keeps the payloads of values with a soft or next quorum beyond the pruning of old
    /// periods' proposals (one per such value and height).
    pub(super) fn keep_payloads(&mut self) {
        let ids: Vec<ValueId> = self
            .round
            .soft_quorum
            .values()
            .copied()
            .chain(
                self.round
                    .next_quorum
                    .values()
                    .flatten()
                    .filter_map(|v| match v {
                        VoteValue::Value(id) => Some(*id),
                        VoteValue::Bottom => None,
                    }),
            )
            .collect();
        for id in ids {
            if !self.round.payloads.contains_key(&id) {
                if let Some(bytes) = self.payload(&id) {
                    self.round.payloads.insert(id, bytes);
                }
            }
        }
    }

    /// Broadcasts the payloads of v̄ and (with `soft`) of the current soft quorum's value.
    fn relay_payloads(&mut self, soft: bool) {
        let (pinned, _) = self.pinned();
        let mut ids: Vec<ValueId> = pinned.into_iter().collect();
        if soft {
            ids.extend(self.round.soft_quorum.get(&self.period).copied());
        }
        ids.dedup();
        for id in ids {
            if let Some(bytes) = self.payload(&id) {
                self.out.push(Action::Broadcast { bytes });
            }
        }
    }

    /// On entering a new period: the payload of the new v̄ (the bundle that moved this node
    /// was forwarded when its quorum completed).
    pub(super) fn relay_on_period_change(&mut self) {
        self.keep_payloads();
        self.relay_payloads(false);
    }

    /// On the next-vote timeout: the freshest bundle (the previous period's next quorum that
    /// pinned v̄, else this period's soft quorum) and the payloads of v̄ and of the soft
    /// quorum's value.
    pub(super) fn relay_on_timeout(&mut self) {
        let p = self.period;
        let previous = crate::types::Period(p.0.saturating_sub(1));
        let freshest = self
            .round
            .bundles
            .iter()
            .filter(|((bp, s, _), _)| {
                (*bp == previous && s.is_next()) || (*bp == p && *s == VoteStep::Soft)
            })
            .max_by_key(|((bp, s, v), _)| (*bp, *s, *v != VoteValue::Bottom))
            .map(|(_, b)| b.clone());
        if let Some(bundle) = freshest {
            self.out.push(Action::Broadcast {
                bytes: encode(&Message::Bundle(bundle)),
            });
        }
        self.relay_payloads(true);
    }

    /// Whether this re-send carries payloads (the pinned and soft-quorum values' and this
    /// node's own proposal), counting the re-send. A payload is up to
    /// [`super::Limits::max_value_bytes`] (1 MiB) per peer, and while a height is stuck,
    /// re-sending it with every vote re-send (1.2 s) cost each node `n − 1` MiB or more per
    /// re-send; payloads already travel on every period change and next timeout, so here they
    /// go only with the re-sends numbered 1, 2, 4, 8 and then every [`PAYLOAD_RESEND_CAP`]th
    /// since the period began (a peer that lost one, or returns after a partition, gets it
    /// within `PAYLOAD_RESEND_CAP` re-sends).
    pub(super) fn payload_resend_due(&mut self) -> bool {
        self.round.resends_this_period = self.round.resends_this_period.saturating_add(1);
        let j = self.round.resends_this_period;
        (j.is_power_of_two() && j <= PAYLOAD_RESEND_CAP) || j % PAYLOAD_RESEND_CAP == 0
    }

    /// The periodic re-send's share of the relay: the payloads of v̄ and the soft quorum
    /// (when [`Engine::payload_resend_due`] said so).
    pub(super) fn relay_on_resend(&mut self) {
        self.relay_payloads(true);
    }

    /// A proposal relayed by `from` (or outside the vote window): learn its value if it is one
    /// this node needs, else charge `from` its one useless hash of this period.
    pub(super) fn on_payload(&mut self, from: NodeId, proposal: Proposal, bytes: Vec<u8>) {
        if proposal.height != self.height {
            return;
        }
        let wanted = self.wanted_values();
        let charge = super::resources::proposal_charge(&bytes);
        if wanted.is_empty()
            || self.round.payload_misses.contains(&(from, self.period))
            || !self.has_room(from, charge)
        {
            return;
        }
        // The id names the value with its seed seal (the seal is bound by the hash too).
        let id = crate::types::sealed_id(
            self.adapters.verifier.value_id(&proposal.value),
            &proposal.seal,
        );
        if !wanted.contains(&id) {
            self.round.payload_misses.insert((from, self.period));
            return;
        }
        self.round
            .values
            .insert(id, (proposal.value.clone(), Some(Validity::Pending)));
        self.charge(from, charge);
        self.round.seals.insert(id, proposal.seal.clone());
        self.round.payloads.insert(id, bytes);
        self.out.push(Action::ValidateValue {
            height: self.height,
            value_id: id,
            value: proposal.value,
        });
    }
}
