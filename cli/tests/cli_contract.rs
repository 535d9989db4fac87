//! The `conclave` binary, driven exactly as CLI-CONTRACT.md writes it (bls and threshold).

use std::process::{Command, Output};

use serde_json::Value;

fn conclave(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conclave"))
        .args(args)
        .output()
        .expect("run conclave")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn ok(args: &[&str]) -> String {
    let o = conclave(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout(&o)
}

fn code(args: &[&str]) -> i32 {
    let o = conclave(args);
    let c = o.status.code().unwrap_or(-1);
    if c == 1 {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            err.trim().lines().count(),
            1,
            "exit 1 must explain in one line: {err:?}"
        );
    }
    c
}

#[test]
fn bls_round_trip_both_variants_and_schemes() {
    for variant in ["min-pk", "min-sig"] {
        let keys: Value = serde_json::from_str(&ok(&[
            "bls",
            "keygen",
            "--variant",
            variant,
            "--ikm",
            &"11".repeat(32),
        ]))
        .unwrap();
        let sk = keys["sk"].as_str().unwrap();
        let pk = keys["pk"].as_str().unwrap();
        assert_eq!(ok(&["bls", "pubkey", "--variant", variant, "--sk", sk]), pk);
        assert_eq!(pk.len(), if variant == "min-pk" { 96 } else { 192 });
        for scheme in ["basic", "aug", "pop"] {
            let sig = ok(&[
                "bls",
                "sign",
                "--variant",
                variant,
                "--scheme",
                scheme,
                "--sk",
                sk,
                "--msg",
                "abcd",
            ]);
            let verify = |msg: &str, scheme: &str| {
                code(&[
                    "bls",
                    "verify",
                    "--variant",
                    variant,
                    "--scheme",
                    scheme,
                    "--pk",
                    pk,
                    "--msg",
                    msg,
                    "--sig",
                    &sig,
                ])
            };
            assert_eq!(verify("abcd", scheme), 0);
            assert_eq!(verify("0xABCD", scheme), 0, "0x and upper case accepted");
            assert_eq!(verify("abce", scheme), 1);
        }
        // Empty message.
        let sig = ok(&["bls", "sign", "--variant", variant, "--sk", sk, "--msg", ""]);
        assert_eq!(
            code(&[
                "bls",
                "verify",
                "--variant",
                variant,
                "--pk",
                pk,
                "--msg",
                "",
                "--sig",
                &sig
            ]),
            0
        );
        // Proof of possession.
        let proof = ok(&["bls", "pop-prove", "--variant", variant, "--sk", sk]);
        assert_eq!(
            code(&[
                "bls",
                "pop-verify",
                "--variant",
                variant,
                "--pk",
                pk,
                "--proof",
                &proof
            ]),
            0
        );
        assert_eq!(
            code(&[
                "bls",
                "pop-verify",
                "--variant",
                variant,
                "--pk",
                pk,
                "--proof",
                &sig
            ]),
            1
        );
    }
}

#[test]
fn bls_rejects_bad_input_with_exit_1_and_usage_with_exit_2() {
    let zero = "00".repeat(32);
    let r = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";
    assert_eq!(code(&["bls", "pubkey", "--sk", &zero]), 1);
    assert_eq!(code(&["bls", "sign", "--sk", r, "--msg", "00"]), 1);
    assert_eq!(code(&["bls", "aggregate", "--sigs", ""]), 1);
    assert_eq!(code(&["bls", "aggregate-pks", "--pks", ""]), 1);
    let inf_g1 = format!("c0{}", "00".repeat(47));
    assert_eq!(
        code(&["bls", "aggregate-pks", "--pks", &inf_g1]),
        1,
        "identity key"
    );
    assert_eq!(
        code(&["bls", "verify", "--pk", "zz", "--msg", "", "--sig", "00"]),
        1
    );
    assert_eq!(code(&["bls", "frobnicate"]), 2);
    assert_eq!(code(&["bls", "sign", "--msg", "00"]), 2);
    assert_eq!(
        code(&[
            "bls",
            "verify",
            "--variant",
            "max-pk",
            "--pk",
            "00",
            "--msg",
            "",
            "--sig",
            "00"
        ]),
        2
    );
}

#[test]
fn hash_to_curve_matches_rfc9380() {
    // RFC 9380 J.9.1 / J.10.1, msg = "" (compressed encodings).
    assert_eq!(
        ok(&["bls", "hash-to-g1", "--msg", "", "--dst", "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_"]),
        "852926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1"
    );
    let g2 = ok(&[
        "bls",
        "hash-to-g2",
        "--msg",
        "",
        "--dst",
        "QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_",
    ]);
    assert!(g2.starts_with("a5cb8437535e20ecffaef7752baddf98034139c38452458baeefab379ba13dff5bf5dd71b72418717047f5b0f37da03d"));
}

#[test]
fn threshold_deal_sign_combine_with_culprits() {
    for variant in ["min-pk", "min-sig"] {
        let deal: Value = serde_json::from_str(&ok(&[
            "threshold",
            "deal",
            "--n",
            "7",
            "--t",
            "3",
            "--variant",
            variant,
            "--seed",
            "0102",
        ]))
        .unwrap();
        // Deterministic from the seed.
        let again: Value = serde_json::from_str(&ok(&[
            "threshold",
            "deal",
            "--n",
            "7",
            "--t",
            "3",
            "--variant",
            variant,
            "--seed",
            "0102",
        ]))
        .unwrap();
        assert_eq!(deal, again);
        let commitment: Vec<&str> = deal["commitment"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(commitment.len(), 4);
        assert_eq!(commitment[0], deal["group_public_key"].as_str().unwrap());
        let shares = deal["shares"].as_array().unwrap();
        let sign = |i: usize, msg: &str| {
            let s = &shares[i - 1];
            assert_eq!(s["index"].as_u64().unwrap() as usize, i);
            ok(&[
                "threshold",
                "partial-sign",
                "--variant",
                variant,
                "--index",
                &i.to_string(),
                "--secret",
                s["secret"].as_str().unwrap(),
                "--msg",
                msg,
            ])
        };
        let msg = "deadbeef";
        // Partial signatures are ordinary BLS signatures under the public shares.
        let p1 = sign(1, msg);
        assert_eq!(
            code(&[
                "bls",
                "verify",
                "--variant",
                variant,
                "--pk",
                shares[0]["public"].as_str().unwrap(),
                "--msg",
                msg,
                "--sig",
                &p1
            ]),
            0
        );
        let bad = sign(5, "00"); // share 5 signs the wrong message
        let partials = format!(
            "2:{},5:{bad},7:{},1:{p1},4:{}",
            sign(2, msg),
            sign(7, msg),
            sign(4, msg)
        );
        let joined = commitment.join(",");
        let out: Value = serde_json::from_str(&ok(&[
            "threshold",
            "combine",
            "--variant",
            variant,
            "--commitment",
            &joined,
            "--msg",
            msg,
            "--partials",
            &partials,
        ]))
        .unwrap();
        assert_eq!(out["culprits"], serde_json::json!([5]));
        assert_eq!(out["used"].as_array().unwrap().len(), 4);
        let sig = out["signature"].as_str().unwrap();
        assert_eq!(
            code(&[
                "bls",
                "verify",
                "--variant",
                variant,
                "--pk",
                commitment[0],
                "--msg",
                msg,
                "--sig",
                sig
            ]),
            0
        );
        // Another valid subset gives the identical signature.
        let other = format!(
            "3:{},6:{},2:{},4:{}",
            sign(3, msg),
            sign(6, msg),
            sign(2, msg),
            sign(4, msg)
        );
        let out2: Value = serde_json::from_str(&ok(&[
            "threshold",
            "combine",
            "--variant",
            variant,
            "--commitment",
            &joined,
            "--msg",
            msg,
            "--partials",
            &other,
        ]))
        .unwrap();
        assert_eq!(out2["signature"], out["signature"]);
        // Fewer than t+1 valid partials: exit 1, culprit named on stderr.
        let few = format!("1:{p1},5:{bad},2:{}", sign(2, msg));
        let o = conclave(&[
            "threshold",
            "combine",
            "--variant",
            variant,
            "--commitment",
            &joined,
            "--msg",
            msg,
            "--partials",
            &few,
        ]);
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains("culprits: 5"));
    }
}

#[test]
fn demo_runs() {
    let out = ok(&["demo", "--seed", "07", "--n", "5", "--t", "2"]);
    assert!(out.contains("verifies: true"), "{out}");
}

/// Security issue #10: share counts and indices from the command line are bounded
/// (`MAX_SHARES`), so a huge `--n` or partial index is a one-line exit 1, not an allocation
/// failure that aborts the process.
#[test]
fn threshold_huge_n_or_index_exits_1_instead_of_aborting() {
    for variant in ["min-pk", "min-sig"] {
        let o = conclave(&[
            "threshold",
            "deal",
            "--n",
            "4294967295",
            "--t",
            "1",
            "--variant",
            variant,
        ]);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err:?}");
        assert!(
            err.starts_with("conclave: ") && err.contains("65536"),
            "{err:?}"
        );

        let deal: Value = serde_json::from_str(&ok(&[
            "threshold",
            "deal",
            "--n",
            "4",
            "--t",
            "1",
            "--variant",
            variant,
            "--seed",
            "07",
        ]))
        .unwrap();
        let commitment: Vec<&str> = deal["commitment"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let share = &deal["shares"][0];
        let p1 = ok(&[
            "threshold",
            "partial-sign",
            "--variant",
            variant,
            "--index",
            "1",
            "--secret",
            share["secret"].as_str().unwrap(),
            "--msg",
            "00",
        ]);
        // The same point claimed by index 2^32 - 1: the old CLI derived 4 billion public shares.
        let partials = format!("1:{p1},4294967295:{p1}");
        let o = conclave(&[
            "threshold",
            "combine",
            "--variant",
            variant,
            "--commitment",
            &commitment.join(","),
            "--msg",
            "00",
            "--partials",
            &partials,
        ]);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err:?}");
        assert!(
            err.starts_with("conclave: ") && err.contains("4294967295"),
            "{err:?}"
        );
        // partial-sign bounds its index the same way (it signed for index 70000 before).
        for index in ["65537", "4294967295"] {
            let o = conclave(&[
                "threshold",
                "partial-sign",
                "--variant",
                variant,
                "--index",
                index,
                "--secret",
                share["secret"].as_str().unwrap(),
                "--msg",
                "00",
            ]);
            assert_eq!(o.status.code(), Some(1), "{index}: {o:?}");
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(err.trim().lines().count(), 1, "{err:?}");
            assert!(
                err.starts_with("conclave: ") && err.contains("65536"),
                "{err:?}"
            );
        }
    }
}

/// Security issue #10: a conflicting duplicate index no longer aborts the robust combine; the
/// index is named as a culprit and its valid partial, if any, may still be used.
#[test]
fn threshold_combine_names_conflicting_duplicate_and_carries_on() {
    for variant in ["min-pk", "min-sig"] {
        let deal: Value = serde_json::from_str(&ok(&[
            "threshold",
            "deal",
            "--n",
            "5",
            "--t",
            "1",
            "--variant",
            variant,
            "--seed",
            "08",
        ]))
        .unwrap();
        let commitment: Vec<&str> = deal["commitment"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let sign = |i: usize, msg: &str| {
            ok(&[
                "threshold",
                "partial-sign",
                "--variant",
                variant,
                "--index",
                &i.to_string(),
                "--secret",
                deal["shares"][i - 1]["secret"].as_str().unwrap(),
                "--msg",
                msg,
            ])
        };
        // Index 2 sends a valid partial and one on another message; index 3 is valid.
        let partials = format!(
            "2:{},2:{},3:{}",
            sign(2, "aa"),
            sign(2, "bb"),
            sign(3, "aa")
        );
        let out: Value = serde_json::from_str(&ok(&[
            "threshold",
            "combine",
            "--variant",
            variant,
            "--commitment",
            &commitment.join(","),
            "--msg",
            "aa",
            "--partials",
            &partials,
        ]))
        .unwrap();
        assert_eq!(out["culprits"], serde_json::json!([2]));
        assert_eq!(out["used"], serde_json::json!([2, 3]));
        let sig = out["signature"].as_str().unwrap();
        assert_eq!(
            code(&[
                "bls",
                "verify",
                "--variant",
                variant,
                "--pk",
                commitment[0],
                "--msg",
                "aa",
                "--sig",
                sig,
            ]),
            0
        );
    }
}

/// `--dst ''` is rejected (exit 1, one line): an empty DST gives no domain separation, and RFC
/// 9380 requires a non-empty one. Before the fix `bls sign --dst ''` signed under it.
#[test]
fn empty_dst_is_invalid_input() {
    let kp: Value =
        serde_json::from_str(&ok(&["bls", "keygen", "--ikm", &"11".repeat(32)])).unwrap();
    let sk = kp["sk"].as_str().unwrap();
    let pk = kp["pk"].as_str().unwrap();
    assert_eq!(
        code(&["bls", "sign", "--dst", "", "--sk", sk, "--msg", "00"]),
        1
    );
    let sig = ok(&["bls", "sign", "--dst", "X", "--sk", sk, "--msg", "00"]);
    assert_eq!(
        code(&["bls", "verify", "--dst", "X", "--pk", pk, "--msg", "00", "--sig", &sig]),
        0
    );
    assert_eq!(
        code(&["bls", "verify", "--dst", "", "--pk", pk, "--msg", "00", "--sig", &sig]),
        1
    );
}
