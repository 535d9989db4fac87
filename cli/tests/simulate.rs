//! `conclave simulate`: the JSON contract, certificates checked with `conclave bls verify`,
//! exit codes 0 / 1 / 2 / 3.

use std::process::{Command, Output};

use serde_json::Value;

fn conclave(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conclave"))
        .args(args)
        .output()
        .expect("run conclave")
}

fn simulate_json(extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["simulate", "--json"];
    args.extend_from_slice(extra);
    let o = conclave(&args);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.trim().lines().count(), 1, "one JSON object: {text}");
    let value: Value = serde_json::from_str(text.trim()).expect("JSON on stdout");
    (o.status.code().unwrap_or(-1), value)
}

#[test]
fn certificates_verify_with_bls_verify() {
    let (code, r) = simulate_json(&["--nodes", "7", "--heights", "2", "--seed", "11"]);
    assert_eq!(code, 0, "{r}");
    let config = &r["config"];
    assert_eq!(config["nodes"], 7);
    assert_eq!(config["faulty"], 2);
    assert_eq!(config["adversary"], "mixed");
    assert_eq!(config["crypto"], "real");
    assert_eq!(config["key_setup"], "dkg");
    assert_eq!(r["variant"], "min-pk");
    assert!(r["violations"].as_array().unwrap().is_empty());
    assert_eq!(r["faulty"].as_array().unwrap().len(), 2);
    assert_eq!(r["honest"].as_array().unwrap().len(), 5);
    for key in ["messages", "bytes", "max_period", "sim_time_ms", "wall_ms"] {
        assert!(r["metrics"][key].is_u64(), "metrics.{key}");
    }
    let gpk = r["group_public_key"].as_str().unwrap();
    let decisions = r["decisions"].as_object().unwrap();
    assert_eq!(decisions.len(), 5, "honest nodes only");
    let mut checked = 0;
    for list in decisions.values() {
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 2);
        for d in list {
            let msg = d["certificate"]["message"].as_str().unwrap();
            let sig = d["certificate"]["signature"].as_str().unwrap();
            assert_eq!(sig.len(), 2 * 96);
            let verify = |msg: &str| bls_verify(&r, gpk, msg, sig);
            assert_eq!(verify(msg), Some(0), "height {}", d["height"]);
            // A certificate is bound to its exact message.
            let mut wrong = msg.to_string();
            let last = if wrong.ends_with('0') { "1" } else { "0" };
            wrong.replace_range(wrong.len() - 1.., last);
            assert_eq!(verify(&wrong), Some(1));
            checked += 1;
        }
    }
    assert_eq!(checked, 10);
}

#[test]
fn same_seed_same_json_apart_from_wall_time() {
    let args = [
        "--nodes",
        "4",
        "--heights",
        "2",
        "--seed",
        "5",
        "--adversary",
        "equivocate",
    ];
    let (_, mut a) = simulate_json(&args);
    let (_, mut b) = simulate_json(&args);
    a["metrics"]["wall_ms"] = 0.into();
    b["metrics"]["wall_ms"] = 0.into();
    a["setup"]["setup_wall_ms"] = 0.into();
    b["setup"]["setup_wall_ms"] = 0.into();
    assert_eq!(a, b);
}

#[test]
fn too_many_faults_exit_3_with_accountable_evidence() {
    // F = f + 1 split-brain proposers break agreement; the oracles report it (exit 3) and the
    // evidence proves at least f + 1 = 2 culprits, all faulty. Real crypto, then the mock.
    // (Seed 1: since quorum bundles are forwarded at once, seed 0's split no longer breaks
    // agreement, with either crypto.)
    for (crypto, heights, seed) in [("real", "2", "1"), ("mock", "6", "1")] {
        let (code, r) = simulate_json(&[
            "--nodes",
            "4",
            "--faulty",
            "2",
            "--adversary",
            "conflicting-proposals",
            "--heights",
            heights,
            "--seed",
            seed,
            "--crypto",
            crypto,
        ]);
        assert_eq!(code, 3, "{r}");
        let violations = r["violations"].as_array().unwrap();
        assert!(
            violations
                .iter()
                .any(|v| v.as_str().unwrap().starts_with("agreement")),
            "{r}"
        );
        let faulty: Vec<u64> = r["faulty"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        let culprits: std::collections::BTreeSet<u64> = r["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["culprit"].as_u64().unwrap())
            .collect();
        assert!(culprits.len() >= 2, "{r}");
        assert!(culprits.iter().all(|c| faulty.contains(c)), "{r}");
    }
}

#[test]
fn invalid_arguments_exit_1_usage_errors_exit_2() {
    for args in [
        &["simulate", "--nodes", "4", "--faulty", "4"][..],
        &["simulate", "--nodes", "0"],
        &["simulate", "--drop", "1.5"],
        &["simulate", "--heights", "0"],
        &["simulate", "--mode", "sampled", "--crypto", "mock"],
        // #17: n = 40, τ = 30 is far above 1e-9 per step at 80% honest stake.
        &[
            "simulate", "--mode", "sampled", "--nodes", "40", "--tau", "30",
        ],
        &["simulate", "--mode", "sampled", "--honest-fraction", "1.5"],
        &[
            "simulate", "--mode", "sampled", "--nodes", "7", "--tau", "8",
        ],
    ] {
        let o = conclave(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    for args in [
        &["simulate", "--nodes", "many"][..],
        &["simulate", "--mode", "other"],
        &["simulate", "--adversary", "nonsense"],
        &["simulate", "--mode", "sampled", "--failure-target", "often"],
        &["simulate", "--honest-fraction", "four fifths"],
        &["simulate", "--no-such-flag"],
    ] {
        assert_eq!(conclave(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn human_summary_table() {
    let o = conclave(&[
        "simulate",
        "--nodes",
        "4",
        "--heights",
        "2",
        "--crypto",
        "mock",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    for row in [
        "heights decided      2 / 2",
        "periods used",
        "messages / decision",
        "bytes / decision",
        "certificate size",
        "evidence found",
        "time",
    ] {
        assert!(text.contains(row), "{row:?} missing in\n{text}");
    }
}

#[test]
fn sampled_mode_derives_the_faulty_seats_and_prints_the_failure_probabilities() {
    // 10 seats at 80% honest stake: F = 2 assumed, τ = 10 (everyone), quorum ⌈6.85⌉ = 7.
    let o = conclave(&[
        "simulate",
        "--mode",
        "sampled",
        "--nodes",
        "10",
        "--heights",
        "2",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["config"]["faulty"], 2);
    let s = &v["setup"]["sampled"];
    assert_eq!(s["faulty_assumed"], 2);
    assert_eq!(s["quorum"], 7);
    assert_eq!(s["safety_failure"], 0.0);
    assert_eq!(s["liveness_failure"], 0.0);
    let o = conclave(&[
        "simulate",
        "--mode",
        "sampled",
        "--nodes",
        "10",
        "--heights",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("sampled model"));
}

#[test]
fn sweep_prints_a_table_and_catches_one_fault_too_many() {
    // 24 seeds cover every size and the first adversaries; F = f must be clean.
    let o = conclave(&[
        "simulate",
        "--sweep",
        "24",
        "--heights",
        "2",
        "--crypto",
        "mock",
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{table}");
    for row in [
        "by adversary:",
        "by size:",
        "by scenario:",
        "  N = 31",
        "  equivocate",
    ] {
        assert!(table.contains(row), "missing {row:?} in {table}");
    }
    let total = table.lines().find(|l| l.starts_with("total")).unwrap();
    let fields: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(&fields[1..3], ["24", "0"], "{total}");
    // F = f + 1: the oracles catch violations (exit 3), counted in the JSON.
    let o = conclave(&[
        "simulate",
        "--sweep",
        "12",
        "--extra-faulty",
        "1",
        "--heights",
        "2",
        "--crypto",
        "mock",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"]["runs"], 12);
    assert!(v["total"]["violating"].as_u64().unwrap() > 0, "{v}");
    assert!(!v["examples"].as_array().unwrap().is_empty());
    // --extra-faulty alone is an error.
    let o = conclave(&["simulate", "--extra-faulty", "1", "--crypto", "mock"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn sweep_runs_sampled_mode_at_the_stated_honest_fraction() {
    // Sizes 4, 7, 10 with `equivocate`, F = ⌊(1−h)·N⌋ = 0, 1, 2 at h = 0.8.
    let o = conclave(&[
        "simulate",
        "--mode",
        "sampled",
        "--sweep",
        "3",
        "--heights",
        "1",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["mode"], "sampled");
    assert_eq!(v["total"]["runs"], 3);
    assert_eq!(v["total"]["violating"], 0, "{v}");
    assert!(v["faulty_rule"].as_str().unwrap().contains("0.8"), "{v}");
    // The mock implements threshold mode only.
    let o = conclave(&[
        "simulate", "--mode", "sampled", "--sweep", "3", "--crypto", "mock",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

/// `conclave bls verify` of one certificate of a simulate JSON report `r` (its `variant` and
/// `dst`) under `gpk`: its exit code.
fn bls_verify(r: &Value, gpk: &str, msg: &str, sig: &str) -> Option<i32> {
    conclave(&[
        "bls",
        "verify",
        "--variant",
        r["variant"].as_str().unwrap(),
        "--dst",
        r["dst"].as_str().unwrap(),
        "--pk",
        gpk,
        "--msg",
        msg,
        "--sig",
        sig,
    ])
    .status
    .code()
}

/// t = ⌊(n+f)/2⌋, f = ⌊(n−1)/3⌋, written out here rather than taken from the library.
fn degree(n: u64) -> u64 {
    (n + (n - 1) / 3) / 2
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

#[test]
fn epochs_hand_over_to_a_disjoint_committee_under_the_one_genesis_key() {
    // 4 → 8 → 4: four join, then the four genesis validators leave, so the last epoch's
    // committee shares no member with the one that ran the genesis DKG.
    let (code, r) = simulate_json(&[
        "--epochs",
        "3",
        "--epoch-length",
        "12",
        "--resharing-window",
        "3",
        "--changes",
        "+4,-4",
        "--seed",
        "5",
    ]);
    assert_eq!(code, 0, "{r}");
    assert!(r["violations"].as_array().unwrap().is_empty(), "{r}");
    assert_eq!(r["variant"], "min-pk");
    let gpk = r["group_public_key"].as_str().unwrap();
    assert_eq!(gpk.len(), 2 * 48);
    let epochs = r["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 3);
    let committees: Vec<Vec<u64>> = epochs.iter().map(|e| ids(&e["committee"])).collect();
    assert_eq!(
        committees,
        vec![vec![1, 2, 3, 4], (1..=8).collect(), vec![5, 6, 7, 8]]
    );
    let mut total = 0;
    for (k, e) in epochs.iter().enumerate() {
        let n = committees[k].len() as u64;
        assert_eq!(e["epoch"], k as u64);
        assert_eq!(e["seats"], n);
        assert_eq!(e["threshold"], degree(n));
        assert_eq!(ids(&e["stake"]), vec![1; n as usize]);
        assert_eq!(e["group_public_key"], gpk, "epoch {k}");
        assert_eq!(
            e["key_from"],
            if k == 0 { "genesis-dkg" } else { "resharing" }
        );
        // One certificate per height, heights 12k+1 ..= 12k+12.
        let certs = e["certificates"].as_array().unwrap();
        let heights: Vec<u64> = certs
            .iter()
            .map(|c| c["height"].as_u64().unwrap())
            .collect();
        assert_eq!(
            heights,
            (12 * k as u64 + 1..=12 * k as u64 + 12).collect::<Vec<_>>()
        );
        total += e["certificates_verified"].as_u64().unwrap();
        // The first and the last block of every epoch, checked by `conclave bls verify`
        // under the genesis key, and a tampered message refused.
        for c in [&certs[0], &certs[11]] {
            let msg = c["message"].as_str().unwrap();
            let sig = c["signature"].as_str().unwrap();
            assert_eq!(bls_verify(&r, gpk, msg, sig), Some(0), "epoch {k}: {c}");
            let mut wrong = msg.to_string();
            let last = if wrong.ends_with('0') { "1" } else { "0" };
            wrong.replace_range(wrong.len() - 1.., last);
            assert_eq!(bls_verify(&r, gpk, &wrong, sig), Some(1));
        }
        if k < 2 {
            let rs = &e["resharing"];
            assert_eq!(rs["outcome"], "reshared", "{rs}");
            // Every old holder either qualified or was disqualified (the faulty ones).
            let q = ids(&rs["qualified"]);
            let d = rs["disqualified"].as_array().unwrap();
            assert_eq!(q.len() + d.len(), n as usize, "{rs}");
            assert!(q.len() as u64 > degree(n), "{rs}");
            let faulty = ids(&e["faulty"]);
            assert_eq!(faulty.len() as u64, (n - 1) / 3);
            for x in d {
                assert!(faulty.contains(&x[0].as_u64().unwrap()), "{rs}");
            }
            assert_eq!(epochs[k + 1]["qualified_old_holders"], rs["qualified"]);
        } else {
            assert!(e["resharing"].is_null());
        }
    }
    assert_eq!(r["certificates_verified"], total);
    assert!(total >= 36, "{total}");
}

#[test]
fn epochs_a_failed_resharing_keeps_the_committee_and_the_table_says_why() {
    let args = [
        "--epochs",
        "3",
        "--epoch-length",
        "10",
        "--resharing-window",
        "3",
        "--changes",
        "+1",
        "--fail-epoch",
        "0",
        "--seed",
        "3",
    ];
    let (code, r) = simulate_json(&args);
    assert_eq!(code, 0, "{r}");
    let epochs = r["epochs"].as_array().unwrap();
    let rs = &epochs[0]["resharing"];
    assert_eq!(rs["outcome"], "failed", "{rs}");
    assert!(
        rs["reason"]
            .as_str()
            .unwrap()
            .contains("not enough qualified dealers"),
        "{rs}"
    );
    assert!(!rs["offline"].as_array().unwrap().is_empty());
    // The old committee and shares stay; the frozen join and epoch 1's join both land at the
    // next boundary (with `--crash-epoch 1` too: see the test below, issue #15).
    assert_eq!(ids(&epochs[1]["committee"]), vec![1, 2, 3, 4]);
    assert_eq!(epochs[1]["key_from"], "kept");
    assert_eq!(ids(&epochs[2]["committee"]), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(epochs[2]["threshold"], degree(6));
    for e in epochs {
        assert_eq!(e["group_public_key"], r["group_public_key"]);
    }
    // The table: one row per epoch, the failure's reason, the key unchanged.
    let mut table_args = vec!["simulate"];
    table_args.extend_from_slice(&args);
    let o = conclave(&table_args);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("epoch"), "{text}");
    assert!(rows[1].starts_with("0 ") && rows[1].contains("FAILED: not enough qualified"));
    assert!(
        rows[2].starts_with("1 ") && rows[2].contains(" kept "),
        "{text}"
    );
    assert!(
        rows[3].starts_with("2 ") && rows[3].contains("1,2,3,4,5,6"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "group key {} (the same in every epoch)",
        r["group_public_key"].as_str().unwrap()
    )));
    assert!(text.contains("violations none"), "{text}");
}

#[test]
fn epochs_a_crash_after_a_failed_resharing_still_reshares() {
    // Issue #15: epoch 1's resharing, with a crash in it after epoch 0's planned failure, used
    // to fail too ("own share for seat 1 is inconsistent with the group commitment": the
    // complaints were censored through their window) and the run still exited 0. Now it
    // reshares; an unplanned failure would be a violation (exit 3).
    let args = [
        "--epochs",
        "3",
        "--epoch-length",
        "10",
        "--resharing-window",
        "3",
        "--changes",
        "+1",
        "--fail-epoch",
        "0",
        "--crash-epoch",
        "1",
        "--seed",
        "3",
    ];
    let (code, r) = simulate_json(&args);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["violations"].as_array().unwrap().len(), 0, "{r}");
    let epochs = r["epochs"].as_array().unwrap();
    assert_eq!(epochs[0]["resharing"]["outcome"], "failed");
    assert_eq!(epochs[1]["engine_crashes"], 1);
    assert_eq!(epochs[1]["resharing"]["outcome"], "reshared", "{r}");
    assert_eq!(ids(&epochs[2]["committee"]), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(epochs[2]["key_from"], "resharing");
}

#[test]
fn epochs_bad_values_are_usage_errors() {
    for args in [
        &["simulate", "--epochs", "0"][..],
        &["simulate", "--epochs", "101"],
        &["simulate", "--epochs", "two"],
        &["simulate", "--epochs", "2", "--validators", "3"],
        &["simulate", "--epochs", "2", "--validators", "65"],
        &[
            "simulate",
            "--epochs",
            "2",
            "--epoch-length",
            "9",
            "--resharing-window",
            "3",
        ],
        &["simulate", "--epochs", "2", "--changes", "+x"],
        &["simulate", "--epochs", "2", "--changes", "1"],
        &["simulate", "--epochs", "2", "--changes", "+1,,-1"],
        &["simulate", "--epochs", "2", "--changes", "+65"],
        &["simulate", "--epochs", "2", "--fail-epoch", "1"],
        &["simulate", "--epochs", "2", "--crash-epoch", "2"],
        &["simulate", "--epochs", "2", "--faulty", "1"],
        &["simulate", "--epochs", "2", "--seed", "xyz"],
        &["simulate", "--epochs", "2", "--nodes", "4"],
        &["simulate", "--epochs", "2", "--crypto", "mock"],
        &["simulate", "--epochs", "2", "--sweep", "3"],
        &["simulate", "--validators", "5"],
        &["simulate", "--fail-epoch", "0"],
    ] {
        let o = conclave(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

/// `--aggregators K` (#14 §2): the votes go to K seats per step, so a run sends far fewer
/// messages than all-to-all, stays safe and live against a withholding or an equivocating
/// aggregator, and the flag's bounds are usage errors (exit 1).
#[test]
fn aggregators_cut_the_messages_and_survive_their_adversaries() {
    let base = [
        "--nodes",
        "32",
        "--heights",
        "3",
        "--crypto",
        "mock",
        "--seed",
        "5",
    ];
    let messages = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let (code, r) = simulate_json(&args);
        assert_eq!(code, 0, "{extra:?}: {r}");
        assert!(r["violations"].as_array().unwrap().is_empty(), "{r}");
        for list in r["decisions"].as_object().unwrap().values() {
            assert_eq!(list.as_array().unwrap().len(), 3, "{extra:?}");
        }
        r["metrics"]["messages"].as_u64().unwrap()
    };
    let all_to_all = messages(&["--adversary", "silent"]);
    let (code, r) = simulate_json(&[&base[..], &["--aggregators", "4"]].concat());
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["config"]["aggregators"], 4);
    let aggregated = messages(&["--adversary", "silent", "--aggregators", "4"]);
    // Measured 3,975 against 6,823 (1.7×) at N = 32 over 3 heights; the O(n·κ) bound at
    // N = 64 is asserted in bft-adapter/tests/aggregators.rs. Here: the flag reaches the engine.
    assert!(
        aggregated * 3 <= all_to_all * 2,
        "{aggregated} messages with 4 aggregators, {all_to_all} all-to-all"
    );
    for kind in ["aggregator-withhold", "aggregator-equivocate"] {
        messages(&["--adversary", kind, "--aggregators", "4"]);
    }
    for args in [
        &["simulate", "--nodes", "4", "--aggregators", "5"][..],
        &["simulate", "--adversary", "aggregator-withhold"],
    ] {
        let o = conclave(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
    }
    assert_eq!(
        conclave(&["simulate", "--aggregators", "many"])
            .status
            .code(),
        Some(2)
    );
}
