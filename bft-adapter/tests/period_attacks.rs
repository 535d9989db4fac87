//! Adversaries that attack the period logic (issue #11 §5): splitting the honest nodes across
//! values and across the pinned value, competing proposals timed to the soft-vote deadline, and
//! honest nodes crashing at every persist point, on synchronous and on partitioned, lossy
//! networks. With F = f every run must pass every oracle (liveness: within K honest-led
//! periods after GST); with F = f + 1 the oracles must catch something.

use conclave_bft::sim::{
    run_simulation, AdversaryKind, CrashPoint, LastWrite, MockProvider, SimConfig, SimReport,
};

const ATTACKS: [AdversaryKind; 2] = [
    AdversaryKind::SplitPinned,
    AdversaryKind::LateSplitProposals,
];

fn config(nodes: u32, adversary: AdversaryKind, seed: u64) -> SimConfig {
    let mut c = SimConfig::new(nodes);
    c.adversary = adversary;
    c.seed = seed;
    c.heights = 4;
    // Every other seed: a partitioned, lossy network until GST.
    if seed % 2 == 1 {
        c.partition = true;
        c.drop = 0.2;
        c.gst_ms = 1_500 + 500 * seed;
    }
    c
}

fn run(c: &SimConfig) -> SimReport {
    run_simulation(c, &MockProvider).expect("valid configuration")
}

#[test]
fn period_attacks_at_f_faults_are_harmless() {
    for adversary in ATTACKS {
        for (nodes, seeds) in [(4u32, 0..8u64), (7, 0..6), (10, 0..4), (16, 0..2)] {
            for seed in seeds {
                let r = run(&config(nodes, adversary, seed));
                assert!(
                    r.violations.is_empty(),
                    "{adversary} N={nodes} seed {seed}: {:?}",
                    r.violations
                );
                assert!(r.evidence.iter().all(|e| r.faulty.contains(&e.culprit.0)));
            }
        }
    }
}

#[test]
fn period_attacks_with_crashes_at_persist_points() {
    let points = [CrashPoint::AfterPersist, CrashPoint::BeforeDecide];
    let writes = [LastWrite::Kept, LastWrite::Lost, LastWrite::Torn];
    for (i, adversary) in ATTACKS.into_iter().enumerate() {
        for (j, point) in points.into_iter().enumerate() {
            for (k, last_write) in writes.into_iter().enumerate() {
                let seed = (i * 6 + j * 3 + k) as u64;
                let mut c = config(7, adversary, seed);
                c.crashes = 1;
                c.crash_point = point;
                c.last_write = last_write;
                let r = run(&c);
                assert!(
                    r.violations.is_empty(),
                    "{adversary} {point:?} {last_write:?} seed {seed}: {:?}",
                    r.violations
                );
            }
        }
    }
}

#[test]
fn period_attacks_with_one_fault_too_many_are_caught() {
    for adversary in ATTACKS {
        let caught = (0..8u64)
            .filter(|seed| {
                let mut c = config(4, adversary, *seed);
                c.faulty = 2;
                !run(&c).violations.is_empty()
            })
            .count();
        assert!(caught > 0, "{adversary}: F = f + 1 never caught");
    }
}

/// Issue #11 §1's bounded healing: a network that loses everything for ten minutes of
/// virtual time (far beyond the next_k backoff cap of 8 next-timeouts) heals within a few
/// seconds of GST: every node keeps re-sending its latest next_k vote and its quorum bundles.
#[test]
fn a_partition_longer_than_the_backoff_cap_heals_in_seconds() {
    for (adversary, seed) in [(AdversaryKind::Silent, 0), (AdversaryKind::SplitPinned, 1)] {
        let mut c = SimConfig::new(4);
        c.adversary = adversary;
        c.seed = seed;
        c.heights = 2;
        c.drop = 1.0;
        c.gst_ms = 600_000;
        let r = run(&c);
        assert!(r.violations.is_empty(), "{adversary}: {:?}", r.violations);
        let after_gst = r.metrics.sim_time_ms - c.gst_ms;
        assert!(after_gst < 5_000, "{adversary}: {after_gst} ms after GST");
    }
}

/// Long runs hold bounded state: with no decision lists kept, the honest nodes' transcripts
/// (the forensic log) stay as large after 120 heights as after 12, whatever the adversary
/// (the replay attack's recordings are a bounded ring too).
#[test]
fn long_runs_hold_bounded_forensic_state() {
    use conclave_bft::sim::{run_simulation_with, SimOptions};
    let options = SimOptions {
        keep_decisions: false,
        ..SimOptions::default()
    };
    for adversary in [AdversaryKind::Replay, AdversaryKind::SplitPinned] {
        let peak = |heights: u64| {
            let mut c = SimConfig::new(7);
            c.adversary = adversary;
            c.heights = heights;
            let r = run_simulation_with(&c, &MockProvider, &options, &mut |_| {}).unwrap();
            assert!(r.violations.is_empty(), "{:?}", r.violations);
            assert!(r.decisions.is_empty());
            r.summary.peak_transcript_messages
        };
        let (short, long) = (peak(12), peak(120));
        assert!(short > 0);
        assert!(
            long <= 2 * short,
            "{adversary}: {short} after 12 heights, {long} after 120"
        );
    }
}

/// Issue #11 §5, cross-period accountability: `cross-period` with F = f + 1 and the honest
/// halves cut apart until GST makes A certify v in period 1 and B certify v' in period 2. The
/// forensic exchange proves every faulty seat broke its lock (a cert vote for v and a ⊥ next
/// vote in period 1), and `Evidence::verify` accepts that on its own.
#[test]
fn a_cross_period_fork_is_accountable() {
    use conclave_bft::evidence::EvidenceKind;
    use conclave_bft::mock::MockCrypto;
    let mut forks = 0;
    for (nodes, seed) in [(4, 1), (4, 2), (7, 3), (7, 4)] {
        let mut c = config(nodes, AdversaryKind::CrossPeriod, seed);
        c.heights = 2;
        c.drop = 0.0;
        c.faulty = c.tolerated() + 1;
        c.partition = true;
        c.gst_ms = 3_000;
        let r = run(&c);
        let forked = r.violations.iter().any(|v| v.starts_with("agreement"));
        if !forked {
            continue;
        }
        forks += 1;
        // The two sides' certificates of height 1 name different periods.
        let periods: std::collections::BTreeSet<u32> = r
            .decisions
            .values()
            .filter_map(|d| d.first().map(|x| x.period))
            .collect();
        assert!(periods.len() >= 2, "{periods:?}");
        assert!(
            !r.evidence
                .iter()
                .any(|e| e.kind == EvidenceKind::Equivocation
                    && e.verify(
                        conclave_bft::types::Epoch(0),
                        MockCrypto::new(c.nodes, c.seed).verifier().as_ref()
                    )
                    .is_ok()),
            "no same-step equivocation: only the lock proves the fork"
        );
        assert!(
            !r.violations.iter().any(|v| v.starts_with("accountability")
                || v.starts_with("framing")
                || v.starts_with("blame")),
            "{:?}",
            r.violations
        );
        let verifier = MockCrypto::new(c.nodes, c.seed).verifier();
        let proven: std::collections::BTreeSet<u32> = r
            .evidence
            .iter()
            .filter(|e| e.kind == EvidenceKind::LockViolation)
            .filter(|e| {
                e.verify(conclave_bft::types::Epoch(0), verifier.as_ref())
                    .is_ok()
            })
            .map(|e| e.culprit.0)
            .collect();
        assert_eq!(
            proven,
            r.faulty.iter().copied().collect(),
            "{:?}",
            r.evidence
        );
    }
    assert!(forks >= 2, "{forks} forks");
}
