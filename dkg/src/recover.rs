//! Recovery of a participant that missed the protocol: the outcome is rebuilt from the
//! finished transcript of the others instead of from the messages it saw in time.
//!
//! A participant cut off for the deal phase (started late, or partitioned) cannot take part
//! any more, but every dealing is a broadcast that carries the shares of *every* player,
//! encrypted to each player's key. Given the agreed QUAL and the qualified dealers' signed
//! dealings (and any justifications they broadcast), the participant can check each dealing
//! exactly as at the deal deadline (signature, proof of the ephemeral key, structure, degree),
//! decrypt its own shares, replace the ones that fail by the shares the dealer revealed in a
//! valid justification, and combine. [`Participant::recover`] does this; the caller must
//! compare the result with the transcript the others agreed on (e.g. a quorum of signed or
//! authenticated announcements of a hash of the group commitment and QUAL), because QUAL is
//! the one input recovery cannot check by itself. [`Participant::transcript`] is what a
//! finished participant serves.

use crate::config::{DkgConfig, IdentityKeys};
use crate::error::Error;
use crate::messages::Message;
use crate::participant::{Disqualified, DkgOutput, Output, Participant, Phase};
use crate::FaultKind;
use conclave_threshold_sig::Variant;

impl<V: Variant> Participant<V> {
    /// The signed messages a participant that missed the protocol needs to recover its share
    /// with [`Participant::recover`]: one [`Message::Deal`] per qualified dealer seat (the
    /// dealing that qualified) and every justification of a qualified dealer. Call it after
    /// the participant finished with `qualified` = its [`DkgOutput::qualified`]; seats with no
    /// valid dealing are skipped (so a caller passing another QUAL gets a transcript that
    /// does not recover).
    pub fn transcript(&self, qualified: &[u32]) -> Vec<Message<V>> {
        let mut out: Vec<Message<V>> = qualified
            .iter()
            .filter_map(|seat| self.valid.get(seat))
            .map(|d| Message::Deal(vec![d.clone()]))
            .collect();
        for seat in qualified {
            if let Some(js) = self.received_justifications.get(seat) {
                if !js.is_empty() {
                    out.push(Message::Justify(js.clone()));
                }
            }
        }
        out
    }

    /// Rebuild the outcome of a finished fresh DKG for `keys` (a player of `config`) from the
    /// agreed QUAL and the transcript of the others ([`Participant::transcript`]).
    ///
    /// Every message is authenticated as on arrival; every dealer of `qualified` must have
    /// exactly one valid dealing in `messages` (anything else, including a dealing from a
    /// dealer outside QUAL, is [`Error::TranscriptMismatch`]); own shares that fail to
    /// decrypt or to match the dealer's commitment are taken from a valid justification of
    /// that very dealing, or the result is [`Error::MissingShare`]. The output's
    /// `disqualified` lists every dealer outside QUAL as [`FaultKind::Silent`] (seen from the
    /// recovering participant, they are) and its evidence is empty: the reasons are not part
    /// of what was agreed. `seed` only feeds the secret weights of the batched checks.
    ///
    /// A resharing cannot be recovered this way by a participant that also deals in it (its
    /// old shares are not at hand here); that is [`Error::InvalidConfig`]. The caller must
    /// check the result against the agreed commitment and QUAL.
    pub fn recover(
        config: DkgConfig<V>,
        keys: IdentityKeys,
        seed: [u8; 32],
        qualified: &[u32],
        messages: Vec<Message<V>>,
    ) -> Result<DkgOutput<V>, Error> {
        let mut p = Participant::new(config, keys, seed)?;
        if p.player.is_none() {
            return Err(Error::InvalidConfig(
                "a participant that is not a player has no share to recover".into(),
            ));
        }
        let mut qual: Vec<u32> = qualified.to_vec();
        qual.sort_unstable();
        qual.dedup();
        if qual.len() != qualified.len()
            || qual.iter().any(|&s| s == 0 || s > p.config.dealers.seats())
        {
            return Err(Error::TranscriptMismatch(
                "QUAL repeats a seat or names an unknown one",
            ));
        }
        p.phase = Phase::Deal;
        let mut justifications = Vec::new();
        for m in messages {
            match m {
                Message::Deal(ds) => {
                    if ds
                        .iter()
                        .any(|d| qual.binary_search(&d.body.dealer).is_err())
                    {
                        return Err(Error::TranscriptMismatch(
                            "a dealing of a dealer outside QUAL",
                        ));
                    }
                    p.receive(Message::Deal(ds))?;
                }
                Message::Justify(js) => justifications.push(Message::Justify(js)),
                Message::Complaint(_) => {
                    return Err(Error::TranscriptMismatch(
                        "complaints are not part of a recovery transcript",
                    ))
                }
            }
        }
        // The deal deadline, as the others passed it: validity of each dealing and own shares
        // (its complaint is never sent: the round is over).
        let complaint = p.process_dealings()?;
        if p.valid.keys().copied().collect::<Vec<_>>() != qual {
            return Err(Error::TranscriptMismatch(
                "not every dealer of QUAL has exactly one valid dealing",
            ));
        }
        // Own shares that failed (decryption or check) need a justification of that dealing.
        for o in complaint {
            if let Output::Broadcast(Message::Complaint(c)) = o {
                for e in &c.body.entries {
                    p.upheld
                        .entry(e.dealer)
                        .or_default()
                        .extend(e.seats.iter().copied());
                }
            }
        }
        p.phase = Phase::Justify;
        for m in justifications {
            p.receive(m)?;
        }
        let mut out = p.finalize()?;
        p.phase = Phase::Done;
        if out.qualified != qual {
            // An own share stayed unresolved: the dealer is faulty for this participant, but
            // the others qualified it, so this participant cannot get its share.
            let (dealer, seat) = p
                .upheld
                .iter()
                .find(|(d, _)| !out.qualified.contains(d))
                .and_then(|(d, s)| Some((*d, *s.iter().next()?)))
                .unwrap_or((0, 0));
            return Err(Error::MissingShare { dealer, seat });
        }
        out.disqualified = (1..=p.config.dealers.seats())
            .filter(|s| qual.binary_search(s).is_err())
            .map(|index| Disqualified {
                index,
                reason: FaultKind::Silent,
            })
            .collect();
        out.evidence = Vec::new();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::messages::Message;
    use crate::participant::{DkgOutput, Input, Output, Participant, Phase};
    use crate::sim::{dkg_parties, SimConfig, SimParty, SimVariant};
    use conclave_threshold_sig::MinPk;

    fn parties(byzantine: Vec<(u32, crate::sim::Behaviour)>) -> Vec<SimParty<MinPk>> {
        let cfg = SimConfig {
            variant: SimVariant::MinPk,
            n: 4,
            t: 2,
            seed: [9; 32],
            byzantine,
        };
        dkg_parties::<MinPk>(&cfg).unwrap()
    }

    /// One phase input for the parties in `live`; their broadcasts reach the parties in
    /// `hear`. Returns the finished outputs.
    fn step(
        ps: &mut [SimParty<MinPk>],
        input: Input<MinPk>,
        live: &[usize],
        hear: &[usize],
    ) -> Vec<(usize, DkgOutput<MinPk>)> {
        let mut outbox = Vec::new();
        let mut done = Vec::new();
        for &i in live {
            for o in ps[i].participant.handle(input.clone()).unwrap() {
                match o {
                    Output::Broadcast(m) => outbox.push(m),
                    Output::Finished(r) => done.push((i, *r)),
                }
            }
        }
        for m in outbox {
            for &i in hear {
                ps[i].participant.handle(Input::Message(m.clone())).unwrap();
            }
        }
        done
    }

    fn run(
        ps: &mut [SimParty<MinPk>],
        live: &[usize],
        hear: &[usize],
    ) -> Vec<(usize, DkgOutput<MinPk>)> {
        step(ps, Input::Start, live, hear);
        step(ps, Input::DeadlinePassed(Phase::Deal), live, hear);
        step(ps, Input::DeadlinePassed(Phase::Complain), live, hear);
        step(ps, Input::DeadlinePassed(Phase::Justify), live, hear)
    }

    fn recover(
        ps: &[SimParty<MinPk>],
        who: usize,
        qualified: &[u32],
        messages: Vec<Message<MinPk>>,
    ) -> Result<DkgOutput<MinPk>, Error> {
        let p = &ps[who].participant;
        Participant::recover(
            p.config.clone(),
            p.keys.clone(),
            [5; 32],
            qualified,
            messages,
        )
    }

    fn assert_same_outcome(a: &DkgOutput<MinPk>, b: &DkgOutput<MinPk>, seat: u32) {
        assert_eq!(a.commitment.to_bytes(), b.commitment.to_bytes());
        assert_eq!(a.qualified, b.qualified);
        let share = &b.shares[0];
        assert_eq!(share.index(), seat);
        assert_eq!(
            share.public_share::<MinPk>().to_bytes(),
            a.public_shares[(seat - 1) as usize].to_bytes(),
            "recovered share does not match the agreed commitment"
        );
    }

    /// Party 4 hears nothing of the whole DKG (QUAL = {1, 2, 3}); from party 1's transcript
    /// it gets a share of the agreed key. A transcript that does not match its QUAL (a dealer
    /// added or dropped, a dealing tampered with) recovers nothing.
    #[test]
    fn cut_off_player_recovers_its_share_from_the_transcript() {
        let mut ps = parties(Vec::new());
        let done = run(&mut ps, &[0, 1, 2], &[0, 1, 2]);
        let out1 = &done[0].1;
        assert_eq!(out1.qualified, vec![1, 2, 3]);
        let transcript = ps[0].participant.transcript(&out1.qualified);
        assert_eq!(transcript.len(), 3);
        let rec = recover(&ps, 3, &out1.qualified, transcript.clone()).unwrap();
        assert_same_outcome(out1, &rec, 4);
        assert_eq!(
            rec.disqualified.iter().map(|d| d.index).collect::<Vec<_>>(),
            vec![4]
        );
        // QUAL claims a dealer with no dealing in the transcript.
        assert!(matches!(
            recover(&ps, 3, &[1, 2, 3, 4], transcript.clone()),
            Err(Error::TranscriptMismatch(_))
        ));
        // QUAL leaves out a dealer whose dealing is there.
        assert!(matches!(
            recover(&ps, 3, &[1, 2], transcript.clone()),
            Err(Error::TranscriptMismatch(_))
        ));
        assert!(matches!(
            recover(&ps, 3, &[1, 1, 2], transcript[..2].to_vec()),
            Err(Error::TranscriptMismatch(_))
        ));
        // A dealing altered after signing is refused on arrival.
        let mut tampered = transcript.clone();
        if let Message::Deal(ds) = &mut tampered[1] {
            ds[0].body.ciphertexts[3].0[0] ^= 1;
        }
        assert!(matches!(
            recover(&ps, 3, &out1.qualified, tampered),
            Err(Error::InvalidSignature { sender: 2 })
        ));
    }

    /// Dealer 2 deals wrong shares to everybody else but justifies honestly: it stays in
    /// QUAL, and the shares of the complainers come from its justification. A player cut off
    /// before the end (party 4) recovers with the justification and fails without it.
    #[test]
    fn recovery_takes_a_bad_own_share_from_the_justification() {
        let mut ps = parties(vec![(2, crate::sim::Behaviour::BadShare)]);
        let all = [0, 1, 2, 3];
        step(&mut ps, Input::Start, &all, &all);
        ps[1].participant.misbehaviour = None; // justifies honestly
        step(&mut ps, Input::DeadlinePassed(Phase::Deal), &all, &all);
        step(&mut ps, Input::DeadlinePassed(Phase::Complain), &all, &all);
        let done = step(&mut ps, Input::DeadlinePassed(Phase::Justify), &all, &all);
        let out1 = &done[0].1;
        assert_eq!(out1.qualified, vec![1, 2, 3, 4]);
        let transcript = ps[0].participant.transcript(&out1.qualified);
        assert!(transcript.iter().any(|m| matches!(m, Message::Justify(_))));
        let rec = recover(&ps, 3, &out1.qualified, transcript.clone()).unwrap();
        assert_same_outcome(out1, &rec, 4);
        let without: Vec<_> = transcript
            .into_iter()
            .filter(|m| !matches!(m, Message::Justify(_)))
            .collect();
        assert_eq!(
            recover(&ps, 3, &out1.qualified, without).unwrap_err(),
            Error::MissingShare { dealer: 2, seat: 4 }
        );
    }

    /// `receive_new` is true exactly for a new authenticated body: a repeat is false, a second
    /// different signed dealing (equivocation) is true, a third is false, a forged one is an
    /// error while there is room.
    #[test]
    fn receive_new_reports_new_authenticated_bodies_only() {
        let mut ps = parties(Vec::new());
        let deal = |p: &mut Participant<MinPk>| match &p.handle(Input::Start).unwrap()[..] {
            [Output::Broadcast(m)] => m.clone(),
            _ => panic!("no dealing"),
        };
        let a = deal(&mut ps[1].participant);
        // Two more dealings signed by party 2 (other seeds): equivocation.
        let other = |seed: u8| {
            let p = &ps[1].participant;
            let mut q = Participant::new(p.config.clone(), p.keys.clone(), [seed; 32]).unwrap();
            deal(&mut q)
        };
        let (b, c) = (other(7), other(8));
        let me = &mut ps[0].participant;
        me.handle(Input::Start).unwrap();
        assert!(me.receive_new(a.clone()).unwrap());
        assert!(!me.receive_new(a.clone()).unwrap());
        assert!(me.receive_new(b).unwrap());
        assert!(!me.receive_new(c).unwrap());
        // Over the bound nothing is verified (or relayed); below it a forgery is an error.
        let mut forged = a;
        if let Message::Deal(ds) = &mut forged {
            ds[0].body.ciphertexts[0].0[0] ^= 1;
        }
        assert!(!me.receive_new(forged.clone()).unwrap());
        let fresh = &mut ps[2].participant;
        fresh.handle(Input::Start).unwrap();
        assert!(fresh.receive_new(forged).is_err());
    }
}
