//! The log-ordered resharing driver (`conclave_dkg::log`): every node feeds the same blocks in
//! the same order; the deadlines are block heights; what a Byzantine member can put in the log.

use conclave_dkg::log::{
    resharing_session, Envelope, LogDriver, LogError, LogOutcome, LogSchedule,
};
use conclave_dkg::sim::{set_behaviour, Behaviour};
use conclave_dkg::{Committee, DkgConfig, FaultKind, IdentityKeys, Message, Participant};
use conclave_threshold_sig::{deal, Commitment, MinPk, SecretShare};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

type V = MinPk;

fn keys(label: u8, i: u32) -> IdentityKeys {
    let mut seed = [label; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    IdentityKeys::random(&mut ChaCha20Rng::from_seed(seed))
}

/// Old holders 1..=old_n (ids = seats), new players: `new` ids (those ≤ old_n keep their keys:
/// members in both committees), one seat each in the order given.
struct Setup {
    config: DkgConfig<V>,
    old_keys: Vec<IdentityKeys>,
    old_shares: Vec<SecretShare>,
    previous: Commitment<V>,
    /// (id, keys) of every node: old ∪ new, one driver each.
    nodes: Vec<(u32, IdentityKeys)>,
}

fn setup(old_n: u32, old_t: u32, new: &[u32], new_t: u32, epoch: u64) -> Setup {
    let dealing = deal::<V>(old_n, old_t, &mut ChaCha20Rng::from_seed([7; 32])).unwrap();
    let old_keys: Vec<IdentityKeys> = (1..=old_n).map(|i| keys(1, i)).collect();
    let dealers = Committee::one_seat_each(&old_keys);
    let players = Committee {
        members: new
            .iter()
            .zip(1u32..)
            .map(|(&id, seat)| keys(1, id).member(id, vec![seat]))
            .collect(),
    };
    let config = DkgConfig::resharing(
        resharing_session(b"test-chain", epoch),
        dealers,
        players,
        new_t,
        dealing.commitment.clone(),
    );
    let mut ids: Vec<u32> = (1..=old_n).chain(new.iter().copied()).collect();
    ids.sort_unstable();
    ids.dedup();
    Setup {
        config,
        old_keys,
        old_shares: dealing.shares,
        previous: dealing.commitment,
        nodes: ids.into_iter().map(|id| (id, keys(1, id))).collect(),
    }
}

fn participant(s: &Setup, id: u32) -> Participant<V> {
    let keys = s.nodes.iter().find(|(i, _)| *i == id).unwrap().1.clone();
    let old: Vec<SecretShare> = if id as usize <= s.old_keys.len() {
        vec![s.old_shares[id as usize - 1].clone()]
    } else {
        Vec::new()
    };
    Participant::new_resharing(s.config.clone(), keys, [id as u8; 32], old).unwrap()
}

/// A log: the block after each height carries every honest submission of that height (and the
/// injected transactions), in node order. Returns every node's outcome and every rejection
/// seen by the first node.
struct Run {
    outcomes: Vec<(u32, LogOutcome<V>)>,
    rejected: Vec<conclave_dkg::log::Rejected>,
}

fn run(
    s: &Setup,
    silent: &[u32],
    inject: &mut dyn FnMut(u64, &mut Vec<Vec<u8>>),
    resume_every_block: bool,
) -> Run {
    run_with(s, silent, &[], inject, resume_every_block)
}

/// [`run`] with some nodes deviating as `byzantine` says.
fn run_with(
    s: &Setup,
    silent: &[u32],
    byzantine: &[(u32, Behaviour)],
    inject: &mut dyn FnMut(u64, &mut Vec<Vec<u8>>),
    resume_every_block: bool,
) -> Run {
    let schedule = LogSchedule {
        start: 10,
        window: 2,
    };
    let mut drivers = Vec::new();
    let mut pending: Vec<Vec<u8>> = Vec::new();
    for (id, _) in &s.nodes {
        let mut p = participant(s, *id);
        if let Some((_, b)) = byzantine.iter().find(|(b, _)| b == id) {
            set_behaviour(&mut p, *b);
        }
        let (d, submit) = LogDriver::start(p, schedule).unwrap();
        if !silent.contains(id) {
            pending.extend(submit);
        }
        drivers.push((*id, d));
    }
    let mut outcomes = Vec::new();
    let mut rejected = Vec::new();
    for height in 11..=schedule.end().unwrap() {
        // Submissions reach the next block only (one block of latency, as a mempool gives).
        let mut block = std::mem::take(&mut pending);
        inject(height, &mut block);
        for (k, (id, d)) in drivers.iter_mut().enumerate() {
            if resume_every_block {
                let bytes = serde_json::to_vec(&*d).unwrap();
                *d = serde_json::from_slice(&bytes).unwrap();
            }
            let step = d.on_block(height, &block).unwrap();
            if k == 0 {
                rejected.extend(step.rejected);
            }
            if !silent.contains(id) {
                pending.extend(step.submit);
            }
            if let Some(o) = step.outcome {
                outcomes.push((*id, o));
            }
        }
    }
    for (_, d) in &drivers {
        assert!(d.ended());
    }
    Run { outcomes, rejected }
}

fn finished(run: &Run) -> Vec<(u32, &conclave_dkg::DkgOutput<V>)> {
    run.outcomes
        .iter()
        .map(|(id, o)| match o {
            LogOutcome::Finished(out) => (*id, &**out),
            LogOutcome::Failed { reason } => panic!("node {id} failed: {reason}"),
            other => panic!("node {id}: unexpected outcome {other:?}"),
        })
        .collect()
}

/// Every node reaches the same commitment and QUAL; the group key is the old one; any new_t+1
/// new shares sign together under it.
fn check_success(s: &Setup, run: &Run, new_t: u32) -> Vec<u32> {
    let outs = finished(run);
    assert_eq!(outs.len(), s.nodes.len());
    let first = outs[0].1;
    for (id, o) in &outs {
        assert_eq!(o.commitment, first.commitment, "node {id}");
        assert_eq!(o.qualified, first.qualified, "node {id}");
        assert_eq!(o.disqualified, first.disqualified, "node {id}");
    }
    assert_eq!(
        first.group_public_key.to_bytes(),
        s.previous.group_public_key().to_bytes()
    );
    assert_eq!(first.commitment.degree(), new_t);
    let shares: Vec<SecretShare> = outs.iter().flat_map(|(_, o)| o.shares.clone()).collect();
    assert_eq!(shares.len() as u32, s.config.players.seats());
    for sh in &shares {
        assert!(sh.verify::<V>(&first.commitment));
    }
    first.qualified.clone()
}

#[test]
fn honest_resharing_over_the_log_grows_the_committee_and_keeps_the_key() {
    // 4 → 5: members 1..4 stay, 5 joins; t 2 → 3.
    let s = setup(4, 2, &[1, 2, 3, 4, 5], 3, 1);
    let r = run(&s, &[], &mut |_, _| {}, false);
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(check_success(&s, &r, 3), vec![1, 2, 3, 4]);
}

#[test]
fn shrinking_committee_with_a_leaver_resumed_after_every_block() {
    // 5 → 4: member 3 leaves (still deals its old share), t 3 → 2; every driver goes through
    // serde after every block (a crash and resume at each height).
    let s = setup(5, 3, &[1, 2, 4, 5], 2, 2);
    let r = run(&s, &[], &mut |_, _| {}, true);
    assert_eq!(check_success(&s, &r, 2), vec![1, 2, 3, 4, 5]);
}

#[test]
fn byzantine_log_content_is_rejected_or_proven_and_never_changes_the_key() {
    let s = setup(4, 2, &[1, 2, 3, 4, 5], 3, 3);
    // Material for the attacks, all "signed" by old holder 4 (Byzantine) or outsiders.
    // 1. A second, different dealing of dealer 4 (another seed): equivocation.
    let twin = Participant::new_resharing(
        s.config.clone(),
        s.old_keys[3].clone(),
        [99; 32],
        vec![s.old_shares[3].clone()],
    )
    .unwrap();
    let (_, twin_submit) = LogDriver::start(
        twin,
        LogSchedule {
            start: 10,
            window: 2,
        },
    )
    .unwrap();
    let twin_dealing = twin_submit[0].clone();
    // 2. Dealer 4's dealing of the *next* epoch's resharing (same committees, other session).
    let other = setup(4, 2, &[1, 2, 3, 4, 5], 3, 4);
    let (_, other_submit) = LogDriver::start(
        participant(&other, 4),
        LogSchedule {
            start: 10,
            window: 2,
        },
    )
    .unwrap();
    // ... re-wrapped with this session's digest, so the inner signature is what fails.
    let Envelope { message, .. } = Envelope::<V>::from_bytes(&other_submit[0], &s.config).unwrap();
    let rewrapped = Envelope {
        session: s.config.digest(),
        message,
    }
    .to_bytes();
    // 3. An outsider (keys not in either committee) claiming dealer seat 1.
    let outsider = keys(9, 1);
    let mut forged_config = s.config.clone();
    forged_config.dealers.members[0].signing_key = outsider.signing.public();
    forged_config.dealers.members[0].encryption_key = outsider.encryption.public();
    let mut forger = Participant::new_resharing(
        forged_config,
        outsider,
        [5; 32],
        vec![s.old_shares[0].clone()],
    )
    .unwrap();
    let forged: Vec<u8> = match forger.handle(conclave_dkg::Input::Start).unwrap().remove(0) {
        conclave_dkg::Output::Broadcast(m) => Envelope {
            session: s.config.digest(),
            message: m,
        }
        .to_bytes(),
        _ => unreachable!(),
    };
    let mut copy_of_first: Option<Vec<u8>> = None;
    let r = run(
        &s,
        &[],
        &mut |h, block| match h {
            11 => {
                copy_of_first = Some(block[0].clone());
                block.insert(0, b"junk".to_vec());
                block.insert(0, forged.clone());
                block.push(other_submit[0].clone());
                block.push(rewrapped.clone());
            }
            12 => {
                block.push(copy_of_first.clone().unwrap()); // replay: ignored
                block.push(twin_dealing.clone()); // equivocation
            }
            13 => block.push(twin_dealing.clone()), // after the deal deadline height
            _ => {}
        },
        false,
    );
    let reasons: Vec<(u64, &str)> = r
        .rejected
        .iter()
        .map(|x| (x.height, x.reason.as_str()))
        .collect();
    assert_eq!(r.rejected.len(), 5, "{reasons:?}");
    assert!(reasons.contains(&(
        11,
        "invalid signature: the message does not come from sender 1"
    )));
    assert!(reasons
        .iter()
        .any(|(h, why)| *h == 11 && why.contains("malformed")));
    assert!(reasons.contains(&(11, "message of another session or epoch")));
    assert!(reasons.contains(&(
        11,
        "invalid signature: the message does not come from sender 4"
    )));
    assert!(reasons
        .iter()
        .any(|(h, why)| *h == 13 && why.contains("outside its window")));
    let qualified = check_success(&s, &r, 3);
    assert_eq!(qualified, vec![1, 2, 3]);
    let first = finished(&r)[0].1;
    assert_eq!(first.disqualified.len(), 1);
    assert_eq!(first.disqualified[0].index, 4);
    assert_eq!(first.disqualified[0].reason, FaultKind::Equivocation);
    // The evidence is transferable and names only the equivocator.
    for e in &first.evidence {
        assert_eq!(e.culprit, 4);
        e.verify(&s.config).unwrap();
    }
    assert!(!first.evidence.is_empty());
}

#[test]
fn too_few_qualified_old_holders_fail_everywhere_without_a_key() {
    // t_old = 2 needs 3 qualified old holders; 2 of 4 are silent.
    let s = setup(4, 2, &[1, 2, 3, 4, 5], 3, 5);
    let r = run(&s, &[3, 4], &mut |_, _| {}, false);
    assert_eq!(r.outcomes.len(), s.nodes.len());
    for (id, o) in &r.outcomes {
        match o {
            LogOutcome::Failed { reason } => assert!(
                reason.contains("not enough qualified dealers: need 3, have 2"),
                "node {id}: {reason}"
            ),
            LogOutcome::Finished(_) => panic!("node {id} produced a key"),
            other => panic!("node {id}: unexpected outcome {other:?}"),
        }
    }
}

#[test]
fn a_dealing_delayed_past_the_deadline_height_counts_as_silence_at_every_node() {
    // Dealer 2's dealing is censored until the block after the deal deadline: every node
    // drops it and disqualifies dealer 2 as silent; the other three still reach the key.
    let s = setup(4, 2, &[1, 2, 3, 4], 2, 6);
    let mut held: Option<Vec<u8>> = None;
    let r = run(
        &s,
        &[],
        &mut |h, block| {
            if h == 11 {
                let digest_of =
                    |b: &Vec<u8>| match Envelope::<V>::from_bytes(b, &s.config).unwrap().message {
                        Message::Deal(d) => d[0].body.dealer,
                        _ => 0,
                    };
                let k = block.iter().position(|b| digest_of(b) == 2).unwrap();
                held = Some(block.remove(k));
            }
            if h == 13 {
                block.push(held.take().unwrap());
            }
        },
        false,
    );
    let qualified = check_success(&s, &r, 2);
    assert_eq!(qualified, vec![1, 3, 4]);
    assert_eq!(finished(&r)[0].1.disqualified[0].reason, FaultKind::Silent);
    assert!(r.rejected.iter().any(|x| x.height == 13));
}

#[test]
fn blocks_must_come_in_order_once() {
    let s = setup(4, 2, &[1, 2, 3, 4], 2, 7);
    let schedule = LogSchedule {
        start: 10,
        window: 1,
    };
    let (mut d, _) = LogDriver::start(participant(&s, 1), schedule).unwrap();
    let none: [&[u8]; 0] = [];
    assert_eq!(
        d.on_block(12, &none).unwrap_err(),
        LogError::OutOfOrder {
            expected: 11,
            got: 12
        }
    );
    d.on_block(11, &none).unwrap();
    assert!(d.on_block(11, &none).is_err());
    assert_eq!(schedule.window_of(10), None);
    assert_eq!(schedule.window_of(11), Some(conclave_dkg::Phase::Deal));
    assert_eq!(schedule.window_of(13), Some(conclave_dkg::Phase::Justify));
    assert_eq!(schedule.window_of(14), None);
    assert!(LogDriver::start(
        participant(&s, 1),
        LogSchedule {
            start: 0,
            window: 0
        }
    )
    .is_err());
}

/// Moves every complaint of blocks 13 and 14 (the complaint window of `run`) to block 15, the
/// first of the justify window: as if the proposers of the whole complaint window censored
/// them (issue #15).
fn censor_complaints(s: &Setup) -> impl FnMut(u64, &mut Vec<Vec<u8>>) + '_ {
    let mut held: Vec<Vec<u8>> = Vec::new();
    move |h, block| {
        if h == 13 || h == 14 {
            let (c, rest): (Vec<_>, Vec<_>) = block.drain(..).partition(|b| {
                matches!(
                    Envelope::<V>::from_bytes(b, &s.config).map(|e| e.message),
                    Ok(Message::Complaint(_))
                )
            });
            held.extend(c);
            *block = rest;
        }
        if h == 15 {
            block.append(&mut held);
        }
    }
}

#[test]
fn complaints_censored_through_their_window_still_disqualify_a_bad_dealer() {
    // Dealer 2 deals bad shares to every other seat; every complaint against it misses the
    // complaint window and lands in the justify window. The complaints are still judged: they
    // prove the shares bad, dealer 2 (which never justifies) is disqualified, and everybody
    // reaches the key from 1, 3, 4 — rather than every honest player failing with an own share
    // inconsistent with the commitment. Every driver goes through serde after every block.
    let s = setup(4, 2, &[1, 2, 3, 4], 2, 7);
    let mut inject = censor_complaints(&s);
    let r = run_with(&s, &[], &[(2, Behaviour::BadShare)], &mut inject, true);
    assert_eq!(check_success(&s, &r, 2), vec![1, 3, 4]);
    let first = finished(&r)[0].1;
    assert_eq!(first.disqualified.len(), 1);
    assert_eq!(first.disqualified[0].index, 2);
    assert_eq!(first.disqualified[0].reason, FaultKind::BadShare);
    for e in &first.evidence {
        assert_eq!(e.culprit, 2);
        e.verify(&s.config).unwrap();
    }
}

#[test]
fn a_late_false_complaint_never_disqualifies_an_honest_dealer() {
    // Player 3 complains falsely about every other dealer, and its complaint comes in the
    // justify window, too late for any dealer to answer: the complaint is judged false, every
    // dealer stays qualified, and the evidence names the complainer.
    let s = setup(4, 2, &[1, 2, 3, 4], 2, 8);
    let mut inject = censor_complaints(&s);
    let r = run_with(
        &s,
        &[],
        &[(3, Behaviour::FalseComplaint)],
        &mut inject,
        false,
    );
    assert_eq!(check_success(&s, &r, 2), vec![1, 2, 3, 4]);
    let first = finished(&r)[0].1;
    assert!(first.disqualified.is_empty(), "{:?}", first.disqualified);
    assert!(!first.evidence.is_empty());
    for e in &first.evidence {
        assert_eq!(e.culprit, 3);
        assert_eq!(e.kind, FaultKind::FalseComplaint);
        e.verify(&s.config).unwrap();
    }
}

#[test]
fn complaints_held_to_the_justify_deadline_still_count() {
    // Every message of blocks 13-15 (the complaints, and whatever else) is held to block 16,
    // the justify deadline: the complaints are still judged there.
    let s = setup(4, 2, &[1, 2, 3, 4], 2, 9);
    let mut held: Vec<Vec<u8>> = Vec::new();
    let r = run_with(
        &s,
        &[],
        &[(2, Behaviour::BadShare)],
        &mut |h, block| {
            if h == 13 || h == 14 || h == 15 {
                held.append(block);
            }
            if h == 16 {
                block.append(&mut held);
            }
        },
        false,
    );
    // Complaints held to block 16 (the justify deadline) still count: dealer 2 is out.
    assert_eq!(check_success(&s, &r, 2), vec![1, 3, 4]);
}
