//! Messages, bytes and CPU per decision with and without vote aggregators (issue #14 §2):
//!
//! ```sh
//! cargo run --release -p conclave-benches --example aggregators -- mock 16 64 256 1024
//! cargo run --release -p conclave-benches --example aggregators -- real 16 64
//! AGG_KAPPA=0,16 AGG_HEIGHTS=10 cargo run --release -p conclave-benches --example aggregators -- mock 64
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

use std::sync::Mutex;

use conclave_bft::adapter::{KeySetup, RealProvider};
use conclave_bft::mock::MockCrypto;
use conclave_bft::sim::{
    run_simulation, AdversaryKind, CryptoProvider, CryptoSetup, MockProvider, SimConfig,
};

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
    let mut args = std::env::args().skip(1);
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
            println!(
                "| {n} | {kappa} | {msgs:.0} | {:.1} | {:.0} | {:.3} ms | {} |",
                msgs / f64::from(n),
                r.metrics.bytes as f64 / h,
                cpu as f64 / 1e6 / h / f64::from(n),
                r.metrics.max_period
            );
        }
    }
}
