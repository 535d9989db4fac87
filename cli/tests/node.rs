//! Real `conclave node` processes on 127.0.0.1, driven over their HTTP API: the DKG over the
//! network, commits, SIGKILL + restart, certificates checked with `conclave bls verify`, bad
//! API input. Every loop is bounded in count and time; only processes started here are killed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_conclave");

/// A port range per test (and per process, so parallel runs of the suite do not collide).
fn base_port(slot: u16) -> u16 {
    // Below the ephemeral range (32768+), so no outgoing connection holds one of them.
    20_000 + (std::process::id() % 120) as u16 * 100 + slot * 15
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("conclave-node-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

struct Cluster {
    dir: PathBuf,
    apis: Vec<String>,
    children: BTreeMap<u32, Child>,
}

impl Cluster {
    fn init(name: &str, n: u32, slot: u16) -> Self {
        Self::init_with(name, n, slot, &[])
    }

    /// `testnet init` with extra arguments.
    fn init_with(name: &str, n: u32, slot: u16, extra: &[&str]) -> Self {
        let dir = tempdir(name);
        let out = Command::new(EXE)
            .args(["testnet", "init", "--nodes", &n.to_string(), "--dir"])
            .arg(&dir)
            .args(["--base-port", &base_port(slot).to_string()])
            .args(extra)
            .output()
            .expect("run testnet init");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let genesis: Value =
            serde_json::from_slice(&std::fs::read(dir.join("genesis.json")).unwrap()).unwrap();
        let apis = genesis["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["api"].as_str().unwrap().to_string())
            .collect();
        Cluster {
            dir,
            apis,
            children: BTreeMap::new(),
        }
    }

    fn spawn(&mut self, i: u32) {
        self.spawn_with(i, &[]);
    }

    /// Start node `i` with extra environment variables (the test-only faults).
    fn spawn_with(&mut self, i: u32, env: &[(&str, &str)]) {
        let home = self.dir.join(format!("node-{i}"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.join("node.log"))
            .unwrap();
        let child = Command::new(EXE)
            .arg("node")
            .arg("--home")
            .arg(&home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .envs(env.iter().copied())
            .spawn()
            .expect("spawn node");
        self.children.insert(i, child);
    }

    fn kill(&mut self, i: u32) {
        let mut c = self.children.remove(&i).expect("running");
        c.kill().unwrap(); // SIGKILL
        c.wait().unwrap();
    }

    /// SIGTERM all; every node must exit 0 within 10 s.
    fn stop(&mut self) {
        for c in self.children.values() {
            Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status()
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (i, c) in std::mem::take(&mut self.children) {
            let mut c = c;
            loop {
                if let Some(s) = c.try_wait().unwrap() {
                    assert!(
                        s.success(),
                        "node {i} exited with {s} on SIGTERM; log tail:\n{}",
                        tail(&self.log(i), 3000)
                    );
                    break;
                }
                if Instant::now() > deadline {
                    c.kill().unwrap();
                    c.wait().unwrap();
                    panic!("node {i} did not stop on SIGTERM");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn api(&self, i: u32) -> &str {
        &self.apis[i as usize - 1]
    }

    fn log(&self, i: u32) -> String {
        std::fs::read_to_string(self.dir.join(format!("node-{i}/node.log"))).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.children.values_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The last `max` bytes of `s` (on a char boundary).
fn tail(s: &str, max: usize) -> &str {
    let mut i = s.len().saturating_sub(max);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(5))
        .build()
}

/// GET → (status, JSON body or Null).
fn get(addr: &str, path: &str) -> (u16, Value) {
    match agent().get(&format!("http://{addr}{path}")).call() {
        Ok(r) => (
            200,
            serde_json::from_reader(r.into_reader()).unwrap_or(Value::Null),
        ),
        Err(ureq::Error::Status(code, r)) => (
            code,
            serde_json::from_reader(r.into_reader()).unwrap_or(Value::Null),
        ),
        Err(_) => (0, Value::Null),
    }
}

/// POST /v1/tx with a raw body → (status, JSON body).
fn post(addr: &str, body: &[u8]) -> (u16, Value) {
    post_to(addr, "/v1/tx", body)
}

/// POST to `path` with a raw body → (status, JSON body).
fn post_to(addr: &str, path: &str, body: &[u8]) -> (u16, Value) {
    match agent()
        .post(&format!("http://{addr}{path}"))
        .set("content-type", "application/json")
        .send_bytes(body)
    {
        Ok(r) => (
            200,
            serde_json::from_reader(r.into_reader()).unwrap_or(Value::Null),
        ),
        Err(ureq::Error::Status(code, r)) => (
            code,
            serde_json::from_reader(r.into_reader()).unwrap_or(Value::Null),
        ),
        Err(e) => panic!("POST failed: {e}"),
    }
}

/// POST to `path` declaring a `Content-Length` of `len` but sending only the headers; the
/// status line's code and the whole response text (the server must answer without the body).
fn post_declared(addr: &str, path: &str, len: usize) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the API");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {len}\r\nconnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).expect("send the headers");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

fn submit(addr: &str, tx: &str) -> String {
    let body = serde_json::json!({ "tx": hex::encode(tx) }).to_string();
    let (code, v) = post(addr, body.as_bytes());
    assert_eq!(code, 200, "{v}");
    v["hash"].as_str().unwrap().to_string()
}

fn height(addr: &str) -> Option<u64> {
    let (code, v) = get(addr, "/v1/status");
    (code == 200).then(|| v["height"].as_u64()).flatten()
}

/// Wait (bounded) until every node reports the same group public key.
fn wait_for_dkg(c: &Cluster, n: u32, limit: Duration) -> String {
    wait_for_dkg_on(c, &(1..=n).collect::<Vec<_>>(), limit)
}

/// Wait (bounded) until the given nodes report the same group public key.
fn wait_for_dkg_on(c: &Cluster, nodes: &[u32], limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let keys: Vec<Option<String>> = nodes
            .iter()
            .map(|&i| {
                get(c.api(i), "/v1/status").1["group_public_key"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        if keys.iter().all(Option::is_some) {
            assert!(
                keys.iter().all(|k| *k == keys[0]),
                "group keys differ: {keys:?}"
            );
            return keys[0].clone().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "DKG not done within {limit:?}; node 1 log:\n{}",
            c.log(1)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn bls_verify(variant: &str, dst: &str, pk: &str, msg: &str, sig: &str) -> bool {
    Command::new(EXE)
        .args([
            "bls",
            "verify",
            "--variant",
            variant,
            "--dst",
            dst,
            "--pk",
            pk,
            "--msg",
            msg,
            "--sig",
            sig,
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn genesis(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("genesis.json")).unwrap()).unwrap()
}

/// 4 processes: DKG over the network, ≥ 100 txs committed while node 4 is SIGKILLed and
/// restarted, the same chain and KV state on every node, every certificate verified with
/// `conclave bls verify` under the group key; the restarted node kept its blocks.
#[test]
fn four_nodes_dkg_commit_sigkill_restart_and_verify() {
    let n = 4;
    let mut c = Cluster::init("four", n, 0);
    for i in 1..=n {
        c.spawn(i);
    }
    let gpk = wait_for_dkg(&c, n, Duration::from_secs(60));
    let g = genesis(&c.dir);
    let (variant, dst) = (
        g["variant"].as_str().unwrap().to_string(),
        g["dst"].as_str().unwrap().to_string(),
    );
    let mut hashes = Vec::new();
    let total = 120;
    for k in 0..total {
        // Node 4 is down for a while in the middle; submit to the others meanwhile.
        let target = if (40..80).contains(&k) {
            1 + k % 3
        } else {
            1 + k % n
        };
        hashes.push(submit(c.api(target), &format!("k{k}=v{k}")));
        if k == 40 {
            wait_until(Duration::from_secs(30), "node 4 has blocks", || {
                height(c.api(4)).is_some_and(|h| h >= 3)
            });
            let before = height(c.api(4)).unwrap();
            c.kill(4);
            std::thread::sleep(Duration::from_millis(800));
            c.spawn(4);
            wait_until(Duration::from_secs(20), "node 4 API back", || {
                height(c.api(4)).is_some()
            });
            let after = height(c.api(4)).unwrap();
            assert!(after >= before, "node 4 lost blocks: {after} < {before}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Every tx committed on every node (node 4 catches up).
    wait_until(
        Duration::from_secs(60),
        "all txs committed everywhere",
        || {
            hashes
                .iter()
                .all(|h| (1..=n).all(|i| get(c.api(i), &format!("/v1/tx/{h}")).0 == 200))
        },
    );
    let top = (1..=n).map(|i| height(c.api(i)).unwrap()).min().unwrap();
    assert!(top >= 3);
    let mut parent = "0".repeat(64);
    let mut txs = 0;
    for h in 1..=top {
        let blocks: Vec<Value> = (1..=n)
            .map(|i| {
                let (code, b) = get(c.api(i), &format!("/v1/block/{h}"));
                assert_eq!(code, 200, "node {i} block {h}");
                b
            })
            .collect();
        assert!(blocks.iter().all(|b| *b == blocks[0]), "block {h} differs");
        let b = &blocks[0];
        assert_eq!(b["parent"].as_str().unwrap(), parent, "parent link of {h}");
        let (msg, sig, hash) = (
            b["certificate"]["message"].as_str().unwrap(),
            b["certificate"]["signature"].as_str().unwrap(),
            b["hash"].as_str().unwrap(),
        );
        assert!(msg.ends_with(hash), "certificate of {h} signs its hash");
        assert!(
            bls_verify(&variant, &dst, &gpk, msg, sig),
            "certificate {h}"
        );
        // A tampered message must not verify (the check can fail).
        if h == 1 {
            let mut bad = hex::decode(msg).unwrap();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(!bls_verify(&variant, &dst, &gpk, &hex::encode(bad), sig));
        }
        txs += b["txs"].as_array().unwrap().len();
        parent = hash.to_string();
    }
    assert!(txs >= total as usize, "{txs} txs in blocks");
    for k in [0, 57, total - 1] {
        let kv: Vec<Value> = (1..=n)
            .map(|i| get(c.api(i), &format!("/v1/kv/k{k}")).1)
            .collect();
        assert!(kv.iter().all(|v| *v == kv[0]));
        assert_eq!(kv[0]["value"], format!("v{k}"));
    }
    let log4 = c.log(4);
    assert!(
        log4.contains("engine restored"),
        "node 4 resumed its engine state"
    );
    let metrics = agent()
        .get(&format!("http://{}/metrics", c.api(1)))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    for name in [
        "conclave_height",
        "conclave_commit_latency_seconds",
        "conclave_periods_per_height",
        "conclave_messages_total",
        "conclave_mempool_txs",
        "conclave_dkg_phase 5",
    ] {
        assert!(metrics.contains(name), "metric {name} missing");
    }
    c.stop();
}

/// Malformed and oversized requests get 400/413/404 with a JSON error and change nothing.
#[test]
fn bad_api_input_is_rejected_and_changes_nothing() {
    let mut c = Cluster::init("bad", 1, 1);
    c.spawn(1);
    wait_for_dkg(&c, 1, Duration::from_secs(30));
    let a = c.api(1).to_string();
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"not json".to_vec(), 400),
        (b"{\"tx\": 5}".to_vec(), 400),
        (b"{}".to_vec(), 400),
        (b"{\"tx\": \"zz\"}".to_vec(), 400),
        (
            serde_json::json!({"tx": hex::encode("novalue")})
                .to_string()
                .into_bytes(),
            400,
        ),
        (
            serde_json::json!({"tx": hex::encode("=v")})
                .to_string()
                .into_bytes(),
            400,
        ),
        (
            serde_json::json!({"tx": hex::encode(format!("{}=v", "k".repeat(65)))})
                .to_string()
                .into_bytes(),
            400,
        ),
        (
            serde_json::json!({"tx": hex::encode(format!("bad={}", "v".repeat(1025)))})
                .to_string()
                .into_bytes(),
            400,
        ),
        (
            serde_json::json!({"tx": hex::encode(format!("bad={}", "v".repeat(1500)))})
                .to_string()
                .into_bytes(),
            413,
        ),
        (vec![b' '; 16 << 10], 413),
    ];
    for (body, want) in &cases {
        let (code, v) = post(&a, body);
        assert_eq!(
            code,
            *want,
            "body {:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
        assert!(v["error"].is_string(), "JSON error for {code}: {v}");
    }
    // POST /v1/txs: one bad tx refuses the whole batch; too many or too large ones too.
    let batch = |txs: Vec<String>| serde_json::json!({ "txs": txs }).to_string().into_bytes();
    let good = hex::encode("batch-good=1");
    let batches: Vec<(Vec<u8>, u16)> = vec![
        (b"[]".to_vec(), 400),
        (batch(Vec::new()), 400),
        (batch(vec![good.clone(), hex::encode("novalue")]), 400),
        (batch(vec![good.clone(), "zz".into()]), 400),
        (batch(vec![good.clone(); 1025]), 400),
        (
            batch(vec![hex::encode(format!("big={}", "v".repeat(1500)))]),
            413,
        ),
        // Over the limit but under what the node drains: read, then refused.
        (vec![b' '; 3 << 20], 413),
    ];
    for (body, want) in &batches {
        let (code, v) = post_to(&a, "/v1/txs", body);
        assert_eq!(
            code,
            *want,
            "batch {:?}",
            String::from_utf8_lossy(&body[..body.len().min(60)])
        );
        assert!(v["error"].is_string(), "JSON error for {code}: {v}");
    }
    // A declared length over every limit the node drains is refused from the headers alone.
    for (path, len) in [("/v1/tx", 5 << 20), ("/v1/txs", 5 << 20)] {
        let (code, text) = post_declared(&a, path, len);
        assert_eq!(code, 413, "{path} declaring {len} bytes: {text}");
        assert!(text.contains("\"error\""), "{text}");
    }
    let (code, v) = post_to(
        &a,
        "/v1/txs",
        &batch(vec![hex::encode("batch-a=1"), hex::encode("batch-b=2")]),
    );
    assert_eq!(code, 200, "{v}");
    let want: Vec<String> = ["batch-a=1", "batch-b=2"]
        .iter()
        .map(|t| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(t.as_bytes())))
        .collect();
    assert_eq!(v["hashes"], serde_json::json!(want));
    for h in &want {
        wait_until(Duration::from_secs(20), "batched tx committed", || {
            get(&a, &format!("/v1/tx/{h}")).0 == 200
        });
    }
    assert_eq!(get(&a, "/v1/kv/batch-b").1["value"], "2");
    assert_eq!(get(&a, "/v1/tx/zz").0, 400);
    assert_eq!(get(&a, &format!("/v1/tx/{}", "00".repeat(32))).0, 404);
    assert_eq!(get(&a, "/v1/block/999999999").0, 404);
    assert_eq!(get(&a, "/v1/block/x").0, 400);
    assert_eq!(get(&a, "/v1/kv/bad").0, 404);
    assert_eq!(get(&a, "/v1/nothing").0, 404);
    // A good tx commits; the refused ones never do.
    let h = submit(&a, "good=1");
    wait_until(Duration::from_secs(20), "good tx committed", || {
        get(&a, &format!("/v1/tx/{h}")).0 == 200
    });
    let (code, kv) = get(&a, "/v1/kv/good");
    assert_eq!(code, 200);
    assert_eq!(kv["value"], "1");
    assert_eq!(get(&a, "/v1/kv/bad").0, 404);
    assert_eq!(
        get(&a, "/v1/kv/batch-good").0,
        404,
        "a refused batch changed nothing"
    );
    let allowed = ["good=1", "batch-a=1", "batch-b=2"].map(hex::encode);
    let top = height(&a).unwrap();
    for hgt in 1..=top {
        let (_, b) = get(&a, &format!("/v1/block/{hgt}"));
        for tx in b["txs"].as_array().unwrap() {
            assert!(allowed.contains(&tx.as_str().unwrap().to_string()), "{tx}");
        }
    }
    c.stop();
}

/// `testnet init`: genesis per the contract, secrets of mode 0600, exit 1 on a non-empty DIR.
#[test]
fn testnet_init_writes_genesis_and_private_keys() {
    let dir = tempdir("init");
    let run = |extra: &[&str]| {
        Command::new(EXE)
            .args(["testnet", "init", "--nodes", "4", "--dir"])
            .arg(&dir)
            .args(["--base-port", "29000"])
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(run(&[]).status.success());
    let g = genesis(&dir);
    assert_eq!(g["variant"], "min-pk");
    assert_eq!(g["dst"], "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_");
    assert!(g["chain_id"].is_string());
    let nodes = g["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n["index"], i as u64 + 1);
        assert_eq!(n["api"], format!("127.0.0.1:{}", 29000 + 2 * i));
        let home = dir.join(format!("node-{}", i + 1));
        assert!(home.join("config.toml").exists());
        #[cfg(unix)]
        for f in ["p2p.key", "identity.key", "vrf.key"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }
    let again = run(&[]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&again.stderr).lines().count(), 1);
    assert!(run(&["--force"]).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The end-to-end demo exits 0 with a summary (small run).
#[test]
fn testnet_demo_runs_end_to_end() {
    let dir = tempdir("demo");
    let out = Command::new(EXE)
        .args([
            "testnet", "--nodes", "4", "--blocks", "12", "--txs", "40", "--json",
        ])
        .args(["--base-port", &base_port(2).to_string(), "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["blocks"].as_u64().unwrap() >= 12);
    assert_eq!(v["certificates_verified"], v["blocks"]);
    assert_eq!(v["killed_and_restarted"], true);
    assert!(v["txs"].as_u64().unwrap() >= 40);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Faster engine timeouts for the fault tests (loopback).
fn fast_tuning(c: &Cluster, n: u32) {
    for i in 1..=n {
        let p = c.dir.join(format!("node-{i}/config.toml"));
        let s = std::fs::read_to_string(&p)
            .unwrap()
            .replace("filter_ms = 100", "filter_ms = 50")
            .replace("next_ms = 1000", "next_ms = 300")
            .replace("resend_ms = 1000", "resend_ms = 300");
        std::fs::write(p, s).unwrap();
    }
}

fn metric(addr: &str, line_prefix: &str) -> u64 {
    let text = agent()
        .get(&format!("http://{addr}/metrics"))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// SIGKILL a node after its dealing reached a peer, restart it: it must re-send the very same
/// dealing (its DKG state is durable before the first send). Had it dealt anew, its peer would
/// hold two signed dealings of it, relay both into the DKG log and every node would disqualify
/// it for equivocation; instead every node ends with QUAL = all four and the same key.
#[test]
fn sigkill_during_dkg_resumes_without_equivocating() {
    let n = 4;
    let mut c = Cluster::init("dkgcrash", n, 4);
    // Nodes 2 and 3 stay down so the DKG log (quorum 3) cannot decide a block before node 4
    // is killed.
    for i in [1, 4] {
        c.spawn(i);
    }
    let got_dealing = "conclave_messages_total{peer=\"4\",direction=\"received\",protocol=\"dkg\"}";
    wait_until(
        Duration::from_secs(30),
        "node 1 got node 4's first DKG messages",
        || metric(c.api(1), got_dealing) >= 2,
    );
    c.kill(4);
    std::thread::sleep(Duration::from_millis(300));
    c.spawn(4);
    c.spawn(2);
    c.spawn(3);
    wait_for_dkg(&c, n, Duration::from_secs(60));
    for i in 1..=n {
        let log = c.log(i);
        assert!(
            log.contains("qualified=[1, 2, 3, 4]"),
            "node {i} did not qualify every dealer:\n{log}"
        );
    }
    assert_eq!(c.log(4).matches("DKG started").count(), 2);
    let h = submit(c.api(4), "after=crash");
    wait_until(Duration::from_secs(30), "tx committed everywhere", || {
        (1..=n).all(|i| get(c.api(i), &format!("/v1/tx/{h}")).0 == 200)
    });
    c.stop();
}

/// A TCP proxy the test controls: `cut` closes its connections and refuses new ones.
struct Proxy {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    fn start(upstream: u16) -> Proxy {
        use std::sync::atomic::Ordering;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let p = Proxy {
            port: l.local_addr().unwrap().port(),
            cut: Default::default(),
            stop: Default::default(),
            conns: Default::default(),
        };
        let (cut, stop, conns) = (p.cut.clone(), p.stop.clone(), p.conns.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok((s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                if cut.load(Ordering::Relaxed) {
                    continue; // dropped: the dial fails
                }
                let Ok(u) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let _ = s.set_nonblocking(false);
                let mut list = conns.lock().unwrap();
                list.push(s.try_clone().unwrap());
                list.push(u.try_clone().unwrap());
                for (mut from, mut to) in [
                    (s.try_clone().unwrap(), u.try_clone().unwrap()),
                    (u.try_clone().unwrap(), s.try_clone().unwrap()),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        p
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, std::sync::atomic::Ordering::Relaxed);
        if cut {
            for c in self.conns.lock().unwrap().drain(..) {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.set_cut(true);
    }
}

fn heights(c: &Cluster, n: u32) -> Vec<u64> {
    (1..=n).map(|i| height(c.api(i)).unwrap_or(0)).collect()
}

/// Every pair of nodes talks through a TCP proxy the test controls. Isolating one node: the
/// other three keep committing, it stalls, and after healing it catches up. A 2|2 split: no
/// side has a quorum, so nobody commits; after healing progress resumes within a bound. No
/// fork: every node has the same blocks.
#[test]
fn partitions_stall_without_forking_and_heal() {
    let n = 4;
    let mut c = Cluster::init("partition", n, 5);
    fast_tuning(&c, n);
    let g = genesis(&c.dir);
    let p2p_port = |j: u32| -> u16 {
        g["nodes"][j as usize - 1]["p2p"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut proxies = BTreeMap::new();
    for i in 1..=n {
        let mut dial = String::from("\n[dial]\n");
        for j in (1..=n).filter(|j| *j != i) {
            let p = Proxy::start(p2p_port(j));
            dial.push_str(&format!("\"{j}\" = \"/ip4/127.0.0.1/tcp/{}\"\n", p.port));
            proxies.insert((i, j), p);
        }
        let cfg = c.dir.join(format!("node-{i}/config.toml"));
        let mut s = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("\n[dial]\n", "\n");
        s.push_str(&dial);
        std::fs::write(cfg, s).unwrap();
    }
    let cut = |pairs: &dyn Fn(u32, u32) -> bool, on: bool| {
        for ((i, j), p) in &proxies {
            if pairs(*i, *j) {
                p.set_cut(on);
            }
        }
    };
    for i in 1..=n {
        c.spawn(i);
    }
    wait_for_dkg(&c, n, Duration::from_secs(60));
    wait_until(Duration::from_secs(30), "3 blocks everywhere", || {
        heights(&c, n).iter().all(|h| *h >= 3)
    });

    // Isolate node 4.
    let isolated = |i: u32, j: u32| i == 4 || j == 4;
    cut(&isolated, true);
    let h4 = height(c.api(4)).unwrap();
    let h1 = height(c.api(1)).unwrap();
    wait_until(
        Duration::from_secs(30),
        "the majority side keeps committing",
        || height(c.api(1)).is_some_and(|h| h >= h1 + 5),
    );
    assert!(
        height(c.api(4)).unwrap() <= h4 + 1,
        "isolated node 4 committed alone"
    );
    cut(&isolated, false);
    let target = height(c.api(1)).unwrap();
    let healed = Instant::now();
    wait_until(
        Duration::from_secs(40),
        "node 4 catches up after healing",
        || height(c.api(4)).is_some_and(|h| h >= target),
    );
    eprintln!(
        "isolated node caught up {} ms after healing",
        healed.elapsed().as_millis()
    );

    // Split 2|2: no side has a quorum of 3.
    let split = |i: u32, j: u32| (i <= 2) != (j <= 2);
    cut(&split, true);
    std::thread::sleep(Duration::from_millis(800)); // decisions in flight settle
    let during = heights(&c, n);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(heights(&c, n), during, "a side without quorum committed");
    cut(&split, false);
    let top = *during.iter().max().unwrap();
    let healed = Instant::now();
    wait_until(
        Duration::from_secs(60),
        "progress resumes after the split heals",
        || heights(&c, n).iter().all(|h| *h >= top + 2),
    );
    eprintln!(
        "2|2 split: progress resumed {} ms after healing",
        healed.elapsed().as_millis()
    );

    // No fork.
    let common = *heights(&c, n).iter().min().unwrap();
    for h in 1..=common {
        let blocks: Vec<Value> = (1..=n)
            .map(|i| get(c.api(i), &format!("/v1/block/{h}")).1)
            .collect();
        assert!(
            blocks.iter().all(|b| b["hash"] == blocks[0]["hash"]),
            "fork at {h}"
        );
    }
    c.stop();
    drop(proxies);
}

/// Set the genesis DKG's window limit (blocks of its agreement log a round waits for a
/// missing node); a chain parameter, so it is in the shared genesis.json.
fn set_dkg_window(c: &Cluster, blocks: u64) {
    let p = c.dir.join("genesis.json");
    let mut g: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(g["dkg_window_blocks"], 600, "the default window");
    g["dkg_window_blocks"] = blocks.into();
    std::fs::write(p, serde_json::to_string_pretty(&g).unwrap()).unwrap();
}

/// Commit one tx submitted to `nodes[0]` on every node of `nodes` (bounded).
fn commit_on(c: &Cluster, nodes: &[u32], tx: &str) {
    let h = submit(c.api(nodes[0]), tx);
    wait_until(Duration::from_secs(30), "tx committed on the nodes", || {
        nodes
            .iter()
            .all(|&i| get(c.api(i), &format!("/v1/tx/{h}")).0 == 200)
    });
}

/// A Byzantine member (node 4, a test-only fault) runs the DKG but announces a wrong
/// transcript hash from the start. The honest nodes count it as a culprit and go on: a quorum
/// (3) of them agrees, they commit. (Before the fix one different hash stopped every node.)
#[test]
fn byzantine_transcript_hash_does_not_stop_honest_nodes() {
    let n = 4;
    let mut c = Cluster::init("byzhash", n, 6);
    fast_tuning(&c, n);
    set_dkg_window(&c, 40);
    for i in 1..=3 {
        c.spawn(i);
    }
    c.spawn_with(4, &[("CONCLAVE_TEST_FAULT", "dkg-wrong-transcript")]);
    let honest = [1, 2, 3];
    wait_for_dkg_on(&c, &honest, Duration::from_secs(30));
    commit_on(&c, &honest, "byz=hash");
    for i in honest {
        let log = c.log(i);
        assert!(log.contains("qualified=[1, 2, 3, 4]"), "node {i}:\n{log}");
        assert!(log.contains("different DKG transcript hash (culprit)"));
        assert_eq!(metric(c.api(i), "conclave_dkg_culprits "), 1, "node {i}");
    }
    c.kill(4); // the Byzantine node's exit status is not checked
    c.stop();
}

/// A member (node 4, a test-only fault) that stays silent in the DKG costs the others one
/// window at its limit (the deal round's 40 blocks of the DKG log), not one per round: the
/// later windows close as soon as every node that posted in the previous one has posted. The
/// three honest nodes finish with QUAL = {1, 2, 3} and commit.
#[test]
fn silent_dkg_member_costs_one_deadline() {
    let n = 4;
    let mut c = Cluster::init("byzsilent", n, 7);
    fast_tuning(&c, n);
    set_dkg_window(&c, 40);
    let start = Instant::now();
    for i in 1..=3 {
        c.spawn(i);
    }
    c.spawn_with(4, &[("CONCLAVE_TEST_FAULT", "dkg-silent")]);
    let honest = [1, 2, 3];
    wait_for_dkg_on(&c, &honest, Duration::from_secs(30));
    eprintln!(
        "DKG with a silent member: {} ms (window limit 40 blocks)",
        start.elapsed().as_millis()
    );
    for i in honest {
        let log = c.log(i);
        assert!(log.contains("qualified=[1, 2, 3]"), "node {i}:\n{log}");
        assert_eq!(
            log.matches("DKG phase deadline passed").count(),
            1,
            "node {i} waited out more than the deal phase:\n{log}"
        );
    }
    commit_on(&c, &honest, "byz=silent");
    assert!(get(c.api(4), "/v1/status").1["group_public_key"].is_null());
    c.stop();
}

/// A Byzantine dealer (node 4, test fault `dkg-partial-send`) sends its signed dealing to
/// node 1 only and never proposes it. Node 1 relays it and proposes it; it enters the DKG log,
/// so every node takes the same dealings and QUAL = {1, 2, 3, 4} everywhere, with no window
/// waited out to its limit (the default 600 blocks). (Before the relay, nodes 2 and 3 waited
/// out the deadline and left node 4 out while node 1 kept it, and the DKG stalled.)
#[test]
fn dealing_sent_to_one_node_reaches_every_node_by_relay() {
    let n = 4;
    let mut c = Cluster::init("partial", n, 11);
    fast_tuning(&c, n);
    for i in 1..=3 {
        c.spawn(i);
    }
    c.spawn_with(4, &[("CONCLAVE_TEST_FAULT", "dkg-partial-send")]);
    let start = Instant::now();
    wait_for_dkg(&c, n, Duration::from_secs(30));
    eprintln!(
        "DKG with a partial-send dealer: {} ms",
        start.elapsed().as_millis()
    );
    for i in 1..=n {
        let log = c.log(i);
        assert!(log.contains("qualified=[1, 2, 3, 4]"), "node {i}:\n{log}");
        assert!(
            !log.contains("DKG phase deadline passed"),
            "node {i}:\n{log}"
        );
    }
    commit_on(&c, &[1, 2, 3, 4], "byz=partial");
    c.stop();
}

/// A Byzantine dealer (node 4, test fault `dkg-equivocate`) signs two different dealings,
/// sends one to nodes 1 and 2, the other to node 3, and proposes neither. The relays bring both
/// to every node; which of them the DKG log carries inside the deal window depends on timing,
/// but every honest node takes the same ones: node 4 is disqualified for equivocation on all of
/// them (both in the window) or qualified with the same dealing on all of them (the second one
/// came after the window closed). Either way the honest nodes agree on one key and commit.
/// Before the DKG log, two honest nodes could close the deal round on early-matching views
/// before the second dealing reached them while the other two waited out the deadline with
/// it: a 2|2 split and no quorum for either transcript (about 1 run in 8 stalled).
#[test]
fn equivocating_dealer_cannot_split_the_honest_nodes() {
    let n = 4;
    let mut c = Cluster::init("equiv", n, 12);
    fast_tuning(&c, n);
    for i in 1..=3 {
        c.spawn(i);
    }
    c.spawn_with(4, &[("CONCLAVE_TEST_FAULT", "dkg-equivocate")]);
    let honest = [1, 2, 3];
    wait_for_dkg_on(&c, &honest, Duration::from_secs(30));
    let qualified: Vec<String> = honest
        .iter()
        .map(|&i| {
            let log = c.log(i);
            let line = log
                .lines()
                .find(|l| l.contains("DKG finished"))
                .unwrap_or_else(|| panic!("node {i} did not finish:\n{log}"));
            let q = line
                .split("qualified=")
                .nth(1)
                .expect("qualified")
                .to_string();
            match q.find(']') {
                Some(end) => q[..=end].to_string(),
                None => q,
            }
        })
        .collect();
    assert!(
        qualified.iter().all(|q| *q == qualified[0]),
        "honest nodes disagree: {qualified:?}"
    );
    let log = c.log(1);
    let disqualified = log.contains("Disqualified { index: 4, reason: Equivocation }");
    assert!(
        disqualified || qualified[0] == "[1, 2, 3, 4]",
        "node 4 neither disqualified for equivocation nor qualified: {}",
        qualified[0]
    );
    eprintln!(
        "equivocating dealer: QUAL {} (disqualified for equivocation: {disqualified})",
        qualified[0]
    );
    commit_on(&c, &honest, "byz=equivocate");
    c.kill(4);
    c.stop();
}

/// Node 4 starts only after nodes 1-3 finished the DKG without it (QUAL = {1, 2, 3}) and
/// committed a block. It sees f+1 of them announce agreement, fetches the transcript (the
/// qualified dealings, which carry its encrypted shares), checks it against the agreed hash,
/// derives its share and joins consensus; then node 1 is stopped, so nodes 2, 3 and 4 are the
/// only quorum: blocks commit only with node 4's partial signatures valid under the group key.
/// Before, node 4 ran a DKG of its own (QUAL = {1, 2, 3, 4}), was outvoted and never had a
/// share ("DKG not done within 30s").
#[test]
fn late_node_recovers_its_share_from_the_transcript_and_signs() {
    let n = 4;
    let mut c = Cluster::init("late", n, 13);
    fast_tuning(&c, n);
    set_dkg_window(&c, 20);
    for i in 1..=3 {
        c.spawn(i);
    }
    let key = wait_for_dkg_on(&c, &[1, 2, 3], Duration::from_secs(30));
    commit_on(&c, &[1, 2, 3], "late=before");
    c.spawn(4);
    let start = Instant::now();
    assert_eq!(wait_for_dkg_on(&c, &[4], Duration::from_secs(30)), key);
    eprintln!(
        "late node had its share {} ms after it started",
        start.elapsed().as_millis()
    );
    let log = c.log(4);
    assert!(log.contains("DKG transcript adopted"), "{log}");
    assert!(log.contains("qualified=[1, 2, 3]"), "{log}");
    commit_on(&c, &[1, 2, 3, 4], "late=joined");
    c.kill(1);
    commit_on(&c, &[2, 3, 4], "late=quorum-with-node-4");
    c.stop();
}

/// The frames of a `CONCLAVE_TEST_RECORD` file: (sender index, consensus payload).
fn read_record(path: &Path) -> Vec<(u32, Vec<u8>)> {
    let b = std::fs::read(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 8 <= b.len() {
        let from = u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
        let len = u32::from_be_bytes(b[i + 4..i + 8].try_into().unwrap()) as usize;
        assert!(i + 8 + len <= b.len(), "truncated record");
        out.push((from, b[i + 8..i + 8 + len].to_vec()));
        i += 8 + len;
    }
    out
}

/// A proposal's value and seed seal.
type Proposed = (Vec<u8>, Vec<u8>);

/// What one seat signed, by (epoch, height, period, step): the distinct values of its votes,
/// and its proposals. One value per step is allowed, except at the first next step (Algorand's
/// steps 4 and 5 share it), where ⊥ and one value are.
#[derive(Default)]
struct Signed {
    votes: BTreeMap<(u64, u64, u32, u8), Vec<conclave_bft::types::VoteValue>>,
    /// (epoch, height, period) → (value, seal).
    proposals: BTreeMap<(u64, u64, u32), Proposed>,
    conflicts: Vec<String>,
}

impl Signed {
    /// Take one engine message (from anyone: relayed ones count); keep only `seat`'s.
    fn take(&mut self, m: &conclave_bft::types::Message, seat: conclave_bft::types::NodeId) {
        use conclave_bft::types::{Message, VoteStep, VoteValue};
        match m {
            Message::Vote(v) if v.voter == seat => {
                let key = (v.epoch.0, v.height.0, v.period.0, v.step.code());
                let values = self.votes.entry(key).or_default();
                if values.contains(&v.value) {
                    return;
                }
                values.push(v.value);
                let allowed = if v.step == VoteStep::Next {
                    values.iter().filter(|x| **x != VoteValue::Bottom).count() <= 1
                } else {
                    values.len() == 1
                };
                if !allowed {
                    self.conflicts.push(format!("vote {key:?}: {values:?}"));
                }
            }
            Message::Proposal(p) if p.proposer == seat => {
                let key = (p.epoch.0, p.height.0, p.period.0);
                let body = (p.value.clone(), p.seal.clone());
                match self.proposals.get(&key) {
                    Some(old) if *old != body => {
                        self.conflicts.push(format!("proposal {key:?}: two values"))
                    }
                    Some(_) => {}
                    None => {
                        self.proposals.insert(key, body);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Node 4 is SIGKILLed eight times at seeded random moments — once during the DKG, five times
/// right after it sent a consensus message (its sent counter, polled fast), twice at a random
/// instant — and restarted each time, while txs go in. Nodes 1–3 record every consensus
/// frame and every DKG log engine frame they receive (`CONCLAVE_TEST_RECORD`), so the oracle
/// does not trust node 4: in both logs, no two
/// votes of seat 4 for the same (height, period, step) name different values, and no two of
/// its proposals for one (height, period) differ. Node 4 keeps every committed block across
/// restarts, catches up, and the chain is the same everywhere.
#[test]
fn repeated_sigkill_never_makes_a_node_equivocate() {
    use rand::{Rng, SeedableRng};
    let n = 4;
    let seed: u64 = std::env::var("CONCLAVE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    eprintln!("kill schedule seed {seed} (CONCLAVE_TEST_SEED)");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut c = Cluster::init("killvotes", n, 8);
    fast_tuning(&c, n);
    let record = |i: u32| c.dir.join(format!("record-{i}.bin"));
    let records: Vec<PathBuf> = (1..=3).map(record).collect();
    for i in 1..=3 {
        let r = records[i as usize - 1].to_str().unwrap().to_string();
        c.spawn_with(i, &[("CONCLAVE_TEST_RECORD", r.as_str())]);
    }
    c.spawn(4);
    // Kill 1: during the DKG, once node 1 has something from node 4.
    let got = "conclave_messages_total{peer=\"4\",direction=\"received\",protocol=\"dkg\"}";
    wait_until(
        Duration::from_secs(30),
        "node 4's first DKG message",
        || metric(c.api(1), got) >= 1,
    );
    std::thread::sleep(Duration::from_millis(rng.gen_range(0..100)));
    c.kill(4);
    let mut kills = 1;
    std::thread::sleep(Duration::from_millis(rng.gen_range(100..500)));
    c.spawn(4);
    wait_for_dkg(&c, n, Duration::from_secs(60));
    let sent = "conclave_messages_total{peer=\"1\",direction=\"sent\",protocol=\"consensus\"}";
    let mut tx = 0;
    let started = Instant::now();
    for k in 0..7 {
        // Load and a random wait, then the kill.
        let wait = Duration::from_millis(rng.gen_range(300..1500));
        let until = Instant::now() + wait;
        while Instant::now() < until {
            submit(c.api(1 + tx % 3), &format!("crash{tx}=v{tx}"));
            tx += 1;
            std::thread::sleep(Duration::from_millis(40));
        }
        wait_until(Duration::from_secs(30), "node 4 API up", || {
            height(c.api(4)).is_some()
        });
        let before = height(c.api(4)).unwrap();
        let hash_before = get(c.api(4), &format!("/v1/block/{before}")).1["hash"].clone();
        if k % 3 != 2 {
            // Right after a send: poll its counter until it moves.
            let base = metric(c.api(4), sent);
            wait_until(Duration::from_secs(10), "node 4 sends", || {
                metric(c.api(4), sent) > base
            });
        }
        c.kill(4);
        kills += 1;
        std::thread::sleep(Duration::from_millis(rng.gen_range(100..600)));
        c.spawn(4);
        wait_until(Duration::from_secs(20), "node 4 API back", || {
            height(c.api(4)).is_some()
        });
        let after = height(c.api(4)).unwrap();
        assert!(after >= before, "node 4 lost blocks: {after} < {before}");
        if before > 0 {
            assert_eq!(
                get(c.api(4), &format!("/v1/block/{before}")).1["hash"],
                hash_before,
                "node 4's block {before} changed across a restart"
            );
        }
    }
    eprintln!(
        "{kills} kills, {tx} txs in {} ms",
        started.elapsed().as_millis()
    );
    // Catches up and takes part: a tx submitted to node 4 commits everywhere.
    let target = height(c.api(1)).unwrap();
    wait_until(Duration::from_secs(40), "node 4 catches up", || {
        height(c.api(4)).is_some_and(|h| h >= target)
    });
    commit_on(&c, &[4, 1, 2, 3], "after=kills");
    let common = *heights(&c, n).iter().min().unwrap();
    for h in 1..=common {
        let blocks: Vec<Value> = (1..=n)
            .map(|i| get(c.api(i), &format!("/v1/block/{h}")).1)
            .collect();
        assert!(
            blocks.iter().all(|b| b["hash"] == blocks[0]["hash"]),
            "fork at {h}"
        );
    }
    c.stop();
    // The oracle: everything nodes 1–3 received that seat 4 signed, in consensus and in the
    // DKG's own log (killed once during the DKG: its log votes must not conflict either).
    let seat = conclave_bft::types::NodeId(3);
    let mut signed = Signed::default();
    let mut dkg_signed = Signed::default();
    let mut frames = 0;
    for r in &records {
        for (_, payload) in read_record(r) {
            match payload.as_slice() {
                [0, engine @ ..] => {
                    if let Ok(m) = conclave_bft::codec::decode(engine) {
                        frames += 1;
                        signed.take(&m, seat);
                    }
                }
                [0x80, 8, engine @ ..] => {
                    if let Ok(m) = conclave_bft::codec::decode(engine) {
                        dkg_signed.take(&m, seat);
                    }
                }
                _ => {}
            }
        }
    }
    eprintln!(
        "DKG log: seat 4 signed votes at {} (height, period, step)",
        dkg_signed.votes.len()
    );
    assert!(
        !dkg_signed.votes.is_empty(),
        "none of node 4's DKG log votes seen"
    );
    assert!(
        dkg_signed.conflicts.is_empty(),
        "node 4 equivocated in the DKG log: {:?}",
        dkg_signed.conflicts
    );
    eprintln!(
        "{frames} engine frames recorded; seat 4 signed votes at {} (height, period, step) and {} proposals",
        signed.votes.len(),
        signed.proposals.len()
    );
    assert!(signed.votes.len() >= 20, "too few of node 4's votes seen");
    assert!(
        signed.conflicts.is_empty(),
        "node 4 equivocated: {:?}",
        signed.conflicts
    );
    // The oracle can fail: a soft vote of seat 4 for another value where it soft-voted.
    let soft = conclave_bft::types::VoteStep::Soft.code();
    let key = *signed.votes.keys().find(|k| k.3 == soft).unwrap();
    let other = conclave_bft::types::VoteValue::Value(conclave_bft::types::ValueId([9; 32]));
    let fake = conclave_bft::types::Message::Vote(conclave_bft::types::Vote {
        epoch: conclave_bft::types::Epoch(key.0),
        height: conclave_bft::types::Height(key.1),
        period: conclave_bft::types::Period(key.2),
        step: conclave_bft::types::VoteStep::from_code(key.3).unwrap(),
        value: other,
        voter: seat,
        credential: Vec::new(),
        signature: Vec::new(),
        beacon_share: Vec::new(),
    });
    signed.take(&fake, seat);
    assert_eq!(signed.conflicts.len(), 1);
}

/// Node 4 (a test-only fault) floods every peer with junk consensus frames, ~5,000 of 1 KiB
/// per second, far over the per-peer limit the test sets (1,000 messages/s, 1 MiB/s): the
/// honest nodes drop the excess before it is queued (counted per peer in /metrics), never
/// limit each other, and keep committing.
#[test]
fn flooding_peer_is_rate_limited_and_progress_continues() {
    let n = 4;
    let mut c = Cluster::init("flood", n, 9);
    fast_tuning(&c, n);
    for i in 1..=n {
        let p = c.dir.join(format!("node-{i}/config.toml"));
        let s = std::fs::read_to_string(&p).unwrap();
        let (from, to) = (
            "[rate.consensus]\nmessages_per_s = 20000\nbytes_per_s = 67108864\n",
            "[rate.consensus]\nmessages_per_s = 1000\nbytes_per_s = 1048576\n",
        );
        assert!(s.contains(from), "{s}");
        std::fs::write(p, s.replace(from, to)).unwrap();
    }
    for i in 1..=3 {
        c.spawn(i);
    }
    c.spawn_with(4, &[("CONCLAVE_TEST_FAULT", "flood-consensus")]);
    let honest = [1, 2, 3];
    wait_for_dkg_on(&c, &honest, Duration::from_secs(60));
    let limited = |i: u32, from: u32| {
        metric(
            c.api(i),
            &format!(
                "conclave_rate_limited_messages_total{{peer=\"{from}\",direction=\"received\",protocol=\"consensus\"}}"
            ),
        )
    };
    wait_until(Duration::from_secs(20), "the flood is rate limited", || {
        honest.iter().all(|&i| limited(i, 4) > 100)
    });
    let start = heights(&c, 3);
    let t = Instant::now();
    commit_on(&c, &honest, "during=flood");
    wait_until(
        Duration::from_secs(30),
        "5 more blocks during the flood",
        || heights(&c, 3).iter().zip(&start).all(|(h, s)| *h >= s + 5),
    );
    eprintln!(
        "5 blocks in {} ms under the flood; node 1 dropped {} of node 4's frames",
        t.elapsed().as_millis(),
        limited(1, 4)
    );
    for i in honest {
        for j in honest.iter().filter(|j| **j != i) {
            assert_eq!(limited(i, *j), 0, "node {i} rate-limited honest node {j}");
        }
    }
    c.stop();
}

/// Run `conclave client ARGS` → (exit code, stdout, stderr).
fn client(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(EXE).arg("client").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An HTTP server that answers every GET with `body` (a node serving a tampered block).
fn serve_fixed(body: String) -> String {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in l.incoming().take(8) {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

/// `conclave client`: submit (and wait for the commit), status, and verify as a light client —
/// the group key from a quorum of the genesis nodes, every block's hash recomputed, its
/// certificate checked under the key. A wrong key, a tampered block and a bad tx exit 1.
#[test]
fn client_submits_reads_status_and_verifies_blocks() {
    let mut c = Cluster::init("client", 1, 10);
    c.spawn(1);
    let gpk = wait_for_dkg(&c, 1, Duration::from_secs(30));
    let a = c.api(1).to_string();
    let (code, out, err) = client(&[
        "submit",
        "--node",
        &a,
        "--tx",
        "light=client",
        "--wait",
        "20",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["height"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(get(&a, "/v1/kv/light").1["value"], "client");
    let (code, out, _) = client(&["status", "--node", &a]);
    assert_eq!(code, 0);
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["group_public_key"].as_str(), Some(gpk.as_str()));
    let top = height(&a).unwrap().to_string();
    let genesis = c.dir.join("genesis.json");
    let g = genesis.to_str().unwrap();
    let (code, out, err) = client(&["verify", "--genesis", g, "--to", &top, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["group_key_source"], "quorum");
    assert_eq!(v["group_public_key"].as_str(), Some(gpk.as_str()));
    assert_eq!(v["blocks"].as_array().unwrap().len().to_string(), top);
    assert!(v["txs"].as_u64().unwrap() >= 1);
    // Another (valid) key: every certificate fails.
    let other = Command::new(EXE)
        .args(["bls", "keygen", "--ikm", &"11".repeat(32)])
        .output()
        .unwrap();
    let other: Value = serde_json::from_slice(&other.stdout).unwrap();
    let (code, _, err) = client(&[
        "verify",
        "--genesis",
        g,
        "--to",
        "1",
        "--group-key",
        other["pk"].as_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("does not verify under the group key"), "{err}");
    // A node that serves block 1 with a changed tx: its hash no longer matches.
    let mut b = get(&a, "/v1/block/1").1;
    b["txs"] = serde_json::json!([hex::encode("light=forged")]);
    let fake = serve_fixed(b.to_string());
    let (code, _, err) = client(&[
        "verify",
        "--genesis",
        g,
        "--node",
        &fake,
        "--from",
        "1",
        "--to",
        "1",
        "--group-key",
        &gpk,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("hash does not match"), "{err}");
    // The same block with its hash field changed too: the certificate no longer signs it.
    let block = conclave_node::app::Block {
        height: 1,
        parent: [0; 32],
        txs: vec![b"light=forged".to_vec()],
        app_hash: hex::decode(b["app_hash"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
    };
    b["hash"] = hex::encode(conclave_node::app::block_hash(&block.encode())).into();
    let fake = serve_fixed(b.to_string());
    let (code, _, err) = client(&[
        "verify",
        "--genesis",
        g,
        "--node",
        &fake,
        "--from",
        "1",
        "--to",
        "1",
        "--group-key",
        &gpk,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("does not sign this height and hash"), "{err}");
    let (code, _, err) = client(&["submit", "--node", &a, "--tx", "no-equals-sign"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    c.stop();
}

/// Proposals of blocks whose txs are longer than their hashes travel in compact form; every
/// node rebuilds them (from its mempool or by fetching from the proposer) and commits the
/// same txs. A tx submitted to node 1 is read back from node 4.
#[test]
fn compact_proposals_commit_large_txs_on_every_node() {
    let n = 4;
    let mut c = Cluster::init("compact", n, 14);
    fast_tuning(&c, n);
    for i in 1..=n {
        c.spawn(i);
    }
    wait_for_dkg(&c, n, Duration::from_secs(60));
    let a = c.api(1).to_string();
    let txs: Vec<String> = (0..40)
        .map(|i| format!("big{i}={}", "x".repeat(400 + i)))
        .collect();
    let body =
        serde_json::json!({ "txs": txs.iter().map(hex::encode).collect::<Vec<_>>() }).to_string();
    let (code, v) = post_to(&a, "/v1/txs", body.as_bytes());
    assert_eq!(code, 200, "{v}");
    let last = c.api(n).to_string();
    wait_until(Duration::from_secs(60), "the large txs committed", || {
        (0..40).all(|i| {
            get(&last, &format!("/v1/kv/big{i}")).1["value"].as_str()
                == Some("x".repeat(400 + i).as_str())
        })
    });
    // The proposals went compact (each node rebuilt the others' from its mempool or by a
    // fetch), and the committed values above came through those rebuilds.
    let sent: u64 = (1..=n)
        .map(|i| metric(c.api(i), "conclave_compact_sent_total"))
        .sum();
    assert!(sent >= 1, "no proposal was sent in compact form");
}

/// The fetch path of compact proposals between real processes: nodes 2–4 hold at most 8
/// pending txs, so the txs node 1 forwards them mostly bounce off their full mempools. When
/// node 1's block wins, they rebuild its compact proposal by fetching the missing txs from
/// it (each checked against its hash), and every tx still commits on every node.
#[test]
fn compact_proposals_fetch_txs_a_full_mempool_refused() {
    let n = 4;
    let mut c = Cluster::init("fetch", n, 3);
    fast_tuning(&c, n);
    for i in 2..=n {
        let p = c.dir.join(format!("node-{i}/config.toml"));
        let s = std::fs::read_to_string(&p).unwrap();
        assert!(s.contains("mempool_txs = 10000"), "{s}");
        std::fs::write(p, s.replace("mempool_txs = 10000", "mempool_txs = 8")).unwrap();
    }
    for i in 1..=n {
        c.spawn(i);
    }
    wait_for_dkg(&c, n, Duration::from_secs(60));
    let a = c.api(1).to_string();
    let count = 60;
    let value = |i: usize| format!("{i:03}{}", "y".repeat(300));
    let txs: Vec<String> = (0..count).map(|i| format!("f{i}={}", value(i))).collect();
    let body =
        serde_json::json!({ "txs": txs.iter().map(hex::encode).collect::<Vec<_>>() }).to_string();
    let (code, v) = post_to(&a, "/v1/txs", body.as_bytes());
    assert_eq!(code, 200, "{v}");
    for i in 2..=n {
        let api = c.api(i).to_string();
        wait_until(Duration::from_secs(60), "every tx committed", || {
            (0..count).all(|k| {
                get(&api, &format!("/v1/kv/f{k}")).1["value"].as_str() == Some(value(k).as_str())
            })
        });
    }
    let fetched: u64 = (2..=n)
        .map(|i| metric(c.api(i), "conclave_compact_fetched_txs_total"))
        .sum();
    let fetches: u64 = (2..=n)
        .map(|i| metric(c.api(i), "conclave_compact_fetches_total"))
        .sum();
    assert!(
        fetches >= 1 && fetched >= 1,
        "no tx was fetched ({fetches} fetches, {fetched} txs)"
    );
    // Every node holds the same chain.
    let h = (1..=n).map(|i| height(c.api(i)).unwrap()).min().unwrap();
    let block = |i: u32| get(c.api(i), &format!("/v1/block/{h}")).1["hash"].clone();
    let first = block(1);
    assert!(first.is_string(), "{first}");
    for i in 2..=n {
        assert_eq!(block(i), first, "node {i} differs at height {h}");
    }
}

/// The epoch state of a node (`GET /v1/epoch`).
fn epoch_view(addr: &str) -> Value {
    let (code, v) = get(addr, "/v1/epoch");
    if code == 200 {
        v
    } else {
        Value::Null
    }
}

/// The committee (validator ids) of `epoch` in a node's epoch history.
fn committee_of(view: &Value, epoch: u64) -> Option<Vec<u64>> {
    view["history"].as_array()?.iter().find_map(|h| {
        (h["epoch"].as_u64() == Some(epoch)).then(|| {
            h["committee"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect()
        })
    })
}

/// Epochs over real processes (#15): 5 nodes, epochs of 40 blocks with resharing windows of 5.
/// Node 5 leaves with a transaction signed by its identity key (a forged leave of node 4
/// signed with node 5's key is refused by the API); node 2 is SIGKILLed in the middle of a
/// resharing and restarted, node 3 twice right at an epoch boundary. Every epoch's resharing must succeed under the one group key, the
/// committee must shrink to 1..=4 at a boundary and stay there, node 5 must stop holding a seat
/// yet follow the chain by sync, and a light client must verify every block of every epoch
/// against the genesis group key with one pairing each.
#[test]
fn epochs_leave_reshare_sigkill_and_hand_over() {
    use conclave_bft::epoch::CommitteeTx;
    let n = 5;
    let mut c = Cluster::init_with(
        "epochs",
        n,
        2,
        &["--epoch-length", "40", "--resharing-window", "5"],
    );
    for i in 1..=n {
        c.spawn(i);
    }
    let gpk = wait_for_dkg(&c, n, Duration::from_secs(60));
    let g = genesis(&c.dir);
    let chain = g["chain_id"].as_str().unwrap().to_string();
    let epoch = epoch_view(c.api(1))["epoch"].as_u64().unwrap();
    // A leave of validator 4 signed with node 5's key: the registry refuses it at the API.
    let key5: conclave_dkg::IdentityKeys =
        serde_json::from_slice(&std::fs::read(c.dir.join("node-5/identity.key")).unwrap()).unwrap();
    let forged = CommitteeTx::leave(
        chain.as_bytes(),
        epoch,
        4,
        &key5.signing,
        &mut rand_core::OsRng,
    );
    let body = serde_json::json!({ "tx": hex::encode(forged.to_bytes()) }).to_string();
    let (code, v) = post(c.api(1), body.as_bytes());
    assert_eq!(code, 400, "forged leave: {v}");
    assert!(v["error"].as_str().unwrap().contains("refused"), "{v}");
    // Node 5 leaves.
    let home5 = c.dir.join("node-5");
    leave(&home5, c.api(1));
    for i in 0..20 {
        submit(c.api(1 + i % 4), &format!("e{i}=v{i}"));
    }
    // SIGKILL node 2 while a resharing runs, restart it.
    wait_until(Duration::from_secs(60), "node 2 in a resharing", || {
        epoch_view(c.api(2))["resharing"]["phase"].as_str() == Some("deal")
    });
    let killed_in = epoch_view(c.api(2))["epoch"].as_u64().unwrap();
    // Its dealing is on disk and queued for the peers (sent within 5 ms): the kill hits the
    // rest of the resharing (complaints, justifications, the outcome), which it must resume.
    std::thread::sleep(Duration::from_millis(30));
    c.kill(2);
    c.spawn(2);
    // SIGKILL node 3 right at an epoch boundary (its last block of the epoch or the first of
    // the next: the handover and its first persist), twice, and restart it.
    for _ in 0..2 {
        wait_until(Duration::from_secs(60), "node 3 at a boundary", || {
            height(c.api(3)).is_some_and(|h| h > 40 && (h % 40 == 0 || h % 40 == 1))
        });
        c.kill(3);
        c.spawn(3);
        wait_until(Duration::from_secs(30), "node 3 back", || {
            height(c.api(3)).is_some()
        });
    }
    // The committee without node 5, in an epoch after the resharing node 2 was killed in.
    let mut without5 = None;
    wait_until(
        Duration::from_secs(90),
        "an epoch without node 5 after the kill",
        || {
            let v = epoch_view(c.api(1));
            let e = v["epoch"].as_u64().unwrap_or(0);
            if e <= killed_in + 1 {
                return false;
            }
            without5 = (1..=e).find(|&k| committee_of(&v, k) == Some(vec![1, 2, 3, 4]));
            without5.is_some()
        },
    );
    let without5 = without5.unwrap();
    let v1 = epoch_view(c.api(1));
    let history = v1["history"].as_array().unwrap();
    for h in history {
        let e = h["epoch"].as_u64().unwrap();
        if e == 0 {
            assert_eq!(h["key_from"], "genesis-dkg", "{h}");
            continue;
        }
        // Every resharing succeeded (node 2's crash included): no epoch kept an old key.
        assert_eq!(h["key_from"], "resharing", "epoch {e}: {h}");
        assert_eq!(h["failure"], "", "epoch {e}: {h}");
        let want: Vec<u64> = if e >= without5 {
            vec![1, 2, 3, 4]
        } else {
            vec![1, 2, 3, 4, 5]
        };
        assert_eq!(committee_of(&v1, e).unwrap(), want, "epoch {e}");
        // t = ⌊(n + f)/2⌋: 3 for 5 seats, 2 for 4.
        let t = if want.len() == 5 { 3 } else { 2 };
        assert_eq!(h["threshold"].as_u64(), Some(t), "epoch {e}: {h}");
    }
    // The restarted node 2 dealt in the resharing after its crash as well: it qualified there.
    let after = history
        .iter()
        .find(|h| h["epoch"].as_u64() == Some(killed_in + 1))
        .unwrap();
    assert!(
        after["qualified"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q.as_u64() == Some(2)),
        "node 2 not qualified in the resharing it crashed in: {after}"
    );
    assert_eq!(v1["seat"].as_u64(), Some(1));
    // Node 5 holds no seat but follows.
    let target = height(c.api(1)).unwrap() + 5;
    wait_until(
        Duration::from_secs(30),
        "every node past the target",
        || (1..=n).all(|i| height(c.api(i)).is_some_and(|h| h >= target)),
    );
    let v5 = epoch_view(c.api(5));
    assert!(v5["seat"].is_null(), "node 5 still has a seat: {v5}");
    // Node 3, killed at boundaries, holds its seat again.
    assert_eq!(epoch_view(c.api(3))["seat"].as_u64(), Some(3));
    assert!(c.log(5).contains("this node stops signing"));
    let hashes: Vec<Value> = (1..=n)
        .map(|i| get(c.api(i), &format!("/v1/block/{target}")).1["hash"].clone())
        .collect();
    assert!(
        hashes.iter().all(|h| *h == hashes[0] && h.is_string()),
        "{hashes:?}"
    );
    // Epoch markers: each epoch's first block starts with one.
    let (_, b) = get(c.api(3), &format!("/v1/block/{}", 40 * without5 + 1));
    assert!(
        b["txs"][0]
            .as_str()
            .unwrap()
            .starts_with(&hex::encode("cepochm1")),
        "{b}"
    );
    // Every KV tx committed on every node.
    wait_until(Duration::from_secs(30), "the txs on every node", || {
        (1..=n).all(|i| (0..20).all(|k| get(c.api(i), &format!("/v1/kv/e{k}")).0 == 200))
    });
    // A light client verifies every block of every epoch under the genesis group key.
    let out = light_client_verifies(&c, c.api(4), target, &gpk);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["ok"], true);
    assert_eq!(r["to"].as_u64(), Some(target));
    c.stop();
}

/// The API address of a node home's own entry (a spare node is not in the genesis).
fn home_api(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    let join = &text[text.find("[join]").expect("a [join] section")..];
    let line = join.lines().find(|l| l.starts_with("api = ")).unwrap();
    line["api = ".len()..].trim_matches('"').to_string()
}

/// 4 → 5 → 4 over real processes (#15): a node outside the genesis joins with a node join,
/// is SIGKILLed and restarted while it replays the chain, catches up from the log (every
/// epoch's commitment from the certified markers), takes part in the resharing and holds a
/// seat from the next boundary, signing blocks that commit a tx submitted to it; then genesis
/// node 1 leaves, so the committee is 2, 3, 4 and the joiner. Node 3 is Byzantine in every
/// resharing (it votes but never posts a resharing message): every resharing still succeeds,
/// node 3 never qualifies and no other old holder is left out. A light client verifies every
/// block of every epoch under the one group key.
#[test]
fn four_five_four_join_catch_up_and_leave() {
    let mut c = Cluster::init_with(
        "join",
        4,
        15,
        &[
            "--epoch-length",
            "40",
            "--resharing-window",
            "5",
            "--spares",
            "1",
        ],
    );
    for i in [1, 2, 4] {
        c.spawn(i);
    }
    c.spawn_with(3, &[("CONCLAVE_TEST_FAULT", "reshare-silent")]);
    let gpk = wait_for_dkg(&c, 4, Duration::from_secs(60));
    let home5 = c.dir.join("node-5");
    let api5 = home_api(&home5);
    c.spawn(5);
    // The join commits.
    let (code, out, err) = client(&[
        "join",
        "--home",
        home5.to_str().unwrap(),
        "--node",
        c.api(1),
        "--wait",
        "30",
    ]);
    assert_eq!(code, 0, "client join: {out} {err}");
    let joined_at: u64 = serde_json::from_str::<Value>(&out).unwrap()["height"]
        .as_u64()
        .unwrap();
    // The same join again: its peer id is taken now.
    let (code, out, _) = client(&[
        "join",
        "--home",
        home5.to_str().unwrap(),
        "--node",
        c.api(2),
    ]);
    assert_ne!(code, 0, "a second join of the same node: {out}");
    // SIGKILL the joiner while it follows, restart it.
    wait_until(Duration::from_secs(30), "node 5 following", || {
        height(&api5).is_some_and(|h| h >= 5)
    });
    c.kill(5);
    c.spawn(5);
    // Node 5 holds a seat in an epoch with committee 1..=5.
    wait_until(Duration::from_secs(90), "node 5 holding a seat", || {
        epoch_view(&api5)["seat"].as_u64().is_some()
    });
    let v5 = epoch_view(&api5);
    assert_eq!(v5["validator"].as_u64(), Some(5), "{v5}");
    let e5 = v5["epoch"].as_u64().unwrap();
    assert_eq!(committee_of(&v5, e5).unwrap(), vec![1, 2, 3, 4, 5]);
    assert!(40 * e5 > joined_at, "a seat before the join: {v5}");
    // A tx submitted to the joiner commits everywhere.
    submit(&api5, "joined=yes");
    wait_until(
        Duration::from_secs(30),
        "the joiner's tx on every node",
        || (1..=4).all(|i| get(c.api(i), "/v1/kv/joined").0 == 200),
    );
    // Node 1 leaves: 2, 3, 4 and the joiner.
    let home1 = c.dir.join("node-1");
    leave(&home1, c.api(2));
    let mut last = None;
    wait_until(Duration::from_secs(90), "an epoch of 2, 3, 4, 5", || {
        let v = epoch_view(c.api(2));
        let e = v["epoch"].as_u64().unwrap_or(0);
        last = (1..=e).find(|&k| committee_of(&v, k) == Some(vec![2, 3, 4, 5]));
        last.is_some()
    });
    let e4 = last.unwrap();
    let v2 = epoch_view(c.api(2));
    for h in v2["history"].as_array().unwrap() {
        let e = h["epoch"].as_u64().unwrap();
        if e > 0 {
            assert_eq!(h["key_from"], "resharing", "epoch {e}: {h}");
            // The old holders that qualified: the previous committee without node 3.
            let mut want = committee_of(&v2, e - 1).unwrap();
            want.retain(|&id| id != 3);
            let got: Vec<u64> = h["qualified"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q.as_u64().unwrap())
                .collect();
            assert_eq!(got, want, "epoch {e}: {h}");
        }
        if e >= e4 {
            assert_eq!(committee_of(&v2, e).unwrap(), vec![2, 3, 4, 5]);
        }
    }
    // The joiner signs in the 4-seat epoch, node 1 holds no seat and follows.
    let target = 40 * e4 + 10;
    wait_until(
        Duration::from_secs(60),
        "every node past the target",
        || {
            (1..=4).all(|i| height(c.api(i)).is_some_and(|h| h >= target))
                && height(&api5).is_some_and(|h| h >= target)
        },
    );
    assert!(epoch_view(c.api(1))["seat"].is_null());
    assert_eq!(epoch_view(&api5)["seat"].as_u64(), Some(4));
    let hashes: Vec<Value> = (1..=4)
        .map(|i| get(c.api(i), &format!("/v1/block/{target}")).1["hash"].clone())
        .chain([get(&api5, &format!("/v1/block/{target}")).1["hash"].clone()])
        .collect();
    assert!(
        hashes.iter().all(|h| *h == hashes[0] && h.is_string()),
        "{hashes:?}"
    );
    light_client_verifies(&c, &api5, target, &gpk);
    c.stop();
}

/// A failed resharing (#15): of 5 validators (t = 3, so a resharing needs 4 qualified old
/// holders), nodes 4 and 5 vote in consensus but post none of their resharing messages. Every
/// resharing then fails with its reason, the old committee and shares stay ("kept"), the leave
/// node 5 submitted stays pending instead of taking effect, the chain goes on under the same
/// group key and a light client verifies every block.
#[test]
fn failed_resharing_keeps_the_committee_and_the_key() {
    let n = 5;
    let mut c = Cluster::init_with(
        "reshfail",
        n,
        16,
        &["--epoch-length", "40", "--resharing-window", "5"],
    );
    for i in 1..=3 {
        c.spawn(i);
    }
    for i in 4..=5 {
        c.spawn_with(i, &[("CONCLAVE_TEST_FAULT", "reshare-silent")]);
    }
    let gpk = wait_for_dkg(&c, n, Duration::from_secs(60));
    let home5 = c.dir.join("node-5");
    leave(&home5, c.api(1));
    wait_until(Duration::from_secs(90), "three epochs", || {
        epoch_view(c.api(1))["epoch"].as_u64().unwrap_or(0) >= 3
    });
    let v = epoch_view(c.api(2));
    for h in v["history"].as_array().unwrap() {
        let e = h["epoch"].as_u64().unwrap();
        if e == 0 {
            continue;
        }
        assert_eq!(h["key_from"], "kept", "epoch {e}: {h}");
        assert!(
            !h["failure"].as_str().unwrap().is_empty(),
            "a failure without a reason: {h}"
        );
        assert_eq!(committee_of(&v, e).unwrap(), vec![1, 2, 3, 4, 5]);
    }
    assert!(
        v["pending_changes"].as_u64().unwrap() >= 1,
        "the leave vanished: {v}"
    );
    let target = height(c.api(1)).unwrap();
    wait_until(Duration::from_secs(30), "every node at the target", || {
        (1..=n).all(|i| height(c.api(i)).is_some_and(|h| h >= target))
    });
    light_client_verifies(&c, c.api(3), target, &gpk);
    c.stop();
}

/// `conclave client leave` of the validator whose home is `home`, through `node`, waiting for it.
fn leave(home: &Path, node: &str) {
    let (code, out, err) = client(&[
        "leave",
        "--home",
        home.to_str().unwrap(),
        "--node",
        node,
        "--wait",
        "30",
    ]);
    assert_eq!(code, 0, "client leave: {out} {err}");
}

/// The light client (`conclave client verify`) checks blocks 1..=`to` served by `node` under
/// the trusted group key `gpk`; returns its JSON output.
fn light_client_verifies(c: &Cluster, node: &str, to: u64, gpk: &str) -> String {
    let genesis_path = c.dir.join("genesis.json");
    let (code, out, err) = client(&[
        "verify",
        "--genesis",
        genesis_path.to_str().unwrap(),
        "--node",
        node,
        "--to",
        &to.to_string(),
        "--group-key",
        gpk,
        "--json",
    ]);
    assert_eq!(code, 0, "light client: {out} {err}");
    out
}
