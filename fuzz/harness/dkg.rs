//! Fuzz harness for `conclave-dkg`: the message decoder (both variants) and the sans-IO
//! participant state machine driven by a Byzantine seat.
//!
//! State-machine model: four participants with one seat each and degree `t = 1`; seats 1–3 are
//! honest participants under test, seat 4 is the adversary whose messages the fuzzer chooses
//! (validly signed bad dealings, equivocations, false or forged complaints, bogus
//! justifications, replays, arbitrary bytes). Per the protocol's assumptions the broadcast is
//! authenticated and synchronous: every honest participant sees the same messages in the same
//! order, and honest messages arrive before the phase deadline. Properties: no panic; deadlines
//! never fail; every honest participant finishes with the same commitment, QUAL and
//! disqualified set; all honest dealers qualify; only the adversary is ever blamed; each honest
//! share matches the commitment and any two honest shares interpolate to the group secret.
//!
//! Shared by `fuzz/fuzz_targets/dkg_*.rs` and `dkg/tests/fuzz_corpus.rs`. Expects a sibling
//! module `input` (`fuzz/harness/input.rs`) at the crate root.

use std::sync::OnceLock;

use blstrs::Scalar;
use conclave_dkg::messages::RevealedShare;
use conclave_dkg::sigma::{DleqProof, Point, SecretScalar};
use conclave_dkg::{
    Committee, Complaint, ComplaintEntry, Dealing, DkgConfig, DkgOutput, IdentityKeys, Input,
    Justification, Message, Output, Participant, Phase, Signed,
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
        let config = DkgConfig::<MinPk> {
            session: [0x5e; 32],
            dealers: committee.clone(),
            players: committee,
            t: T,
            previous: None,
        };
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
        let poly = Polynomial::random(T, &mut rng);
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
        let poly2 = Polynomial::random(T, &mut rng);
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
        let high = Polynomial::random(T + 1, &mut rng);
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
        // Justifications by seat 4: true values, wrong values, for seats it was not asked about.
        for (seat, value) in [
            (1, poly.evaluate(1)),
            (2, poly.evaluate(2) + Scalar::from(1u64)),
            (9, Scalar::from(5u64)),
        ] {
            let j = Justification {
                dealer: BYZANTINE,
                dealing: [0u8; 32],
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
    results: Vec<Option<DkgOutput<MinPk>>>,
    /// Every message delivered so far (the adversary may replay any of them).
    seen: Vec<Message<MinPk>>,
}

impl Honest {
    /// Deliver one broadcast to every honest participant, in the same order.
    fn deliver(&mut self, m: &Message<MinPk>) {
        for p in &mut self.parties {
            // Late or malformed adversarial messages are rejected with an error: fine.
            let _ = p.handle(Input::Message(m.clone()));
        }
        self.seen.push(m.clone());
    }

    /// Every honest participant handles `input`; their broadcasts go to everybody at once.
    fn step(&mut self, input: Input<MinPk>) {
        let mut outbox = Vec::new();
        for (i, p) in self.parties.iter_mut().enumerate() {
            let outputs = p.handle(input.clone()).unwrap_or_else(|e| {
                panic!("honest participant {} failed on {input:?}: {e}", i + 1)
            });
            for o in outputs {
                match o {
                    Output::Broadcast(m) => outbox.push(m),
                    Output::Finished(r) => self.results[i] = Some(*r),
                }
            }
        }
        for m in &outbox {
            self.deliver(m);
        }
    }
}

/// The participant state machine under an adversarial seat (see the module docs).
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
        results: vec![None, None, None],
        seen: Vec::new(),
    };
    honest.step(Input::Start);
    let deadlines = [Phase::Deal, Phase::Complain, Phase::Justify];
    let mut next_deadline = 0;
    while !input.is_empty() && next_deadline < deadlines.len() {
        match input.below(8) {
            0 => {
                honest.step(Input::DeadlinePassed(deadlines[next_deadline]));
                next_deadline += 1;
            }
            1 => {
                // A replay of anything seen so far (including the adversary's own messages).
                if !honest.seen.is_empty() {
                    let m = honest.seen[input.below(honest.seen.len())].clone();
                    honest.deliver(&m);
                }
            }
            2 => {
                let raw = input.short_bytes(255);
                if let Ok(m) = Message::<MinPk>::from_bytes(raw) {
                    honest.deliver(&m);
                }
            }
            3 => {
                // A stale or future deadline: must be ignored.
                let p = [
                    Phase::Init,
                    Phase::Deal,
                    Phase::Complain,
                    Phase::Justify,
                    Phase::Done,
                ][input.below(5)];
                if next_deadline < deadlines.len() && p != deadlines[next_deadline] {
                    honest.step(Input::DeadlinePassed(p));
                }
            }
            _ => {
                let m = f.attacks[input.below(f.attacks.len())].clone();
                honest.deliver(&m);
            }
        }
    }
    for &phase in &deadlines[next_deadline..] {
        honest.step(Input::DeadlinePassed(phase));
    }
    check_outputs(&honest.results);
    // Re-delivering the honest dealings after the end changes nothing and never panics.
    for m in &f.honest_deals {
        honest.deliver(m);
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
            let mut v = vec![
                vec![],        // honest run
                vec![0, 0, 0], // deadlines only
            ];
            // Each attack before the Deal deadline, then the deadlines.
            for a in 0..attacks {
                v.push(vec![4, a, 0, 0, 0]);
            }
            // Complaint-phase attacks after the Deal deadline, replays, late dealings.
            v.push(vec![4, 2, 0, 4, 9, 4, 10, 0, 4, 0, 0]);
            v.push(vec![4, 0, 4, 1, 0, 4, 12, 1, 3, 0, 1, 5, 0]);
            v.push(vec![0, 4, 0, 4, 3, 0, 0, 1, 0]);
            v.push(vec![4, 5, 0, 4, attacks - 1, 4, attacks - 2, 0, 0]);
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
