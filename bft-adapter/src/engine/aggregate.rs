//! Vote aggregators (issue #14 §2): linear message complexity for large committees.
//!
//! With [`Config::aggregators`] = κ > 0, the soft and cert votes of a period go, until the
//! period's next timer fires, only to the κ seats [`aggregators`] draws for their (height,
//! period, step) from the height's seed, not to all n − 1 peers. An aggregator counts them
//! like any vote; when a soft quorum completes it broadcasts the quorum as one [`Bundle`]
//! (as every node does without aggregators, see `forward_bundle`), and when a cert quorum
//! completes and it decides, it broadcasts the [`Decided`] (certificate, beacon and value).
//! Everyone else verifies one bundle and one certificate (a pairing each, plus the beacon's)
//! instead of 2f+1 votes per step, and sends its votes to κ seats: about `(τ + 4κ) · n`
//! messages per decision instead of `(τ + 3n) · n` (τ proposals).
//!
//! **Safety** does not depend on the aggregators. Routing is all that changes: every vote is
//! signed and counted exactly as before, and what an aggregator sends back is self-verifying.
//! A bundle is accepted only if its signature verifies under the committee's key over
//! [`crate::types::vote_message`] of its own epoch, height, period, step and value (in
//! threshold mode only 2f+1 partials combine to it; in sampled mode the signature lists the
//! voters and their credentials, which the verifier checks against the quorum), and a
//! decision only if its certificate and beacon verify and the value hashes to the certified
//! id (`on_bundle`, `on_decided`). Who sends a bundle or a decision does not matter, so there
//! is no aggregator credential to forge: a "bundle from a seat that is not an aggregator" is
//! either a valid quorum (useful, accepted) or rejected and its sender muted for the height.
//!
//! **Liveness** needs one honest aggregator per step that hears a quorum: with honest
//! fraction h, `P[all κ faulty] ≈ (1 − h)^κ ≤ e^{−hκ}` (κ = 16, h = 2/3: 2.3 · 10⁻⁸). Against
//! the rest — an aggregator that withholds, sends to some nodes only, or sends garbage — a
//! timer is the fallback ([`crate::TimerId::Aggregation`], at `next − (next − filter)/4`,
//! 500 ms with the default timeouts): a node whose timer fires re-broadcasts its soft and
//! cert votes of the period to everyone, and from then on the period runs all-to-all,
//! exactly as without aggregators (`aggregation_fallback`), early enough that every node
//! still sees the soft quorum and cert-votes before its next timer. The aggregated steps
//! take two more one-way delays each than all-to-all, so they fit if `filter + 4δ` is below
//! the fallback (δ ≤ 75 ms with the defaults); the simulator lengthens `next_ms` from 6λ to
//! 8λ when κ > 0 for that reason. A node that decided from an
//! aggregator's decision answers the laggards' votes with it (`send_decision`), as before.
//!
//! The selection is public (a hash of the height's seed, not a VRF): voters must know where
//! to send before any aggregator has spoken. The seed is the previous decision's beacon, so
//! the aggregators of a height are unknown until the height before is decided; an adversary
//! that then corrupts or floods them gains at most the fallback's delay (one next timeout).
//! Peer input at an aggregator is bounded exactly as any vote is (`resources.rs`: one vote
//! per peer, step and value, charged to the peer).

use super::{Action, Engine, TimerId};
use crate::codec::encode;
use crate::types::{Decided, Epoch, Height, Message, NodeId, Period, Seed, Time, VoteStep};
use sha2::Digest;
use std::collections::BTreeSet;

const AGGREGATOR_DOMAIN: &[u8] = b"conclave-bft/aggregators/v1";

/// The κ vote aggregators of `(height, period, step)`: `min(κ, n)` distinct seats of
/// `seats`, drawn by hashing the height's `seed` (`SHA-256("conclave-bft/aggregators/v1" ‖
/// seed ‖ epoch ‖ height ‖ period ‖ step ‖ counter)` modulo n, skipping repeats), returned
/// in seat order. Every node computes the same set; `κ = 0` gives none.
pub fn aggregators(
    seats: &[NodeId],
    seed: &Seed,
    epoch: Epoch,
    height: Height,
    period: Period,
    step: VoteStep,
    kappa: u32,
) -> Vec<NodeId> {
    let mut seats: Vec<NodeId> = seats.to_vec();
    seats.sort_unstable();
    seats.dedup();
    let want = usize::try_from(kappa)
        .unwrap_or(usize::MAX)
        .min(seats.len());
    if want == seats.len() {
        return seats;
    }
    let n = seats.len() as u64;
    let mut chosen = BTreeSet::new();
    // Expected draws for κ of n distinct are below n·ln(n/(n−κ)) + 1 ≤ κ·ln n; the bound is
    // far above that and only guards the loop (a shortfall is filled in seat order).
    let tries = (want as u64).saturating_mul(64).saturating_add(64);
    for counter in 0..tries {
        if chosen.len() == want {
            break;
        }
        let digest = sha2::Sha256::new()
            .chain_update(AGGREGATOR_DOMAIN)
            .chain_update(seed.0)
            .chain_update(epoch.0.to_be_bytes())
            .chain_update(height.0.to_be_bytes())
            .chain_update(period.0.to_be_bytes())
            .chain_update([step.code()])
            .chain_update(counter.to_be_bytes())
            .finalize();
        let mut word = [0u8; 8];
        word.copy_from_slice(&digest[..8]);
        // n ≤ 2^32, so the modulo bias is below 2^-32.
        let index = (u64::from_be_bytes(word) % n) as usize;
        chosen.insert(seats[index]);
    }
    for seat in &seats {
        if chosen.len() == want {
            break;
        }
        chosen.insert(*seat);
    }
    chosen.into_iter().collect()
}

impl Engine {
    /// This height's aggregators of `(period, step)` (cached per height).
    pub(super) fn aggregators_of(&mut self, period: Period, step: VoteStep) -> Vec<NodeId> {
        if let Some(set) = self.round.aggregators.get(&(period, step)) {
            return set.clone();
        }
        let set = aggregators(
            &self.adapters.committee.seats(),
            &self.seed,
            self.config.epoch,
            self.height,
            period,
            step,
            self.config.aggregators,
        );
        self.round.aggregators.insert((period, step), set.clone());
        set
    }

    /// Whether votes of `(period, step)` go to aggregators now: κ > 0, a soft or cert vote,
    /// of the current period, whose aggregation and next timers have not fired yet.
    pub(super) fn aggregated(&self, period: Period, step: VoteStep) -> bool {
        self.config.aggregators > 0
            && matches!(step, VoteStep::Soft | VoteStep::Cert)
            && period == self.period
            && !self.round.aggregation_over
            && !self.round.next_expired
    }

    /// On entering a period (κ > 0 only): cancels the previous period's aggregation timer
    /// (unless `start`) and arms this one's at `next − (next − filter) / 4`, times the
    /// backoff: after the aggregated soft and cert steps (two more one-way delays each than
    /// all-to-all) normally end, and a quarter of the filter-to-next gap before the next
    /// timer, so that soft votes re-broadcast then still let every node cert-vote in time.
    pub(super) fn arm_aggregation(&mut self, old: Period, start: bool) {
        if self.config.aggregators == 0 {
            return;
        }
        if !start {
            self.cancel_aggregation(old);
        }
        self.round.aggregation_over = false;
        let t = self.config.timeouts;
        let gap = t.next_ms.saturating_sub(t.filter_ms);
        let after = t
            .next_ms
            .saturating_sub(gap / 4)
            .saturating_mul(self.backoff());
        let at = Time(self.now.0.saturating_add(after));
        self.out.push(Action::SetTimer {
            id: TimerId::Aggregation(self.height, self.period),
            at,
        });
    }

    /// Disarms the aggregation timer of `period` at the current height (κ > 0 only).
    pub(super) fn cancel_aggregation(&mut self, period: Period) {
        if self.config.aggregators > 0 {
            self.out.push(Action::CancelTimer {
                id: TimerId::Aggregation(self.height, period),
            });
        }
    }

    /// Whether this node is one of the aggregators of `(period, step)`.
    pub(super) fn is_aggregator(&mut self, period: Period, step: VoteStep) -> bool {
        self.config.aggregators > 0 && self.aggregators_of(period, step).contains(&self.config.id)
    }

    /// Sends one of this node's votes: to the step's aggregators while the step is
    /// aggregated, else to everyone.
    pub(super) fn send_vote(&mut self, period: Period, step: VoteStep, bytes: Vec<u8>) {
        if !self.aggregated(period, step) {
            self.out.push(Action::Broadcast { bytes });
            return;
        }
        let me = self.config.id;
        for to in self.aggregators_of(period, step) {
            if to != me {
                self.out.push(Action::Send {
                    to,
                    bytes: bytes.clone(),
                });
            }
        }
    }

    /// Whether a quorum of `(period, step)` that just completed here is broadcast as a
    /// bundle: always without aggregators or once the step falls back; while it is
    /// aggregated, only by its aggregators (the others learnt it from one).
    pub(super) fn forwards_bundle(&mut self, period: Period, step: VoteStep) -> bool {
        !self.aggregated(period, step) || self.is_aggregator(period, step)
    }

    /// Whether a decision formed here from the cert votes of `period` is to be broadcast
    /// (this node aggregates that period's cert votes). Ask before [`Engine::decide`], which
    /// moves to the next height.
    pub(super) fn announces_decision(&mut self, period: Period) -> bool {
        self.is_aggregator(period, VoteStep::Cert)
    }

    /// An aggregator's decision, for everyone whose cert vote it collected.
    pub(super) fn announce_decision(&mut self, decided: Decided) {
        self.out.push(Action::Broadcast {
            bytes: encode(&Message::Decided(decided)),
        });
    }

    /// The aggregation (or the next) timer fired: the fallback. With aggregators, re-broadcast
    /// this period's soft and cert votes to everyone (once per period), so that a step whose
    /// aggregators withheld, crashed or sent to some nodes only completes all-to-all; every
    /// later vote of the period is broadcast too.
    pub(super) fn aggregation_fallback(&mut self) {
        if self.config.aggregators == 0 || self.round.aggregation_over {
            return;
        }
        self.round.aggregation_over = true;
        let p = self.period;
        let mut messages = Vec::new();
        for step in [VoteStep::Soft, VoteStep::Cert] {
            for vote in self.round.own_votes.get(&(p, step)).into_iter().flatten() {
                messages.push(encode(&Message::Vote(vote.clone())));
            }
        }
        for bytes in messages {
            self.out.push(Action::Broadcast { bytes });
        }
    }
}
