//! Regression tests for the audit of the DKG (issue #10): each test performs one attack end to
//! end through the public API — the adversary's messages arrive first, before `Start`, or are
//! crafted from real dealings — and checks that it no longer works.

use blstrs::Scalar;
use conclave_dkg::messages::Dealing;
use conclave_dkg::sigma::{DleqProof, Point, SecretScalar};
use conclave_dkg::{
    Committee, Complaint, DkgConfig, DkgOutput, Error, Evidence, FaultKind, IdentityKeys, Input,
    Message, Output, Participant, Phase, Signed, SignedMessage,
};
use conclave_threshold_sig::{MinPk, Polynomial, PublicShare};
use ff::Field;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const N: u32 = 4;
const T: u32 = 1;

fn rng(i: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(i)
}

fn keys() -> Vec<IdentityKeys> {
    (0..N)
        .map(|i| IdentityKeys::random(&mut rng(100 + u64::from(i))))
        .collect()
}

fn config(keys: &[IdentityKeys], t: u32) -> DkgConfig<MinPk> {
    let c = Committee::one_seat_each(keys);
    DkgConfig::new([42u8; 32], c, t)
}

/// What every signature and transcript of `cfg` is bound to.
fn ctx(cfg: &DkgConfig<MinPk>) -> [u8; 32] {
    cfg.digest()
}

fn participant(cfg: &DkgConfig<MinPk>, keys: &[IdentityKeys], i: usize) -> Participant<MinPk> {
    Participant::new(cfg.clone(), keys[i].clone(), [i as u8 + 1; 32]).unwrap()
}

fn broadcasts(out: Vec<Output<MinPk>>) -> Vec<Message<MinPk>> {
    out.into_iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) => Some(m),
            Output::Finished(_) => None,
        })
        .collect()
}

/// A dealing for `seat` built by the adversary: polynomial `poly`, the share of every seat in
/// `corrupt` shifted by one, signed with `signer` (not necessarily the seat's owner).
fn crafted_dealing(
    cfg: &DkgConfig<MinPk>,
    seat: u32,
    poly: &Polynomial,
    corrupt: &[u32],
    signer: &SecretScalar,
    rng_seed: u64,
) -> Signed<Dealing<MinPk>> {
    let enc: Vec<Point> = cfg
        .players
        .members
        .iter()
        .map(|m| m.encryption_key)
        .collect();
    let shares: Vec<Scalar> = (1..=N)
        .map(|j| {
            poly.evaluate(j)
                + if corrupt.contains(&j) {
                    Scalar::ONE
                } else {
                    Scalar::ZERO
                }
        })
        .collect();
    let mut r = rng(rng_seed);
    let d = Dealing::create(&ctx(cfg), seat, poly.commit(), &shares, &enc, &mut r);
    Signed::sign(&ctx(cfg), d, signer, &mut r)
}

/// Runs the honest participants `0..3` to the end; `adversary(phase)` gives the messages the
/// adversary (member 4) injects *before* the honest messages of that phase are delivered
/// (`Phase::Init`: before `Start`). Messages the participants reject are ignored.
fn run_with_adversary(
    cfg: &DkgConfig<MinPk>,
    keys: &[IdentityKeys],
    mut adversary: impl FnMut(Phase, &[Message<MinPk>]) -> Vec<Message<MinPk>>,
) -> Vec<Result<DkgOutput<MinPk>, Error>> {
    let mut parties: Vec<_> = (0..3).map(|i| participant(cfg, keys, i)).collect();
    let deliver = |parties: &mut Vec<Participant<MinPk>>, msgs: &[Message<MinPk>]| {
        for m in msgs {
            for p in parties.iter_mut() {
                let _ = p.handle(Input::Message(m.clone()));
            }
        }
    };
    let junk = adversary(Phase::Init, &[]);
    deliver(&mut parties, &junk);
    let mut honest: Vec<Message<MinPk>> = Vec::new();
    for p in parties.iter_mut() {
        honest.extend(broadcasts(p.handle(Input::Start).unwrap()));
    }
    let mut results: Vec<Option<Result<DkgOutput<MinPk>, Error>>> = vec![None, None, None];
    for phase in [Phase::Deal, Phase::Complain, Phase::Justify] {
        let junk = adversary(phase, &honest);
        deliver(&mut parties, &junk);
        deliver(&mut parties, &honest);
        honest.clear();
        for (i, p) in parties.iter_mut().enumerate() {
            match p.handle(Input::DeadlinePassed(phase)) {
                Ok(out) => {
                    for o in out {
                        match o {
                            Output::Broadcast(m) => honest.push(m),
                            Output::Finished(r) => results[i] = Some(Ok(*r)),
                        }
                    }
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
    }
    results.into_iter().map(|r| r.unwrap()).collect()
}

fn assert_consistent(out: &DkgOutput<MinPk>) {
    for s in &out.shares {
        let ps: &PublicShare<MinPk> = &out.public_shares[(s.index() - 1) as usize];
        let mine = s.public_share::<MinPk>();
        assert_eq!(
            mine.to_bytes(),
            ps.to_bytes(),
            "share {} inconsistent",
            s.index()
        );
    }
}

/// Item 1: member 4 sends, before anybody starts, 16 distinct dealings for each of seats 1–3
/// signed with its own key. Before the fix they filled the candidate slots of the honest
/// dealers, seats 1–3 became silent, QUAL = {4} and the group key was f₄(0)·G.
#[test]
fn junk_dealings_before_start_cannot_capture_the_group_key() {
    let keys = keys();
    let cfg = config(&keys, T);
    let own = Polynomial::random(T, &mut rng(7)).unwrap();
    let own_key = own.commit::<MinPk>().group_public_key();
    let outputs = run_with_adversary(&cfg, &keys, |phase, _| match phase {
        Phase::Init => {
            let mut junk = Vec::new();
            for seat in 1..=3 {
                for k in 0..16 {
                    let poly =
                        Polynomial::random(T, &mut rng(1000 + u64::from(seat) * 100 + k)).unwrap();
                    junk.push(Message::Deal(vec![crafted_dealing(
                        &cfg,
                        seat,
                        &poly,
                        &[],
                        &keys[3].signing,
                        k,
                    )]));
                }
            }
            junk
        }
        Phase::Deal => vec![Message::Deal(vec![crafted_dealing(
            &cfg,
            4,
            &own,
            &[],
            &keys[3].signing,
            99,
        )])],
        _ => Vec::new(),
    });
    let first = outputs[0].as_ref().unwrap();
    for out in &outputs {
        let out = out.as_ref().expect("honest participants finish");
        assert_eq!(out.qualified, vec![1, 2, 3, 4]);
        assert_ne!(out.group_public_key, own_key, "member 4 owns the group key");
        assert_eq!(out.commitment, first.commitment);
        assert_consistent(out);
    }
}

/// Item 1, complaints: dealer 4 gives player 1 a bad share, then floods junk complaints that
/// claim to come from player 1 ahead of player 1's real complaint. Before the fix the real
/// complaint was dropped, dealer 4 stayed in QUAL and player 1 silently ended with a share
/// inconsistent with the group commitment.
#[test]
fn junk_complaints_cannot_suppress_an_honest_complaint() {
    let keys = keys();
    let cfg = config(&keys, T);
    let own = Polynomial::random(T, &mut rng(8)).unwrap();
    let outputs = run_with_adversary(&cfg, &keys, |phase, _| match phase {
        Phase::Deal => {
            let mut out = vec![Message::Deal(vec![crafted_dealing(
                &cfg,
                4,
                &own,
                &[1],
                &keys[3].signing,
                5,
            )])];
            for k in 0..16u64 {
                let body = Complaint {
                    complainer: 1,
                    entries: Vec::new(),
                };
                let signed = Signed::sign(&ctx(&cfg), body, &keys[3].signing, &mut rng(500 + k));
                out.push(Message::Complaint(Box::new(signed)));
            }
            out
        }
        _ => Vec::new(),
    });
    for out in &outputs {
        let out = out.as_ref().expect("honest participants finish");
        assert_eq!(
            out.qualified,
            vec![1, 2, 3],
            "dealer 4 must be disqualified"
        );
        assert!(out
            .disqualified
            .iter()
            .any(|d| d.index == 4 && d.reason == FaultKind::BadShare));
        assert_consistent(out);
    }
}

/// Item 2: dealer 4 broadcasts D1 (bad ciphertext for player 1) and privately signs D2 (same
/// commitment, R and proof; correct ciphertext for player 1). Player 1 complains about D1.
/// Before the fix, `[player 1's complaint, D2]` verified as false-complaint evidence against
/// the honest player 1.
#[test]
fn dealer_cannot_frame_an_honest_complainer_with_a_second_dealing() {
    let keys = keys();
    let cfg = config(&keys, T);
    let own = Polynomial::random(T, &mut rng(9)).unwrap();
    let d1 = crafted_dealing(&cfg, 4, &own, &[1], &keys[3].signing, 77);
    let d2 = crafted_dealing(&cfg, 4, &own, &[], &keys[3].signing, 77);
    assert_eq!(d1.body.ephemeral, d2.body.ephemeral);
    assert_ne!(d1.body, d2.body);
    let mut parties: Vec<_> = (0..3).map(|i| participant(&cfg, &keys, i)).collect();
    let mut msgs = vec![Message::Deal(vec![d1.clone()])];
    for p in parties.iter_mut() {
        msgs.extend(broadcasts(p.handle(Input::Start).unwrap()));
    }
    for m in &msgs {
        for p in parties.iter_mut() {
            p.handle(Input::Message(m.clone())).unwrap();
        }
    }
    let complaint = broadcasts(
        parties[0]
            .handle(Input::DeadlinePassed(Phase::Deal))
            .unwrap(),
    )
    .into_iter()
    .find_map(|m| match m {
        Message::Complaint(c) => Some(*c),
        _ => None,
    })
    .expect("player 1 complains about D1");
    let frame = Evidence::<MinPk> {
        culprit: 1,
        kind: FaultKind::FalseComplaint,
        detail: String::new(),
        messages: vec![
            SignedMessage::Complaint(complaint.clone()),
            SignedMessage::Dealing(Box::new(d2.clone())),
        ],
    };
    assert!(
        frame.verify(&cfg).is_err(),
        "an honest complainer was framed with a second dealing"
    );
    // The same complaint with the dealing it disputes is not a false complaint either.
    let mut honest_view = frame.clone();
    honest_view.messages[1] = SignedMessage::Dealing(Box::new(d1.clone()));
    assert!(honest_view.verify(&cfg).is_err());
    // And the two dealings are equivocation evidence against dealer 4.
    let equivocation = Evidence::<MinPk> {
        culprit: 4,
        kind: FaultKind::Equivocation,
        detail: String::new(),
        messages: vec![
            SignedMessage::Dealing(Box::new(d1)),
            SignedMessage::Dealing(Box::new(d2)),
        ],
    };
    assert_eq!(equivocation.verify(&cfg), Ok(()));
}

/// Item 4: the DLEQ nonce depended only on the RNG, so two proofs from the same RNG position
/// for different statements gave `x = (z₁ − z₂)/(c₁ − c₂)`.
#[test]
fn dleq_nonce_reuse_does_not_leak_the_encryption_key() {
    let x = SecretScalar::random(&mut rng(1));
    let r1 = SecretScalar::random(&mut rng(2)).public();
    let r2 = SecretScalar::random(&mut rng(3)).public();
    let (_, p1) = DleqProof::prove(&x, &r1, b"ctx", &mut rng(4));
    let (_, p2) = DleqProof::prove(&x, &r2, b"ctx", &mut rng(4));
    let recovered = (p1.z - p2.z) * (p1.c - p2.c).invert();
    let as_key = curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE * &recovered;
    assert_ne!(&as_key, x.public().point(), "the encryption key leaked");
    // The same statement with the same randomness gives the same proof (deterministic resume).
    let (_, p3) = DleqProof::prove(&x, &r1, b"ctx", &mut rng(4));
    assert_eq!(p1, p3);
}

/// Item 5: a dealing signed for one configuration (same session id, another threshold) is not
/// accepted by a participant of another.
#[test]
fn messages_replayed_from_another_config_are_rejected() {
    let keys = keys();
    let a = config(&keys, 1);
    let b = config(&keys, 2);
    let mut pa = participant(&a, &keys, 0);
    let mut pb = participant(&b, &keys, 1);
    let from_a = broadcasts(pa.handle(Input::Start).unwrap());
    pb.handle(Input::Start).unwrap();
    for m in from_a {
        assert!(pb.handle(Input::Message(m)).is_err(), "replay accepted");
    }
    assert_ne!(a.digest(), b.digest());
}

/// Item 6: two members with the same signing or encryption key.
#[test]
fn duplicate_identity_keys_are_rejected() {
    let keys = keys();
    let mut cfg = config(&keys, T);
    cfg.players.members[1].signing_key = cfg.players.members[0].signing_key;
    assert!(matches!(cfg.validate(), Err(Error::InvalidConfig(_))));
    let mut cfg = config(&keys, T);
    cfg.dealers.members[2].encryption_key = cfg.dealers.members[3].encryption_key;
    assert!(matches!(cfg.validate(), Err(Error::InvalidConfig(_))));
}

/// Item 1: with t+1 = 2 and three silent dealers, one dealer alone would know the key.
#[test]
fn fewer_than_t_plus_one_qualified_dealers_give_no_key() {
    let keys = keys();
    let cfg = config(&keys, T);
    let mut p = participant(&cfg, &keys, 0);
    let own = broadcasts(p.handle(Input::Start).unwrap());
    for m in own {
        p.handle(Input::Message(m)).unwrap();
    }
    p.handle(Input::DeadlinePassed(Phase::Deal)).unwrap();
    p.handle(Input::DeadlinePassed(Phase::Complain)).unwrap();
    assert!(matches!(
        p.handle(Input::DeadlinePassed(Phase::Justify)),
        Err(Error::NotEnoughQualified {
            needed: 2,
            qualified: 1
        })
    ));
}

/// Item 7: one complaint naming the same dealer many times (or more dealers than exist) is
/// rejected on arrival instead of forcing one DLEQ check and decryption per entry.
#[test]
fn complaint_with_repeated_dealers_is_rejected() {
    let keys = keys();
    let cfg = config(&keys, T);
    let mut p = participant(&cfg, &keys, 0);
    p.handle(Input::Start).unwrap();
    let dealing = crafted_dealing(
        &cfg,
        4,
        &Polynomial::random(T, &mut rng(3)).unwrap(),
        &[],
        &keys[3].signing,
        1,
    );
    let (k, proof) = DleqProof::prove(
        &keys[1].encryption,
        &dealing.body.ephemeral,
        b"x",
        &mut rng(2),
    );
    let entry = conclave_dkg::ComplaintEntry {
        dealer: 4,
        dealing: dealing.body.digest_for(&ctx(&cfg)),
        seats: vec![2],
        shared_point: k,
        proof,
    };
    let body = Complaint {
        complainer: 2,
        entries: vec![entry; 1000],
    };
    let signed = Signed::sign(&ctx(&cfg), body, &keys[1].signing, &mut rng(9));
    assert!(matches!(
        p.handle(Input::Message(Message::Complaint(Box::new(signed.clone())))),
        Err(Error::Malformed(_))
    ));
    // Also as bytes, with the configuration's limits.
    let bytes = Message::<MinPk>::Complaint(Box::new(signed)).to_bytes();
    assert!(Message::<MinPk>::from_bytes_limited(&bytes, &cfg.limits()).is_err());
}

/// Two different complaints signed by one player: equivocation evidence against it, and none
/// of its complaints moves anybody (whichever arrived first).
#[test]
fn equivocating_complainer_is_reported_and_ignored() {
    let keys = keys();
    let cfg = config(&keys, T);
    let own = Polynomial::random(T, &mut rng(10)).unwrap();
    let mut dealing_1 = None;
    let outputs = run_with_adversary(&cfg, &keys, |phase, honest| match phase {
        Phase::Deal => {
            dealing_1 = honest.iter().find_map(|m| match m {
                Message::Deal(ds) => ds.iter().find(|d| d.body.dealer == 1).cloned(),
                _ => None,
            });
            vec![Message::Deal(vec![crafted_dealing(
                &cfg,
                4,
                &own,
                &[],
                &keys[3].signing,
                6,
            )])]
        }
        Phase::Complain => {
            // Complaints against honest dealer 1's dealing (which everybody holds).
            let d = &dealing_1.as_ref().expect("dealer 1 dealt").body;
            let digest = d.digest_for(&ctx(&cfg));
            let (k, proof) =
                DleqProof::prove(&keys[3].encryption, &d.ephemeral, &digest, &mut rng(3));
            [vec![4], vec![4]]
                .into_iter()
                .enumerate()
                .map(|(i, seats)| {
                    let entry = conclave_dkg::ComplaintEntry {
                        dealer: 1,
                        dealing: digest,
                        seats,
                        // The second complaint reveals a point the proof does not match.
                        shared_point: if i == 0 { k } else { d.ephemeral },
                        proof,
                    };
                    let body = Complaint {
                        complainer: 4,
                        entries: vec![entry],
                    };
                    Message::Complaint(Box::new(Signed::sign(
                        &ctx(&cfg),
                        body,
                        &keys[3].signing,
                        &mut rng(40 + i as u64),
                    )))
                })
                .collect()
        }
        _ => Vec::new(),
    });
    for out in &outputs {
        let out = out.as_ref().expect("honest participants finish");
        assert_eq!(out.qualified, vec![1, 2, 3, 4]);
        let e = out
            .evidence
            .iter()
            .find(|e| e.kind == FaultKind::EquivocatingComplaint)
            .expect("equivocation evidence");
        assert_eq!(e.culprit, 4);
        assert_eq!(e.verify(&cfg), Ok(()));
        assert!(out.evidence.iter().all(|e| e.culprit == 4));
        assert_consistent(out);
    }
}

/// Every honest dealing delivered twice (the replay first): a repeat of a kept body is
/// ignored, not counted as a second dealing, so nobody is blamed for equivocation.
#[test]
fn replayed_honest_dealing_is_not_equivocation() {
    let keys = keys();
    let cfg = config(&keys, T);
    let outputs = run_with_adversary(&cfg, &keys, |phase, honest| match phase {
        Phase::Deal => honest.to_vec(), // every honest dealing twice, the replay first
        _ => Vec::new(),
    });
    for out in &outputs {
        let out = out.as_ref().expect("honest participants finish");
        assert_eq!(out.qualified, vec![1, 2, 3]);
        assert!(out
            .disqualified
            .iter()
            .all(|d| d.index == 4 && d.reason == FaultKind::Silent));
        assert_consistent(out);
    }
}

/// Evidence quoting a complaint that names one dealing thousands of times proves nothing (no
/// participant accepts such a complaint), so a verifier never spends a DLEQ check and a
/// decryption per repeated entry. (Before, this one verified as false-complaint evidence after
/// 20,000 DLEQ checks.)
#[test]
fn evidence_with_an_oversized_complaint_is_rejected_cheaply() {
    let keys = keys();
    let cfg = config(&keys, T);
    let dealing = crafted_dealing(
        &cfg,
        4,
        &Polynomial::random(T, &mut rng(3)).unwrap(),
        &[],
        &keys[3].signing,
        1,
    );
    let digest = dealing.body.digest_for(&ctx(&cfg));
    let (k, proof) = DleqProof::prove(
        &keys[1].encryption,
        &dealing.body.ephemeral,
        &digest,
        &mut rng(2),
    );
    let entry = conclave_dkg::ComplaintEntry {
        dealer: 4,
        dealing: digest,
        seats: vec![2],
        shared_point: k,
        proof,
    };
    let body = Complaint {
        complainer: 2,
        entries: vec![entry; 20_000],
    };
    let signed = Signed::sign(&ctx(&cfg), body, &keys[1].signing, &mut rng(9));
    for kind in [FaultKind::FalseComplaint, FaultKind::BadShare] {
        let e = Evidence::<MinPk> {
            culprit: if kind == FaultKind::BadShare { 4 } else { 2 },
            kind,
            detail: String::new(),
            messages: vec![
                SignedMessage::Complaint(signed.clone()),
                SignedMessage::Dealing(Box::new(dealing.clone())),
            ],
        };
        assert!(e.verify(&cfg).is_err());
    }
}

/// `Message::authenticate` names the signer of a real message and refuses a forged or foreign
/// one without storing anything (hosts relay and order only what it accepts).
#[test]
fn authenticate_names_the_signer_and_refuses_forgeries() {
    let keys = keys();
    let cfg = config(&keys, T);
    let mut p = participant(&cfg, &keys, 2);
    let deal = broadcasts(p.handle(Input::Start).unwrap()).remove(0);
    assert_eq!(deal.authenticate(&cfg), Ok(3));
    assert_eq!(deal.round(), Phase::Deal);
    // Another configuration (other threshold): the signature does not verify there.
    assert!(matches!(
        deal.authenticate(&config(&keys, 2)),
        Err(Error::InvalidSignature { sender: 3 })
    ));
    // The same dealing signed by another member's key.
    let Message::Deal(ds) = &deal else {
        panic!("a dealing")
    };
    let forged = Signed::sign(
        &ctx(&cfg),
        ds[0].body.clone(),
        &keys[0].signing,
        &mut rng(5),
    );
    assert!(matches!(
        Message::<MinPk>::Deal(vec![forged]).authenticate(&cfg),
        Err(Error::InvalidSignature { sender: 3 })
    ));
    assert!(Message::<MinPk>::Deal(Vec::new())
        .authenticate(&cfg)
        .is_err());
}
