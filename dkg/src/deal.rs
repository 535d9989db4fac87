//! Round 1 (Deal) and the end of round 1: verifying all dealings and producing complaints.

use std::collections::BTreeMap;

use blstrs::Scalar;
use conclave_threshold_sig::Variant;

use crate::encryption::{SharedSecret, CIPHERTEXT_SIZE};
use crate::error::Error;
use crate::evidence::{Evidence, FaultKind, SignedMessage};
use crate::messages::{Complaint, ComplaintEntry, Dealing, Message, Signed};
use crate::participant::{Misbehaviour, Output, Participant, ReceivedShare};
use crate::sigma::{batch_check, DleqProof, Point};
use crate::verify::{find_bad_shares, mismatched_constants, DealerShares};

/// Dealings per dealer seat (all authenticated on arrival), each with whether its proof
/// checked out and its transcript hash.
/// A dealer seat, one of its dealings and that dealing's transcript hash.
type Flat<'a, V> = (u32, &'a Signed<Dealing<V>>, [u8; 32]);

/// Per dealer seat: its dealings (all authenticated on arrival), each with whether its proof
/// checked out and its transcript hash.
type CheckedDealings<'a, V> = BTreeMap<u32, Vec<(&'a Signed<Dealing<V>>, bool, [u8; 32])>>;

impl<V: Variant> Participant<V> {
    /// Round 1, step 1: for every dealer seat, sample `f` of degree `t` (resharing: with the old
    /// share as constant term), commit, encrypt `f(j)` to the owner of every player seat `j`,
    /// sign, broadcast.
    pub(crate) fn deal(&self) -> Result<Vec<Output<V>>, Error> {
        let Some(me) = &self.dealer else {
            return Ok(Vec::new());
        };
        let n = self.config.players.seats();
        let mut keys = Vec::with_capacity(n as usize);
        for j in 1..=n {
            let owner = self
                .config
                .players
                .owner_of(j)
                .ok_or(Error::UnknownSender(j))?;
            keys.push(owner.encryption_key);
        }
        let my_player_seats = self.player_seats().to_vec();
        let mut dealings = Vec::with_capacity(me.seats.len());
        for &seat in &me.seats {
            let poly = self.polynomial(seat)?;
            let mut shares: Vec<Scalar> = (1..=n).map(|j| poly.evaluate(j)).collect();
            if self.misbehaves(Misbehaviour::BadShare)
                || self.misbehaves(Misbehaviour::WrongJustification)
            {
                // Corrupt the shares of every seat that is not ours.
                for j in (1..=n).filter(|j| !my_player_seats.contains(j)) {
                    shares[(j - 1) as usize] += Scalar::from(1u64);
                }
            }
            let mut rng = self.rng(b"dealing", seat);
            let dealing =
                Dealing::create(&self.context, seat, poly.commit(), &shares, &keys, &mut rng);
            for s in shares.iter_mut() {
                *s = Scalar::from(0u64);
            }
            dealings.push(Signed::sign(
                &self.context,
                dealing,
                &self.keys.signing,
                &mut rng,
            ));
        }
        Ok(vec![Output::Broadcast(Message::Deal(dealings))])
    }

    /// End of round 1: verify all dealings (ephemeral-key proofs in one batch — signatures
    /// were checked on arrival —, structure, commitment degree, resharing constant terms),
    /// decrypt own shares and check them in one batch; complain with evidence about every bad
    /// share.
    pub(crate) fn process_dealings(&mut self) -> Result<Vec<Output<V>>, Error> {
        let context = self.context;
        let mut rng = self.rng(b"verify-dealings", 0);
        // Taken, not copied: the valid dealings move into `self.valid` at the end.
        let mut received = std::mem::take(&mut self.received_dealings);
        // 1. Proofs of knowledge of the ephemeral keys, batched. Every stored dealing was
        //    authenticated on arrival and has a body different from the others of its seat.
        let flat: Vec<Flat<'_, V>> = received
            .iter()
            .flat_map(|(&seat, cands)| cands.iter().map(move |(c, tr)| (seat, c, *tr)))
            .collect();
        let pok = |seat: u32, d: &Signed<Dealing<V>>| {
            d.body.ephemeral_proof.equation(
                &d.body.ephemeral,
                b"ephemeral",
                &Dealing::<V>::ephemeral_context(&context, seat),
            )
        };
        let all: Vec<_> = flat.iter().map(|(seat, d, _)| pok(*seat, d)).collect();
        let all_ok = batch_check(&all, &mut rng);
        let mut checked: CheckedDealings<'_, V> = BTreeMap::new();
        for (seat, d, transcript) in &flat {
            let pok_ok = all_ok || batch_check(&[pok(*seat, d)], &mut rng);
            checked
                .entry(*seat)
                .or_default()
                .push((*d, pok_ok, *transcript));
        }
        // 2. Per dealer seat: silent, equivocating, malformed or valid.
        let n_players = self.config.players.seats() as usize;
        // Resharing: constant terms must be the dealers' old public shares (checked in a batch).
        let bad_constants = match &self.config.previous {
            None => Vec::new(),
            Some(prev) => {
                let constants: Vec<(u32, V::PublicAffine)> = checked
                    .iter()
                    .filter_map(|(&seat, c)| match c.as_slice() {
                        [(d, _, _)] => Some((seat, d.body.commitment.points()[0])),
                        _ => None,
                    })
                    .collect();
                mismatched_constants(prev, &constants, &mut rng)
            }
        };
        let mut valid = BTreeMap::new();
        let mut transcripts = BTreeMap::new();
        let mut faults = Vec::new();
        for seat in 1..=self.config.dealers.seats() {
            let cands = checked.remove(&seat).unwrap_or_default();
            let (kind, detail, msgs) = match cands.as_slice() {
                [] => (
                    FaultKind::Silent,
                    "no validly signed dealing".to_string(),
                    vec![],
                ),
                [a, b, ..] => (
                    FaultKind::Equivocation,
                    "two different signed dealings".to_string(),
                    vec![a.0.clone(), b.0.clone()],
                ),
                [(d, pok_ok, transcript)] => {
                    let body = &d.body;
                    let fault = if !pok_ok {
                        Some((
                            FaultKind::InvalidDealing,
                            "invalid ephemeral key proof".to_string(),
                        ))
                    } else if body.ciphertexts.len() != n_players
                        || body
                            .ciphertexts
                            .iter()
                            .any(|c| c.0.len() != CIPHERTEXT_SIZE)
                    {
                        Some((
                            FaultKind::InvalidDealing,
                            "malformed ciphertexts".to_string(),
                        ))
                    } else if body.commitment.degree() != self.config.t {
                        Some((
                            FaultKind::BadCommitment,
                            format!(
                                "commitment degree {} instead of {}",
                                body.commitment.degree(),
                                self.config.t
                            ),
                        ))
                    } else if bad_constants.contains(&seat) {
                        Some((
                            FaultKind::BadCommitment,
                            "constant term is not the dealer's public share".to_string(),
                        ))
                    } else {
                        None
                    };
                    match fault {
                        None => {
                            let position = received[&seat]
                                .iter()
                                .position(|(c, _)| std::ptr::eq(c, *d))
                                .unwrap_or_default();
                            valid.insert(seat, position);
                            transcripts.insert(seat, *transcript);
                            continue;
                        }
                        Some((k, s)) => (k, s, vec![(*d).clone()]),
                    }
                }
            };
            faults.push((seat, kind, detail, msgs));
        }
        for (seat, kind, detail, msgs) in faults {
            self.faults.insert(seat, kind);
            self.evidence.push(Evidence {
                culprit: seat,
                kind,
                detail,
                messages: msgs
                    .into_iter()
                    .map(|m| SignedMessage::Dealing(Box::new(m)))
                    .collect(),
            });
        }
        self.valid = valid
            .into_iter()
            .filter_map(|(seat, position)| {
                let mut cands = received.remove(&seat)?;
                (position < cands.len()).then(|| (seat, cands.swap_remove(position).0))
            })
            .collect();
        self.decrypt_and_complain(&transcripts, &mut rng)
    }

    /// Decrypt own shares from every valid dealing, batch-check them, and complain.
    fn decrypt_and_complain(
        &mut self,
        transcripts: &BTreeMap<u32, [u8; 32]>,
        rng: &mut rand_chacha::ChaCha20Rng,
    ) -> Result<Vec<Output<V>>, Error> {
        let Some(me) = self.player.clone() else {
            return Ok(Vec::new());
        };
        let context = self.context;
        let mut bad: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        let mut received = Vec::new();
        let mut items = Vec::new();
        // One constant-time Diffie–Hellman per valid dealing, all encoded with one inversion.
        let points: zeroize::Zeroizing<Vec<_>> = zeroize::Zeroizing::new(
            self.valid
                .values()
                .map(|signed| self.keys.encryption.dh_point(&signed.body.ephemeral))
                .collect(),
        );
        let secrets = SharedSecret::batch(&points);
        drop(points);
        for ((&dealer, signed), secret) in self.valid.iter().zip(&secrets) {
            let d = &signed.body;
            let h = transcripts
                .get(&dealer)
                .copied()
                .unwrap_or_else(|| d.transcript_hash(&context));
            let mut shares = Vec::with_capacity(me.seats.len());
            for &j in &me.seats {
                match secret.decrypt_share(&h, j, &d.ciphertexts[(j - 1) as usize].0) {
                    Some(s) => shares.push((j, s)),
                    None => bad.entry(dealer).or_default().push(j),
                }
            }
            items.push(DealerShares {
                dealer,
                commitment: &d.commitment,
                shares,
            });
        }
        for (dealer, seat) in find_bad_shares(&items, rng) {
            bad.entry(dealer).or_default().push(seat);
        }
        for item in &mut items {
            for (seat, value) in item.shares.drain(..) {
                received.push(ReceivedShare {
                    dealer: item.dealer,
                    seat,
                    value,
                });
            }
        }
        drop(items);
        self.shares = received;
        if self.misbehaves(Misbehaviour::FalseComplaint) {
            let mine = self.dealer_seats().to_vec();
            for &dealer in self.valid.keys() {
                if !mine.contains(&dealer) {
                    bad.entry(dealer).or_insert_with(|| me.seats.clone());
                }
            }
        }
        let mut entries = Vec::new();
        for (dealer, mut seats) in bad {
            seats.sort_unstable();
            seats.dedup();
            let d = &self.valid[&dealer].body;
            // The entry names the exact dealing (its signed digest, which covers every
            // ciphertext), and the DLEQ proof is bound to that digest: evidence about this
            // complaint must quote this very dealing.
            let dealing = d.digest_for(&context);
            let (mut shared_point, proof) =
                DleqProof::prove(&self.keys.encryption, &d.ephemeral, &dealing, rng);
            if self.misbehaves(Misbehaviour::FalseComplaint) && dealer % 2 == 1 {
                // A forged reveal: the DLEQ proof no longer matches.
                shared_point = Point::from_point(
                    shared_point.point() + curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT,
                );
            }
            entries.push(ComplaintEntry {
                dealer,
                dealing,
                seats,
                shared_point,
                proof,
            });
        }
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let complaint = Complaint {
            complainer: me.id,
            entries,
        };
        let signed = Signed::sign(&context, complaint, &self.keys.signing, rng);
        Ok(vec![Output::Broadcast(Message::Complaint(Box::new(
            signed,
        )))])
    }
}
