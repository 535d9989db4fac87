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

mod schedules {
    //! Any schedule: honest transactions reach the log 1..=3 blocks after they are made, in
    //! any order, and the Byzantine member 4 puts any of its transactions (two valid dealings, a
    //! dealing with a bad share for member 1, its ready statements, junk) into any block.
    //! Whatever the schedule, the honest members end with the same key and QUAL, every honest
    //! dealer qualified.
    use super::*;
    use blstrs::Scalar;
    use conclave_dkg::messages::Dealing;
    use conclave_dkg::sigma::Point;
    use conclave_dkg::{Input, Message, Output, Signed};
    use conclave_threshold_sig::Polynomial;
    use ff::Field;
    use proptest::prelude::*;

    fn envelope(cfg: &DkgConfig<V>, m: Message<V>) -> Vec<u8> {
        Envelope {
            session: cfg.digest(),
            message: m,
        }
        .to_bytes()
    }

    /// Member 4's arsenal.
    fn byzantine_txs(cfg: &DkgConfig<V>, keys: &[IdentityKeys]) -> Vec<Vec<u8>> {
        let dealing = |seed: u8| {
            let mut p = Participant::new(cfg.clone(), keys[3].clone(), [seed; 32]).unwrap();
            match p.handle(Input::Start).unwrap().remove(0) {
                Output::Broadcast(m) => envelope(cfg, m),
                _ => unreachable!(),
            }
        };
        // A dealing whose share for member 1 is off by one.
        let mut rng = ChaCha20Rng::seed_from_u64(44);
        let poly = Polynomial::random(2, &mut rng).unwrap();
        let enc: Vec<Point> = cfg
            .players
            .members
            .iter()
            .map(|m| m.encryption_key)
            .collect();
        let shares: Vec<Scalar> = (1..=N)
            .map(|j| poly.evaluate(j) + if j == 1 { Scalar::ONE } else { Scalar::ZERO })
            .collect();
        let d = Dealing::create(&cfg.digest(), 4, poly.commit(), &shares, &enc, &mut rng);
        let bad = envelope(
            cfg,
            Message::Deal(vec![Signed::sign(
                &cfg.digest(),
                d,
                &keys[3].signing,
                &mut rng,
            )]),
        );
        // Member 4's own ready statements for every round, from a driver of its own.
        let p = Participant::new(cfg.clone(), keys[3].clone(), [9; 32]).unwrap();
        let (mut own, _) = AdaptiveDriver::start(p, 0, 1).unwrap();
        let mut readies = Vec::new();
        for h in 1..=3 {
            let s = own.on_block(h, &[] as &[Vec<u8>]).unwrap();
            readies.extend(s.submit.into_iter().filter(|t| t.starts_with(READY_TAG)));
        }
        let mut junk = dealing(1);
        junk[60] ^= 1;
        let mut v = vec![
            dealing(1),
            dealing(2),
            bad,
            junk,
            b"cdkglog1 nonsense".to_vec(),
        ];
        v.extend(readies);
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn honest_members_agree_under_any_schedule(
            delays in proptest::collection::vec(1u64..=3, 64),
            byz in proptest::collection::vec(proptest::option::of(1u64..=14), 8),
        ) {
            let keys = keys();
            let cfg = config(&keys);
            let arsenal = byzantine_txs(&cfg, &keys);
            let (drivers, subs) = start(&cfg, &keys, 30, 12);
            let mut d: Vec<AdaptiveDriver<V>> = drivers.into_iter().take(3).collect();
            // block height → txs; honest txs go 1..=3 blocks after they were made.
            let mut blocks: std::collections::BTreeMap<u64, Vec<Vec<u8>>> = Default::default();
            let mut k = 0usize;
            let mut schedule = |blocks: &mut std::collections::BTreeMap<u64, Vec<Vec<u8>>>,
                                at: u64, txs: Vec<Vec<u8>>| {
                for tx in txs {
                    let delay = delays[k % delays.len()];
                    k += 1;
                    blocks.entry(at + delay).or_default().push(tx);
                }
            };
            // Member 1's first tx comes one block after the others' (order varies too).
            for (i, s) in subs.into_iter().take(3).enumerate() {
                schedule(&mut blocks, i as u64 % 2, s);
            }
            for (tx, at) in arsenal.iter().zip(&byz) {
                if let Some(h) = at {
                    blocks.entry(*h).or_default().push(tx.clone());
                }
            }
            let mut outcomes: Vec<Option<conclave_dkg::DkgOutput<V>>> = vec![None, None, None];
            for h in 1..=60u64 {
                let block = blocks.remove(&h).unwrap_or_default();
                let mut made = Vec::new();
                for (i, drv) in d.iter_mut().enumerate() {
                    if drv.ended() {
                        continue;
                    }
                    let s = drv.on_block(h, &block).unwrap();
                    made.extend(s.submit);
                    if let Some(o) = s.outcome {
                        match o {
                            LogOutcome::Finished(out) => outcomes[i] = Some(*out),
                            other => panic!("member {} failed: {other:?}", i + 1),
                        }
                    }
                }
                schedule(&mut blocks, h, made);
                if outcomes.iter().all(Option::is_some) {
                    break;
                }
            }
            let outs: Vec<_> = outcomes.into_iter().map(|o| o.expect("finished")).collect();
            for o in &outs {
                prop_assert_eq!(&o.commitment, &outs[0].commitment);
                prop_assert_eq!(&o.qualified, &outs[0].qualified);
                prop_assert!(o.qualified.starts_with(&[1, 2, 3]), "QUAL {:?}", o.qualified);
                prop_assert!(o.disqualified.iter().all(|x| x.index == 4));
            }
            // Every honest share lies on the group commitment.
            for (i, o) in outs.iter().enumerate() {
                let share = &o.shares[0];
                prop_assert_eq!(share.index(), i as u32 + 1);
                prop_assert_eq!(
                    share.public_share::<V>(),
                    outs[0].commitment.public_share(i as u32 + 1).unwrap()
                );
            }
        }
    }
}
