//! One CLI across commands (docs/CLI.md, "Conventions"): choice flags are usage errors (exit 2)
//! when the value is unknown, every runtime error is one `conclave: …` line on stderr, one
//! `--seed` format, fresh randomness without `--seed`, a closed stdout is not a panic, size
//! bounds, human output without Rust `Debug` formatting, `committee sortition --json`, and the
//! DKG's warning when most dealers were disqualified.

use std::io::Read;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn conclave(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conclave"))
        .args(args)
        .output()
        .expect("run conclave")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit 0; stdout.
fn ok(args: &[&str]) -> String {
    let o = conclave(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

/// A runtime error: exit 1 and exactly one line on stderr, `conclave: …`.
fn runtime_error(args: &[&str]) -> String {
    let o = conclave(args);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err:?}");
    assert!(err.starts_with("conclave: "), "{args:?}: prefix: {err:?}");
    err
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("conclave-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const ROUND_SEED: &str = "abababababababababababababababababababababababababababababababab";

/// A well-formed `committee verify` call (with a proof that does not verify).
const COMMITTEE_VERIFY: &[&str] = &[
    "committee",
    "verify",
    "--public",
    "00",
    "--stake",
    "1",
    "--total-stake",
    "2",
    "--tau",
    "1",
    "--seed",
    ROUND_SEED,
    "--round",
    "1",
    "--proof",
    "00",
];

#[test]
fn an_unknown_choice_is_a_usage_error_in_every_command() {
    let dir = temp_dir("choices");
    let report = dir.join("report.json");
    std::fs::write(&report, "{}").unwrap();
    let report = report.to_str().unwrap();
    let verify = COMMITTEE_VERIFY;
    let mut cases: Vec<Vec<&str>> = vec![
        vec!["bls", "keygen", "--variant", "minpk"],
        vec!["bls", "sign", "--scheme", "nul", "--sk", "01", "--msg", ""],
        vec![
            "threshold",
            "deal",
            "--n",
            "3",
            "--t",
            "1",
            "--variant",
            "minpk",
        ],
        vec!["demo", "--variant", "minpk"],
        vec!["dkg", "run", "--n", "4", "--t", "1", "--variant", "minpk"],
        vec![
            "dkg",
            "run",
            "--n",
            "4",
            "--t",
            "1",
            "--byzantine",
            "2:nonsense",
        ],
        vec!["dkg", "run", "--n", "4", "--t", "1", "--byzantine", "2"],
        vec![
            "dkg",
            "reshare",
            "--from",
            report,
            "--new-n",
            "4",
            "--new-t",
            "1",
            "--byzantine",
            "1:loud",
        ],
        vec!["simulate", "--adversary", "nonsense"],
        vec!["simulate", "--mode", "other"],
        vec!["simulate", "--crypto", "fake"],
        vec!["simulate", "--key-setup", "oracle"],
        vec!["simulate", "--variant", "minpk"],
        vec!["testnet", "--variant", "minpk"],
        vec![
            "testnet",
            "init",
            "--nodes",
            "4",
            "--dir",
            "x",
            "--variant",
            "g3",
        ],
    ];
    let mut role = verify.to_vec();
    role.extend(["--role", "leader"]);
    cases.push(role);
    for args in &cases {
        let o = conclave(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("invalid value"), "{args:?}");
    }
}

#[test]
fn every_runtime_error_is_one_line_with_the_conclave_prefix() {
    let dir = temp_dir("errors");
    let full = dir.join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("x"), "x").unwrap();
    let missing = dir.join("missing.json");
    let not_a_report = dir.join("not-a-report.json");
    std::fs::write(&not_a_report, "{\"variant\":1}").unwrap();
    for args in [
        &["bls", "pubkey", "--sk", "00"][..],
        &["threshold", "deal", "--n", "2", "--t", "2"],
        &["demo", "--n", "2", "--t", "3"],
        &["dkg", "run", "--n", "4", "--t", "4"],
        &[
            "dkg",
            "run",
            "--n",
            "4",
            "--t",
            "1",
            "--byzantine",
            "9:silent",
        ],
        &[
            "dkg",
            "reshare",
            "--from",
            missing.to_str().unwrap(),
            "--new-n",
            "4",
            "--new-t",
            "1",
        ],
        &[
            "dkg",
            "reshare",
            "--from",
            not_a_report.to_str().unwrap(),
            "--new-n",
            "4",
            "--new-t",
            "1",
        ],
        &["committee", "keygen", "--count", "2000000", "--seed", "01"],
        COMMITTEE_VERIFY,
        &["simulate", "--nodes", "0"],
        &["simulate", "--nodes", "4", "--faulty", "4"],
        &[
            "testnet",
            "init",
            "--nodes",
            "4",
            "--dir",
            full.to_str().unwrap(),
        ],
    ] {
        runtime_error(args);
    }
}

#[test]
fn one_seed_format_across_commands() {
    // The same seed written four ways gives the same dealing, the same DKG and the same run.
    let deal: Vec<String> = ["7", "07", "0x07", "0X07"]
        .iter()
        .map(|s| ok(&["threshold", "deal", "--n", "4", "--t", "1", "--seed", s]))
        .collect();
    assert!(deal.iter().all(|d| d == &deal[0]));
    let dkg_key = |seed: &str| -> Value {
        let out = ok(&[
            "dkg", "run", "--n", "4", "--t", "1", "--seed", seed, "--json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["seed"], "07", "the seed used, as --seed takes it");
        v["group_public_key"].clone()
    };
    assert_eq!(dkg_key("7"), dkg_key("0x07"));
    let sim = |seed: &str| -> Value {
        let out = ok(&[
            "simulate",
            "--nodes",
            "4",
            "--heights",
            "1",
            "--crypto",
            "mock",
            "--json",
            "--seed",
            seed,
        ]);
        let mut v: Value = serde_json::from_str(&out).unwrap();
        v["metrics"]["wall_ms"] = Value::Null;
        v
    };
    let a = sim("10");
    assert_eq!(a["config"]["seed"], 16, "hex, read as a number");
    assert_eq!(a, sim("0x10"));
    // Too long or not hex: one line, exit 1, in every command.
    let long = "1".repeat(65);
    for args in [
        &["threshold", "deal", "--n", "3", "--t", "1", "--seed", &long][..],
        &["demo", "--seed", "xyz"],
        &["dkg", "run", "--n", "4", "--t", "1", "--seed", &long],
        &["committee", "keygen", "--count", "2", "--seed", "xyz"],
        &["simulate", "--seed", "123456789abcdef01"],
    ] {
        let err = runtime_error(args);
        assert!(err.contains("--seed"), "{err}");
    }
    // The digit count in the simulator's error does not count the prefix (it said 19 for 0X…).
    for seed in ["0x123456789abcdef01", "0X123456789abcdef01"] {
        let err = runtime_error(&["simulate", "--seed", seed]);
        assert!(err.contains("got 17"), "{seed}: {err}");
    }
}

#[test]
fn dkg_without_a_seed_draws_fresh_randomness_and_prints_the_seed() {
    let run = |extra: &[&str]| -> Value {
        let mut args = vec!["dkg", "run", "--n", "4", "--t", "1", "--json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&args)).unwrap()
    };
    let a = run(&[]);
    let b = run(&[]);
    assert_ne!(a["group_public_key"], b["group_public_key"], "fresh keys");
    let seed = a["seed"].as_str().unwrap().to_string();
    assert_eq!(seed.len(), 64);
    assert_ne!(a["seed"], b["seed"]);
    // The printed seed reproduces the run.
    let again = run(&["--seed", &seed]);
    assert_eq!(again["group_public_key"], a["group_public_key"]);
    assert_eq!(again["players"], a["players"]);
    // The human form prints it too.
    let human = ok(&["dkg", "run", "--n", "4", "--t", "1"]);
    assert!(human.contains("pass --seed "), "{human}");
}

/// Spawn with stdout piped, read one byte, close the pipe: the rest of the output (far more
/// than the pipe holds) meets a closed stdout.
fn closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conclave"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn conclave");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).expect("first byte");
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().code(), err)
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    for args in [
        // About 0.8 MB of JSON.
        &[
            "threshold",
            "deal",
            "--n",
            "3000",
            "--t",
            "1",
            "--seed",
            "01",
        ][..],
        &["committee", "keygen", "--count", "4000", "--seed", "01"],
        &[
            "simulate",
            "--nodes",
            "4",
            "--heights",
            "400",
            "--crypto",
            "mock",
            "--json",
        ],
    ] {
        let (code, err) = closed_stdout(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn sizes_are_bounded_with_the_limit_in_the_error() {
    for (args, limit) in [
        (&["simulate", "--nodes", "257"][..], "256"),
        (
            &["simulate", "--heights", "100001", "--nodes", "4"],
            "100000",
        ),
        (
            &["simulate", "--nodes", "200", "--heights", "5001"],
            "1000000",
        ),
        (&["dkg", "run", "--n", "257", "--t", "10"], "256"),
        (&["threshold", "deal", "--n", "65537", "--t", "1"], "65536"),
        (
            &["committee", "keygen", "--count", "1000001", "--seed", "01"],
            "1000000",
        ),
    ] {
        let err = runtime_error(args);
        assert!(err.contains(limit), "{args:?}: {err}");
    }
    let dir = temp_dir("bounds");
    let report = dir.join("report.json");
    std::fs::write(
        &report,
        ok(&[
            "dkg", "run", "--n", "4", "--t", "1", "--seed", "01", "--json",
        ]),
    )
    .unwrap();
    let err = runtime_error(&[
        "dkg",
        "reshare",
        "--from",
        report.to_str().unwrap(),
        "--new-n",
        "300",
        "--new-t",
        "10",
    ]);
    assert!(err.contains("256"), "{err}");
    let testnet = dir.join("testnet");
    let err = runtime_error(&[
        "testnet",
        "init",
        "--nodes",
        "257",
        "--dir",
        testnet.to_str().unwrap(),
    ]);
    assert!(err.contains("256"), "{err}");
}

/// No `Debug` output (`[2, 5]`, `(2, BadShare)`, `Some(…)`, `Threshold`) in a human line.
fn assert_no_debug(what: &str, out: &str) {
    for pattern in [
        "[(",
        "BadShare",
        "FalseComplaint",
        "Some(",
        "\"",
        "Threshold mode",
    ] {
        assert!(!out.contains(pattern), "{what}: {pattern:?} in\n{out}");
    }
    for line in out.lines() {
        assert!(
            !(line.contains('[') && line.contains(']')) || line.contains("[bar"),
            "{what}: a Debug list in {line:?}"
        );
    }
}

#[test]
fn human_output_has_no_debug_formatting_and_summarises_repeats() {
    let dkg = ok(&[
        "dkg",
        "run",
        "--n",
        "7",
        "--t",
        "2",
        "--seed",
        "01",
        "--byzantine",
        "2:bad-share,5:false-complaint",
    ]);
    assert_no_debug("dkg run", &dkg);
    assert!(
        dkg.contains("byzantine: 2 bad-share, 5 false-complaint"),
        "{dkg}"
    );
    assert!(
        dkg.contains("qualified dealers (6): 1, 3, 4, 5, 6, 7"),
        "{dkg}"
    );
    let demo = ok(&["demo", "--seed", "07"]);
    assert_no_debug("demo", &demo);
    assert!(demo.contains("culprits: "), "{demo}");
    let sim = ok(&[
        "simulate",
        "--nodes",
        "4",
        "--heights",
        "2",
        "--crypto",
        "mock",
    ]);
    assert_no_debug("simulate", &sim);
    assert!(sim.contains("threshold mode"), "{sim}");
    // 3 silent seats of 7: the 4 honest ones decide nothing; the table counts the liveness
    // violations and lists the first three, not all of them on one line.
    let o = conclave(&[
        "simulate",
        "--nodes",
        "7",
        "--faulty",
        "3",
        "--adversary",
        "silent",
        "--heights",
        "3",
        "--crypto",
        "mock",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let table = text(&o.stdout);
    let row = table
        .lines()
        .find(|l| l.starts_with("violations"))
        .unwrap_or_else(|| panic!("no violations row in\n{table}"));
    assert!(row.contains("(liveness x"), "{row}");
    let listed = table.lines().filter(|l| l.contains("liveness: ")).count();
    assert_eq!(listed, 3, "{table}");
    assert!(table.contains("more (all of them in --json)"), "{table}");
}

#[test]
fn most_dealers_disqualified_is_a_warning_on_stderr() {
    // t + 1 = 3 of 7 dealers are enough; 4 deal bad shares: a key, exit 0, and a warning.
    let o = conclave(&[
        "dkg",
        "run",
        "--n",
        "7",
        "--t",
        "2",
        "--seed",
        "01",
        "--byzantine",
        "1:bad-share,2:bad-share,3:silent,4:bad-commitment",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["qualified"], serde_json::json!([5, 6, 7]));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("conclave: warning: 4 of 7 dealers were disqualified"),
        "{err}"
    );
    // A minority disqualified: no warning.
    let o = conclave(&[
        "dkg",
        "run",
        "--n",
        "7",
        "--t",
        "2",
        "--seed",
        "01",
        "--byzantine",
        "1:bad-share",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
}

#[test]
fn committee_sortition_prints_a_table_or_json_and_verify_agrees() {
    let dir = temp_dir("committee");
    let keys = dir.join("keys.json");
    std::fs::write(
        &keys,
        ok(&["committee", "keygen", "--count", "8", "--seed", "01"]),
    )
    .unwrap();
    let keys_file: Value = serde_json::from_str(&std::fs::read_to_string(&keys).unwrap()).unwrap();
    let sortition = |extra: &[&str]| {
        let mut args = vec![
            "committee",
            "sortition",
            "--keys",
            keys.to_str().unwrap(),
            "--stakes",
            "1,1,1,1,1,1,1,1",
            "--tau",
            "4",
            "--seed",
            ROUND_SEED,
            "--round",
            "1",
        ];
        args.extend_from_slice(extra);
        ok(&args)
    };
    let json: Value = serde_json::from_str(&sortition(&["--json"])).unwrap();
    let selected = json["selected"].as_array().unwrap();
    assert!(!selected.is_empty(), "{json}");
    let table = sortition(&[]);
    assert!(
        serde_json::from_str::<Value>(&table).is_err(),
        "a table, not JSON"
    );
    assert!(
        table.starts_with(&format!("{} of 8 keys selected (voter", selected.len())),
        "{table}"
    );
    for s in selected {
        let id = s["id"].as_u64().unwrap();
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().next() == Some(&id.to_string())),
            "{table}"
        );
        let public = keys_file["keys"][id as usize]["public"].as_str().unwrap();
        let weight = ok(&[
            "committee",
            "verify",
            "--public",
            public,
            "--stake",
            "1",
            "--total-stake",
            "8",
            "--tau",
            "4",
            "--seed",
            ROUND_SEED,
            "--round",
            "1",
            "--proof",
            s["proof"].as_str().unwrap(),
        ]);
        assert_eq!(weight.trim(), s["weight"].to_string());
    }
}

#[test]
fn help_texts_describe_every_option() {
    let help = ok(&["demo", "--help"]);
    for needle in [
        "corrupted",
        "culprit",
        "Number of shares",
        "BLS variant",
        "--seed",
        "Exit 0",
    ] {
        assert!(help.contains(needle), "{needle:?} missing in\n{help}");
    }
    for args in [
        &["bls", "sign", "--help"][..],
        &["threshold", "combine", "--help"],
        &["dkg", "run", "--help"],
        &["committee", "sortition", "--help"],
        &["simulate", "--help"],
    ] {
        let help = ok(args);
        // Every option has a line of help: no "[default: …]" glued onto a possible value.
        assert!(!help.contains("G1[default"), "{args:?}\n{help}");
        assert!(!help.contains("G2[default"), "{args:?}\n{help}");
    }
}

/// Run `command` (a shell line) under util-linux `script`, which gives it a terminal; its
/// terminal output, or `None` when `script` is not installed.
fn on_a_terminal(command: &str) -> Option<String> {
    let o = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    assert!(o.status.success(), "{command}: {}", text(&o.stderr));
    Some(text(&o.stdout))
}

#[test]
fn progress_is_drawn_on_a_terminal_only_and_never_in_stdout() {
    // stderr a pipe: nothing but the result.
    let o = conclave(&["simulate", "--nodes", "7", "--heights", "2", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    let o = conclave(&[
        "dkg", "run", "--n", "7", "--t", "2", "--seed", "01", "--json",
    ]);
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    // stderr a terminal: the DKG phase, then the heights; stdout (a file) stays pure JSON.
    let dir = temp_dir("progress");
    let json = dir.join("out.json");
    let bin = env!("CARGO_BIN_EXE_conclave");
    let Some(screen) = on_a_terminal(&format!(
        "{bin} simulate --nodes 7 --heights 2 --json > {}",
        json.display()
    )) else {
        eprintln!("SKIP: util-linux `script` is not installed (no terminal to draw on)");
        return;
    };
    assert!(screen.contains("DKG ["), "{screen:?}");
    assert!(screen.contains("heights ["), "{screen:?}");
    let out = std::fs::read_to_string(&json).unwrap();
    assert!(serde_json::from_str::<Value>(&out).is_ok(), "{out}");
    let screen = on_a_terminal(&format!(
        "{bin} dkg run --n 7 --t 2 --seed 01 --json > {}",
        json.display()
    ))
    .unwrap();
    assert!(screen.contains("DKG ["), "{screen:?}");
    let out = std::fs::read_to_string(&json).unwrap();
    assert!(serde_json::from_str::<Value>(&out).is_ok(), "{out}");
}
