//! `Evidence::verify`: evidence produced by honest participants verifies from the signed
//! messages alone; tampered or misattributed evidence does not.

use conclave_dkg::sim::{dkg_parties, parse_byzantine, run_parties, SimConfig, SimVariant};
use conclave_dkg::{
    Committee, Dealing, DkgConfig, DkgOutput, Error, Evidence, FaultKind, IdentityKeys, Input,
    Message, Output, Participant, Phase, Signed, SignedMessage,
};
use conclave_threshold_sig::{MinPk, Polynomial};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A simulated run with every simulator kind; returns the first honest output and the config.
fn simulated() -> (DkgOutput<MinPk>, DkgConfig<MinPk>) {
    let cfg = SimConfig::new(SimVariant::MinPk, 10, 3, [21u8; 32]).with_byzantine(
        parse_byzantine(
            "1:silent,2:bad-share,3:bad-commitment,4:wrong-justification,5:false-complaint",
        )
        .unwrap(),
    );
    let mut parties = dkg_parties::<MinPk>(&cfg).unwrap();
    let (results, _) = run_parties(&mut parties).unwrap();
    let config = parties[0].participant.config().clone();
    let honest = parties.iter().position(|p| p.honest).unwrap();
    (results[honest].clone().unwrap(), config)
}

fn find(out: &DkgOutput<MinPk>, culprit: u32, kind: FaultKind) -> Evidence<MinPk> {
    out.evidence
        .iter()
        .find(|e| e.culprit == culprit && e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} evidence against {culprit}"))
        .clone()
}

fn rejected(e: &Evidence<MinPk>, config: &DkgConfig<MinPk>) -> bool {
    matches!(e.verify(config), Err(Error::InvalidEvidence(_)))
}

#[test]
fn simulated_evidence_verifies() {
    let (out, config) = simulated();
    let kinds: Vec<_> = out.evidence.iter().map(|e| (e.culprit, e.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (1, FaultKind::Silent),
            (2, FaultKind::BadShare),
            (3, FaultKind::BadCommitment),
            (4, FaultKind::WrongJustification),
            (5, FaultKind::FalseComplaint),
        ]
    );
    for e in &out.evidence {
        match e.kind {
            FaultKind::Silent => assert!(rejected(e, &config), "silence is not provable"),
            _ => assert_eq!(
                e.verify(&config),
                Ok(()),
                "{:?} against {}",
                e.kind,
                e.culprit
            ),
        }
    }
}

#[test]
fn tampered_evidence_is_rejected() {
    let (out, config) = simulated();
    // Misattributed: every proven fault blamed on an honest dealer or player instead.
    for e in out.evidence.iter().filter(|e| e.kind != FaultKind::Silent) {
        let mut wrong = e.clone();
        wrong.culprit = 9;
        assert!(rejected(&wrong, &config), "{:?} moved to seat 9", e.kind);
    }
    // Bad share: without the complaint nothing is proven; it is not a wrong justification.
    let bad_share = find(&out, 2, FaultKind::BadShare);
    let mut e = bad_share.clone();
    e.messages
        .retain(|m| matches!(m, SignedMessage::Dealing(_)));
    assert!(rejected(&e, &config));
    let mut e = bad_share.clone();
    e.kind = FaultKind::WrongJustification;
    assert!(rejected(&e, &config));
    // A modified ciphertext breaks the dealer's signature.
    let mut e = bad_share.clone();
    if let SignedMessage::Dealing(d) = &mut e.messages[0] {
        d.body.ciphertexts[5].0[0] ^= 1;
    }
    assert!(rejected(&e, &config));
    // The honest complaint quoted as a false complaint against its author.
    let SignedMessage::Complaint(c) = &bad_share.messages[1] else {
        panic!("expected a complaint");
    };
    let framed = Evidence {
        culprit: c.body.complainer,
        kind: FaultKind::FalseComplaint,
        detail: String::new(),
        messages: vec![bad_share.messages[1].clone(), bad_share.messages[0].clone()],
    };
    assert!(rejected(&framed, &config));
    // Wrong justification: without the justification it proves a bad share, nothing more.
    let wrong_just = find(&out, 4, FaultKind::WrongJustification);
    let mut e = wrong_just.clone();
    e.messages
        .retain(|m| !matches!(m, SignedMessage::Justification(_)));
    assert!(rejected(&e, &config));
    e.kind = FaultKind::BadShare;
    assert_eq!(e.verify(&config), Ok(()));
    // Bad commitment: an honest dealing does not prove it; a re-signed copy is not the dealer's.
    let honest_dealing = bad_share.messages[0].clone();
    let mut e = find(&out, 3, FaultKind::BadCommitment);
    assert_eq!(e.verify(&config), Ok(()));
    e.culprit = 2;
    e.messages = vec![honest_dealing];
    assert!(rejected(&e, &config));
    // False complaint: needs the accused dealings and the culprit's own signature.
    let false_complaint = find(&out, 5, FaultKind::FalseComplaint);
    let mut e = false_complaint.clone();
    e.messages
        .retain(|m| matches!(m, SignedMessage::Complaint(_)));
    assert!(rejected(&e, &config));
    let mut e = false_complaint.clone();
    if let SignedMessage::Complaint(c) = &mut e.messages[0] {
        c.body.entries.truncate(1);
    }
    assert!(rejected(&e, &config));
    // Evidence for another session is void.
    let mut other = config.clone();
    other.session[0] ^= 1;
    for e in &out.evidence {
        assert!(rejected(e, &other));
    }
}

/// Four seats, `t = 1`: seats 1–3 honest participants, seat 4 driven by the test.
struct Handcrafted {
    config: DkgConfig<MinPk>,
    keys: Vec<IdentityKeys>,
}

impl Handcrafted {
    fn new() -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(77);
        let keys: Vec<IdentityKeys> = (0..4).map(|_| IdentityKeys::random(&mut rng)).collect();
        let committee = Committee::one_seat_each(&keys);
        let config = DkgConfig::new([42u8; 32], committee, 1);
        Handcrafted { config, keys }
    }

    /// A dealing of seat 4 signed with its key, after `tweak`.
    fn dealing(&self, seed: u64, tweak: impl Fn(&mut Dealing<MinPk>)) -> Signed<Dealing<MinPk>> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let poly = Polynomial::random(1, &mut rng).unwrap();
        let shares: Vec<_> = (1..=4).map(|j| poly.evaluate(j)).collect();
        let enc: Vec<_> = self.keys.iter().map(|k| k.encryption.public()).collect();
        let mut d = Dealing::create(
            &self.config.digest(),
            4,
            poly.commit(),
            &shares,
            &enc,
            &mut rng,
        );
        tweak(&mut d);
        Signed::sign(&self.config.digest(), d, &self.keys[3].signing, &mut rng)
    }

    /// Run seats 1–3 honestly with seat 4's dealings; participant 1's output.
    fn run(&self, adversary: Vec<Signed<Dealing<MinPk>>>) -> DkgOutput<MinPk> {
        let mut parties: Vec<Participant<MinPk>> = (0..3)
            .map(|i| {
                Participant::new(self.config.clone(), self.keys[i].clone(), [i as u8; 32]).unwrap()
            })
            .collect();
        let mut inbox = vec![Message::Deal(adversary)];
        let mut result = None;
        for input in [
            Input::Start,
            Input::DeadlinePassed(Phase::Deal),
            Input::DeadlinePassed(Phase::Complain),
            Input::DeadlinePassed(Phase::Justify),
        ] {
            for (i, p) in parties.iter_mut().enumerate() {
                for o in p.handle(input.clone()).unwrap() {
                    match o {
                        Output::Broadcast(m) => inbox.push(m),
                        Output::Finished(r) if i == 0 => result = Some(*r),
                        _ => {}
                    }
                }
            }
            for m in inbox.drain(..) {
                for p in parties.iter_mut() {
                    p.handle(Input::Message(m.clone())).unwrap();
                }
            }
        }
        result.unwrap()
    }
}

#[test]
fn equivocation_and_invalid_dealing_evidence() {
    let h = Handcrafted::new();
    // Two different dealings of seat 4.
    let (a, b) = (h.dealing(1, |_| {}), h.dealing(2, |_| {}));
    let out = h.run(vec![a.clone(), b.clone()]);
    assert_eq!(out.qualified, vec![1, 2, 3]);
    let e = find(&out, 4, FaultKind::Equivocation);
    assert_eq!(e.verify(&h.config), Ok(()));
    let mut same = e.clone();
    same.messages = vec![
        SignedMessage::Dealing(Box::new(a.clone())),
        SignedMessage::Dealing(Box::new(a.clone())),
    ];
    assert!(rejected(&same, &h.config));
    // Truncated ciphertexts, then a proof of knowledge for the wrong ephemeral key.
    for tweak in [
        (|d: &mut Dealing<MinPk>| d.ciphertexts.truncate(3)) as fn(&mut Dealing<MinPk>),
        |d| d.ephemeral = d.ephemeral_proof.a,
    ] {
        let bad = h.dealing(3, tweak);
        let out = h.run(vec![bad]);
        let e = find(&out, 4, FaultKind::InvalidDealing);
        assert_eq!(e.verify(&h.config), Ok(()));
        let mut e2 = e.clone();
        e2.messages = vec![SignedMessage::Dealing(Box::new(a.clone()))];
        assert!(
            rejected(&e2, &h.config),
            "a well-formed dealing proves nothing"
        );
        e2.kind = FaultKind::BadCommitment;
        assert!(rejected(&e2, &h.config));
    }
}
