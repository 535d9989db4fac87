//! Fuzz harness for `conclave-dkg`: the message decoder (both variants) and the sans-IO
//! participant state machine driven by a Byzantine seat that controls delivery.
//!
//! State-machine model: four participants with one seat each and degree `t = 1`; seats 1–3 are
//! honest participants under test, seat 4 is the adversary. The fuzzer chooses, step by step:
//! when each honest participant starts, when each pending honest broadcast is delivered, and
//! what the adversary injects in between — before any `Start`, interleaved, in any number:
//! forged dealings (real dealings re-labelled to any seat, re-signed with the adversary's key,
//! with flipped ciphertext bits, other commitments or ephemeral keys, truncated or extended
//! lists, signed for another configuration), forged complaints (claiming any complainer, about
//! any seen dealing or a random digest, repeated dealers, up to 256 entries), forged
//! justifications, replays, raw bytes of any length decoded with the configuration's limits,
//! and validly signed misbehaviour of seat 4. The one assumption kept is the protocol's: every
//! honest message reaches every honest participant, in the same order, before the next
//! deadline. Properties: no panic; deadlines never fail; every honest participant finishes
//! with the same commitment, QUAL and disqualified set; all honest dealers qualify; only the
//! adversary is ever blamed; each honest share matches the commitment and any two honest
//! shares interpolate to the group secret; and no evidence of any kind assembled from every
//! signed message seen verifies against an honest member.
//!
//! Shared by `fuzz/fuzz_targets/dkg_*.rs` and `dkg/tests/fuzz_corpus.rs`. Expects a sibling
//! module `input` (`fuzz/harness/input.rs`) at the crate root.

use std::sync::OnceLock;

use blstrs::Scalar;
use conclave_dkg::messages::RevealedShare;
use conclave_dkg::sigma::{DleqProof, Point, SecretScalar};
use conclave_dkg::{
    Committee, Complaint, ComplaintEntry, Dealing, DkgConfig, DkgOutput, Evidence, FaultKind,
    IdentityKeys, Input, Justification, Message, Output, Participant, Phase, Signed, SignedMessage,
};
use conclave_threshold_sig::{interpolate_secret, MinPk, MinSig, Polynomial, Variant};
use group::prime::PrimeCurveAffine;
use group::Curve;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::input::Input as Bytes;

/// Participants (one seat each).
const N: u32 = 4;
/// Degree.
const T: u32 = 1;
/// The adversary's participant id and seat.
const BYZANTINE: u32 = 4;

struct Fixture {
    config: DkgConfig<MinPk>,
    keys: Vec<IdentityKeys>,
    /// What honest participants 1..=3 broadcast on `Start` (deterministic: seeded).
    honest_deals: Vec<Message<MinPk>>,
    /// Ready-made adversarial messages, all validly signed by seat 4.
    attacks: Vec<Message<MinPk>>,
}

fn participant_seed(id: u32) -> [u8; 32] {
    let mut s = [0x11u8; 32];
    s[..4].copy_from_slice(&id.to_be_bytes());
    s
}

fn sign_dealing(
    f_config: &DkgConfig<MinPk>,
    keys: &IdentityKeys,
    poly: &Polynomial,
    tweak: impl Fn(&mut Vec<Scalar>),
    rng: &mut ChaCha20Rng,
) -> Signed<Dealing<MinPk>> {
    let players: Vec<Point> = f_config
        .players
        .members
        .iter()
        .map(|m| m.encryption_key)
        .collect();
    let mut shares: Vec<Scalar> = (1..=N).map(|j| poly.evaluate(j)).collect();
    tweak(&mut shares);
    let dealing = Dealing::create(
        &f_config.digest(),
        BYZANTINE,
        poly.commit::<MinPk>(),
        &shares,
        &players,
        rng,
    );
    Signed::sign(&f_config.digest(), dealing, &keys.signing, rng)
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(0xd6);
        let keys: Vec<IdentityKeys> = (0..N).map(|_| IdentityKeys::random(&mut rng)).collect();
        let committee = Committee::one_seat_each(&keys);
        let config = DkgConfig::<MinPk>::new([0x5e; 32], committee, T);
        let honest_deals: Vec<Message<MinPk>> = (1..N)
            .flat_map(|id| {
                let mut p = Participant::new(
                    config.clone(),
                    keys[(id - 1) as usize].clone(),
                    participant_seed(id),
                )
                .expect("valid participant");
                broadcasts(p.handle(Input::Start).expect("start"))
            })
            .collect();

        let me = &keys[(BYZANTINE - 1) as usize];
        let poly = Polynomial::random(T, &mut rng).unwrap();
        let session = config.digest();
        let mut attacks = Vec::new();
        // 0: an honest-looking dealing; 1: another one (equivocation).
        attacks.push(Message::Deal(vec![sign_dealing(
            &config,
            me,
            &poly,
            |_| {},
            &mut rng,
        )]));
        let poly2 = Polynomial::random(T, &mut rng).unwrap();
        attacks.push(Message::Deal(vec![sign_dealing(
            &config,
            me,
            &poly2,
            |_| {},
            &mut rng,
        )]));
        // 2..=4: a bad share for player seat 1, 2, 3.
        for j in 0..3usize {
            let bad = sign_dealing(&config, me, &poly, |s| s[j] += Scalar::from(1u64), &mut rng);
            attacks.push(Message::Deal(vec![bad]));
        }
        // 5: bad shares for everybody; 6: a commitment of the wrong degree.
        let all_bad = sign_dealing(
            &config,
            me,
            &poly,
            |s| s.iter_mut().for_each(|x| *x += Scalar::from(7u64)),
            &mut rng,
        );
        attacks.push(Message::Deal(vec![all_bad]));
        let high = Polynomial::random(T + 1, &mut rng).unwrap();
        attacks.push(Message::Deal(vec![sign_dealing(
            &config,
            me,
            &high,
            |_| {},
            &mut rng,
        )]));
        // 7: a dealing with a missing ciphertext; 8: a ciphertext with a flipped bit.
        let mut short = sign_dealing(&config, me, &poly, |_| {}, &mut rng).body;
        short.ciphertexts.pop();
        attacks.push(Message::Deal(vec![Signed::sign(
            &session,
            short,
            &me.signing,
            &mut rng,
        )]));
        let mut flipped = sign_dealing(&config, me, &poly, |_| {}, &mut rng).body;
        if let Some(b) = flipped.ciphertexts[0].0.first_mut() {
            *b ^= 1;
        }
        attacks.push(Message::Deal(vec![Signed::sign(
            &session,
            flipped,
            &me.signing,
            &mut rng,
        )]));
        // 9..: false complaints against each honest dealer (valid DLEQ reveal), forged ones
        // (reveal that does not match the proof), and complaints about unknown dealers.
        for m in &honest_deals {
            let Message::Deal(ds) = m else { continue };
            for d in ds {
                let h = d.body.digest_for(&session);
                let (k, proof) = DleqProof::prove(&me.encryption, &d.body.ephemeral, &h, &mut rng);
                let entry = |shared_point: Point, dealer: u32| ComplaintEntry {
                    dealer,
                    dealing: h,
                    seats: vec![BYZANTINE],
                    shared_point,
                    proof,
                };
                let forged = SecretScalar::random(&mut rng).public();
                for entries in [
                    vec![entry(k, d.body.dealer)],
                    vec![entry(forged, d.body.dealer)],
                    vec![entry(k, d.body.dealer), entry(k, 9)],
                ] {
                    let c = Complaint {
                        complainer: BYZANTINE,
                        entries,
                    };
                    attacks.push(Message::Complaint(Box::new(Signed::sign(
                        &session,
                        c,
                        &me.signing,
                        &mut rng,
                    ))));
                }
            }
        }
        // Justifications by seat 4 of its first dealing: true values, wrong values, for seats
        // it was not asked about.
        let first = match &attacks[0] {
            Message::Deal(ds) => ds[0].body.digest_for(&session),
            _ => unreachable!("attack 0 is a dealing"),
        };
        for (seat, value) in [
            (1, poly.evaluate(1)),
            (2, poly.evaluate(2) + Scalar::from(1u64)),
            (9, Scalar::from(5u64)),
        ] {
            let j = Justification {
                dealer: BYZANTINE,
                dealing: first,
                shares: vec![RevealedShare { seat, value }],
            };
            attacks.push(Message::Justify(vec![Signed::sign(
                &session,
                j,
                &me.signing,
                &mut rng,
            )]));
        }
        Fixture {
            config,
            keys,
            honest_deals,
            attacks,
        }
    })
}

fn broadcasts(outputs: Vec<Output<MinPk>>) -> Vec<Message<MinPk>> {
    outputs
        .into_iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) => Some(m),
            Output::Finished(_) => None,
        })
        .collect()
}

/// `Message::from_bytes` for both variants: accepted bytes re-encode to themselves.
pub fn message(data: &[u8]) {
    if let Ok(m) = Message::<MinPk>::from_bytes(data) {
        assert_eq!(
            m.to_bytes(),
            data,
            "min-pk: non-canonical encoding accepted"
        );
    }
    if let Ok(m) = Message::<MinSig>::from_bytes(data) {
        assert_eq!(
            m.to_bytes(),
            data,
            "min-sig: non-canonical encoding accepted"
        );
    }
}

struct Honest {
    parties: Vec<Participant<MinPk>>,
    /// Whether each honest participant has handled `Start`.
    started: Vec<bool>,
    results: Vec<Option<DkgOutput<MinPk>>>,
    /// Honest broadcasts not yet delivered (the adversary decides when, but every one is
    /// delivered, to everybody in the same order, before the next deadline).
    pending: std::collections::VecDeque<Message<MinPk>>,
    /// Every message delivered so far (the adversary may replay or mutate any of them).
    seen: Vec<Message<MinPk>>,
}

impl Honest {
    /// Deliver one broadcast to every honest participant, in the same order.
    fn deliver(&mut self, m: &Message<MinPk>) {
        for p in &mut self.parties {
            // Forged, late or malformed adversarial messages are rejected with an error: fine.
            let _ = p.handle(Input::Message(m.clone()));
        }
        if self.seen.len() < 64 {
            self.seen.push(m.clone());
        }
    }

    fn collect(&mut self, i: usize, outputs: Vec<Output<MinPk>>) {
        for o in outputs {
            match o {
                Output::Broadcast(m) => self.pending.push_back(m),
                Output::Finished(r) => self.results[i] = Some(*r),
            }
        }
    }

    /// Honest participant `i` starts (its dealings become pending).
    fn start(&mut self, i: usize) {
        if self.started[i] {
            return;
        }
        self.started[i] = true;
        let out = self.parties[i]
            .handle(Input::Start)
            .unwrap_or_else(|e| panic!("honest participant {} failed to start: {e}", i + 1));
        self.collect(i, out);
    }

    fn flush_one(&mut self) {
        if let Some(m) = self.pending.pop_front() {
            self.deliver(&m);
        }
    }

    /// The deadline of `phase`: everybody has started and every honest message was delivered
    /// before it (the synchrony assumption); then every honest participant handles it.
    fn deadline(&mut self, phase: Phase) {
        for i in 0..self.parties.len() {
            self.start(i);
        }
        while !self.pending.is_empty() {
            self.flush_one();
        }
        for i in 0..self.parties.len() {
            let out = self.parties[i]
                .handle(Input::DeadlinePassed(phase))
                .unwrap_or_else(|e| {
                    panic!(
                        "honest participant {} failed at the {phase:?} deadline: {e}",
                        i + 1
                    )
                });
            self.collect(i, out);
        }
    }

    /// Every dealing seen so far.
    fn dealings(&self) -> Vec<&Signed<Dealing<MinPk>>> {
        let f = fixture();
        f.honest_deals
            .iter()
            .chain(&self.seen)
            .filter_map(|m| match m {
                Message::Deal(ds) => Some(ds.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

/// A forged dealing: a real one (honest or the adversary's), mutated, and signed by the
/// adversary (whatever seat it claims), or signed for another configuration.
fn forge_dealing(honest: &Honest, input: &mut Bytes) -> Message<MinPk> {
    let f = fixture();
    let me = &f.keys[(BYZANTINE - 1) as usize];
    let all = honest.dealings();
    let mut body = all[input.below(all.len())].body.clone();
    let mut rng = ChaCha20Rng::seed_from_u64(input.u64());
    let mut context = f.config.digest();
    for _ in 0..=input.below(3) {
        match input.below(9) {
            0 => body.dealer = 1 + input.below(N as usize + 1) as u32, // re-labelled (0 and 5 invalid)
            1 => {
                let c = input.below(body.ciphertexts.len().max(1));
                if let Some(ct) = body.ciphertexts.get_mut(c) {
                    let b = input.below(ct.0.len().max(1));
                    if let Some(x) = ct.0.get_mut(b) {
                        *x ^= 1 << input.below(8);
                    }
                }
            }
            2 => {
                body.commitment = Polynomial::random(input.below(3) as u32, &mut rng)
                    .unwrap()
                    .commit()
            }
            3 => body.ephemeral = SecretScalar::random(&mut rng).public(),
            4 => {
                body.ciphertexts.truncate(input.below(N as usize + 1));
            }
            5 => {
                let extra = input.below(300);
                for _ in 0..extra {
                    body.ciphertexts
                        .push(conclave_dkg::messages::CipherText(vec![0x5a; 48]));
                }
            }
            6 => {
                let len = input.below(200);
                if let Some(ct) = body.ciphertexts.first_mut() {
                    ct.0.resize(len, 7);
                }
            }
            7 => {
                // Signed for another configuration (same session id, other threshold).
                let mut other = f.config.clone();
                other.t = T + 1;
                context = other.digest();
            }
            _ => {} // the body unchanged: re-signed by the adversary
        }
    }
    let signed = Signed::sign(&context, body, &me.signing, &mut rng);
    Message::Deal(vec![signed])
}

/// A forged complaint: it claims any complainer (honest ones included, signed by the
/// adversary's key), with entries about seen dealings: valid or invalid DLEQ reveals by the
/// adversary's key, repeated dealers, huge entry lists.
fn forge_complaint(honest: &Honest, input: &mut Bytes) -> Message<MinPk> {
    let f = fixture();
    let me = &f.keys[(BYZANTINE - 1) as usize];
    let all = honest.dealings();
    let context = f.config.digest();
    let mut rng = ChaCha20Rng::seed_from_u64(input.u64());
    let complainer = 1 + input.below(N as usize) as u32;
    let count = match input.below(4) {
        0 => 0,
        1 => 1,
        2 => 2,
        _ => input.below(256) + 1,
    };
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let d = &all[input.below(all.len())].body;
        let digest = if input.bool() {
            d.digest_for(&context)
        } else {
            input.array::<32>()
        };
        let (k, proof) = DleqProof::prove(&me.encryption, &d.ephemeral, &digest, &mut rng);
        let shared_point = if input.bool() {
            k
        } else {
            SecretScalar::random(&mut rng).public()
        };
        let seats = match input.below(3) {
            0 => vec![complainer],
            1 => vec![1 + input.below(N as usize) as u32],
            _ => vec![complainer, complainer],
        };
        entries.push(ComplaintEntry {
            dealer: if input.bool() {
                d.dealer
            } else {
                input.below(6) as u32
            },
            dealing: digest,
            seats,
            shared_point,
            proof,
        });
    }
    let body = Complaint {
        complainer,
        entries,
    };
    Message::Complaint(Box::new(Signed::sign(
        &context,
        body,
        &me.signing,
        &mut rng,
    )))
}

/// A forged justification: for any seat (the adversary's own, validly signed, or an honest
/// one's, signed by the adversary), of any seen dealing, with true or wrong values.
fn forge_justification(honest: &Honest, input: &mut Bytes) -> Message<MinPk> {
    let f = fixture();
    let me = &f.keys[(BYZANTINE - 1) as usize];
    let all = honest.dealings();
    let context = f.config.digest();
    let mut rng = ChaCha20Rng::seed_from_u64(input.u64());
    let d = &all[input.below(all.len())].body;
    let count = input.below(4);
    let shares = (0..count)
        .map(|_| RevealedShare {
            seat: input.below(N as usize + 2) as u32,
            value: Scalar::from(input.u64()),
        })
        .collect();
    let body = Justification {
        dealer: 1 + input.below(N as usize) as u32,
        dealing: d.digest_for(&context),
        shares,
    };
    Message::Justify(vec![Signed::sign(&context, body, &me.signing, &mut rng)])
}

/// The participant state machine under an adversarial seat that controls delivery (see the
/// module docs).
pub fn participant(data: &[u8]) {
    let f = fixture();
    let mut input = Bytes::new(data);
    let parties = (1..N)
        .map(|id| {
            Participant::new(
                f.config.clone(),
                f.keys[(id - 1) as usize].clone(),
                participant_seed(id),
            )
            .expect("valid participant")
        })
        .collect();
    let mut honest = Honest {
        parties,
        started: vec![false; (N - 1) as usize],
        results: vec![None, None, None],
        pending: Default::default(),
        seen: Vec::new(),
    };
    let deadlines = [Phase::Deal, Phase::Complain, Phase::Justify];
    let mut next_deadline = 0;
    let mut steps = 0;
    while !input.is_empty() && next_deadline < deadlines.len() && steps < 64 {
        steps += 1;
        match input.below(12) {
            0 => {
                honest.deadline(deadlines[next_deadline]);
                next_deadline += 1;
            }
            1 => {
                let i = input.below(honest.parties.len());
                honest.start(i);
            }
            2 => honest.flush_one(),
            3 => {
                // A replay of anything seen so far (including the adversary's own messages).
                if !honest.seen.is_empty() {
                    let m = honest.seen[input.below(honest.seen.len())].clone();
                    honest.deliver(&m);
                }
            }
            4 => {
                // Raw bytes of any length, decoded as a host would (with the config's limits).
                let len = (input.u32() % 4096) as usize;
                let raw = input.bytes(len);
                if let Ok(m) = Message::<MinPk>::from_bytes_limited(raw, &f.config.limits()) {
                    honest.deliver(&m);
                }
            }
            5 => {
                // A stale or future deadline: must be ignored.
                let p = [
                    Phase::Init,
                    Phase::Deal,
                    Phase::Complain,
                    Phase::Justify,
                    Phase::Done,
                ][input.below(5)];
                if p != deadlines[next_deadline] {
                    for i in 0..honest.parties.len() {
                        let out = honest.parties[i]
                            .handle(Input::DeadlinePassed(p))
                            .expect("a stale deadline is ignored");
                        honest.collect(i, out);
                    }
                }
            }
            6 | 7 => {
                let m = forge_dealing(&honest, &mut input);
                honest.deliver(&m);
            }
            8 => {
                let m = forge_complaint(&honest, &mut input);
                honest.deliver(&m);
            }
            9 => {
                let m = forge_justification(&honest, &mut input);
                honest.deliver(&m);
            }
            _ => {
                let m = f.attacks[input.below(f.attacks.len())].clone();
                honest.deliver(&m);
            }
        }
    }
    for &phase in &deadlines[next_deadline..] {
        honest.deadline(phase);
    }
    check_outputs(&honest.results);
    check_no_frame(&honest.seen);
    // Re-delivering the honest dealings after the end changes nothing and never panics.
    for m in &f.honest_deals {
        honest.deliver(m);
    }
}

/// No evidence the adversary can assemble from everything it saw proves a fault of an honest
/// member: every kind, against every honest seat / player, quoting every signed message seen.
fn check_no_frame(seen: &[Message<MinPk>]) {
    let f = fixture();
    let mut messages: Vec<SignedMessage<MinPk>> = Vec::new();
    for m in f.honest_deals.iter().chain(seen) {
        match m {
            Message::Deal(ds) => messages.extend(
                ds.iter()
                    .map(|d| SignedMessage::Dealing(Box::new(d.clone()))),
            ),
            Message::Complaint(c) => messages.push(SignedMessage::Complaint((**c).clone())),
            Message::Justify(js) => {
                messages.extend(js.iter().map(|j| SignedMessage::Justification(j.clone())))
            }
        }
    }
    for culprit in 1..N {
        for kind in [
            FaultKind::Silent,
            FaultKind::BadCommitment,
            FaultKind::InvalidDealing,
            FaultKind::Equivocation,
            FaultKind::BadShare,
            FaultKind::WrongJustification,
            FaultKind::FalseComplaint,
            FaultKind::EquivocatingComplaint,
        ] {
            let e = Evidence {
                culprit,
                kind,
                detail: String::new(),
                messages: messages.clone(),
            };
            assert!(
                e.verify(&f.config).is_err(),
                "verifiable {kind:?} evidence against honest member {culprit}"
            );
        }
    }
}

fn check_outputs(results: &[Option<DkgOutput<MinPk>>]) {
    let outputs: Vec<&DkgOutput<MinPk>> = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.as_ref()
                .unwrap_or_else(|| panic!("honest participant {} did not finish", i + 1))
        })
        .collect();
    let first = outputs[0];
    for o in &outputs {
        assert_eq!(o.commitment, first.commitment, "commitments differ");
        assert_eq!(o.qualified, first.qualified, "QUAL differs");
        assert_eq!(
            o.disqualified, first.disqualified,
            "disqualified sets differ"
        );
        assert_eq!(o.public_shares, first.public_shares, "public shares differ");
    }
    assert_eq!(first.commitment.degree(), T);
    assert_eq!(first.group_public_key, first.commitment.group_public_key());
    for d in 1..N {
        assert!(
            first.qualified.contains(&d),
            "honest dealer {d} not qualified: {first:?}"
        );
    }
    assert!(first.disqualified.iter().all(|d| d.index == BYZANTINE));
    for o in &outputs {
        assert!(
            o.evidence.iter().all(|e| e.culprit == BYZANTINE),
            "an honest participant was blamed: {:?}",
            o.evidence
        );
    }
    let mut shares = Vec::new();
    for o in &outputs {
        assert_eq!(o.shares.len(), 1);
        for s in &o.shares {
            let public = &first.public_shares[(s.index() - 1) as usize];
            assert_eq!(s.public_share::<MinPk>().point(), public.point());
            assert!(s.verify(&first.commitment));
            shares.push(s.clone());
        }
    }
    for pair in [[0usize, 1], [1, 2], [0, 2]] {
        let two = [shares[pair[0]].clone(), shares[pair[1]].clone()];
        let secret = interpolate_secret(&two).expect("distinct indices");
        let public = (<MinPk as Variant>::PublicAffine::generator() * secret).to_affine();
        assert_eq!(&public, first.group_public_key.as_affine());
    }
}

/// Seed inputs for the DKG targets.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let f = fixture();
    match target {
        "dkg_message" => {
            let mut v: Vec<Vec<u8>> = f.honest_deals.iter().map(|m| m.to_bytes()).collect();
            v.extend(f.attacks.iter().step_by(3).map(|m| m.to_bytes()));
            let mut trailing = f.attacks[0].to_bytes();
            trailing.push(0);
            v.push(trailing);
            v.push(f.attacks[0].to_bytes()[..60].to_vec());
            v.push(vec![1, 0, 1, 0, 0]); // a huge list length
            v.push(vec![4]);
            v
        }
        "dkg_participant" => {
            let attacks = f.attacks.len() as u8;
            let prem = 10u8; // op: a ready-made attack
            let mut v = vec![
                vec![],        // honest run
                vec![0, 0, 0], // deadlines only
            ];
            // Each ready-made attack before the Deal deadline, then the deadlines.
            for a in 0..attacks {
                v.push(vec![prem, a, 0, 0, 0]);
            }
            // The audit's junk-first attack: before anybody starts, four differently signed
            // copies of each honest seat's dealing re-signed by the adversary (op 6, dealing
            // index, RNG seed, one mutation, "unchanged"), then the honest run.
            let mut junk = Vec::new();
            for seat in 0..3u8 {
                for k in 0..4u8 {
                    junk.extend([6, seat, 0, 0, 0, 0, 0, 0, seat, k, 0, 8]);
                }
            }
            junk.extend([0, 0, 0]);
            v.push(junk);
            // Junk complaints claiming to come from player 1 (op 8), re-labelled dealings
            // (mutation 0) and a dealing signed for another configuration (mutation 7).
            v.push(vec![
                8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0,
            ]);
            v.push(vec![6, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 2, 1, 0, 0, 0]);
            v.push(vec![6, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 7, 1, 0, 2, 0, 0]);
            // Interleaved starts and deliveries, forged justifications, raw bytes.
            v.push(vec![
                1, 2, 2, prem, 1, 1, 0, 2, 0, 9, 0, 0, 0, 0, 0, 0, 0, 5, 0, 4, 0, 0, 0, 9, 1, 0, 0,
                0, 0, 0,
            ]);
            // Complaint-phase attacks after the Deal deadline, replays, late dealings.
            v.push(vec![prem, 2, 0, prem, 9, prem, 10, 0, prem, 0, 0]);
            v.push(vec![prem, 0, prem, 1, 0, prem, 12, 3, 3, 0, 3, 5, 0]);
            v.push(vec![prem, 5, 0, prem, attacks - 1, prem, attacks - 2, 0, 0]);
            v
        }
        _ => Vec::new(),
    }
}

/// A harness function: raw fuzzer bytes in, panic on a property violation.
pub type Harness = fn(&[u8]);

/// The DKG fuzz targets and their functions.
pub const TARGETS: &[(&str, Harness)] =
    &[("dkg_message", message), ("dkg_participant", participant)];
