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
