//! `conclave dkg run` as docs/CLI.md writes it: faulty dealers are disqualified with their
//! reason, and too many faulty dealers give no key (exit 1, one line), never one a coalition of
//! `t` dealers would know.

use std::process::{Command, Output};

use serde_json::Value;

fn conclave(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conclave"))
        .args(args)
        .output()
        .expect("run conclave")
}

#[test]
fn byzantine_dealers_are_disqualified_with_their_reason() {
    let o = conclave(&[
        "dkg",
        "run",
        "--n",
        "7",
        "--t",
        "2",
        "--byzantine",
        "2:bad-share,5:false-complaint",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let qualified: Vec<u64> = report["qualified"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(qualified, vec![1, 3, 4, 5, 6, 7]);
    assert_eq!(report["disqualified"][0]["index"], 2);
    assert_eq!(report["disqualified"][0]["reason"], "bad-share");
}

#[test]
fn fewer_than_t_plus_one_qualified_dealers_is_an_error() {
    // t + 1 = 2 dealers are needed; three of four are silent.
    let o = conclave(&[
        "dkg",
        "run",
        "--n",
        "4",
        "--t",
        "1",
        "--byzantine",
        "2:silent,3:silent,4:silent",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err:?}");
    assert!(err.contains("not enough qualified dealers"), "{err:?}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("group_public_key"));
}
