//! Node benchmark: N real `conclave node` processes on 127.0.0.1 (the `conclave testnet`
//! launcher, `conclave_node::cluster`), for each block size: commit latency p50/p99 under
//! light load, throughput (tx/s and MB/s of ordered payload) under saturating load, and where
//! the time goes (the nodes' `conclave_time_seconds` histograms).
//!
//! ```text
//! cargo build --release -p conclave-cli
//! cargo run --release -p conclave-benches --example node_bench -- [--nodes 4,7]
//!     [--sizes 1024,65536,1048576] [--secs 8] [--bin target/release/conclave] [--json FILE]
//!     [--variant min-pk|min-sig] [--filter-ms MS] [--light N] [--loaders K] [--keep]
//! ```
//!
//! Not run in CI (it needs the release binary and minutes of a machine). Each run uses a fresh
//! temporary testnet directory, removed afterwards unless `--keep`.
//!
//! - **Latency**: one tx every 40 ms (25 tx/s, round-robin over the nodes) for `--light`
//!   txs; latency is from the HTTP submit returning to node 1's API showing the block with
//!   the tx (polled every 2 ms, so it includes up to ~3 ms of observation).
//! - **Throughput**: `--loaders` threads submit txs as fast as the API takes them (batches of
//!   up to 64 txs and 64 KiB per `POST /v1/txs`) for
//!   `--secs` seconds; ordered payload is the tx bytes of node 1's blocks from the first block
//!   with a loaded tx to the last, over that span (the backlog left at the end drains at the
//!   cluster's ordering rate, so a backlog shows the consensus bound, none the ingestion bound).
//! - **Breakdown**: per node and committed height, the mean of each timed part.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use conclave_node::cluster::{percentile, time_breakdown, wait_for_dkg, Cluster, DkgWait, Http};
use conclave_node::Tuning;
use serde_json::{json, Value};
use sha2::Digest;

struct Args {
    nodes: Vec<u32>,
    sizes: Vec<usize>,
    secs: u64,
    light: usize,
    loaders: usize,
    bin: PathBuf,
    base_port: u16,
    json: Option<PathBuf>,
    keep: bool,
    filter_ms: Option<u64>,
    variant: String,
}

fn parse_args() -> Result<Args, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/examples/node_bench → target/<profile>/conclave
    let default_bin = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("conclave"))
        .unwrap_or_else(|| PathBuf::from("conclave"));
    let mut a = Args {
        nodes: vec![4, 7],
        sizes: vec![1024, 64 << 10, 1 << 20],
        secs: 8,
        light: 60,
        loaders: 4,
        bin: default_bin,
        base_port: 28600,
        json: None,
        keep: false,
        filter_ms: None,
        variant: "min-pk".into(),
    };
    let mut it = std::env::args().skip(1);
    let list = |v: Option<String>| -> Result<Vec<usize>, String> {
        v.ok_or("missing value")?
            .split(',')
            .map(|x| x.trim().parse::<usize>().map_err(|e| e.to_string()))
            .collect()
    };
    while let Some(k) = it.next() {
        match k.as_str() {
            "--nodes" => a.nodes = list(it.next())?.into_iter().map(|x| x as u32).collect(),
            "--sizes" => a.sizes = list(it.next())?,
            "--secs" => a.secs = list(it.next())?[0] as u64,
            "--light" => a.light = list(it.next())?[0],
            "--loaders" => a.loaders = list(it.next())?[0],
            "--base-port" => a.base_port = list(it.next())?[0] as u16,
            "--filter-ms" => a.filter_ms = Some(list(it.next())?[0] as u64),
            "--bin" => a.bin = PathBuf::from(it.next().ok_or("missing value")?),
            "--json" => a.json = Some(PathBuf::from(it.next().ok_or("missing value")?)),
            "--keep" => a.keep = true,
            "--variant" => a.variant = it.next().ok_or("missing value")?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !a.bin.exists() {
        return Err(format!(
            "{} not found: build it (cargo build --release -p conclave-cli) or pass --bin",
            a.bin.display()
        ));
    }
    Ok(a)
}

/// A tx of about `len` bytes, unique by `tag` and `i`.
fn make_tx(tag: &str, i: u64, len: usize) -> Vec<u8> {
    let key = format!("{tag}{i}");
    let value_len = len.saturating_sub(key.len() + 1).min(1024);
    let mut tx = key.into_bytes();
    tx.push(b'=');
    tx.extend(std::iter::repeat_n(b'x', value_len));
    tx
}

fn hexv(v: &Value) -> Vec<u8> {
    v.as_str()
        .and_then(|s| hex::decode(s).ok())
        .unwrap_or_default()
}

/// Blocks of node 1 as they appear: (height, seen at, tx hashes (hex), payload bytes).
struct Follower {
    api: String,
    height: u64,
    blocks: Vec<(u64, Instant, Vec<String>, usize)>,
}

impl Follower {
    fn poll(&mut self, http: &Http) {
        let Some(h) = http.height(&self.api) else {
            return;
        };
        while self.height < h {
            let Ok(Some(b)) = http.get(&self.api, &format!("/v1/block/{}", self.height + 1)) else {
                return;
            };
            let at = Instant::now();
            self.height += 1;
            let mut hashes = Vec::new();
            let mut bytes = 0;
            for tx in b["txs"].as_array().into_iter().flatten() {
                let t = hexv(tx);
                bytes += t.len();
                hashes.push(hex::encode(sha2::Sha256::digest(&t)));
            }
            self.blocks.push((self.height, at, hashes, bytes));
        }
    }
}

struct RunResult {
    json: Value,
    row: String,
    breakdown: Vec<String>,
}

fn tuning_for(n: u32, size: usize, filter: Option<u64>) -> Tuning {
    let mut t = Tuning::loopback();
    t.max_block_bytes = size;
    t.max_block_txs = 10_000;
    t.mempool_txs = 100_000;
    if let Some(f) = filter {
        t.filter_ms = f;
        t.next_ms = t.next_ms.max(f + 1);
    }
    // Bigger blocks take longer to travel and check. The filter must cover a proposal's
    // trip (the proposer's fsync of its own proposal, the receivers' fetch of txs their full
    // mempools refused, their checks): with 60 ms every node soft-voted its own 1 MiB block,
    // the soft votes split and each height took two periods (0.69 MB/s). The early filter
    // soft-votes once every seat's proposal is in, so a longer filter costs nothing while all
    // seats are up. The first next vote comes well after a height normally decides.
    if size > 256 << 10 {
        if filter.is_none() {
            t.filter_ms = t.filter_ms.max(250);
        }
        t.next_ms = t.next_ms.max(1_500);
    }
    // Seven processes on two cores under load: with 60 ms the soft votes split at 64% of
    // heights (0.10 MB/s with 64 KiB blocks), with 200 ms at 8% (0.48 MB/s).
    if n >= 7 && filter.is_none() {
        t.filter_ms = t.filter_ms.max(200);
    }
    t
}

fn run(args: &Args, n: u32, size: usize, port: u16) -> Result<RunResult, String> {
    let dir = std::env::temp_dir().join(format!(
        "conclave-node-bench-{}-{n}-{size}",
        std::process::id()
    ));
    let tuning = tuning_for(n, size, args.filter_ms);
    let genesis = conclave_node::init_testnet(&dir, n, port, &args.variant, true, tuning)
        .map_err(|e| e.to_string())?;
    let apis: Vec<String> = genesis.nodes.iter().map(|g| g.api.clone()).collect();
    let http = Http::new();
    let mut cluster = Cluster::new(&dir, &args.bin);
    for i in 1..=n {
        cluster.spawn(i)?;
    }
    match wait_for_dkg(&http, &apis, Duration::from_secs(120)) {
        DkgWait::Done(_) => {}
        other => return Err(format!("DKG: {other:?}")),
    }
    let tx_len = (size / 10).clamp(64, 1024 + 10);
    let mut follower = Follower {
        api: apis[0].clone(),
        height: 0,
        blocks: Vec::new(),
    };
    // Let the first heights pass.
    let warm = Instant::now() + Duration::from_millis(500);
    while Instant::now() < warm {
        follower.poll(&http);
        std::thread::sleep(Duration::from_millis(5));
    }
    let load_start = uptime();
    let before_light = snapshot(&http, &apis);

    // Light load: latency.
    let mut submitted: HashMap<String, Instant> = HashMap::new();
    let mut next = Instant::now();
    let mut i = 0u64;
    let light_deadline = Instant::now() + Duration::from_secs(60);
    while (i as usize) < args.light || submitted.len() > latency_count(&follower, &submitted) {
        if Instant::now() > light_deadline {
            break;
        }
        if (i as usize) < args.light && Instant::now() >= next {
            let tx = make_tx("l", i, tx_len.min(256));
            let api = &apis[i as usize % apis.len()];
            if let Ok(h) = http.post_tx(api, &tx) {
                submitted.insert(h, Instant::now());
            }
            i += 1;
            next += Duration::from_millis(40);
        }
        follower.poll(&http);
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut lat: Vec<u64> = Vec::new();
    for (_, at, hashes, _) in &follower.blocks {
        for h in hashes {
            if let Some(t) = submitted.get(h) {
                lat.push(at.duration_since(*t).as_millis() as u64);
            }
        }
    }
    lat.sort_unstable();
    let light_blocks: Vec<_> = follower.blocks.iter().map(|b| b.1).collect();
    let block_interval_ms = if light_blocks.len() > 10 {
        let k = light_blocks.len();
        light_blocks[k - 1]
            .duration_since(light_blocks[k - 11])
            .as_secs_f64()
            * 100.0
    } else {
        0.0
    };

    // Where the light phase's time goes: the histograms' growth over it alone.
    let light_parts = diff(&snapshot(&http, &apis), &before_light);

    // Saturating load: throughput.
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let first_heavy = follower.height + 1;
    let t_load = Instant::now();
    let mut loaders = Vec::new();
    let args_batch = (64usize << 10).div_ceil(tx_len.max(1)).clamp(1, 64);
    for w in 0..args.loaders {
        let (stop, accepted, refused, apis) = (
            stop.clone(),
            accepted.clone(),
            refused.clone(),
            apis.clone(),
        );
        loaders.push(std::thread::spawn(move || {
            let http = Http::new();
            let mut j = 0u64;
            let mut round = 0usize;
            while !stop.load(Ordering::Relaxed) {
                // One `POST /v1/txs` of up to 64 txs (≤ 64 KiB) per request.
                let batch: Vec<Vec<u8>> = (0..args_batch)
                    .map(|k| make_tx(&format!("h{w}-"), j + k as u64, tx_len))
                    .collect();
                let api = &apis[(round + w) % apis.len()];
                round += 1;
                let took = http.post_txs(api, &batch).unwrap_or(0);
                accepted.fetch_add(took as u64, Ordering::Relaxed);
                if took < batch.len() {
                    // Mempool full: back off briefly.
                    refused.fetch_add((batch.len() - took) as u64, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
                j += batch.len() as u64;
            }
        }));
    }
    while t_load.elapsed() < Duration::from_secs(args.secs) {
        follower.poll(&http);
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        let _ = l.join();
    }
    let ingest_secs = t_load.elapsed().as_secs_f64();
    let accepted = accepted.load(Ordering::Relaxed);
    let refused = refused.load(Ordering::Relaxed);
    // Drain: until node 1's mempool is empty (bounded).
    let drain_deadline = Instant::now() + Duration::from_secs(60);
    loop {
        follower.poll(&http);
        let pending = http
            .get_text(&apis[0], "/metrics")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("conclave_mempool_txs ").map(str::to_string))
            })
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if pending == 0.0 || Instant::now() > drain_deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    follower.poll(&http);
    let load_end = uptime();
    let heavy: Vec<_> = follower
        .blocks
        .iter()
        .filter(|b| b.0 >= first_heavy && b.3 > 0)
        .collect();
    let (mut tput_tx, mut tput_mb, mut fill, mut span) = (0.0, 0.0, 0.0, 0.0);
    if heavy.len() >= 2 {
        // From the block before the first loaded one to the last loaded one.
        let first = heavy[0];
        let before = follower
            .blocks
            .iter()
            .rev()
            .find(|b| b.0 < first.0)
            .map(|b| b.1)
            .unwrap_or(t_load);
        let last = heavy[heavy.len() - 1];
        span = last.1.duration_since(before).as_secs_f64();
        let txs: usize = heavy.iter().map(|b| b.2.len()).sum();
        let bytes: usize = heavy.iter().map(|b| b.3).sum();
        tput_tx = txs as f64 / span;
        tput_mb = bytes as f64 / span / 1e6;
        fill = bytes as f64 / heavy.len() as f64 / size as f64 * 100.0;
    }

    // Breakdown: every node's histograms, per committed height.
    let (parts, heights) = snapshot(&http, &apis);
    let counts = counters(&http, &apis);
    let unclean = cluster.stop();
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let per_height = |k: &str| {
        parts
            .get(k)
            .map(|(s, _)| s * 1e3 / heights.max(1) as f64)
            .unwrap_or(0.0)
    };
    let mean = |k: &str| {
        parts
            .get(k)
            .map(|(s, c)| s * 1e3 / (*c).max(1) as f64)
            .unwrap_or(0.0)
    };
    let mut breakdown = vec![format!(
        "  counters (whole run, summed over the nodes): {}",
        counts
            .iter()
            .map(|(k, v)| format!("{k} {v:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    for (title, (ps, hs)) in [
        ("whole run", (&parts, heights)),
        ("light phase only", (&light_parts.0, light_parts.1)),
    ] {
        breakdown.push(format!("  {title} ({hs} node-heights):"));
        for (k, (s, c)) in ps {
            breakdown.push(format!(
                "    {k:<20} {:>9.3} ms/height  {:>8.3} ms mean  ({c} obs, {:.0} ms total)",
                s * 1e3 / hs.max(1) as f64,
                s * 1e3 / (*c).max(1) as f64,
                s * 1e3
            ));
        }
    }
    let light_mean = |k: &str| {
        light_parts
            .0
            .get(k)
            .map(|(s, c)| s * 1e3 / (*c).max(1) as f64)
            .unwrap_or(0.0)
    };
    let row = format!(
        "| {n} | {} | {} / {} ms | {:.1} ms | {:.0} | {:.2} | {:.0}% | {:.0} tx/s | {:.1} / {:.1} / {:.1} / {:.1} | {:.1} | {:.1} | {:.2} |",
        human(size),
        percentile(&lat, 50),
        percentile(&lat, 99),
        block_interval_ms,
        tput_tx,
        tput_mb,
        fill,
        accepted as f64 / ingest_secs,
        mean("to_proposal"),
        mean("to_soft_vote"),
        mean("soft_to_cert"),
        mean("cert_to_decide"),
        per_height("store_commit"),
        per_height("engine_handle"),
        mean("consensus_rtt"),
    );
    let json = json!({
        "nodes": n, "block_bytes": size, "tx_bytes": tx_len,
        "latency_ms": {"p50": percentile(&lat, 50), "p99": percentile(&lat, 99), "samples": lat.len()},
        "block_interval_ms_light": block_interval_ms,
        "throughput": {"tx_per_s": tput_tx, "mb_per_s": tput_mb, "block_fill_pct": fill,
            "span_s": span, "blocks": heavy.len(),
            "ingest_tx_per_s": accepted as f64 / ingest_secs, "refused": refused},
        "time_ms_per_height": parts.keys().map(|k| (k.clone(), json!(per_height(k)))).collect::<serde_json::Map<_,_>>(),
        "light_time_ms_mean": light_parts.0.keys().map(|k| (k.clone(), json!(light_mean(k)))).collect::<serde_json::Map<_,_>>(),
        "light_node_heights": light_parts.1,
        "time_ms_mean": parts.keys().map(|k| (k.clone(), json!(mean(k)))).collect::<serde_json::Map<_,_>>(),
        "heights_all_nodes": heights,
        "counters": counts,
        "load": {"before": load_start, "after": load_end},
        "unclean_exit": unclean,
    });
    Ok(RunResult {
        json,
        row,
        breakdown,
    })
}

/// Every node's `conclave_time_seconds` histograms (sum, count per part, added over the
/// nodes) and the sum of their heights.
type Snapshot = (BTreeMap<String, (f64, u64)>, u64);

fn snapshot(http: &Http, apis: &[String]) -> Snapshot {
    let mut parts: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    let mut heights = 0u64;
    for a in apis {
        let Ok(text) = http.get_text(a, "/metrics") else {
            continue;
        };
        for (k, (s, c)) in time_breakdown(&text) {
            let e = parts.entry(k).or_default();
            e.0 += s;
            e.1 += c;
        }
        heights += text
            .lines()
            .find_map(|l| l.strip_prefix("conclave_height ").map(str::to_string))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    (parts, heights)
}

/// The counters that say why heights are slow (extra periods, drops, syncs, compact-proposal
/// fetches), each summed over its labels and over the nodes.
fn counters(http: &Http, apis: &[String]) -> BTreeMap<String, f64> {
    const NAMES: [&str; 9] = [
        "conclave_periods_per_height_sum",
        "conclave_periods_per_height_count",
        "conclave_dropped_messages_total",
        "conclave_rate_limited_messages_total",
        "conclave_synced_blocks_total",
        "conclave_compact_sent_total",
        "conclave_compact_fetches_total",
        "conclave_compact_fetched_txs_total",
        "conclave_compact_dropped_total",
    ];
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for a in apis {
        let Ok(text) = http.get_text(a, "/metrics") else {
            continue;
        };
        for line in text.lines() {
            let Some((name, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let family = name.split('{').next().unwrap_or(name);
            if let (true, Ok(v)) = (NAMES.contains(&family), value.parse::<f64>()) {
                let mut key = family.trim_start_matches("conclave_").to_string();
                // Which protocol's budget was exceeded.
                if let Some(p) = name.split("protocol=\"").nth(1) {
                    key = format!("{key}[{}]", p.split('"').next().unwrap_or(""));
                }
                *out.entry(key).or_default() += v;
            }
        }
    }
    out
}

/// `after − before`, part by part.
fn diff(after: &Snapshot, before: &Snapshot) -> Snapshot {
    let mut parts = after.0.clone();
    for (k, (s, c)) in parts.iter_mut() {
        if let Some((s0, c0)) = before.0.get(k) {
            *s -= s0;
            *c = c.saturating_sub(*c0);
        }
    }
    (parts, after.1.saturating_sub(before.1))
}

fn latency_count(f: &Follower, submitted: &HashMap<String, Instant>) -> usize {
    f.blocks
        .iter()
        .flat_map(|b| b.2.iter())
        .filter(|h| submitted.contains_key(*h))
        .count()
}

fn uptime() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn human(size: usize) -> String {
    if size >= 1 << 20 {
        format!("{} MiB", size >> 20)
    } else {
        format!("{} KiB", size >> 10)
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "| nodes | block | latency p50 / p99 (light) | block interval (light) | tx/s | MB/s | block fill | ingest | phases ms: to proposal / to soft vote / soft→cert / cert→decide | fsync+commit ms/height | engine ms/height | net RTT ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut all = Vec::new();
    let mut details = Vec::new();
    let mut port = args.base_port;
    for &n in &args.nodes {
        for &size in &args.sizes {
            match run(&args, n, size, port) {
                Ok(r) => {
                    println!("{}", r.row);
                    details.push((n, size, r.breakdown));
                    all.push(r.json);
                }
                Err(e) => eprintln!("{n} nodes, {size} B blocks: {e}"),
            }
            port += 2 * n as u16 + 2;
        }
    }
    for (n, size, lines) in details {
        println!(
            "\nwhere the time goes ({n} nodes, {} blocks; summed over the nodes, per node-height):",
            human(size)
        );
        for l in lines {
            println!("{l}");
        }
    }
    if let Some(path) = &args.json {
        let _ = std::fs::write(
            path,
            serde_json::to_string_pretty(&json!(all)).unwrap_or_default(),
        );
    }
}
