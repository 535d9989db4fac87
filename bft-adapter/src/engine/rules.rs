//! The BA* transition rules, evaluated after every input until nothing changes.

use super::tally::{AddOutcome, Entry};
use super::{Action, Engine, TimerId, Validity};
use crate::codec::encode;
use crate::traits::Share;
use crate::types::{
    beacon_message, proposal_message, Bundle, Certificate, Decided, Message, Period, Proposal,
    ValueId, Vote, VoteStep, VoteValue,
};

impl Engine {
    /// Applies every enabled rule until a fixed point (bounded: each rule fires at most once
    /// per period, and heights/periods only grow).
    pub(super) fn progress(&mut self) {
        for _ in 0..64 {
            let before = (self.height, self.period, self.out.len());
            self.check_quorums();
            self.try_propose();
            self.try_soft_vote();
            self.try_cert_vote();
            self.try_next_vote();
            self.try_next_late_vote();
            self.try_next_k_vote();
            self.try_recovery_vote();
            if before == (self.height, self.period, self.out.len()) {
                break;
            }
        }
    }

    fn voted(&self, period: Period, step: VoteStep) -> &[Vote] {
        self.round
            .own_votes
            .get(&(period, step))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn is_valid(&self, id: &ValueId) -> bool {
        matches!(self.round.values.get(id), Some((_, Some(Validity::Valid))))
    }

    /// v̄ and "⊥ released" for the current period, from the previous period's next-quorums.
    pub(super) fn pinned(&self) -> (Option<ValueId>, bool) {
        if self.period.0 <= 1 {
            return (None, true);
        }
        let previous = Period(self.period.0 - 1);
        let Some(set) = self.round.next_quorum.get(&previous) else {
            return (None, false);
        };
        let pinned = set.iter().find_map(|v| match v {
            VoteValue::Value(id) => Some(*id),
            VoteValue::Bottom => None,
        });
        (pinned, set.contains(&VoteValue::Bottom))
    }

    /// Step 1: propose own value (period 1 or after ⊥) or re-propose v̄.
    fn try_propose(&mut self) {
        let (h, p) = (self.height, self.period);
        if self.round.own_proposals.contains_key(&p) || self.round.next_expired {
            return;
        }
        let (pinned, released) = self.pinned();
        // A fresh value carries this node's seed seal; the pinned value its original one.
        let value = if released {
            self.round.own_value.clone().map(|v| (v, None))
        } else {
            pinned.and_then(|id| {
                let bytes = self.round.values.get(&id)?.0.clone();
                Some((bytes, self.round.seals.get(&id).cloned()))
            })
        };
        let Some((value, seal)) = value else { return };
        let Some(credential) = self.own_credential(p, None) else {
            // Not selected: remember that we considered this period.
            return;
        };
        let seal = seal.unwrap_or_else(|| self.adapters.sortition.seed_seal(&self.seed, h));
        let value_id = self.adapters.verifier.value_id(&value);
        let Ok(signature) =
            self.adapters
                .signer
                .sign(&proposal_message(self.config.epoch, h, p, value_id))
        else {
            // The signer failed (remote signer or HSM): abstain from proposing this period.
            self.signing_failures += 1;
            return;
        };
        let sealed = crate::types::sealed_id(value_id, &seal);
        self.round
            .values
            .entry(sealed)
            .or_insert_with(|| (value.clone(), Some(Validity::Valid)));
        self.round.seals.insert(sealed, seal.clone());
        let proposal = Proposal {
            epoch: self.config.epoch,
            height: h,
            period: p,
            proposer: self.config.id,
            credential,
            value,
            signature,
            seal,
        };
        let bytes = encode(&Message::Proposal(proposal.clone()));
        self.round.own_proposals.insert(p, proposal.clone());
        self.persist();
        self.out.push(Action::Broadcast {
            bytes: bytes.clone(),
        });
        self.accept_proposal(proposal, bytes, true);
    }

    /// The lowest-priority fresh proposal of the current period (its seal is the proposer's
    /// own: a seat cannot win with another seat's seal), if its value is known to be valid.
    /// `None` while the best one is still being validated.
    ///
    /// Proposals are stored with their credentials checked but not their signatures: walking
    /// them best first, the first one whose value is not known to be invalid has its signature
    /// checked now (once: the result is kept); an invalid one is dropped, its proposer muted
    /// for the period and reported, and the walk goes on to the next. So a decision costs one
    /// signature check per node, plus one per proposer that outranks the winner with an
    /// invalid signature (each muted after it).
    fn best_proposal(&mut self) -> Option<ValueId> {
        loop {
            let proposals = self.round.proposals.get(&self.period)?;
            let mut ranked: Vec<_> = proposals.iter().filter(|(_, e)| e.fresh).collect();
            ranked.sort_by(|a, b| (a.1.priority, a.0).cmp(&(b.1.priority, b.0)));
            let validity =
                |e: &super::ProposalEntry| self.round.values.get(&e.value_id).and_then(|(_, v)| *v);
            let (node, entry) = ranked
                .into_iter()
                .find(|(_, e)| validity(e) != Some(Validity::Invalid))?;
            if !entry.verified {
                let node = *node;
                self.check_proposal(self.period, node);
                continue; // checked now: kept (and looked at again) or dropped
            }
            return match validity(entry) {
                Some(Validity::Valid) => Some(entry.value_id),
                _ => None,
            };
        }
    }

    /// With [`Engine::set_early_filter`]: a fresh proposal of every seat is in for this
    /// period, and no value is pinned (so the soft vote goes to the best proposal).
    fn every_seat_proposed(&self) -> bool {
        if !self.early_filter || !self.pinned().1 {
            return false;
        }
        let fresh = self
            .round
            .proposals
            .get(&self.period)
            .map_or(0, |m| m.values().filter(|e| e.fresh).count());
        fresh >= self.adapters.committee.seats().len()
    }

    /// Step 2: at the filter timer, soft-vote the best proposal (or v̄ when pinned).
    fn try_soft_vote(&mut self) {
        let p = self.period;
        if !(self.round.filter_expired || self.every_seat_proposed())
            || !self.voted(p, VoteStep::Soft).is_empty()
            || !self.voted(p, VoteStep::Next).is_empty()
        {
            return;
        }
        let (pinned, released) = self.pinned();
        let choice = if released {
            self.best_proposal()
        } else {
            pinned
        };
        if let Some(id) = choice {
            self.cast_vote(VoteStep::Soft, VoteValue::Value(id));
        }
    }

    /// Step 3: cert-vote a valid value with a soft quorum, before next-voting.
    fn try_cert_vote(&mut self) {
        let p = self.period;
        if !self.voted(p, VoteStep::Cert).is_empty()
            || !self.voted(p, VoteStep::Next).is_empty()
            || self.round.next_expired
        {
            return;
        }
        if let Some(id) = self.round.soft_quorum.get(&p).copied() {
            if self.is_valid(&id) {
                self.cast_vote(VoteStep::Cert, VoteValue::Value(id));
            }
        }
    }

    /// Step 4: at the next timer, next-vote the certified value, ⊥ after a ⊥ quorum, or v̄.
    fn try_next_vote(&mut self) {
        let p = self.period;
        if !self.round.next_expired || !self.voted(p, VoteStep::Next).is_empty() {
            return;
        }
        let certified = self.voted(p, VoteStep::Cert).first().map(|v| v.value);
        let (pinned, released) = self.pinned();
        let value = match certified {
            Some(v) => v,
            None if p.0 >= 2 && released => VoteValue::Bottom,
            None => pinned.map(VoteValue::Value).unwrap_or(VoteValue::Bottom),
        };
        self.cast_vote(VoteStep::Next, value);
    }

    /// Step 5: after step 4, next-vote a value on seeing its soft quorum (no validity check:
    /// the quorum holds honest validators, and v̄ is re-proposed next period), and ⊥ after a ⊥
    /// quorum of the previous period if not certified. At most one value and one ⊥ in total.
    fn try_next_late_vote(&mut self) {
        let p = self.period;
        let mine: Vec<VoteValue> = self
            .voted(p, VoteStep::Next)
            .iter()
            .map(|v| v.value)
            .collect();
        if mine.is_empty() {
            return;
        }
        let has_value = mine.iter().any(|v| *v != VoteValue::Bottom);
        if let Some(id) = self.round.soft_quorum.get(&p).copied() {
            if !has_value {
                self.cast_vote(VoteStep::Next, VoteValue::Value(id));
            }
        }
        let (_, released) = self.pinned();
        let mine: Vec<VoteValue> = self
            .voted(p, VoteStep::Next)
            .iter()
            .map(|v| v.value)
            .collect();
        if p.0 >= 2
            && released
            && self.voted(p, VoteStep::Cert).is_empty()
            && !mine.contains(&VoteValue::Bottom)
        {
            self.cast_vote(VoteStep::Next, VoteValue::Bottom);
        }
    }

    /// Steps s ≥ 5 (Algorand's next_k, "Recovery" in the specs' `dev/abft.md`): when the timer
    /// of next_k step k fires, vote in that step for the value this node cert-voted, else a
    /// committable value (a valid value with a soft quorum this period), else ⊥ once released,
    /// else v̄ (else ⊥ in period 1). Unlike step 4/5, every step re-evaluates, so nodes that
    /// were split across ⊥, v and v̄ converge as soon as they hear the same quorums.
    fn try_next_k_vote(&mut self) {
        let (p, k) = (self.period, self.round.next_k);
        if k == 0 || !self.voted(p, VoteStep::NextK(k)).is_empty() {
            return;
        }
        let (value, _) = self.recovery_choice();
        self.cast_vote(VoteStep::NextK(k), value);
    }

    /// What a next_k or fast-recovery vote names now, and the recovery step that carries it:
    /// the value this node cert-voted, else a committable value (valid, with a soft quorum
    /// this period) — *late*; else ⊥ once released — *down*; else v̄ — *redo* (⊥ and down when
    /// nothing is pinned, as in period 1).
    fn recovery_choice(&self) -> (VoteValue, VoteStep) {
        let p = self.period;
        let certified = self.voted(p, VoteStep::Cert).first().map(|v| v.value);
        let committable = self
            .round
            .soft_quorum
            .get(&p)
            .copied()
            .filter(|id| self.is_valid(id))
            .map(VoteValue::Value);
        if let Some(value) = certified.or(committable) {
            return (value, VoteStep::Late);
        }
        let (pinned, released) = self.pinned();
        match pinned {
            Some(id) if !released => (VoteValue::Value(id), VoteStep::Redo),
            _ => (VoteValue::Bottom, VoteStep::Down),
        }
    }

    /// Fast recovery (Algorand's late / redo / down, `dev/abft.md` "Fast recovery"): when the
    /// λ_f timer has fired and step 4 is past (so this node can no longer cert-vote in this
    /// period), vote in the recovery step of [`Engine::recovery_choice`], unless already voted
    /// there this period (the re-send timer repeats it). A quorum in any of the three steps
    /// moves nodes to the next period like a next quorum.
    fn try_recovery_vote(&mut self) {
        if !self.round.recovery_due || !self.round.next_expired {
            return;
        }
        self.round.recovery_due = false;
        let (value, step) = self.recovery_choice();
        if self.voted(self.period, step).is_empty() {
            self.cast_vote(step, value);
        }
    }

    /// Broadcasts the bundle of a quorum that just completed (combined from our tally, or the
    /// bundle that completed it), at once rather than at the next re-send: a node that is about
    /// to next-vote must hear the quorum before its timer fires.
    fn forward_bundle(&mut self, p: Period, step: VoteStep, value: VoteValue) {
        if p.0.saturating_add(1) < self.period.0 || !self.forwards_bundle(p, step) {
            return;
        }
        let key = (p, step, value);
        if !self.round.bundles.contains_key(&key) {
            match self.combine_bundle(p, step, value) {
                Some(b) => {
                    self.round.bundles.insert(key, b);
                }
                None => return,
            }
        }
        if let Some(b) = self.round.bundles.get(&key) {
            let bytes = encode(&Message::Bundle(b.clone()));
            self.out.push(Action::Broadcast { bytes });
        }
    }

    /// Arms the deferred forward of period `p`'s soft bundle (combined from our tally): a
    /// combine costs about as much as a batch verification, and in the common case the cert
    /// quorum completes one message delay after the soft quorum, when no node needs the bundle.
    /// The delay, `(next_ms − filter_ms) / 2` times the period's backoff, leaves the bundle
    /// time to reach peers before their next timers when the quorum completes soon after the
    /// filter timer; the next timer forwards it at once if still due.
    fn defer_soft_bundle(&mut self, p: Period) {
        if self.round.soft_forward_due.insert(p) {
            let t = self.config.timeouts;
            let delay = (t.next_ms.saturating_sub(t.filter_ms) / 2)
                .max(1)
                .saturating_mul(self.backoff());
            self.arm(TimerId::SoftBundle(self.height, p), delay);
        }
    }

    /// Forwards period `p`'s deferred soft bundle (see [`Engine::defer_soft_bundle`]), unless
    /// this node holds a certificate by then: the certificate (sent as a `Decided` to any peer
    /// still voting at this height) moves peers further than the soft quorum would.
    pub(super) fn forward_soft_bundle(&mut self, p: Period) {
        if !self.round.soft_forward_due.remove(&p) || self.round.certificate.is_some() {
            return;
        }
        if let Some(id) = self.round.soft_quorum.get(&p).copied() {
            self.forward_bundle(p, VoteStep::Soft, VoteValue::Value(id));
        }
    }

    /// Signs, persists (barrier), broadcasts and counts a vote of our own.
    fn cast_vote(&mut self, step: VoteStep, value: VoteValue) {
        let (h, p) = (self.height, self.period);
        let Some(credential) = self.own_credential(p, Some(step)) else {
            // Not on this step's committee (sampled mode). Record nothing; others decide.
            return;
        };
        let message = crate::types::vote_message(self.config.epoch, h, p, step, value);
        let signed = self.adapters.signer.sign(&message).and_then(|signature| {
            let beacon_share = if step == VoteStep::Cert {
                self.adapters
                    .signer
                    .sign(&beacon_message(self.config.epoch, h))?
            } else {
                Vec::new()
            };
            Ok((signature, beacon_share))
        });
        let Ok((signature, beacon_share)) = signed else {
            // The signer failed: abstain from this vote (nothing recorded, persisted or
            // sent), as a node off this step's committee would.
            self.signing_failures += 1;
            return;
        };
        let vote = Vote {
            epoch: self.config.epoch,
            height: h,
            period: p,
            step,
            value,
            voter: self.config.id,
            credential,
            signature,
            beacon_share,
        };
        self.record_own_vote(vote.clone());
        self.persist();
        self.send_vote(p, step, encode(&Message::Vote(vote)));
    }

    /// Remembers and counts one of our own votes (also used on restore).
    pub(super) fn record_own_vote(&mut self, vote: Vote) {
        let key = (vote.period, vote.step);
        let weight = self
            .adapters
            .sortition
            .verify_voter(
                vote.voter,
                &self.seed,
                vote.height,
                vote.period,
                vote.step,
                &vote.credential,
            )
            .unwrap_or(0);
        let bytes = encode(&Message::Vote(vote.clone()));
        self.round
            .own_votes
            .entry(key)
            .or_default()
            .push(vote.clone());
        let tally = self
            .round
            .tallies
            .entry((vote.period, vote.step))
            .or_default();
        let outcome = tally.add(
            Entry {
                from: self.config.id,
                vote,
                weight,
                bytes,
            },
            true,
        );
        debug_assert_ne!(outcome, AddOutcome::Conflict(VoteValue::Bottom));
    }

    /// Settles tallies that may hold a quorum and reacts to soft, cert and next quorums.
    fn check_quorums(&mut self) {
        let verifier = self.adapters.verifier.clone();
        let committee = self.adapters.committee.clone();
        let keys: Vec<_> = self.round.tallies.keys().copied().collect();
        let mut invalid = Vec::new();
        for key in keys {
            let quorum = committee.quorum(key.1);
            if let Some(tally) = self.round.tallies.get_mut(&key) {
                let values: Vec<VoteValue> = tally.by_value.keys().copied().collect();
                for value in values {
                    let evicted = tally
                        .by_value
                        .get_mut(&value)
                        .map(|t| t.settle(quorum, verifier.as_ref()))
                        .unwrap_or_default();
                    for e in evicted {
                        tally.forget(e.vote.voter, value);
                        invalid.push(e);
                    }
                }
            }
        }
        for e in invalid {
            self.refund(e.from, super::resources::vote_charge(&e));
            self.round
                .proven_invalid
                .insert((e.from, e.vote.period, e.vote.step));
            self.report(
                e.from,
                crate::evidence::EvidenceKind::InvalidSignature,
                e.vote.height,
                vec![e.bytes],
            );
        }
        let quorums: Vec<((Period, VoteStep), VoteValue)> = self
            .round
            .tallies
            .iter()
            .flat_map(|(k, t)| {
                t.quorum_values(committee.quorum(k.1))
                    .into_iter()
                    .map(move |v| (*k, v))
            })
            .collect();
        for ((p, step), value) in quorums {
            self.quorum_reached(p, step, value);
        }
        if let Some(mut cert) = self.round.certificate.clone() {
            // Decide only a value the application accepted (it is being validated otherwise).
            // The quorum signed the sealed id; the certificate names the value id and the seal.
            let id = cert.vote_id();
            if let Some((value, Some(Validity::Valid))) = self.round.values.get(&id) {
                if let Some(seal) = self.round.seals.get(&id).filter(|s| !s.is_empty()) {
                    cert.value_id = self.adapters.verifier.value_id(value);
                    cert.seal = seal.clone();
                }
                let decided = Decided {
                    certificate: cert,
                    value: value.clone(),
                };
                let announce = self.announces_decision(decided.certificate.period);
                self.decide(decided.clone());
                if announce {
                    self.announce_decision(decided);
                }
            }
        }
    }

    /// Records a quorum (from votes or a bundle) and applies its consequence.
    pub(super) fn quorum_reached(&mut self, p: Period, step: VoteStep, value: VoteValue) {
        match (step, value) {
            (VoteStep::Soft, VoteValue::Value(id)) => {
                if let std::collections::btree_map::Entry::Vacant(slot) =
                    self.round.soft_quorum.entry(p)
                {
                    slot.insert(id);
                    let aggregator = self.aggregated(p, step) && self.is_aggregator(p, step);
                    if aggregator || self.round.bundles.contains_key(&(p, step, value)) {
                        // Completed by a bundle: forwarding it costs no combine. An aggregator
                        // of the step forwards at once: the others learn the quorum only
                        // from an aggregator's bundle.
                        self.forward_bundle(p, step, value);
                    } else {
                        self.defer_soft_bundle(p);
                    }
                }
            }
            (VoteStep::Cert, VoteValue::Value(id)) if self.round.certificate.is_none() => {
                self.round.certificate = self.combine_certificate(p, id);
            }
            (s, x) if s.is_next() => {
                let new = self.round.next_quorum.entry(p).or_default().insert(x);
                if new {
                    self.forward_bundle(p, s, x);
                }
                if new && p >= self.period {
                    self.enter_period(Period(p.0 + 1), false);
                }
            }
            _ => {}
        }
    }

    /// Combines a verified soft or next quorum into a [`Bundle`] (done lazily, on re-send).
    pub(super) fn combine_bundle(
        &self,
        period: Period,
        step: VoteStep,
        value: VoteValue,
    ) -> Option<Bundle> {
        let tally = self
            .round
            .tallies
            .get(&(period, step))?
            .by_value
            .get(&value)?;
        let quorum = self.adapters.committee.quorum(step);
        let mut weight = 0;
        let mut shares = Vec::new();
        for e in tally.verified.values() {
            if weight >= quorum {
                break;
            }
            weight += e.weight;
            shares.push(Share {
                signer: e.vote.voter,
                credential: &e.vote.credential,
                signature: &e.vote.signature,
            });
        }
        let mut bundle = Bundle {
            epoch: self.config.epoch,
            height: self.height,
            period,
            step,
            value,
            signature: Vec::new(),
        };
        bundle.signature = self
            .adapters
            .verifier
            .combine(&bundle.message(), &shares)
            .ok()?;
        Some(bundle)
    }

    /// The certificate of a cert quorum: the one combined unverified and checked as a whole
    /// in [`ValueTally::settle`](super::tally::ValueTally::settle), or else the verified
    /// votes (and their beacon shares) combined.
    fn combine_certificate(&self, period: Period, id: ValueId) -> Option<Certificate> {
        let tally = self
            .round
            .tallies
            .get(&(period, VoteStep::Cert))?
            .by_value
            .get(&VoteValue::Value(id))?;
        if let Some((signature, beacon)) = &tally.combined {
            // Combined from unverified votes and checked as a whole (`ValueTally::settle`).
            return Some(Certificate {
                epoch: self.config.epoch,
                height: self.height,
                period,
                value_id: id,
                signature: signature.clone(),
                beacon: beacon.clone(),
                seal: Vec::new(),
            });
        }
        let quorum = self.adapters.committee.quorum(VoteStep::Cert);
        let mut chosen = Vec::new();
        let mut weight = 0;
        for e in tally.verified.values() {
            if weight >= quorum {
                break;
            }
            weight += e.weight;
            chosen.push(e);
        }
        let mut cert = Certificate {
            epoch: self.config.epoch,
            height: self.height,
            period,
            value_id: id,
            signature: Vec::new(),
            beacon: Vec::new(),
            // Filled in with the value id when the decision is made (see `check_quorums`).
            seal: Vec::new(),
        };
        let shares: Vec<Share<'_>> = chosen
            .iter()
            .map(|e| Share {
                signer: e.vote.voter,
                credential: &e.vote.credential,
                signature: &e.vote.signature,
            })
            .collect();
        let beacon: Vec<Share<'_>> = chosen
            .iter()
            .map(|e| Share {
                signer: e.vote.voter,
                credential: &e.vote.credential,
                signature: &e.vote.beacon_share,
            })
            .collect();
        (cert.signature, cert.beacon) = self
            .adapters
            .verifier
            .combine_with_beacon(
                &cert.message(),
                &shares,
                &cert.beacon_message(),
                period,
                &beacon,
            )
            .ok()?;
        Some(cert)
    }
}
