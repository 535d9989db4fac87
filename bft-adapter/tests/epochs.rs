//! Epochs in the simulator: committee changes and the resharing carried in the decided blocks,
//! several committees in a row under one group key (checked with conclave-threshold-sig
//! directly), Byzantine members, a crash during the resharing, a failed resharing.

use conclave_bft::sim::epochs::{run_epochs, EpochSimConfig, EpochSimReport, Transition};

fn show(r: &EpochSimReport) -> String {
    serde_json::to_string_pretty(&r.epochs).unwrap()
}

fn check_common(r: &EpochSimReport) {
    assert!(r.violations.is_empty(), "{:?}\n{}", r.violations, show(r));
    for e in &r.epochs {
        assert_eq!(e.group_public_key, r.group_public_key, "epoch {}", e.epoch);
        assert!(
            e.certificates_verified >= (e.heights.1 - e.heights.0 + 1),
            "epoch {}: {} certificates",
            e.epoch,
            e.certificates_verified
        );
    }
    assert_eq!(
        r.certificates_verified,
        r.epochs
            .iter()
            .map(|e| e.certificates_verified)
            .sum::<u64>()
    );
}

#[test]
fn committees_grow_shrink_and_change_threshold_under_one_group_key() {
    let mut cfg = EpochSimConfig::new(4);
    cfg.length = 16;
    cfg.window = 3;
    let r = run_epochs(&cfg).unwrap();
    check_common(&r);
    let seats: Vec<u32> = r.epochs.iter().map(|e| e.seats).collect();
    let thresholds: Vec<u32> = r.epochs.iter().map(|e| e.threshold).collect();
    assert_eq!(seats, vec![4, 5, 8, 6], "{}", show(&r));
    assert_eq!(thresholds, vec![2, 3, 5, 3]);
    assert_eq!(r.epochs[1].committee, vec![1, 2, 3, 4, 5]);
    assert_eq!(r.epochs[2].committee, vec![1, 2, 3, 4, 5, 6, 7, 8]);
    // Validators 1 and 2 left (the lowest ids) and stopped signing: not in the committee.
    assert_eq!(r.epochs[3].committee, vec![3, 4, 5, 6, 7, 8]);
    for e in &r.epochs[1..] {
        assert_eq!(e.key_from, "resharing");
    }
    // Byzantine committees: every epoch has f faulty validators, and the old holders among them
    // that dealt badly were disqualified in the resharing (silence, bad shares, wrong
    // justifications), with the others qualifying.
    let mut disqualified_seen = 0;
    for e in &r.epochs[..3] {
        let f = (e.seats - 1) / 3;
        assert_eq!(e.faulty.len() as u32, f);
        let rs = e.resharing.as_ref().unwrap();
        assert_eq!(rs.outcome, "reshared", "{}", show(&r));
        for (id, _) in &rs.disqualified {
            assert!(e.faulty.contains(id));
        }
        for id in &rs.qualified {
            assert!(!rs
                .byzantine
                .iter()
                .any(|(b, k)| b == id && k != "false-complaint"));
        }
        disqualified_seen += rs.disqualified.len();
        assert_eq!(
            rs.qualified.len() + rs.disqualified.len(),
            e.seats as usize,
            "every old holder is either qualified or disqualified"
        );
    }
    assert!(disqualified_seen >= 3, "{}", show(&r));
    // The registry rejected the invalid transactions: duplicate joins, forged leaves, replays.
    let rejected: Vec<&String> = r.epochs.iter().flat_map(|e| &e.rejected_txs).collect();
    assert!(
        rejected.iter().any(|x| x.contains("already registered")),
        "{rejected:?}"
    );
    assert!(rejected
        .iter()
        .any(|x| x.contains("leave signature") || x.contains("unknown validator")));
    assert!(rejected.iter().any(|x| x.contains("transaction for epoch")));
}

#[test]
fn a_crash_during_the_resharing_changes_nothing() {
    let mut cfg = EpochSimConfig::new(3);
    cfg.length = 14;
    cfg.window = 3;
    cfg.seed = 7;
    cfg.crash_epoch = Some(1);
    cfg.plan = vec![Transition { join: 2, leave: 1 }];
    let r = run_epochs(&cfg).unwrap();
    check_common(&r);
    // Epoch 0's leave comes before its joins and would take the set below 4: refused; in
    // epoch 1 the set has 6, so the leave goes through (6 + 2 − 1).
    assert_eq!(
        r.epochs.iter().map(|e| e.seats).collect::<Vec<_>>(),
        vec![4, 6, 7]
    );
    assert!(r.epochs[0]
        .rejected_txs
        .iter()
        .any(|x| x.contains("outside the bounds")));
    assert_eq!(r.epochs[2].key_from, "resharing");
    assert_eq!(r.epochs[1].engine_crashes, 1);
    let restored = r.epochs[1].resharing.as_ref().unwrap().driver_restored;
    assert!(restored.is_some_and(|id| r.epochs[2].committee.contains(&id)));
}

#[test]
fn a_failed_resharing_keeps_the_old_committee_and_retries() {
    let mut cfg = EpochSimConfig::new(3);
    cfg.length = 14;
    cfg.window = 3;
    cfg.seed = 3;
    cfg.fail_epoch = Some(0);
    cfg.plan = vec![Transition { join: 1, leave: 0 }];
    let r = run_epochs(&cfg).unwrap();
    check_common(&r);
    let rs = r.epochs[0].resharing.as_ref().unwrap();
    assert_eq!(rs.outcome, "failed");
    assert!(
        rs.reason.contains("not enough qualified dealers"),
        "{}",
        rs.reason
    );
    assert!(!rs.offline.is_empty());
    // Epoch 1 runs on the old committee and the old shares...
    assert_eq!(r.epochs[1].committee, r.epochs[0].committee);
    assert_eq!(r.epochs[1].key_from, "kept");
    // ... and its resharing hands over to the frozen join plus epoch 1's own.
    assert_eq!(r.epochs[1].resharing.as_ref().unwrap().outcome, "reshared");
    assert_eq!(r.epochs[2].committee, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(r.epochs[2].key_from, "resharing");
}

/// Issue #15: a crash during the resharing of the epoch after a failed one must not make that
/// resharing fail (a crash is one of the ≤ f faults tolerated) nor blame anyone. The same
/// parameters as `conclave simulate --epochs 3 --epoch-length 10 --resharing-window 3
/// --changes +1 --fail-epoch 0 --crash-epoch 1 --seed 3`.
#[test]
fn a_crash_after_a_failed_resharing_changes_nothing() {
    let mut cfg = EpochSimConfig::new(3);
    cfg.length = 10;
    cfg.window = 3;
    cfg.seed = 3;
    cfg.fail_epoch = Some(0);
    cfg.crash_epoch = Some(1);
    cfg.plan = vec![Transition { join: 1, leave: 0 }];
    let r = run_epochs(&cfg).unwrap();
    check_common(&r);
    let rs0 = r.epochs[0].resharing.as_ref().unwrap();
    assert_eq!(rs0.outcome, "failed", "{}", show(&r));
    assert!(
        rs0.reason.contains("not enough qualified dealers"),
        "{}",
        rs0.reason
    );
    assert_eq!(r.epochs[1].key_from, "kept");
    assert_eq!(r.epochs[1].engine_crashes, 1);
    let rs1 = r.epochs[1].resharing.as_ref().unwrap();
    assert_eq!(rs1.outcome, "reshared", "{}", show(&r));
    assert!(rs1.driver_restored.is_some(), "{}", show(&r));
    assert!(rs1.offline.is_empty());
    // Only Byzantine validators are disqualified (the simulator also checks nobody honest is
    // blamed); the restored driver's validator qualified.
    for (id, _) in &rs1.disqualified {
        assert!(r.epochs[1].faulty.contains(id), "{}", show(&r));
    }
    assert!(rs1.qualified.contains(&rs1.driver_restored.unwrap()));
    assert_eq!(r.epochs[2].committee, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(r.epochs[2].key_from, "resharing");
}

/// A join decided after its epoch's snapshot joins at the next boundary: its keys must carry
/// over to that resharing. Before, the simulator dropped them with the epoch and every later
/// resharing failed to start ("a joined validator without known keys"). The parameters of
/// `conclave simulate --epochs 3 --epoch-length 10 --resharing-window 3 --changes +1 --seed 7`.
#[test]
fn a_join_decided_after_the_snapshot_joins_at_the_next_boundary() {
    let mut cfg = EpochSimConfig::new(3);
    cfg.length = 10;
    cfg.window = 3;
    cfg.seed = 7;
    cfg.plan = vec![Transition { join: 1, leave: 0 }];
    let r = run_epochs(&cfg).unwrap();
    check_common(&r);
    for e in 0..2 {
        let rs = r.epochs[e].resharing.as_ref().unwrap();
        assert_eq!(rs.outcome, "reshared", "epoch {e}: {}", show(&r));
    }
    // Epoch 0's joiner came too late for epoch 1; both joiners sit in epoch 2.
    assert_eq!(r.epochs[1].committee, vec![1, 2, 3, 4], "{}", show(&r));
    assert_eq!(
        r.epochs[2].committee,
        vec![1, 2, 3, 4, 5, 6],
        "{}",
        show(&r)
    );
}
