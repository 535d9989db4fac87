//! Ingesting peer messages: filtering stale and duplicate input, checking credentials and
//! signatures, detecting equivocation, and answering catch-up requests.

use super::resources::{proposal_charge, vote_charge};
use super::tally::{AddOutcome, Entry};
use super::{Action, Engine, ProposalEntry, Validity};
use crate::codec::{decode_with, encode};
use crate::evidence::EvidenceKind;
use crate::types::{
    beacon_message, proposal_message, Bundle, Decided, Height, Message, NodeId, Period, Proposal,
    ValueId, Vote, VoteStep, VoteValue,
};

impl Engine {
    pub(super) fn on_bytes(&mut self, from: NodeId, mut bytes: Vec<u8>) {
        if from == self.config.id {
            return;
        }
        if !self.adapters.committee.is_member(from) {
            return; // not a peer of this committee: drop without evidence (no proof possible)
        }
        let message = match decode_with(&bytes, &self.wire) {
            Ok(m) => m,
            Err(_) => return self.report(from, EvidenceKind::Malformed, Height(0), vec![bytes]),
        };
        // What is kept is charged by length: hold no more than that.
        bytes.shrink_to_fit();
        let height = message.height();
        match &message {
            Message::SyncRequest { height } => return self.on_sync_request(from, *height),
            Message::Decided(d) => return self.on_decided(Some(from), d.clone(), bytes),
            _ => {}
        }
        if height < self.height {
            // Stale: a lagging peer. Help it catch up; otherwise a no-op.
            return self.send_decision(from, height);
        }
        if height > self.height {
            if height.0 == self.height.0 + 1 {
                self.buffer_future(from, bytes);
            }
            return self.request_sync(from);
        }
        match message {
            Message::Proposal(p) => self.on_proposal(from, p, bytes),
            Message::Vote(v) => self.on_vote(from, v, bytes),
            Message::Bundle(b) => self.on_bundle(from, b, bytes),
            _ => {}
        }
    }

    /// Buffers a next-height message within the peer's quota (count and bytes) and the total
    /// byte bound; over quota it is dropped (the peer re-sends it after we move on).
    fn buffer_future(&mut self, from: NodeId, bytes: Vec<u8>) {
        let limits = self.config.limits;
        let buffered = self.buffered_bytes();
        let all = self.peer_bytes();
        let usage = self.future_usage.entry(from).or_default();
        if usage.0 >= limits.future_messages_per_peer
            || usage.1.saturating_add(bytes.len()) > limits.future_bytes_per_peer
            || buffered.saturating_add(bytes.len()) > limits.future_bytes_total
            || all.saturating_add(bytes.len()) > limits.peer_bytes_total
        {
            return;
        }
        usage.0 += 1;
        usage.1 += bytes.len();
        self.future.push((from, bytes));
    }

    fn rate_limited(&mut self, peer: NodeId, height: Height) -> bool {
        let interval = self.config.timeouts.resend_ms;
        let now = self.now;
        match self.last_sync.get(&(peer, height)) {
            Some(t) if now.0 < t.0.saturating_add(interval) => true,
            _ => {
                self.last_sync.insert((peer, height), now);
                false
            }
        }
    }

    /// Sends a lagging peer the decision of `height`, preceded by the next bundles that let it
    /// reach the decision's period (each within `period_window` of the last; see
    /// [`Engine::next_bundle_chain`]).
    fn send_decision(&mut self, to: NodeId, height: Height) {
        if let Some(decided) = self.recent.get(&height).cloned() {
            if !self.rate_limited(to, height) {
                for bundle in self.chains.get(&height).cloned().unwrap_or_default() {
                    self.out.push(Action::Send {
                        to,
                        bytes: encode(&Message::Bundle(bundle)),
                    });
                }
                self.out.push(Action::Send {
                    to,
                    bytes: encode(&Message::Decided(decided)),
                });
            }
        }
    }

    fn request_sync(&mut self, to: NodeId) {
        let h = self.height;
        if !self.rate_limited(to, h) {
            self.out.push(Action::Send {
                to,
                bytes: encode(&Message::SyncRequest { height: h }),
            });
        }
    }

    fn on_sync_request(&mut self, from: NodeId, height: Height) {
        if height < self.height {
            self.send_decision(from, height);
        }
    }

    /// A self-verifying decision for the current height lets a lagging node skip its votes.
    ///
    /// Accepted only if (1) its period is at most `period_window` periods beyond the node's
    /// current one (a node can be moved that far by one next-bundle, so an honest decision is
    /// never further ahead of a node that follows the traffic; this bounds how many periods an
    /// adversary may search offline for a committee it alone controls), (2) the certificate
    /// and its beacon verify for that period, and (3) the application accepts the value (asked
    /// through [`Action::ValidateValue`] unless already known valid).
    ///
    /// `from` is `None` for a decision from the host's ledger ([`crate::Input::Synced`]):
    /// nobody is reported when it fails, and with certificates that need a quorum in any
    /// period (threshold mode) rule (1) does not apply.
    pub(super) fn on_decided(&mut self, from: Option<NodeId>, decided: Decided, bytes: Vec<u8>) {
        let cert = &decided.certificate;
        if cert.height != self.height || cert.epoch != self.config.epoch {
            if let (Some(from), true) = (from, cert.height > self.height) {
                self.request_sync(from);
            }
            return;
        }
        if decided.value.len() > self.config.limits.max_value_bytes {
            // Only the host can get here (the decoder caps values from peers).
            return;
        }
        let verifier = self.adapters.verifier.clone();
        let any_period = from.is_none() && verifier.certificates_bind_quorum_at_any_period();
        let reachable = self.period.0.saturating_add(self.config.period_window);
        if cert.period.0 == 0 || (cert.period.0 > reachable && !any_period) {
            return; // not (yet) justified by anything this node has seen
        }
        if from.is_some_and(|from| {
            self.certificate_muted(from, cert.height)
                || !self.has_room(from, proposal_charge(&bytes))
        }) {
            return;
        }
        let ok = verifier.value_id(&decided.value) == cert.value_id
            && crate::traits::verify_decision_certificate(verifier.as_ref(), &self.seed, cert);
        if !ok {
            if let Some(from) = from {
                self.report(
                    from,
                    EvidenceKind::InvalidCertificate,
                    cert.height,
                    vec![bytes],
                );
            }
            return;
        }
        let id = cert.vote_id();
        self.round
            .seals
            .entry(id)
            .or_insert_with(|| cert.seal.clone());
        match self.round.values.get(&id).and_then(|(_, v)| *v) {
            Some(Validity::Valid) => self.decide(decided),
            Some(Validity::Invalid) => {
                if let Some(from) = from {
                    self.report(from, EvidenceKind::InvalidValue, cert.height, vec![bytes])
                }
            }
            Some(Validity::Pending) => self.hold_decision(from, decided, bytes),
            None => {
                let value = decided.value.clone();
                self.round
                    .values
                    .insert(id, (value.clone(), Some(Validity::Pending)));
                self.out.push(Action::ValidateValue {
                    height: cert.height,
                    value_id: id,
                    value,
                });
                self.hold_decision(from, decided, bytes);
            }
        }
    }

    /// Keeps a verified decision until the application judges its value (charged to its
    /// sender; a previous pending one is replaced).
    fn hold_decision(&mut self, from: Option<NodeId>, decided: Decided, bytes: Vec<u8>) {
        if let Some((Some(old), _, old_bytes)) = self.round.pending_decision.take() {
            self.refund(old, proposal_charge(&old_bytes));
        }
        if let Some(from) = from {
            self.charge(from, proposal_charge(&bytes));
        }
        self.round.pending_decision = Some((from, decided, bytes));
    }

    /// Certificate checks are the expensive input (one pairing plus, in sampled mode, a VRF
    /// verification per listed voter): a peer that sent one invalid certificate at a height is
    /// charged for it by having its further certificates and bundles at that height ignored.
    fn certificate_muted(&self, from: NodeId, height: Height) -> bool {
        self.reported
            .contains(&(from, EvidenceKind::InvalidCertificate, height))
    }

    fn window_ok(&self, period: crate::types::Period, step: Option<VoteStep>) -> bool {
        let upper = self.period.0.saturating_add(self.config.period_window);
        let lower = if step == Some(VoteStep::Cert) {
            1
        } else {
            self.period.0.saturating_sub(1)
        };
        period.0 >= lower.max(1) && period.0 <= upper
    }

    fn on_proposal(&mut self, from: NodeId, proposal: Proposal, bytes: Vec<u8>) {
        if proposal.epoch != self.config.epoch {
            return;
        }
        if proposal.value.len() > self.config.limits.max_value_bytes {
            return self.report(from, EvidenceKind::Malformed, proposal.height, vec![bytes]);
        }
        if proposal.proposer != from || !self.window_ok(proposal.period, None) {
            // Relayed (or from a period outside the window): at most a payload.
            return self.on_payload(from, proposal, bytes);
        }
        if self
            .round
            .muted_proposers
            .contains(&(from, proposal.period))
        {
            return; // proven to send invalid or conflicting proposals for this period
        }
        if let Some(existing) = self
            .round
            .proposals
            .get(&proposal.period)
            .and_then(|m| m.get(&from))
        {
            if existing.bytes == bytes {
                return; // duplicate
            }
            let unchecked = !existing.verified;
            if unchecked && !self.check_proposal(proposal.period, from) {
                return; // the stored one was invalid: the proposer is muted for the period
            }
            let Some(existing) = self
                .round
                .proposals
                .get(&proposal.period)
                .and_then(|m| m.get(&from))
            else {
                return;
            };
            let value_id = self.adapters.verifier.value_id(&proposal.value);
            let message =
                proposal_message(proposal.epoch, proposal.height, proposal.period, value_id);
            if value_id != existing.signed_id
                && self
                    .adapters
                    .verifier
                    .verify_share(from, &message, &proposal.signature)
            {
                let proof = vec![existing.bytes.clone(), bytes];
                self.round.muted_proposers.insert((from, proposal.period));
                return self.report(
                    from,
                    EvidenceKind::ConflictingProposals,
                    proposal.height,
                    proof,
                );
            }
            return;
        }
        self.accept_proposal(proposal, bytes, false);
    }

    /// Checks and stores a proposal (ours are trusted), asking the application to validate new
    /// values that could win.
    pub(super) fn accept_proposal(&mut self, proposal: Proposal, bytes: Vec<u8>, own: bool) {
        let (h, p, from) = (proposal.height, proposal.period, proposal.proposer);
        let charge = proposal_charge(&bytes);
        if !own && !self.has_room(from, charge) {
            return; // over quota: dropped unverified
        }
        let sortition = self.adapters.sortition.clone();
        let Some(priority) =
            sortition.verify_proposer(from, &self.seed, h, p, &proposal.credential)
        else {
            self.round.muted_proposers.insert((from, p));
            return self.report(from, EvidenceKind::InvalidCredential, h, vec![bytes]);
        };
        let verifier = self.adapters.verifier.clone();
        let Ok(origin) = verifier.verify_seal(&self.seed, h, &proposal.seal) else {
            // As for an invalid credential: its further proposals this period go unverified.
            self.round.muted_proposers.insert((from, p));
            return self.report(from, EvidenceKind::InvalidCredential, h, vec![bytes]);
        };
        let signed_id = verifier.value_id(&proposal.value);
        let value_id = crate::types::sealed_id(signed_id, &proposal.seal);
        let fresh = origin.is_none_or(|o| o == from);
        // The signature is not checked here: a period's proposals are ranked by their checked
        // credentials, and only the one a soft vote is about to name is checked
        // (`Engine::best_proposal`), an invalid one dropped and the next one checked in turn.
        // Until then an unchecked proposal is never soft-voted for, relayed or used as
        // evidence (its value authenticates itself by its id, as a relayed payload does).
        if !own {
            self.charge(from, charge);
        }
        self.round.proposals.entry(p).or_default().insert(
            from,
            ProposalEntry {
                priority,
                value_id,
                signed_id,
                fresh,
                verified: own,
                signature: proposal.signature.clone(),
                bytes,
            },
        );
        self.round.seals.entry(value_id).or_insert(proposal.seal);
        if let std::collections::btree_map::Entry::Vacant(slot) = self.round.values.entry(value_id)
        {
            slot.insert((proposal.value.clone(), Some(Validity::Pending)));
            self.out.push(Action::ValidateValue {
                height: h,
                value_id,
                value: proposal.value,
            });
        } else if let Some((_, validity @ None)) = self.round.values.get_mut(&value_id) {
            *validity = Some(Validity::Pending);
            self.out.push(Action::ValidateValue {
                height: h,
                value_id,
                value: proposal.value,
            });
        }
    }

    pub(super) fn on_validated(&mut self, height: Height, value_id: ValueId, valid: bool) {
        if height != self.height {
            return;
        }
        let Some((_, validity)) = self.round.values.get_mut(&value_id) else {
            return;
        };
        if *validity != Some(Validity::Pending) {
            return;
        }
        *validity = Some(if valid {
            Validity::Valid
        } else {
            Validity::Invalid
        });
        let pending = self
            .round
            .pending_decision
            .take_if(|(_, d, _)| d.certificate.vote_id() == value_id);
        if let Some((from, decided, bytes)) = pending {
            if valid {
                return self.decide(decided);
            }
            // A verified certificate for a value honest nodes never vote for: its sender
            // relayed a decision formed by faulty voters alone.
            if let Some(from) = from {
                self.report(from, EvidenceKind::InvalidValue, height, vec![bytes]);
            }
        }
        if !valid {
            let culprits: Vec<(Period, NodeId)> = self
                .round
                .proposals
                .iter()
                .flat_map(|(p, m)| m.iter().map(move |(n, e)| (*p, *n, e)))
                .filter(|(_, _, e)| e.value_id == value_id)
                .map(|(p, n, _)| (p, n))
                .collect();
            for (p, culprit) in culprits {
                // Only a proposal with a valid signature proves that its proposer proposed it.
                if !self.check_proposal(p, culprit) {
                    continue;
                }
                if let Some(e) = self.round.proposals.get(&p).and_then(|m| m.get(&culprit)) {
                    let bytes = e.bytes.clone();
                    self.report(culprit, EvidenceKind::InvalidValue, height, vec![bytes]);
                }
            }
        }
    }

    /// Checks the signature of `from`'s stored proposal of period `p` if it is unchecked:
    /// true if it is (now) checked; an invalid one is dropped, its proposer muted for the
    /// period and reported.
    pub(super) fn check_proposal(&mut self, p: Period, from: NodeId) -> bool {
        let Some(e) = self.round.proposals.get(&p).and_then(|m| m.get(&from)) else {
            return false;
        };
        if e.verified {
            return true;
        }
        let message = proposal_message(self.config.epoch, self.height, p, e.signed_id);
        let valid = self
            .adapters
            .verifier
            .verify_share(from, &message, &e.signature);
        if valid {
            if let Some(e) = self
                .round
                .proposals
                .get_mut(&p)
                .and_then(|m| m.get_mut(&from))
            {
                e.verified = true;
            }
            return true;
        }
        let removed = self
            .round
            .proposals
            .get_mut(&p)
            .and_then(|m| m.remove(&from));
        if let Some(e) = removed {
            self.refund(from, proposal_charge(&e.bytes));
            self.round.muted_proposers.insert((from, p));
            let height = self.height;
            self.report(from, EvidenceKind::InvalidSignature, height, vec![e.bytes]);
        }
        false
    }

    /// A combined soft or next quorum: one certificate check instead of a quorum of votes.
    fn on_bundle(&mut self, from: NodeId, bundle: Bundle, bytes: Vec<u8>) {
        // A next-quorum bundle for a later period moves this node forward (it proves a quorum
        // moved on). With a threshold key it is never dropped for being too far ahead; with
        // sampled committees a coalition can find offline a far period where it alone holds a
        // next quorum, so only bundles within `period_window` count, and a node further behind
        // is moved by a chain of them (see `send_chain`).
        let in_window = if bundle.step.is_next() {
            bundle.period.0.saturating_add(1) >= self.period.0
                && (!self.adapters.committee.sampled()
                    || bundle.period.0 <= self.period.0.saturating_add(self.config.period_window))
        } else {
            self.window_ok(bundle.period, Some(bundle.step))
        };
        if bundle.epoch != self.config.epoch || !in_window {
            return;
        }
        let known = match (bundle.step, bundle.value) {
            (VoteStep::Soft, VoteValue::Value(_)) => {
                self.round.soft_quorum.contains_key(&bundle.period)
            }
            (s, v) if s.is_next() && s.admits(v) => self
                .round
                .next_quorum
                .get(&bundle.period)
                .is_some_and(|s| s.contains(&v)),
            _ => return self.report(from, EvidenceKind::Malformed, bundle.height, vec![bytes]),
        };
        if known
            || self.certificate_muted(from, bundle.height)
            || !self.has_room(from, proposal_charge(&bytes))
        {
            return;
        }
        if !self.adapters.verifier.verify_certificate(
            &self.seed,
            &bundle.message(),
            &bundle.signature,
        ) {
            return self.report(
                from,
                EvidenceKind::InvalidCertificate,
                bundle.height,
                vec![bytes],
            );
        }
        self.charge(from, proposal_charge(&bytes));
        self.round
            .bundles
            .insert((bundle.period, bundle.step, bundle.value), bundle.clone());
        self.quorum_reached(bundle.period, bundle.step, bundle.value);
    }

    /// Bundles that move a node at period `from` of the current height to at least period
    /// `to`, each acceptable where the previous one left it (a next quorum of a period in
    /// `[p − 1, p + period_window]` at period `p`), preferring the farthest: about
    /// `(to − from) / period_window` bundles. Stops early if this node lacks a link.
    pub(super) fn next_bundle_chain(
        &self,
        from: crate::types::Period,
        to: crate::types::Period,
    ) -> Vec<Bundle> {
        self.next_bundle_links(from, to)
            .iter()
            .filter_map(|key| self.round.bundles.get(key).cloned())
            .collect()
    }

    /// The keys of [`Engine::next_bundle_chain`]'s bundles.
    pub(super) fn next_bundle_links(
        &self,
        from: crate::types::Period,
        to: crate::types::Period,
    ) -> Vec<(crate::types::Period, VoteStep, VoteValue)> {
        let mut chain = Vec::new();
        let mut at = from.0;
        while at < to.0 {
            // Overshooting `to` is harmless (a link is a verified next quorum).
            let reach = at.saturating_add(self.config.period_window);
            let link = self
                .round
                .bundles
                .keys()
                .filter(|(p, s, _)| s.is_next() && p.0.saturating_add(1) >= at && p.0 <= reach)
                .max_by_key(|(p, _, _)| p.0);
            let Some(key) = link else {
                break;
            };
            if key.0 .0 < at {
                break; // no progress possible
            }
            chain.push(*key);
            at = key.0 .0.saturating_add(1);
        }
        chain
    }

    /// A peer still voting in a period this node left more than one period ago is behind:
    /// send it (at most once per re-send interval) the chain of next bundles to this node's
    /// period. In sampled mode it accepts only bundles within `period_window` of its own
    /// period, so one bundle of the latest period would not move it.
    fn send_chain(&mut self, to: NodeId, from: crate::types::Period) {
        let interval = self.config.timeouts.resend_ms;
        if self
            .chain_sent
            .get(&to)
            .is_some_and(|t| self.now.0 < t.0.saturating_add(interval))
        {
            return;
        }
        let chain = self.next_bundle_chain(from, self.period);
        if chain.is_empty() {
            return;
        }
        self.chain_sent.insert(to, self.now);
        for bundle in chain {
            self.out.push(Action::Send {
                to,
                bytes: encode(&Message::Bundle(bundle)),
            });
        }
    }

    fn on_vote(&mut self, from: NodeId, vote: Vote, bytes: Vec<u8>) {
        if vote.epoch == self.config.epoch && vote.period.0.saturating_add(1) < self.period.0 {
            self.send_chain(from, vote.period); // (stale cert votes still count below)
        }
        if vote.epoch != self.config.epoch || !self.window_ok(vote.period, Some(vote.step)) {
            return;
        }
        if vote.voter != from {
            return self.report(from, EvidenceKind::Impersonation, vote.height, vec![bytes]);
        }
        if self
            .round
            .proven_invalid
            .contains(&(from, vote.period, vote.step))
        {
            return; // proven to sign garbage for this step: not worth another verification
        }
        // Only cert votes carry a beacon share; soft, cert, late and redo votes name a value,
        // down votes ⊥ (`VoteStep::admits`).
        let malformed = !vote.step.admits(vote.value)
            || (vote.step == VoteStep::Cert) == vote.beacon_share.is_empty();
        if malformed {
            return self.report(from, EvidenceKind::Malformed, vote.height, vec![bytes]);
        }
        let key = (vote.period, vote.step);
        if let Some(existing) = self
            .round
            .tallies
            .get(&key)
            .and_then(|t| t.get(from, vote.value))
        {
            if existing.bytes == bytes || existing.vote.signature == vote.signature {
                return; // duplicate
            }
        }
        // What storing it would cost (`vote_charge`): over quota, it is dropped unverified.
        let charge = 2 * bytes.len() + super::resources::OVERHEAD;
        if !self.has_room(from, charge) {
            return;
        }
        let sortition = self.adapters.sortition.clone();
        let weight = sortition
            .verify_voter(
                from,
                &self.seed,
                vote.height,
                vote.period,
                vote.step,
                &vote.credential,
            )
            .unwrap_or(0);
        if weight == 0 {
            self.round
                .proven_invalid
                .insert((from, vote.period, vote.step));
            return self.report(
                from,
                EvidenceKind::InvalidCredential,
                vote.height,
                vec![bytes],
            );
        }
        let entry = Entry {
            from,
            vote,
            weight,
            bytes,
        };
        debug_assert_eq!(charge, vote_charge(&entry));
        let tally = self.round.tallies.entry(key).or_default();
        match tally.add(entry.clone(), false) {
            AddOutcome::Added => self.charge(from, charge),
            AddOutcome::Duplicate => {}
            AddOutcome::Conflict(existing_value) => {
                self.resolve_conflict(key, existing_value, entry)
            }
        }
    }

    /// One voter sent two different votes for one step: check both signatures individually
    /// (rare path) so that neither a forgery nor a bad relay can frame an honest voter.
    fn resolve_conflict(
        &mut self,
        key: (crate::types::Period, VoteStep),
        existing_value: VoteValue,
        new: Entry,
    ) {
        if !self.entry_valid(&new) {
            self.round
                .proven_invalid
                .insert((new.from, new.vote.period, new.vote.step));
            return self.report(
                new.from,
                EvidenceKind::InvalidSignature,
                new.vote.height,
                vec![new.bytes],
            );
        }
        let Some(tally) = self.round.tallies.get_mut(&key) else {
            return;
        };
        let Some(existing) = tally.get(new.vote.voter, existing_value).cloned() else {
            return;
        };
        let pending = tally.is_pending(existing.vote.voter, existing_value);
        if pending && !self.entry_valid(&existing) {
            self.round.proven_invalid.insert((
                existing.from,
                existing.vote.period,
                existing.vote.step,
            ));
            if let Some(tally) = self.round.tallies.get_mut(&key) {
                // `new` was just verified: it counts as verified (never checked again).
                tally.remove(existing.vote.voter, existing_value);
                let _ = tally.add(new, true);
            }
            return self.report(
                existing.from,
                EvidenceKind::InvalidSignature,
                existing.vote.height,
                vec![existing.bytes],
            );
        }
        let voter = new.vote.voter;
        // Proven to equivocate in this step: its further votes for it are not worth checking.
        self.round
            .proven_invalid
            .insert((new.from, new.vote.period, new.vote.step));
        self.report(
            voter,
            EvidenceKind::Equivocation,
            new.vote.height,
            vec![existing.bytes, new.bytes],
        );
    }

    fn entry_valid(&self, e: &Entry) -> bool {
        let v = &self.adapters.verifier;
        v.verify_share(e.vote.voter, &e.vote.message(), &e.vote.signature)
            && (e.vote.step != VoteStep::Cert
                || v.verify_share(
                    e.vote.voter,
                    &beacon_message(e.vote.epoch, e.vote.height),
                    &e.vote.beacon_share,
                ))
    }
}
