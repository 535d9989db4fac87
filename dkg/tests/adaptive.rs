//! The adaptive log driver (`conclave_dkg::log::AdaptiveDriver`): windows that close when
//! every expected member posted (or after a bounded number of blocks), decided by the log alone,
//! so honest nodes fed the same blocks close every round at the same block with the same
//! messages whatever a Byzantine member sends, and when.

use conclave_dkg::log::{AdaptiveDriver, Envelope, LogOutcome, Ready, READY_TAG};
use conclave_dkg::{Committee, DkgConfig, FaultKind, IdentityKeys, Participant, Phase};
use conclave_threshold_sig::MinPk;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

type V = MinPk;
const N: u32 = 4;

fn keys() -> Vec<IdentityKeys> {
    (0..N)
        .map(|i| IdentityKeys::random(&mut ChaCha20Rng::seed_from_u64(900 + u64::from(i))))
        .collect()
}

fn config(keys: &[IdentityKeys]) -> DkgConfig<V> {
    DkgConfig::new([3u8; 32], Committee::one_seat_each(keys), 2)
}

/// Members 1..=4, each with a driver (member `i` with participant seed `seed + i`); returns
/// the drivers and each member's first submissions.
fn start(
    cfg: &DkgConfig<V>,
    keys: &[IdentityKeys],
    seed: u8,
    max_window: u64,
) -> (Vec<AdaptiveDriver<V>>, Vec<Vec<Vec<u8>>>) {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let p = Participant::new(cfg.clone(), k.clone(), [seed + i as u8; 32]).unwrap();
            AdaptiveDriver::start(p, 0, max_window).unwrap()
        })
        .unzip()
}

/// Feed one block to every driver; returns each one's step submissions, closes and outcomes.
#[allow(clippy::type_complexity)]
fn feed(
    drivers: &mut [AdaptiveDriver<V>],
    height: u64,
    block: &[Vec<u8>],
) -> Vec<(Vec<Vec<u8>>, Option<(Phase, bool)>, Option<LogOutcome<V>>)> {
    drivers
        .iter_mut()
        .map(|d| {
            let s = d.on_block(height, block).unwrap();
            (s.submit, s.closed, s.outcome)
        })
        .collect()
}

fn finished(o: &Option<LogOutcome<V>>) -> &conclave_dkg::DkgOutput<V> {
    match o {
        Some(LogOutcome::Finished(out)) => out,
        other => panic!("not finished: {other:?}"),
    }
}

#[test]
fn honest_run_closes_each_window_as_soon_as_everyone_posted() {
    let keys = keys();
    let cfg = config(&keys);
    let (mut d, subs) = start(&cfg, &keys, 1, 50);
    assert!(subs
        .iter()
        .all(|s| s.len() == 1 && Envelope::<V>::is_envelope(&s[0])));
    // Block 1: three dealings; the window waits for the fourth.
    let b1: Vec<Vec<u8>> = subs[..3].iter().flatten().cloned().collect();
    assert!(feed(&mut d, 1, &b1).iter().all(|s| s.1.is_none()));
    let steps = feed(&mut d, 2, &subs[3]);
    assert!(steps.iter().all(|s| s.1 == Some((Phase::Deal, false))));
    // Nobody complains: each posts one ready statement, nothing else.
    assert!(steps
        .iter()
        .all(|s| s.0.len() == 1 && s.0[0].starts_with(READY_TAG)));
    let b3: Vec<Vec<u8>> = steps.iter().flat_map(|s| s.0.clone()).collect();
    let steps = feed(&mut d, 3, &b3);
    assert!(steps.iter().all(|s| s.1 == Some((Phase::Complain, false))));
    let b4: Vec<Vec<u8>> = steps.iter().flat_map(|s| s.0.clone()).collect();
    let steps = feed(&mut d, 4, &b4);
    let first = finished(&steps[0].2);
    assert_eq!(first.qualified, vec![1, 2, 3, 4]);
    for s in &steps {
        assert_eq!(s.1, Some((Phase::Justify, false)));
        assert_eq!(finished(&s.2).commitment, first.commitment);
    }
}

/// The attack on the broadcast-with-deadlines DKG: the Byzantine dealer (member 4) signs two
/// dealings and times the second one so that some honest nodes hold it when they close the deal
/// round and others do not. Over the log there is no "when" per node: whichever block carries
/// the second dealing, every honest node takes the same decision (equivocation inside the
/// window, or a message outside its window) and all end with the same key.
#[test]
fn a_late_second_dealing_cannot_split_the_honest_nodes() {
    let keys = keys();
    let cfg = config(&keys);
    let mut evil = Participant::new(cfg.clone(), keys[3].clone(), [77; 32]).unwrap();
    let alt = match evil.handle(conclave_dkg::Input::Start).unwrap().remove(0) {
        conclave_dkg::Output::Broadcast(m) => Envelope {
            session: cfg.digest(),
            message: m,
        }
        .to_bytes(),
        _ => unreachable!(),
    };
    for second_at in [1u64, 2, 3] {
        let (mut d, subs) = start(&cfg, &keys, 10, 50);
        let mut outcome = Vec::new();
        let mut next: Vec<Vec<u8>> = subs.iter().flatten().cloned().collect();
        for h in 1..=6u64 {
            let mut block = std::mem::take(&mut next);
            if h == second_at {
                block.push(alt.clone());
            }
            let steps = feed(&mut d, h, &block);
            next = steps.iter().flat_map(|s| s.0.clone()).collect();
            if steps[0].2.is_some() {
                outcome = steps.into_iter().map(|s| s.2).collect();
                break;
            }
        }
        assert_eq!(outcome.len(), 4, "second dealing in block {second_at}");
        let first = finished(&outcome[0]);
        for o in &outcome {
            let o = finished(o);
            assert_eq!(o.commitment, first.commitment);
            assert_eq!(o.qualified, first.qualified);
        }
        if second_at == 1 {
            assert_eq!(first.qualified, vec![1, 2, 3]);
            assert!(first
                .disqualified
                .iter()
                .any(|x| x.index == 4 && x.reason == FaultKind::Equivocation));
        } else {
            assert_eq!(first.qualified, vec![1, 2, 3, 4], "block {second_at}");
        }
    }
}

#[test]
fn a_silent_member_costs_one_window_at_its_limit_and_forged_readies_do_not_count() {
    let keys = keys();
    let cfg = config(&keys);
    let (mut d, subs) = start(&cfg, &keys, 20, 3);
    // Member 4 is silent. Member 3 forges member 4's ready statement with its own key: it
    // is refused and member 4 still has not posted.
    let mut forged = Ready::from_bytes(&{
        let (d3, _) = start(&cfg, &keys, 20, 3);
        let mut s = feed(
            &mut d3.into_iter().take(1).collect::<Vec<_>>(),
            1,
            &subs.iter().flatten().cloned().collect::<Vec<_>>(),
        );
        s.remove(0).0.remove(0)
    })
    .unwrap();
    forged.sender = 4;
    let honest: Vec<Vec<u8>> = subs[..3].iter().flatten().cloned().collect();
    let mut d = d.drain(..3).collect::<Vec<_>>();
    let mut block = honest.clone();
    block.push(forged.to_bytes());
    let steps: Vec<_> = d
        .iter_mut()
        .map(|x| x.on_block(1, &block).unwrap())
        .collect();
    assert!(steps
        .iter()
        .all(|s| s.closed.is_none() && s.rejected.len() == 1));
    assert!(feed(&mut d, 2, &[]).iter().all(|s| s.1.is_none()));
    let steps = feed(&mut d, 3, &[]);
    assert!(
        steps.iter().all(|s| s.1 == Some((Phase::Deal, true))),
        "closed at its limit"
    );
    assert_eq!(
        d[0].expected().iter().copied().collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    // The complaint window expects only the three that dealt: it closes at once.
    let b: Vec<Vec<u8>> = steps.iter().flat_map(|s| s.0.clone()).collect();
    let steps = feed(&mut d, 4, &b);
    assert!(steps.iter().all(|s| s.1 == Some((Phase::Complain, false))));
    let b: Vec<Vec<u8>> = steps.iter().flat_map(|s| s.0.clone()).collect();
    let steps = feed(&mut d, 5, &b);
    for s in &steps {
        assert_eq!(finished(&s.2).qualified, vec![1, 2, 3]);
    }
}
