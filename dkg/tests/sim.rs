//! End-to-end runs of the simulator with every Byzantine kind.
mod common;

use conclave_dkg::sim::{parse_byzantine, run_dkg, run_reshare, ReshareConfig, SimConfig};

fn cfg(variant: &str, n: u32, t: u32, byz: &str) -> SimConfig {
    SimConfig::new(variant.parse().unwrap(), n, t, [5u8; 32])
        .with_byzantine(parse_byzantine(byz).unwrap())
}

#[test]
fn all_kinds_min_pk_and_min_sig() {
    for variant in ["min-pk", "min-sig"] {
        let byz = "1:silent,2:bad-share,3:bad-commitment,4:wrong-justification,5:false-complaint";
        let c = cfg(variant, 13, 6, byz);
        let report = run_dkg(&c).unwrap();
        common::check_report(&report, &c.byzantine, true);
        assert_eq!(report.qualified, (5..=13).collect::<Vec<_>>());
        assert_eq!(report.players.len(), 8);
    }
}

#[test]
fn honest_run_and_reshare_keep_key() {
    let c = cfg("min-pk", 7, 2, "");
    let report = run_dkg(&c).unwrap();
    common::check_report(&report, &[], true);
    assert!(report.disqualified.is_empty() && report.evidence.is_empty());
    let rc = ReshareConfig::new(10, 4, [9u8; 32])
        .with_byzantine(parse_byzantine("1:bad-share,2:bad-commitment,3:false-complaint").unwrap());
    let next = run_reshare(&report, &rc).unwrap();
    assert_eq!(next.group_public_key, report.group_public_key);
    common::check_report(&next, &[], false);
    let reasons: Vec<_> = next
        .disqualified
        .iter()
        .map(|d| (d.index, d.reason.as_str()))
        .collect();
    assert_eq!(reasons, vec![(1, "bad-share"), (2, "bad-commitment")]);
    // JSON round trip and a second resharing (refresh: same size).
    let json = serde_json::to_string(&next).unwrap();
    let back: conclave_dkg::sim::DkgReport = serde_json::from_str(&json).unwrap();
    let refreshed = run_reshare(&back, &ReshareConfig::new(10, 4, [1; 32])).unwrap();
    assert_eq!(refreshed.group_public_key, report.group_public_key);
    assert_ne!(
        refreshed.players[0].secret_share,
        next.players[0].secret_share
    );
}

/// Resharing keeps the key when exactly `t_old` old holders are Byzantine (every dealer kind),
/// with a false complainer among the new players; the new shares reconstruct the same key.
#[test]
fn reshare_with_t_byzantine_old_holders() {
    for variant in ["min-pk", "min-sig"] {
        let old = run_dkg(&cfg(variant, 9, 4, "")).unwrap();
        let byz = "1:silent,4:bad-share,6:bad-commitment,9:wrong-justification,2:false-complaint";
        let rc = ReshareConfig::new(8, 3, [12u8; 32]).with_byzantine(parse_byzantine(byz).unwrap());
        let next = run_reshare(&old, &rc).unwrap();
        assert_eq!(next.group_public_key, old.group_public_key);
        assert_eq!(next.qualified, vec![2, 3, 5, 7, 8]);
        let reasons: Vec<_> = next
            .disqualified
            .iter()
            .map(|d| (d.index, d.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (1, "silent"),
                (4, "bad-share"),
                (6, "bad-commitment"),
                (9, "wrong-justification")
            ]
        );
        assert!(next
            .evidence
            .iter()
            .any(|e| e.culprit == 2 && e.kind == "false-complaint"));
        // Honest new players: all but the false complainer; their shares reconstruct the key.
        assert_eq!(next.players.len(), 7);
        common::check_report(&next, &[], false);
    }
}

#[test]
fn the_report_variant_is_typed() {
    let report = run_dkg(&cfg("min-sig", 4, 1, "")).unwrap();
    assert_eq!(report.variant, conclave_dkg::sim::SimVariant::MinSig);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["variant"], "min-sig");
    let back: conclave_dkg::sim::DkgReport = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, report);
    // A report naming no variant this crate knows is refused when read, not when resharing.
    let mut bad = json;
    bad["variant"] = "min-pq".into();
    assert!(serde_json::from_value::<conclave_dkg::sim::DkgReport>(bad).is_err());
}
