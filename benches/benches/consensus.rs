//! Committee agreement in the simulator, end to end: decisions per wall-second, messages, bytes
//! and periods per decision, certificate bytes, and crypto work per node and decision.
//!
//! Not a criterion bench (one run is seconds long): a table on stdout.
//!
//! ```sh
//! cargo bench -p conclave-benches --bench consensus                # full table
//! cargo bench -p conclave-benches --bench consensus -- --test      # quick smoke run
//! CONCLAVE_BENCH_HEIGHTS=10 cargo bench -p conclave-benches --bench consensus
//! ```
//!
//! Real crypto is threshold mode, min-pk, with the DKG among the seats for N ≤ 16 and a trusted
//! dealer above (the DKG's own cost is benchmarked in `benches/dkg.rs`); the mock rows use the
//! test-only keyed-hash scheme to show the engine's and simulator's own cost up to N = 1024.

use conclave_bft::adapter::{KeySetup, RealProvider};
use conclave_bft::sim::{run_simulation, AdversaryKind, CryptoProvider, MockProvider, SimConfig};

struct Row {
    crypto: &'static str,
    nodes: u32,
    faulty: u32,
    adversary: AdversaryKind,
    heights: u64,
}

fn run(row: &Row, provider: &dyn CryptoProvider, real: Option<&RealProvider>) {
    let mut c = SimConfig::new(row.nodes);
    c.faulty = row.faulty;
    c.adversary = row.adversary;
    c.heights = row.heights;
    c.seed = 1;
    let start = std::time::Instant::now();
    let r = match run_simulation(&c, provider) {
        Ok(r) => r,
        Err(e) => {
            println!("N={} {}: error {e}", row.nodes, row.adversary);
            return;
        }
    };
    let total = start.elapsed().as_secs_f64();
    let h = r.summary.heights_decided.max(1) as f64;
    let periods: Vec<u32> = r
        .decisions
        .values()
        .flat_map(|d| d.iter().map(|x| x.period))
        .collect();
    let mean_period = f64::from(periods.iter().sum::<u32>()) / periods.len().max(1) as f64;
    let work = real
        .and_then(|p| p.last_counters())
        .map(|k| {
            let per = |x: u64| x as f64 / h / f64::from(row.nodes);
            format!(
                "{:.1} batch ({:.0} shares) {:.1} single {:.1} combine",
                per(k.batch_verifications),
                per(k.batched_shares),
                per(k.single_verifications),
                per(k.combines)
            )
        })
        .unwrap_or_else(|| "-".into());
    let setup = real
        .and_then(|p| p.last_setup())
        .map(|i| format!("{} {} ms", i.key_setup, i.setup_wall_ms))
        .unwrap_or_else(|| "-".into());
    println!(
        "| {:4} | {:4} | {:2} | {:21} | {:7.2} | {:7.0} | {:9.0} | {:4.2} | {:4} | {:>3} | {} | {}, total {total:.1} s |",
        row.crypto,
        row.nodes,
        row.faulty,
        row.adversary.name(),
        h / (r.metrics.wall_ms.max(1) as f64 / 1000.0),
        r.metrics.messages as f64 / h,
        r.metrics.bytes as f64 / h,
        mean_period,
        r.summary.certificate_bytes,
        if r.violations.is_empty() { "ok" } else { "VIOLATION" },
        work,
        setup,
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let heights: u64 = std::env::var("CONCLAVE_BENCH_HEIGHTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });
    println!("| crypto | N | F | adversary | decisions/wall-s | msgs/decision | bytes/decision | periods/decision | cert B | oracles | per node per decision | setup |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let sizes: &[u32] = if quick { &[4, 16] } else { &[4, 16, 64, 128] };
    for &n in sizes {
        let f = (n - 1) / 3;
        let real = RealProvider::new().with_key_setup(if n <= 16 {
            KeySetup::Dkg
        } else {
            KeySetup::TrustedDealer
        });
        let mut kinds = vec![(0, AdversaryKind::Silent), (f, AdversaryKind::Mixed)];
        if n == 16 && !quick {
            kinds.extend(AdversaryKind::CONCRETE.iter().map(|k| (f, *k)));
        }
        for (faulty, adversary) in kinds {
            let row = Row {
                crypto: "real",
                nodes: n,
                faulty,
                adversary,
                heights: if n >= 64 { heights.min(3) } else { heights },
            };
            run(&row, &real, Some(&real));
        }
    }
    let mock_sizes: &[u32] = if quick { &[64] } else { &[64, 256, 1024] };
    for &n in mock_sizes {
        let f = (n - 1) / 3;
        for (faulty, adversary) in [(0, AdversaryKind::Silent), (f, AdversaryKind::Mixed)] {
            let row = Row {
                crypto: "mock",
                nodes: n,
                faulty,
                adversary,
                heights: if n >= 1024 { 1 } else { heights.min(3) },
            };
            run(&row, &MockProvider, None);
        }
    }
}
