//! Simulator runs with mock crypto: every adversary at F = f for N in {4, 7, 16, 31}, F = f+1
//! runs that must be caught, crash/restart, lossy pre-GST networks and determinism.

use conclave_bft::evidence::EvidenceKind;
use conclave_bft::sim::{run_simulation, AdversaryKind, MockProvider, SimConfig, SimReport};

fn run(config: &SimConfig) -> SimReport {
    run_simulation(config, &MockProvider).expect("valid configuration")
}

fn config(nodes: u32, adversary: AdversaryKind, seed: u64, heights: u64) -> SimConfig {
    let mut c = SimConfig::new(nodes);
    c.adversary = adversary;
    c.seed = seed;
    c.heights = heights;
    c
}

fn assert_clean(r: &SimReport) {
    assert!(
        r.violations.is_empty(),
        "{:?} {}: {:?}",
        r.config.adversary,
        r.config.seed,
        r.violations
    );
    assert_eq!(r.summary.heights_decided, r.config.heights);
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn every_adversary_at_f_faults_is_harmless() {
    let all = AdversaryKind::CONCRETE
        .into_iter()
        .chain([AdversaryKind::Mixed]);
    for adversary in all {
        for (nodes, seeds, heights) in [
            (4u32, 0..10u64, 6u64),
            (7, 0..8, 5),
            (16, 0..4, 4),
            (31, 0..2, 3),
        ] {
            for seed in seeds {
                let r = run(&config(nodes, adversary, seed, heights));
                assert_clean(&r);
            }
        }
    }
}

#[test]
fn faults_are_reported_as_evidence() {
    // Only what an honest node sees itself counts: a proposer showing each half a different
    // value, or twins each talking to one half, are seen by no single honest node (and, with
    // F <= f, cannot fork), so they are not here.
    let cases = [
        (AdversaryKind::Equivocate, EvidenceKind::Equivocation),
        (AdversaryKind::InvalidSig, EvidenceKind::InvalidSignature),
        (
            AdversaryKind::InvalidCredential,
            EvidenceKind::InvalidCredential,
        ),
        (AdversaryKind::Replay, EvidenceKind::Impersonation),
    ];
    for (adversary, kind) in cases {
        let r = run(&config(7, adversary, 1, 5));
        assert_clean(&r);
        assert!(
            r.evidence
                .iter()
                .any(|e| e.kind == kind && r.faulty.contains(&e.culprit.0)),
            "{adversary}: no {kind:?} evidence in {:?}",
            r.evidence
                .iter()
                .map(|e| (e.culprit, e.kind))
                .collect::<Vec<_>>()
        );
        assert!(
            r.evidence.iter().all(|e| r.faulty.contains(&e.culprit.0)),
            "{adversary}: an honest node was blamed"
        );
    }
}

#[test]
fn one_fault_too_many_is_caught_by_the_oracles() {
    let mut caught_safety = false;
    for seed in 0..12 {
        let mut c = config(4, AdversaryKind::ConflictingProposals, seed, 6);
        c.faulty = 2;
        let r = run(&c);
        if r.violations.iter().any(|v| v.starts_with("agreement")) {
            caught_safety = true;
            assert_eq!(r.exit_code(), 3);
            let culprits: std::collections::BTreeSet<u32> = r
                .evidence
                .iter()
                .filter(|e| {
                    matches!(
                        e.kind,
                        EvidenceKind::Equivocation | EvidenceKind::ConflictingProposals
                    )
                })
                .map(|e| e.culprit.0)
                .collect();
            assert!(culprits.len() >= 2, "seed {seed}: only {culprits:?} proven");
            assert!(culprits.iter().all(|c| r.faulty.contains(c)));
        }
    }
    assert!(
        caught_safety,
        "no seed broke agreement with F = f + 1 split-brain attackers"
    );

    let mut c = config(7, AdversaryKind::Silent, 0, 3);
    c.faulty = 3;
    let r = run(&c);
    assert!(
        r.violations.iter().any(|v| v.starts_with("liveness")),
        "{:?}",
        r.violations
    );
    assert_eq!(r.exit_code(), 3);
}

#[test]
fn crashed_nodes_restart_from_persisted_state() {
    for seed in 0..4 {
        let mut c = config(7, AdversaryKind::Mixed, seed, 8);
        c.crashes = 3;
        let r = run(&c);
        assert_clean(&r);
    }
}

#[test]
fn partitions_and_loss_heal_after_gst() {
    for seed in 0..3 {
        let mut c = config(7, AdversaryKind::Mixed, seed, 5);
        c.partition = true;
        c.drop = 0.2;
        c.duplicate = 0.1;
        c.gst_ms = 3_000;
        let r = run(&c);
        assert_clean(&r);
        assert!(
            r.metrics.max_period >= 2,
            "the partition should have cost a period"
        );
    }
}

#[test]
fn same_seed_same_output() {
    let mut c = config(16, AdversaryKind::Mixed, 42, 4);
    c.drop = 0.05;
    c.gst_ms = 500;
    c.crashes = 1;
    let mut a = run(&c);
    let mut b = run(&c);
    a.metrics.wall_ms = 0;
    b.metrics.wall_ms = 0;
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    c.seed = 43;
    let mut other = run(&c);
    other.metrics.wall_ms = 0;
    assert_ne!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&other).unwrap()
    );
}

#[test]
fn report_has_the_cli_json_shape() {
    let r = run(&config(4, AdversaryKind::Mixed, 3, 2));
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    for key in [
        "config",
        "variant",
        "dst",
        "group_public_key",
        "honest",
        "faulty",
        "decisions",
        "evidence",
        "metrics",
        "violations",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let honest = r.honest[0].to_string();
    let d = &v["decisions"][&honest][0];
    assert_eq!(d["height"], 1);
    assert!(d["certificate"]["message"].as_str().unwrap().len() > 100);
    assert_eq!(d["certificate"]["signature"].as_str().unwrap().len(), 64);
    for key in ["messages", "bytes", "max_period", "sim_time_ms", "wall_ms"] {
        assert!(v["metrics"].get(key).is_some(), "missing metrics.{key}");
    }
}

/// An unusable configuration is a typed error (issue #13), not a report or a panic.
#[test]
fn unusable_configurations_are_typed_errors() {
    use conclave_bft::sim::{Mode, SimError};
    let mut c = config(4, AdversaryKind::Silent, 1, 1);
    c.faulty = 5;
    assert_eq!(
        run_simulation(&c, &MockProvider).unwrap_err(),
        SimError::Committee {
            nodes: 4,
            faulty: 5
        }
    );
    let mut c = config(4, AdversaryKind::Silent, 1, 1);
    c.drop = 1.5;
    assert_eq!(
        run_simulation(&c, &MockProvider).unwrap_err(),
        SimError::Probability
    );
    let mut c = config(4, AdversaryKind::Silent, 1, 1);
    c.mode = Mode::Sampled;
    assert!(matches!(
        run_simulation(&c, &MockProvider),
        Err(SimError::Setup(_))
    ));
}
