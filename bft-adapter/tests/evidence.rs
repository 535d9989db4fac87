//! Issue #11 §4: equivocation evidence built from threshold partial signatures must not frame an
//! honest seat, and threshold keys must give quorum intersection.
//!
//! The attack: n = 4, f = 1, a degree-2 key (quorum 3). Honest A and B soft-vote v1, honest C
//! soft-votes v2 (it saw another proposal first), Byzantine Z soft-votes v1 too. Z now holds
//! three partials on `soft(v1)` and computes C's partial on it by Lagrange interpolation in the
//! exponent. With C's genuine vote for v2, that is two "validly signed" conflicting votes of C.
//! Before the fix both signatures passed `verify_share` and nothing told the evidence apart from
//! a real equivocation (the engine's and the simulator's only check, and what the docs called
//! "self-proving"); now such evidence is marked non-attributable and [`Evidence::verify`]
//! refuses it, and in attributable mode (individual keys with proofs of possession) the forgery
//! fails outright while a real equivocation is still proven.

use conclave_bft::adapter::{
    ThresholdSetupError, ThresholdSigner, ThresholdVerifier, VrfRoster, VrfSortition,
};
use conclave_bft::codec::encode;
use conclave_bft::evidence::{Evidence, EvidenceError, EvidenceKind};
use conclave_bft::traits::{Signer, Verifier};
use conclave_bft::types::{
    Epoch, Height, Message, NodeId, Period, ValueId, Vote, VoteStep, VoteValue,
};
use conclave_bft::{Action, Adapters, Config, Engine, Input};
use conclave_committee::vrf::SecretKey as VrfSecretKey;
use conclave_threshold_sig::{
    deal, standard_dst, Commitment, MinPk, Msm, PartialSignature, Scalar, Scheme, SecretKey,
    SecretShare, Signature,
};
use ff::Field;
use group::Curve;
use rand::SeedableRng;
use std::sync::Arc;

const N: u32 = 4;
const HONEST_C: NodeId = NodeId(2);
const BYZANTINE_Z: NodeId = NodeId(3);

struct Setup {
    commitment: Commitment<MinPk>,
    shares: Vec<SecretShare>,
    individual: Vec<SecretKey>,
    dst: Vec<u8>,
}

fn setup(degree: u32) -> Setup {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
    let dealing = deal::<MinPk>(N, degree, &mut rng).expect("dealing");
    let individual = (0..N)
        .map(|i| SecretKey::key_gen(&[i as u8 + 1; 32]).expect("key"))
        .collect();
    Setup {
        commitment: dealing.commitment,
        shares: dealing.shares,
        individual,
        dst: standard_dst::<MinPk>(Scheme::ProofOfPossession),
    }
}

impl Setup {
    fn verifier(&self, attributable: bool) -> ThresholdVerifier<MinPk> {
        let v = ThresholdVerifier::new(self.commitment.clone(), N, &self.dst, [7; 32])
            .expect("degree-2f key");
        if !attributable {
            return v;
        }
        let keys: Vec<_> = self
            .individual
            .iter()
            .map(|k| (k.public_key::<MinPk>(), k.pop_prove::<MinPk>()))
            .collect();
        v.with_individual_keys(&keys)
            .expect("valid proofs of possession")
    }

    fn signer(&self, seat: NodeId, attributable: bool) -> ThresholdSigner<MinPk> {
        let s = ThresholdSigner::new(seat, self.shares[seat.0 as usize].clone(), &self.dst)
            .expect("share index");
        if attributable {
            let bytes = self.individual[seat.0 as usize].to_bytes();
            s.with_individual_key(SecretKey::from_bytes(&bytes[..]).expect("key"))
        } else {
            s
        }
    }
}

fn soft_vote(voter: NodeId, value: u8, signer: &dyn Signer) -> Vote {
    let mut vote = Vote {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(1),
        step: VoteStep::Soft,
        value: VoteValue::Value(ValueId([value; 32])),
        voter,
        credential: Vec::new(),
        signature: Vec::new(),
        beacon_share: Vec::new(),
    };
    vote.signature = signer.sign(&vote.message()).unwrap();
    vote
}

/// The adversary's interpolation: seat `target`'s partial from three partials (indices = seat
/// + 1) on one message, `Σ λ_j(x_target) σ_j` with `λ_j(x) = Π_{m≠j} (x − x_m)/(x_j − x_m)`.
fn interpolate_partial(votes: &[&Vote], target: NodeId) -> Vec<u8> {
    let size = 96; // MinPk signatures: the partial is the first 96 bytes in either mode.
    let xs: Vec<Scalar> = votes
        .iter()
        .map(|v| Scalar::from(u64::from(v.voter.0) + 1))
        .collect();
    let x = Scalar::from(u64::from(target.0) + 1);
    let mut weights = Vec::new();
    for (j, xj) in xs.iter().enumerate() {
        let mut w = Scalar::ONE;
        for (m, xm) in xs.iter().enumerate() {
            if m != j {
                w *= (x - xm) * (*xj - xm).invert().unwrap();
            }
        }
        weights.push(w);
    }
    let points: Vec<_> = votes
        .iter()
        .map(|v| {
            *PartialSignature::<MinPk> {
                index: v.voter.0 + 1,
                signature: Signature::from_bytes(&v.signature[..size]).expect("signature"),
            }
            .signature
            .as_affine()
        })
        .collect();
    let forged = Msm::msm(&points, &weights, 255).to_affine();
    Signature::<MinPk>::from_affine(forged)
        .expect("a computed G2 point")
        .to_bytes()
}

/// Everything the attack produces: C's forged vote for v1 and its genuine vote for v2.
fn frame_c(s: &Setup, attributable: bool) -> (Vote, Vote) {
    let a = soft_vote(NodeId(0), 1, &s.signer(NodeId(0), attributable));
    let b = soft_vote(NodeId(1), 1, &s.signer(NodeId(1), attributable));
    let z = soft_vote(BYZANTINE_Z, 1, &s.signer(BYZANTINE_Z, attributable));
    let genuine = soft_vote(HONEST_C, 2, &s.signer(HONEST_C, attributable));
    let mut forged = soft_vote(HONEST_C, 1, &s.signer(BYZANTINE_Z, attributable));
    forged.signature = interpolate_partial(&[&a, &b, &z], HONEST_C);
    if attributable {
        // Z cannot make C's individual signature; the best it has is C's on another message.
        forged.signature.extend_from_slice(&genuine.signature[96..]);
    }
    (forged, genuine)
}

fn equivocation(culprit: NodeId, first: &Vote, second: &Vote) -> Evidence {
    Evidence {
        culprit,
        kind: EvidenceKind::Equivocation,
        height: Height(1),
        proof: vec![
            encode(&Message::Vote(first.clone())),
            encode(&Message::Vote(second.clone())),
        ],
        attributable: true,
    }
}

/// A real engine for seat A over the threshold adapters of `s`.
fn engine_a(s: &Setup, verifier: Arc<ThresholdVerifier<MinPk>>, attributable: bool) -> Engine {
    let vrf: Vec<VrfSecretKey> = (0..N)
        .map(|i| VrfSecretKey::derive(&[9; 32], u64::from(i)))
        .collect();
    let roster =
        Arc::new(VrfRoster::new(0, vrf.iter().map(|k| k.public_key()).collect(), None).unwrap());
    let id = NodeId(0);
    let adapters = Adapters {
        committee: verifier.clone(),
        sortition: Arc::new(VrfSortition::new(id, vrf[0].clone(), roster)),
        signer: Arc::new(s.signer(id, attributable)),
        verifier,
    };
    let mut e = Engine::new(
        Config::new(id, Epoch(0)),
        adapters,
        conclave_bft::types::Seed([0; 32]),
    );
    e.handle(conclave_bft::types::Time(0), Input::Start);
    e
}

/// Delivers `votes` from C to engine A and returns the evidence A reports against C.
fn engine_evidence(e: &mut Engine, votes: &[&Vote]) -> Vec<Evidence> {
    let mut out = Vec::new();
    for (i, v) in votes.iter().enumerate() {
        let step = e.handle(
            conclave_bft::types::Time(1 + i as u64),
            Input::Message {
                from: v.voter,
                bytes: encode(&Message::Vote((*v).clone())),
            },
        );
        out.extend(step.actions.into_iter().filter_map(|a| match a {
            Action::Evidence(ev) if ev.kind == EvidenceKind::Equivocation => Some(ev),
            _ => None,
        }));
    }
    out
}

#[test]
fn interpolated_partials_cannot_frame_an_honest_seat() {
    let s = setup(2);
    let verifier = Arc::new(s.verifier(false));
    let (forged, genuine) = frame_c(&s, false);
    // The forgery works at the signature level: both votes "verify" for C. This is all the old
    // code checked before calling the pair self-proving equivocation evidence.
    assert!(verifier.verify_share(HONEST_C, &forged.message(), &forged.signature));
    assert!(verifier.verify_share(HONEST_C, &genuine.message(), &genuine.signature));
    assert!(!verifier.attributable());
    let evidence = equivocation(HONEST_C, &genuine, &forged);
    assert_eq!(
        evidence.verify(Epoch(0), verifier.as_ref()),
        Err(EvidenceError::NotAttributable)
    );
    // A real engine that is shown both (as a Byzantine C would send them) still reports the
    // conflict, but as non-attributable evidence that does not verify on its own.
    let mut a = engine_a(&s, verifier.clone(), false);
    let reported = engine_evidence(&mut a, &[&genuine, &forged]);
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(!reported[0].attributable);
    assert_eq!(
        reported[0].verify(Epoch(0), verifier.as_ref()),
        Err(EvidenceError::NotAttributable)
    );
}

#[test]
fn attributable_mode_rejects_the_forgery_and_proves_real_equivocation() {
    let s = setup(2);
    let verifier = Arc::new(s.verifier(true));
    assert!(verifier.attributable());
    let (forged, genuine) = frame_c(&s, true);
    assert!(verifier.verify_share(HONEST_C, &genuine.message(), &genuine.signature));
    assert!(!verifier.verify_share(HONEST_C, &forged.message(), &forged.signature));
    let framed = equivocation(HONEST_C, &genuine, &forged);
    assert_eq!(
        framed.verify(Epoch(0), verifier.as_ref()),
        Err(EvidenceError::BadSignature(1))
    );
    // Z really equivocates: the evidence is proven, by the engine and on its own.
    let z = s.signer(BYZANTINE_Z, true);
    let (z1, z2) = (soft_vote(BYZANTINE_Z, 1, &z), soft_vote(BYZANTINE_Z, 2, &z));
    let mut a = engine_a(&s, verifier.clone(), true);
    let reported = engine_evidence(&mut a, &[&z1, &z2]);
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(reported[0].attributable);
    assert_eq!(reported[0].verify(Epoch(0), verifier.as_ref()), Ok(()));
    // The engine shown C's forged pair reports nothing verifiable against C.
    let mut a = engine_a(&s, verifier.clone(), true);
    let against_c = engine_evidence(&mut a, &[&genuine, &forged]);
    assert!(against_c
        .iter()
        .all(|e| e.verify(Epoch(0), verifier.as_ref()).is_err()));
    // Not conflicting, wrong culprit, wrong epoch: refused.
    assert_eq!(
        equivocation(BYZANTINE_Z, &z1, &z1).verify(Epoch(0), verifier.as_ref()),
        Err(EvidenceError::NotConflicting)
    );
    assert_eq!(
        equivocation(HONEST_C, &z1, &z2).verify(Epoch(0), verifier.as_ref()),
        Err(EvidenceError::NotConflicting)
    );
    assert_eq!(
        equivocation(BYZANTINE_Z, &z1, &z2).verify(Epoch(1), verifier.as_ref()),
        Err(EvidenceError::NotConflicting)
    );
}

#[test]
fn individual_keys_need_valid_proofs_of_possession() {
    let s = setup(2);
    let base = || ThresholdVerifier::new(s.commitment.clone(), N, &s.dst, [7; 32]).unwrap();
    let mut keys: Vec<_> = s
        .individual
        .iter()
        .map(|k| (k.public_key::<MinPk>(), k.pop_prove::<MinPk>()))
        .collect();
    assert!(matches!(
        base().with_individual_keys(&keys[..3]),
        Err(ThresholdSetupError::KeyCount { keys: 3, n: 4 })
    ));
    keys[1].1 = keys[2].1;
    assert!(matches!(
        base().with_individual_keys(&keys),
        Err(ThresholdSetupError::InvalidProofOfPossession(NodeId(1)))
    ));
}

#[test]
fn threshold_verifier_rejects_keys_without_quorum_intersection() {
    // Degree f = 1 (a "beacon" key, quorum 2): 2·2 ≤ 4 + 1, two quorums need not share an
    // honest seat, and Z plus any one honest partial would yield every seat's partial.
    let s = setup(1);
    assert_eq!(
        ThresholdVerifier::new(s.commitment.clone(), N, &s.dst, [0; 32]).err(),
        Some(ThresholdSetupError::NoQuorumIntersection {
            degree: 1,
            quorum: 2,
            n: 4,
            f: 1
        })
    );
    // Degree 3 (quorum 4 = n): the three honest seats alone can never certify.
    let s = setup(3);
    assert_eq!(
        ThresholdVerifier::new(s.commitment.clone(), N, &s.dst, [0; 32]).err(),
        Some(ThresholdSetupError::QuorumUnreachable {
            quorum: 4,
            n: 4,
            honest: 3
        })
    );
    assert!(ThresholdVerifier::new(setup(2).commitment, N, &s.dst, [0; 32]).is_ok());
}

/// Cross-period accountability (`EvidenceKind::LockViolation`): a seat's cert vote for v and
/// its next vote for ⊥ or another value in the same period prove it broke its lock, on their
/// own; nothing else passes: other step pairs, the same value, other periods or seats, a
/// forged signature (so an honest seat's genuine votes cannot be paired into a proof: it never
/// signs such a pair, which every simulator run checks at every height), or non-attributable
/// signatures.
#[test]
fn lock_violation_evidence_proves_a_broken_lock_and_nothing_else() {
    use conclave_bft::mock::MockCrypto;
    let mock = MockCrypto::new(4, 7);
    let verifier = mock.verifier();
    let z = NodeId(3);
    let v = VoteValue::Value(ValueId([1; 32]));
    let w = VoteValue::Value(ValueId([2; 32]));
    let vote = |voter: NodeId, period: u32, step: VoteStep, value: VoteValue| {
        let message =
            conclave_bft::types::vote_message(Epoch(0), Height(1), Period(period), step, value);
        encode(&Message::Vote(Vote {
            epoch: Epoch(0),
            height: Height(1),
            period: Period(period),
            step,
            value,
            voter,
            credential: Vec::new(),
            signature: mock.adapters(voter).signer.sign(&message),
            beacon_share: Vec::new(),
        }))
    };
    let evidence = |proof: Vec<Vec<u8>>| Evidence {
        culprit: z,
        kind: EvidenceKind::LockViolation,
        height: Height(1),
        proof,
        attributable: true,
    };
    let check = |e: &Evidence| e.verify(Epoch(0), verifier.as_ref());
    let cert = vote(z, 2, VoteStep::Cert, v);
    for next in [
        vote(z, 2, VoteStep::Next, VoteValue::Bottom),
        vote(z, 2, VoteStep::Next, w),
        vote(z, 2, VoteStep::NextK(3), VoteValue::Bottom),
    ] {
        assert_eq!(check(&evidence(vec![cert.clone(), next])), Ok(()));
    }
    for (proof, why) in [
        (
            vec![cert.clone(), vote(z, 2, VoteStep::Next, v)],
            "same value",
        ),
        (
            vec![cert.clone(), vote(z, 3, VoteStep::Next, VoteValue::Bottom)],
            "later period",
        ),
        (
            vec![cert.clone(), vote(z, 2, VoteStep::Soft, w)],
            "soft, not next",
        ),
        (
            vec![vote(z, 2, VoteStep::Next, VoteValue::Bottom), cert.clone()],
            "order",
        ),
        (
            vec![
                cert.clone(),
                vote(NodeId(1), 2, VoteStep::Next, VoteValue::Bottom),
            ],
            "another seat",
        ),
        (
            vec![
                vote(z, 2, VoteStep::Cert, VoteValue::Bottom),
                vote(z, 2, VoteStep::Next, w),
            ],
            "cert ⊥",
        ),
    ] {
        assert_eq!(
            check(&evidence(proof)),
            Err(EvidenceError::NotConflicting),
            "{why}"
        );
    }
    // A next vote "of z" signed by another seat's key.
    let Message::Vote(mut forged) =
        conclave_bft::codec::decode(&vote(NodeId(1), 2, VoteStep::Next, VoteValue::Bottom))
            .unwrap()
    else {
        unreachable!()
    };
    forged.voter = z;
    assert_eq!(
        check(&evidence(vec![
            cert.clone(),
            encode(&Message::Vote(forged))
        ])),
        Err(EvidenceError::BadSignature(1))
    );
    // Threshold partials are not attributable: refused whatever the votes.
    let partials = MockCrypto::non_attributable(4, 7);
    let e = evidence(vec![cert, vote(z, 2, VoteStep::Next, VoteValue::Bottom)]);
    assert_eq!(
        e.verify(Epoch(0), partials.verifier().as_ref()),
        Err(EvidenceError::NotAttributable)
    );
}
