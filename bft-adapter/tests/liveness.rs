//! Issue #11 §1: liveness after GST, with four real engines (mock crypto) driven through
//! scripted and random schedules by a small deterministic host.
//!
//! - [`split_pinned_schedule_decides_after_gst`] replays the deadlock: n = 4, f = 1,
//!   honest A, B, C and a Byzantine Z. Period 1 ended with next-quorums for both w and ⊥; A
//!   learnt only w, B and C only ⊥. In period 2, A soft-votes w, B and C soft-vote v, Z's soft
//!   vote completes v's soft quorum at C only, so C cert-votes v. Before GST the next timers
//!   fire: A next-votes w, B ⊥, C v. After GST Z is silent; A adds ⊥ (late step), B adds v:
//!   next tallies ⊥{A,B}, v{B,C}, w{A} and, with a single next step per period, no quorum
//!   ever forms. With Algorand's next_k steps everyone re-votes the committable v and decides.
//! - [`random_schedules_decide_within_k_periods_after_gst`]: one node crashes at a random
//!   time, or (half the runs) is Byzantine, showing each of its messages to one random peer
//!   until GST and then going silent; delivery before GST is adversarial (random delays and
//!   so reordering, up to 30% of messages dropped for good, up to 80% held until GST), then
//!   everything is delivered within 10 ms; every honest node must decide within [`K`]
//!   periods of the highest period any honest node had reached at GST (1,500 schedules;
//!   [`random_schedules_long_run`] runs 100,000 more).
//! - [`no_asynchrony_schedule_decides`]: the stall without asynchrony, scripted.

use conclave_bft::mock::MockCrypto;
use conclave_bft::traits::{Share, Verifier};
use conclave_bft::types::{
    vote_message, Bundle, Epoch, Height, Message, NodeId, Period, Time, ValueId, Vote, VoteStep,
    VoteValue,
};
use conclave_bft::{codec, Action, Config, Engine, Input, PersistedState, TimerId};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// Periods after GST within which every honest node decides in the random search. The 1,500
/// CI schedules need at most 3; the 100,000 of [`random_schedules_long_run`] gave
/// {0: 22,515, 1: 73,859, 2: 2,884, 3: 736, 4: 6} (the six 4s all with GST after 8.8 s,
/// their best proposers mostly honest: not yet explained).
const K: u32 = 4;

include!("common/world.rs");

include!("common/split.rs");

#[test]
fn split_pinned_schedule_decides_after_gst() {
    let crypto = crypto_where_b_outranks_c();
    let verifier = crypto.verifier();
    let w = verifier.value_id(b"value-w");
    let restored = |id: NodeId, previous: VoteValue| {
        Engine::restore(
            Config::new(id, Epoch(0)),
            crypto.adapters(id),
            PersistedState {
                height: Height(1),
                period: Period(2),
                seed: crypto.genesis_seed(),
                previous_next_quorums: vec![previous],
                own_votes: Vec::new(),
                own_proposals: Vec::new(),
                last_decided: None,
            },
        )
    };
    let engines = vec![
        Some(restored(A, VoteValue::Value(w))),
        Some(restored(B, VoteValue::Bottom)),
        Some(restored(C, VoteValue::Bottom)),
        None, // Z: Byzantine, scripted below
    ];
    const GST: u64 = 1_500;
    // Before GST: B's proposal and A's and B's soft votes reach everyone; C's proposal and
    // C's soft vote reach A only; everything else (cert and next votes, bundles, re-sends)
    // waits for GST.
    let policy: Policy = Box::new(|_, from, to, m| match m {
        Message::Proposal(_) if from == B => Some(5),
        Message::Proposal(_) if from == C && to == A => Some(5),
        Message::Vote(v) if v.step == VoteStep::Soft && (from == A || from == B) => Some(5),
        Message::Vote(v) if v.step == VoteStep::Soft && from == C && to == A => Some(5),
        _ => None,
    });
    let mut world = World::new(engines, GST, policy);
    for id in [A, B, C] {
        world.handle(id, Input::Start);
    }
    // B's value v, known once B proposed it.
    let v = verifier.value_id(b"value-1-1");
    // Z soft-votes v to C only, just after the filter timers (2λ · period 2 = 400 ms).
    let z_soft = vote(&crypto, Z, 2, VoteStep::Soft, VoteValue::Value(v));
    world.inject(410, Z, C, &Message::Vote(z_soft));
    // The period-1 bundles each side missed arrive at GST.
    inject_missed_bundles(&mut world, &crypto, w, GST + 10);
    world.run(GST - 1, &[A, B, C]);
    // The schedule did what the issue describes before GST.
    let engines: Vec<&Engine> = world.engines.iter().flatten().collect();
    assert!(engines.iter().all(|e| e.period() == Period(2)));
    assert!(world.decided.is_empty());
    for e in &engines {
        println!("at GST: node {} {}", e.id(), e.debug_summary());
    }
    // After GST everything is delivered within 10 ms and Z stays silent.
    world.run(GST + 600_000, &[A, B, C]);
    for id in [A, B, C] {
        let engine = world.engines[id.0 as usize].as_ref().unwrap();
        assert!(
            world.decided.contains_key(&id.0),
            "node {id} did not decide within 600 s after GST: period {}, {}",
            engine.period().0,
            engine.debug_summary()
        );
    }
    let values: Vec<ValueId> = world.decided.values().map(|d| d.1).collect();
    assert!(values.windows(2).all(|p| p[0] == p[1]), "{values:?}");
    let periods: Vec<u32> = world.decided.values().map(|d| d.0 .0).collect();
    assert!(
        periods.iter().all(|p| *p <= 2 + 3),
        "decided in periods {periods:?}"
    );
}

/// One run of the random search; returns the decision periods minus the period at GST.
/// `kappa`: vote aggregators per step (`Config::aggregators`; 0 = off).
fn random_run_with(seed: u64, kappa: u32) -> Result<u32, String> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let crypto = MockCrypto::new(N, seed);
    let gst: u64 = rng.gen_range(0..10_000);
    let crashed = NodeId(rng.gen_range(0..N));
    let crash_at: u64 = rng.gen_range(0..=gst);
    let hold_permille: u32 = rng.gen_range(0..=800);
    let drop_permille: u32 = rng.gen_range(0..=300);
    let max_delay: u64 = rng.gen_range(1..3_000);
    // Half the runs: the faulty node is Byzantine instead of crashing early. Until GST it
    // runs honestly but each of its messages reaches one random peer only (splitting what the
    // honest nodes see of it); at GST it goes silent.
    let selective = rng.gen_bool(0.5);
    let mut policy_rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let policy: Policy = Box::new(move |_, from, to, _| {
        if selective && from == crashed && policy_rng.gen_range(0..N) != to.0 {
            return Some(LOST);
        }
        let dice = policy_rng.gen_range(0..1000);
        if dice < drop_permille {
            Some(LOST)
        } else if dice < drop_permille + hold_permille {
            None
        } else {
            Some(policy_rng.gen_range(0..max_delay))
        }
    });
    let engines = (0..N)
        .map(|i| {
            let mut config = Config::new(NodeId(i), Epoch(0));
            config.aggregators = kappa;
            let mut e = Engine::new(config, crypto.adapters(NodeId(i)), crypto.genesis_seed());
            let mut entropy = [0u8; 32];
            rng.fill(&mut entropy);
            e.handle(Time(0), Input::Entropy(entropy));
            Some(e)
        })
        .collect();
    let honest: Vec<NodeId> = (0..N).map(NodeId).filter(|n| *n != crashed).collect();
    let mut world = World::new(engines, gst, policy);
    for i in 0..N {
        world.handle(NodeId(i), Input::Start);
    }
    world.run(if selective { gst } else { crash_at }, &honest);
    world.engines[crashed.0 as usize] = None;
    world.timers.retain(|(n, _), _| *n != crashed);
    world.run(gst + 600_000, &honest);
    let mut worst = 0;
    for n in &honest {
        let Some((period, _)) = world.decided.get(&n.0) else {
            return Err(format!(
                "seed {seed}: node {n} undecided (gst {gst}, faulty {crashed}, selective \
                 {selective}, crash at {crash_at})"
            ));
        };
        worst = worst.max(period.0.saturating_sub(world.period_at_gst.max(1)));
    }
    let values: std::collections::BTreeSet<ValueId> = world.decided.values().map(|d| d.1).collect();
    if values.len() > 1 {
        return Err(format!("seed {seed}: agreement broken"));
    }
    Ok(worst)
}

/// Runs the random search over `seeds`; panics on the first schedule that breaks liveness
/// (K) or agreement.
fn search(seeds: std::ops::Range<u64>) {
    search_with(seeds, 0)
}

/// [`search`] with `kappa` vote aggregators per step.
fn search_with(seeds: std::ops::Range<u64>, kappa: u32) {
    let runs = seeds.end - seeds.start;
    let started = std::time::Instant::now();
    let mut worst = 0;
    let mut worst_seeds = Vec::new();
    let mut histogram = BTreeMap::new();
    for seed in seeds {
        let k = random_run_with(seed, kappa).unwrap_or_else(|e| panic!("{e} (κ = {kappa})"));
        *histogram.entry(k).or_insert(0u32) += 1;
        if k > worst {
            worst_seeds.clear();
        }
        if k >= worst {
            worst = k;
            worst_seeds.push(seed);
        }
    }
    worst_seeds.truncate(10);
    println!(
        "periods after GST over {runs} schedules: {histogram:?} ({:.1} s; worst at seeds \
         {worst_seeds:?})",
        started.elapsed().as_secs_f64()
    );
    assert!(worst <= K, "worst {worst} periods after GST: {histogram:?}");
}

#[test]
fn random_schedules_decide_within_k_periods_after_gst() {
    search(0..1_500);
}

/// Issue #14 §2: the same search with one vote aggregator per step (κ = 1 of N = 4, so the
/// faulty node is often a step's only aggregator, and withholds or crashes as it): every
/// honest node still decides within K periods after GST.
#[test]
fn random_schedules_decide_with_aggregators() {
    search_with(0..1_500, 1);
}

/// The long run of the same search (`LIVENESS_RUNS` schedules, default 100,000, from seed
/// 1,000,000 so as not to repeat the quick test's):
/// `cargo test -p conclave-bft --test liveness -- --ignored --nocapture`.
#[test]
#[ignore = "long run (minutes)"]
fn random_schedules_long_run() {
    let runs: u64 = std::env::var("LIVENESS_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);
    search(1_000_000..1_000_000 + runs);
}

/// Issue #11 §1, the period window: D is cut off before GST while A and B, helped by a
/// Byzantine Z that echoes their ⊥ next-votes (and sends nothing else), advance more than 16
/// periods. Votes are only accepted within a window of the current period, so after GST
/// (Z silent) A and B dropped D's old votes and D dropped theirs; only the next-quorum bundle
/// A and B re-send, accepted for any later period, brings D forward.
#[test]
fn a_node_cut_off_for_many_periods_catches_up_after_gst() {
    const D: NodeId = NodeId(2);
    const GST: u64 = 120_000;
    let crypto = MockCrypto::new(N, 5);
    let engines = (0..N)
        .map(|i| {
            (NodeId(i) != Z).then(|| {
                Engine::new(
                    Config::new(NodeId(i), Epoch(0)),
                    crypto.adapters(NodeId(i)),
                    crypto.genesis_seed(),
                )
            })
        })
        .collect();
    let policy: Policy =
        Box::new(|_, from, to, _| Some(if from == D || to == D { LOST } else { 10 }));
    let mut world = World::new(engines, GST, policy);
    world.echo_bottom = Some(crypto.clone());
    for i in [A, B, D] {
        world.handle(i, Input::Start);
    }
    world.run(GST - 1, &[A, B, D]);
    assert!(world.decided.is_empty());
    let ahead = world.engines[A.0 as usize].as_ref().unwrap().period().0;
    let behind = world.engines[D.0 as usize].as_ref().unwrap().period().0;
    assert!(
        ahead > behind + 17,
        "A reached period {ahead}, D {behind}: not far enough apart"
    );
    world.run(GST + 600_000, &[A, B, D]);
    for id in [A, B, D] {
        let e = world.engines[id.0 as usize].as_ref().unwrap();
        assert!(
            world.decided.contains_key(&id.0),
            "node {id} undecided after GST: period {} ({})",
            e.period().0,
            e.debug_summary()
        );
    }
}

/// Re-sends stay bounded however many next_k steps a period has seen: only the latest next_k
/// vote travels with the soft and step-4 votes.
#[test]
fn resend_carries_only_the_latest_next_k_vote() {
    let crypto = MockCrypto::new(N, 1);
    let mut e = Engine::new(
        Config::new(A, Epoch(0)),
        crypto.adapters(A),
        crypto.genesis_seed(),
    );
    let h = Height(1);
    let p = Period(1);
    e.handle(Time(0), Input::Start);
    e.handle(
        Time(1),
        Input::ProposedValue {
            height: h,
            value: b"value-a".to_vec(),
        },
    );
    e.handle(Time(400), Input::Timer(TimerId::Filter(h, p)));
    e.handle(Time(600), Input::Timer(TimerId::Next(h, p)));
    let mut next_k_votes = 0;
    for k in 1..=10u8 {
        let step = e.handle(
            Time(600 + u64::from(k) * 1000),
            Input::Timer(TimerId::NextK(h, p, k)),
        );
        next_k_votes += step
            .actions
            .iter()
            .filter(|a| matches!(a, Action::Broadcast { bytes } if matches!(codec::decode(bytes), Ok(Message::Vote(v)) if v.step == VoteStep::NextK(k))))
            .count();
    }
    assert_eq!(next_k_votes, 10, "one vote per next_k step");
    let step = e.handle(Time(20_000), Input::Timer(TimerId::Resend(h)));
    let steps: Vec<VoteStep> = step
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Broadcast { bytes } => match codec::decode(bytes) {
                Ok(Message::Vote(v)) => Some(v.step),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(
        steps,
        vec![VoteStep::Soft, VoteStep::Next, VoteStep::NextK(10)]
    );
}

/// A mock committee where Z holds the best period-1 credential and B the best honest
/// period-2 one (so Z's proposal, shown to C alone, splits period 1's soft votes, and B's
/// value is what B and C soft-vote in period 2).
fn crypto_for_the_no_asynchrony_schedule() -> MockCrypto {
    for seed in 0..1_000 {
        let crypto = MockCrypto::new(N, seed);
        let genesis = crypto.genesis_seed();
        let priority = |node: NodeId, p: u32| {
            let s = crypto.adapters(node).sortition;
            let credential = s.proposer_credential(&genesis, Height(1), Period(p))?;
            s.verify_proposer(node, &genesis, Height(1), Period(p), &credential)
        };
        let z_first = [A, B, C].iter().all(|n| priority(Z, 1) < priority(*n, 1));
        let b_first = [A, C].iter().all(|n| priority(B, 2) < priority(*n, 2));
        if z_first && b_first {
            return crypto;
        }
    }
    panic!("no seed fits the schedule");
}

/// Issue #11 §1, "the same stall happens with no asynchrony at all", reconstructed: every
/// honest message arrives exactly 10 ms after it is sent from t = 0 (GST = 0), all timers
/// run in lock-step, and Z sends seven single messages in the first 1.6 s, then nothing. On
/// the engine before next_k and bundle forwarding (c481238), where bundles travel only with
/// the 1,200 ms re-send, the schedule ends period 2 with next tallies ⊥{A,B}, v{B,C}, w{A}
/// and nobody ever decides:
///
/// - t = 5: Z's proposal (the best credential of period 1) to C only, so C soft-votes z
///   while A and B soft-vote the best honest value w at 200 ms;
/// - 300: Z's soft vote for w to A: A has a soft quorum and cert-votes w;
/// - 601: the same soft vote to B, just after B's next timer: B next-voted ⊥ at 600 and now
///   adds w (step 5), but cannot cert-vote;
/// - 612: Z's next-vote for w to A, after B's arrived: A has the w next-quorum and enters
///   period 2 with v̄ = w (⊥ has only B and C);
/// - 1201: Z's ⊥ next-vote to B and to C, just after the 1,200 ms re-send: both enter period
///   2 released, and their ⊥ bundle leaves only with the next re-send, at 2,400 ms;
/// - 1602: Z's period-2 soft vote for B's value v to C only: with B's and C's own, C has
///   v's soft quorum and cert-votes v; its soft bundle too waits for the 2,400 ms re-send.
///
/// A's next timer (1,812 ms) fires before the ⊥ bundle reaches it (2,410 ms): A next-votes
/// its pinned w, then ⊥ (step 5). B's next timer (2,401 ms) fires just before C's soft bundle
/// (2,410 ms): B next-votes ⊥, then v. C next-votes v. With the engine's immediate bundle
/// forwarding and its next_k and recovery steps, every honest node decides.
#[test]
fn no_asynchrony_schedule_decides() {
    let crypto = crypto_for_the_no_asynchrony_schedule();
    let verifier = crypto.verifier();
    let genesis = crypto.genesis_seed();
    let engines = (0..N)
        .map(|i| {
            (NodeId(i) != Z).then(|| {
                Engine::new(
                    Config::new(NodeId(i), Epoch(0)),
                    crypto.adapters(NodeId(i)),
                    genesis,
                )
            })
        })
        .collect();
    // GST = 0: every honest message arrives 10 ms after it is sent.
    let mut world = World::new(engines, 0, Box::new(|_, _, _, _| Some(10)));
    for id in [A, B, C] {
        world.handle(id, Input::Start);
    }
    let best_honest = |p: u32| {
        [A, B, C]
            .into_iter()
            .min_by_key(|n| {
                let s = crypto.adapters(*n).sortition;
                let credential = s.proposer_credential(&genesis, Height(1), Period(p));
                credential.and_then(|c| s.verify_proposer(*n, &genesis, Height(1), Period(p), &c))
            })
            .expect("three seats")
    };
    let value_of = |n: NodeId| verifier.value_id(format!("value-1-{}", n.0).as_bytes());
    let w = VoteValue::Value(value_of(best_honest(1)));
    let v = VoteValue::Value(value_of(B));
    assert_eq!(best_honest(2), B);
    let z_value = b"value-z".to_vec();
    let z = crypto.adapters(Z);
    let z_proposal = conclave_bft::types::Proposal {
        epoch: Epoch(0),
        height: Height(1),
        period: Period(1),
        proposer: Z,
        credential: z
            .sortition
            .proposer_credential(&genesis, Height(1), Period(1))
            .expect("mock seats always propose"),
        signature: z
            .signer
            .sign(&conclave_bft::types::proposal_message(
                Epoch(0),
                Height(1),
                Period(1),
                verifier.value_id(&z_value),
            ))
            .unwrap(),
        value: z_value,
        seal: Vec::new(),
    };
    world.inject(5, Z, C, &Message::Proposal(z_proposal));
    let soft_w = Message::Vote(vote(&crypto, Z, 1, VoteStep::Soft, w));
    world.inject(300, Z, A, &soft_w);
    world.inject(601, Z, B, &soft_w);
    world.inject(
        612,
        Z,
        A,
        &Message::Vote(vote(&crypto, Z, 1, VoteStep::Next, w)),
    );
    let next_bottom = Message::Vote(vote(&crypto, Z, 1, VoteStep::Next, VoteValue::Bottom));
    world.inject(1_201, Z, B, &next_bottom);
    world.inject(1_201, Z, C, &next_bottom);
    world.inject(
        1_602,
        Z,
        C,
        &Message::Vote(vote(&crypto, Z, 2, VoteStep::Soft, v)),
    );
    world.run(600_000, &[A, B, C]);
    for id in [A, B, C] {
        let e = world.engines[id.0 as usize].as_ref().unwrap();
        assert!(
            world.decided.contains_key(&id.0),
            "node {id} undecided after 600 s: period {}, {}",
            e.period().0,
            e.debug_summary()
        );
    }
    let values: std::collections::BTreeSet<ValueId> = world.decided.values().map(|d| d.1).collect();
    assert_eq!(values.len(), 1, "agreement: {values:?}");
    println!(
        "no-asynchrony schedule: decided {:?} (period, value) by node",
        world.decided
    );
}
