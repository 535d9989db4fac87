//! Messages, bytes and CPU per decision with and without vote aggregators (issue #14 §2):
//!
//! ```sh
//! cargo run --release -p conclave-benches --example aggregators -- mock 16 64 256 1024
//! cargo run --release -p conclave-benches --example aggregators -- real 16 64
//! AGG_KAPPA=0,16 AGG_HEIGHTS=10 cargo run --release -p conclave-benches --example aggregators -- mock 64
//! cargo run --release -p conclave-benches --example aggregators -- mock 16 64 --json target/aggregators.json
//! ```
//!
//! Runs the simulator (threshold mode, no faults, latency 50 ms + jitter ≤ 20 ms, 1 %
//! duplicates, `AGG_HEIGHTS` heights, default 10) once per committee size and κ in
//! `AGG_KAPPA` (default `0,16`; 0 = all-to-all). `mock` is the keyed-hash crypto with about
//! τ = 10 proposers per period (`MockCrypto::with_proposers`, as the real adapter's sortition
//! with `TAU_PROPOSER`); `real` is min-pk BLS with a trusted dealer. Reported per decision:
//! point-to-point messages and bytes (all nodes together), and process CPU per node (the
//! run's CPU time minus the key setup's, divided by N · heights: it includes the
//! simulator's own work — queue, network model, oracles — which is also per node and
//! decision).
//!
//! `--json PATH` also writes every row (and the mean and highest period of the decisions), the
//! command line with `AGG_KAPPA`/`AGG_HEIGHTS` and the load average at start and end to PATH,
//! for `benches/report --aggregators PATH`.

use std::sync::Mutex;

use conclave_bft::adapter::{KeySetup, RealProvider};
use conclave_bft::mock::MockCrypto;
use conclave_bft::sim::{
    run_simulation, AdversaryKind, CryptoProvider, CryptoSetup, MockProvider, SimConfig,
};
use serde_json::{json, Map};

#[path = "support/record.rs"]
mod record;

fn process_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Mock crypto with ≈ τ proposers per period.
struct TauMock;

impl CryptoProvider for TauMock {
    fn setup(&self, config: &SimConfig) -> Result<CryptoSetup, String> {
        let mock = MockCrypto::with_proposers(config.nodes, config.seed, 10);
        Ok(MockProvider::setup_from(config, &mock))
    }
}

/// Times the inner provider's setup (to subtract it).
struct SetupTimed<'a> {
    inner: &'a dyn CryptoProvider,
    setup_ns: Mutex<u64>,
}

impl CryptoProvider for SetupTimed<'_> {
    fn setup(&self, config: &SimConfig) -> Result<CryptoSetup, String> {
        let start = process_cpu_ns();
        let out = self.inner.setup(config);
        *self.setup_ns.lock().expect("lock") += process_cpu_ns() - start;
        out
    }
}

fn main() {
    let run_record = record::RunRecord::start(&["AGG_KAPPA", "AGG_HEIGHTS"]);
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let json_path = record::take_json_flag(&mut args);
    let mut args = args.into_iter();
    let crypto = args.next().unwrap_or_else(|| "mock".into());
    let sizes: Vec<u32> = args.filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![16, 64, 256, 1024]
    } else {
        sizes
    };
    let kappas: Vec<u32> = std::env::var("AGG_KAPPA")
        .unwrap_or_else(|_| "0,16".into())
        .split(',')
        .filter_map(|k| k.trim().parse().ok())
        .collect();
    let heights: u64 = std::env::var("AGG_HEIGHTS")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(10);
    let real = RealProvider::new().with_key_setup(KeySetup::TrustedDealer);
    let inner: &dyn CryptoProvider = match crypto.as_str() {
        "real" => &real,
        _ => &TauMock,
    };
    println!("crypto {crypto}, {heights} heights, no faults");
    println!("| N | κ | messages / decision | per node | bytes / decision | CPU / node / decision | max period |");
    println!("|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for &n in &sizes {
        for &kappa in &kappas {
            let mut c = SimConfig::new(n);
            c.faulty = 0;
            c.adversary = AdversaryKind::Silent;
            c.heights = heights;
            c.aggregators = kappa;
            let timed = SetupTimed {
                inner,
                setup_ns: Mutex::new(0),
            };
            let start = process_cpu_ns();
            let r = run_simulation(&c, &timed).expect("simulation runs");
            let cpu = process_cpu_ns() - start - *timed.setup_ns.lock().expect("lock");
            assert!(r.violations.is_empty(), "{:?}", r.violations);
            let h = heights as f64;
            let msgs = r.metrics.messages as f64 / h;
            let cpu_ms = cpu as f64 / 1e6 / h / f64::from(n);
            println!(
                "| {n} | {kappa} | {msgs:.0} | {:.1} | {:.0} | {cpu_ms:.3} ms | {} |",
                msgs / f64::from(n),
                r.metrics.bytes as f64 / h,
                r.metrics.max_period
            );
            let periods: Vec<u32> = r
                .decisions
                .values()
                .flat_map(|d| d.iter().map(|x| x.period))
                .collect();
            rows.push(json!({
                "mode": if crypto == "real" { "real" } else { "mock" },
                "variant": r.variant,
                "nodes": n,
                "kappa": kappa,
                "heights": heights,
                "messages": r.metrics.messages,
                "bytes": r.metrics.bytes,
                "messages_per_decision": msgs,
                "messages_per_node_per_decision": msgs / f64::from(n),
                "bytes_per_decision": r.metrics.bytes as f64 / h,
                "cpu_ms_per_node_per_decision": cpu_ms,
                "max_period": r.metrics.max_period,
                "mean_period": f64::from(periods.iter().sum::<u32>()) / periods.len().max(1) as f64,
            }));
        }
    }
    if let Some(path) = json_path {
        let mut body = Map::new();
        body.insert("crypto".into(), json!(crypto));
        body.insert("heights".into(), json!(heights));
        body.insert("kappas".into(), json!(kappas));
        body.insert(
            "setup".into(),
            json!("simulator, threshold mode, no faults, 50 ms + <= 20 ms jitter, 1 % duplicates"),
        );
        body.insert("rows".into(), json!(rows));
        run_record.write(&path, "aggregators", body);
    }
}
