//! `conclave simulate`: the DKG among the seats, then H heights of committee agreement in the
//! deterministic simulator, with the faulty seats attacking (see `docs/CLI.md`).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use conclave_bft::adapter::{KeySetup, Ratio, RealProvider, SetupProgress, VariantChoice};
use conclave_bft::sim::{
    run_simulation_with_progress, AdversaryKind, CryptoProvider, MockProvider, Mode, SimConfig,
    SimReport,
};
use indicatif::ProgressBar;

use crate::common::{fail as fail_with, progress_bar, progress_phase, seed_number, VariantArg};

/// The largest `--nodes`: the simulator's memory grows with N² (N = 128 with mock crypto and
/// 2 heights: 144 MB; N = 1024: 4.6 GB), and real crypto first runs an N-party DKG.
pub const MAX_NODES: u32 = 256;

/// The largest `--heights`.
pub const MAX_HEIGHTS: u64 = 100_000;

/// The largest `--nodes` × `--heights` of one run: it keeps every honest node's decision list
/// (with its certificate) for the report, about 0.5 kB each in the JSON.
pub const MAX_NODE_HEIGHTS: u64 = 1_000_000;

/// How many violations the human summary lists before `… (N in all)`.
const SHOWN_VIOLATIONS: usize = 3;

/// `--adversary`: every kind of the simulator (`mixed`, the concrete ones and the aggregator
/// attacks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdversaryArg(pub AdversaryKind);

const ADVERSARY_COUNT: usize = AdversaryKind::CONCRETE.len() + 1 + AdversaryKind::AGGREGATOR.len();

/// `mixed` first, then the concrete kinds in the order `mixed` assigns them, then the kinds
/// that attack vote aggregators (`--aggregators`).
static ADVERSARIES: [AdversaryArg; ADVERSARY_COUNT] = {
    let mut all = [AdversaryArg(AdversaryKind::Mixed); ADVERSARY_COUNT];
    let mut i = 0;
    while i < AdversaryKind::CONCRETE.len() {
        all[i + 1] = AdversaryArg(AdversaryKind::CONCRETE[i]);
        i += 1;
    }
    let mut j = 0;
    while j < AdversaryKind::AGGREGATOR.len() {
        all[i + 1 + j] = AdversaryArg(AdversaryKind::AGGREGATOR[j]);
        j += 1;
    }
    all
};

impl clap::ValueEnum for AdversaryArg {
    fn value_variants<'a>() -> &'a [Self] {
        &ADVERSARIES
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.name()))
    }
}

mod epochs;
mod sweep;

/// `--mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// One DKG'd threshold key; constant-size certificates.
    #[default]
    Threshold,
    /// Per-step VRF committees; multisignature certificates with credentials.
    Sampled,
}

/// `--crypto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CryptoArg {
    /// BLS12-381 threshold signatures, DKG and VRF sortition.
    #[default]
    Real,
    /// The test-only keyed-hash scheme (fast, insecure).
    Mock,
}

/// `--key-setup`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum KeySetupArg {
    /// The dealer-free DKG among the seats.
    #[default]
    Dkg,
    /// A trusted dealer (benchmarks).
    TrustedDealer,
}

/// Arguments of `conclave simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Committee size N (at most 256).
    #[arg(long, default_value_t = 16)]
    pub nodes: u32,
    /// Faulty nodes F (default ⌊(N−1)/3⌋; in sampled mode ⌊(1−h)·N⌋ from --honest-fraction).
    #[arg(long)]
    pub faulty: Option<u32>,
    /// Sampled mode: the stated honest fraction of stake h (e.g. 0.8 or 4/5).
    #[arg(long, default_value = "0.8", value_parser = ratio_arg)]
    pub honest_fraction: String,
    /// Sampled mode: expected committee weight per step τ (default min(N, 2000)).
    #[arg(long)]
    pub tau: Option<u64>,
    /// Sampled mode: the largest acceptable per-step failure probability (safety or liveness).
    #[arg(long, default_value = "1e-9", value_parser = ratio_arg)]
    pub failure_target: String,
    /// What the faulty nodes do (`mixed`: each faulty seat takes the next concrete kind).
    #[arg(long, value_enum, default_value_t = AdversaryArg(AdversaryKind::Mixed))]
    pub adversary: AdversaryArg,
    /// κ vote aggregators per step (0: off, every vote goes to everyone; at most --nodes).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub aggregators: u32,
    /// Heights to decide (at most 100000, and N × heights at most 1000000).
    #[arg(long, default_value_t = 20)]
    pub heights: u64,
    /// Seed of every random choice (keys, network, fault placement): 1 to 16 hex digits, read
    /// as a number.
    #[arg(long, default_value = "0")]
    pub seed: String,
    /// Certificate mode.
    #[arg(long, value_enum, default_value_t = ModeArg::Threshold)]
    pub mode: ModeArg,
    /// Base one-way latency in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// Uniform extra delay in 0..=J milliseconds.
    #[arg(long, default_value_t = 20)]
    pub jitter_ms: u64,
    /// Drop probability before GST.
    #[arg(long, default_value_t = 0.0)]
    pub drop: f64,
    /// Global stabilisation time in milliseconds (drops stop here).
    #[arg(long, default_value_t = 0)]
    pub gst_ms: u64,
    /// Real BLS/DKG/VRF crypto or the test-only mock.
    #[arg(long, value_enum, default_value_t = CryptoArg::Real)]
    pub crypto: CryptoArg,
    /// BLS variant (real crypto).
    #[arg(long, value_enum, default_value_t = VariantArg::MinPk)]
    pub variant: VariantArg,
    /// Threshold key generation (real crypto, threshold mode).
    #[arg(long, value_enum, default_value_t = KeySetupArg::Dkg)]
    pub key_setup: KeySetupArg,
    /// Print one JSON object on stdout instead of the summary table.
    #[arg(long)]
    pub json: bool,
    /// Run N seeds (from --seed) across every adversary, the sizes 4, 7, 10, 16, 31 and six
    /// network/crash scenarios instead of one run (--nodes, --faulty, --adversary ignored);
    /// prints a table of violations.
    #[arg(long, value_name = "N")]
    pub sweep: Option<u64>,
    /// With --sweep: F = f + E faulty seats in every run (1: one fault too many).
    #[arg(long, default_value_t = 0, value_name = "E")]
    pub extra_faulty: u32,
    /// Run K epochs (1..=100) with committee changes and the key's resharing carried in the
    /// blocks, instead of one committee (real crypto, min-pk, threshold mode; see docs/CLI.md).
    #[arg(
        long,
        value_name = "K",
        value_parser = clap::value_parser!(u32).range(1..=epochs::MAX_EPOCHS as i64),
        conflicts_with_all = [
            "nodes", "heights", "sweep", "extra_faulty", "mode", "crypto", "variant",
            "key_setup", "drop", "gst_ms", "honest_fraction", "tau", "failure_target",
        ]
    )]
    pub epochs: Option<u32>,
    /// With --epochs: genesis validators (4..=64), one seat each.
    #[arg(
        long,
        default_value_t = 4,
        requires = "epochs",
        value_parser = clap::value_parser!(u32).range(4..=epochs::MAX_VALIDATORS as i64)
    )]
    pub validators: u32,
    /// With --epochs: blocks per epoch E (4..=10000).
    #[arg(
        long,
        default_value_t = 20,
        requires = "epochs",
        value_parser = clap::value_parser!(u64).range(4..=epochs::MAX_EPOCH_LENGTH)
    )]
    pub epoch_length: u64,
    /// With --epochs: blocks per resharing round W (3W < E).
    #[arg(
        long,
        default_value_t = 4,
        requires = "epochs",
        value_parser = clap::value_parser!(u64).range(1..=epochs::MAX_EPOCH_LENGTH)
    )]
    pub resharing_window: u64,
    /// With --epochs: the committee change of each epoch, cycled: comma-separated `+J`, `-L`,
    /// `+J-L` or `0` (J validators join, the L lowest ids leave), or `none` [default:
    /// +1,+3,-2,-1].
    #[arg(
        long,
        value_name = "LIST",
        requires = "epochs",
        allow_hyphen_values = true,
        value_parser = epochs::changes_arg
    )]
    pub changes: Option<epochs::Plan>,
    /// With --epochs: in this epoch (from 0) enough honest old holders stay offline in the
    /// resharing that it fails; the old committee stays another epoch.
    #[arg(long, value_name = "EPOCH", requires = "epochs")]
    pub fail_epoch: Option<u32>,
    /// With --epochs: in this epoch an honest engine crashes and restarts, and an honest
    /// validator's resharing state is restored from its serialized form mid-resharing.
    #[arg(long, value_name = "EPOCH", requires = "epochs")]
    pub crash_epoch: Option<u32>,
}

/// A ratio flag is checked when parsed, so a malformed value is a usage error (exit 2) like every
/// other bad flag; the text is kept for display.
fn ratio_arg(s: &str) -> Result<String, String> {
    s.parse::<Ratio>().map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

fn fail(message: &str) -> ExitCode {
    fail_with(1, message)
}

/// The sampled-mode provider settings from the flags (validated when the setup runs).
fn sampled_provider(args: &SimulateArgs, real: RealProvider) -> Result<RealProvider, String> {
    let honest: Ratio = args
        .honest_fraction
        .parse()
        .map_err(|e| format!("--honest-fraction: {e}"))?;
    let target: Ratio = args
        .failure_target
        .parse()
        .map_err(|e| format!("--failure-target: {e}"))?;
    let mut real = real
        .with_honest_fraction(honest)
        .with_failure_target(target);
    if let Some(tau) = args.tau {
        if tau == 0 || tau > u64::from(args.nodes) {
            return Err(format!("--tau must be in 1..=--nodes, got {tau}"));
        }
        real = real.with_tau_step(tau);
    }
    Ok(real)
}

fn build_config(args: &SimulateArgs, real: &RealProvider) -> Result<SimConfig, String> {
    if args.nodes == 0 || args.nodes > MAX_NODES {
        return Err(format!(
            "--nodes must be in 1..={MAX_NODES} (memory grows with N²), got {}",
            args.nodes
        ));
    }
    let mut config = SimConfig::new(args.nodes);
    if args.mode == ModeArg::Sampled && args.crypto == CryptoArg::Real {
        // Sampled committees are safe only under an honest-stake assumption: the faulty
        // seats follow from the stated fraction (refused if its failure probability is too high).
        config.faulty = real.sampled_params(args.nodes)?.faulty();
    }
    if let Some(f) = args.faulty {
        if f >= args.nodes {
            return Err(format!(
                "--faulty must be below --nodes ({}), got {f}",
                args.nodes
            ));
        }
        config.faulty = f;
    }
    config.adversary = args.adversary.0;
    if args.aggregators > args.nodes {
        return Err(format!(
            "--aggregators must be in 0..=--nodes ({}), got {}",
            args.nodes, args.aggregators
        ));
    }
    if args.aggregators == 0 && AdversaryKind::AGGREGATOR.contains(&config.adversary) {
        return Err(format!(
            "--adversary {} attacks vote aggregators: it needs --aggregators K > 0",
            config.adversary
        ));
    }
    config.aggregators = args.aggregators;
    if args.heights == 0 || args.heights > MAX_HEIGHTS {
        return Err(format!(
            "--heights must be in 1..={MAX_HEIGHTS}, got {}",
            args.heights
        ));
    }
    // A sweep keeps no decision lists; one run keeps every honest node's.
    if args.sweep.is_none() && u64::from(args.nodes) * args.heights > MAX_NODE_HEIGHTS {
        return Err(format!(
            "--nodes × --heights must be at most {MAX_NODE_HEIGHTS} (the report keeps every \
             decision), got {} × {}",
            args.nodes, args.heights
        ));
    }
    config.heights = args.heights;
    config.seed = seed_number(&args.seed).map_err(|e| e.0)?;
    config.mode = match args.mode {
        ModeArg::Threshold => Mode::Threshold,
        ModeArg::Sampled => Mode::Sampled,
    };
    if args.latency_ms > 60_000 || args.jitter_ms > 60_000 {
        return Err("--latency-ms and --jitter-ms must be at most 60000".into());
    }
    config.latency_ms = args.latency_ms;
    config.jitter_ms = args.jitter_ms;
    if !(0.0..=1.0).contains(&args.drop) {
        return Err(format!("--drop must be a probability, got {}", args.drop));
    }
    if args.drop >= 1.0 && args.gst_ms == 0 {
        return Err("--drop 1 needs --gst-ms > 0".into());
    }
    config.drop = args.drop;
    config.gst_ms = args.gst_ms;
    Ok(config)
}

/// The DKG phase of the setup drives `bar` (as party steps), until the first height.
fn dkg_progress(bar: &ProgressBar) -> SetupProgress {
    let bar = bar.clone();
    SetupProgress::new(move |done, total| {
        if bar.length() != Some(total) || bar.message() != "DKG" {
            progress_phase(&bar, "DKG", total);
        }
        bar.set_position(done);
    })
}

/// Runs `conclave simulate`.
pub fn run(args: SimulateArgs) -> ExitCode {
    if let Some(k) = args.epochs {
        return epochs::run(&args, k);
    }
    // "setup" until the DKG reports (real crypto, threshold mode) or the first height.
    let bar = progress_bar("setup", args.heights);
    let real = RealProvider::new()
        .with_setup_progress(dkg_progress(&bar))
        .with_variant(match args.variant {
            VariantArg::MinPk => VariantChoice::MinPk,
            VariantArg::MinSig => VariantChoice::MinSig,
        })
        .with_key_setup(match args.key_setup {
            KeySetupArg::Dkg => KeySetup::Dkg,
            KeySetupArg::TrustedDealer => KeySetup::TrustedDealer,
        });
    let real = match sampled_provider(&args, real) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let config = match build_config(&args, &real) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let provider: &dyn CryptoProvider = match args.crypto {
        CryptoArg::Real => &real,
        CryptoArg::Mock => &MockProvider,
    };
    if let Some(seeds) = args.sweep {
        if seeds == 0 || seeds > 10_000_000 {
            return fail(&format!("--sweep must be in 1..=10000000, got {seeds}"));
        }
        if args.extra_faulty > 10 {
            return fail("--extra-faulty must be at most 10");
        }
        bar.finish_and_clear();
        if config.mode == Mode::Sampled && args.crypto == CryptoArg::Mock {
            return fail("sampled mode needs --crypto real");
        }
        // F before --extra-faulty: threshold f = ⌊(N−1)/3⌋; sampled ⌊(1−h)·N⌋ at the stated h
        // (with τ at most N: a sweep size below --tau samples everyone).
        let threshold = |n: u32| Ok(n.saturating_sub(1) / 3);
        let sampled = |n: u32| real.sampled_params(n).map(|p| p.faulty());
        let (tolerated, rule): (sweep::Tolerated<'_>, String) = match config.mode {
            Mode::Threshold => (&threshold, "f = ⌊(N−1)/3⌋".into()),
            Mode::Sampled => (
                &sampled,
                format!("f = ⌊(1−h)·N⌋, h = {}", args.honest_fraction),
            ),
        };
        return match sweep::sweep(
            seeds,
            &config,
            args.extra_faulty,
            tolerated,
            &rule,
            provider,
        ) {
            Ok(s) => sweep::finish(&s, args.json),
            Err(e) => fail(&e),
        };
    }
    if args.extra_faulty > 0 {
        return fail("--extra-faulty needs --sweep");
    }
    let started = Instant::now();
    let result = run_simulation_with_progress(&config, provider, &mut |h| {
        if bar.message() != "heights" {
            progress_phase(&bar, "heights", config.heights);
        }
        bar.set_position(h);
    });
    bar.finish_and_clear();
    let total_ms = started.elapsed().as_millis() as u64;
    let report = match result {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    let key_setup = match (args.crypto, config.mode) {
        (CryptoArg::Mock, _) => "mock".to_string(),
        _ => real
            .last_setup()
            .map(|i| i.key_setup)
            .unwrap_or_else(|| "unknown".into()),
    };
    if args.json {
        let mut value = match serde_json::to_value(&report) {
            Ok(v) => v,
            Err(e) => return fail(&e.to_string()),
        };
        if let Some(config) = value.get_mut("config").and_then(|c| c.as_object_mut()) {
            let crypto = match args.crypto {
                CryptoArg::Real => "real",
                CryptoArg::Mock => "mock",
            };
            config.insert("crypto".into(), crypto.into());
            config.insert("key_setup".into(), key_setup.as_str().into());
        }
        if let (CryptoArg::Real, Some(info)) = (args.crypto, real.last_setup()) {
            if let (Some(obj), Ok(setup)) = (value.as_object_mut(), serde_json::to_value(info)) {
                obj.insert("setup".into(), setup);
            }
        }
        println!("{value}");
    } else {
        print_summary(&report, &key_setup, real.last_setup().as_ref(), total_ms);
    }
    ExitCode::from(report.exit_code() as u8)
}

fn print_summary(
    report: &SimReport,
    key_setup: &str,
    info: Option<&conclave_bft::adapter::SetupInfo>,
    total_ms: u64,
) {
    let c = &report.config;
    let decided = report.summary.heights_decided.max(1) as f64;
    let periods: Vec<u32> = report
        .decisions
        .values()
        .flat_map(|d| d.iter().map(|r| r.period))
        .collect();
    let mean_period = if periods.is_empty() {
        0.0
    } else {
        f64::from(periods.iter().sum::<u32>()) / periods.len() as f64
    };
    let signature_bytes = report
        .decisions
        .values()
        .flat_map(|d| d.first())
        .map(|r| r.certificate.signature.len() / 2)
        .next()
        .unwrap_or(0);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for e in &report.evidence {
        let kind = serde_json::to_value(e.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "unnamed".to_string());
        *kinds.entry(kind).or_default() += 1;
    }
    let evidence = if kinds.is_empty() {
        "none".to_string()
    } else {
        kinds
            .iter()
            .map(|(k, n)| format!("{k} x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows: Vec<(&str, String)> = vec![
        (
            "committee",
            format!(
                "N = {}, F = {} ({}), {} mode{}",
                c.nodes,
                c.faulty,
                c.adversary,
                match c.mode {
                    Mode::Threshold => "threshold",
                    Mode::Sampled => "sampled",
                },
                match c.aggregators {
                    0 => String::new(),
                    k => format!(", {k} vote aggregators per step"),
                }
            ),
        ),
        (
            "crypto",
            format!(
                "{} {}, key setup {key_setup}{}",
                report.variant,
                report.dst,
                info.and_then(|i| i.threshold)
                    .map(|t| format!(", quorum {}", t + 1))
                    .unwrap_or_default()
            ),
        ),
        (
            "heights decided",
            format!("{} / {}", report.summary.heights_decided, c.heights),
        ),
        (
            "periods used",
            format!("mean {mean_period:.2}, max {}", report.metrics.max_period),
        ),
        (
            "messages / decision",
            format!("{:.0}", report.metrics.messages as f64 / decided),
        ),
        (
            "bytes / decision",
            format!("{:.0}", report.metrics.bytes as f64 / decided),
        ),
        (
            "certificate size",
            format!(
                "{} B encoded ({signature_bytes} B signature)",
                report.summary.certificate_bytes
            ),
        ),
        ("evidence found", evidence),
        (
            "time",
            format!(
                "{} ms simulated, {} ms wall ({} ms key setup, {} ms agreement)",
                report.metrics.sim_time_ms,
                total_ms,
                info.map_or(0, |i| i.setup_wall_ms),
                report.metrics.wall_ms
            ),
        ),
        ("violations", violations_text(&report.violations)),
    ];
    let mut rows = rows;
    if let Some(s) = info.and_then(|i| i.sampled.as_ref()) {
        rows.insert(
            2,
            (
                "sampled model",
                format!(
                    "h = {} (F ≤ {} assumed), τ = {}, T = {}, quorum {}; per step: safety {:.3e}, \
                     liveness {:.3e} (target {:.0e}); with F = {}: safety {:.3e}, liveness {:.3e}; \
                     per height (≤ {:.3} periods): safety {:.3e}, with F = {}: {:.3e}",
                    s.honest_fraction,
                    s.faulty_assumed,
                    info.and_then(|i| i.tau_step).unwrap_or(0),
                    s.threshold_per_step,
                    s.quorum,
                    s.safety_failure,
                    s.liveness_failure,
                    s.failure_target,
                    s.faulty_actual,
                    s.actual_safety_failure,
                    s.actual_liveness_failure,
                    s.expected_periods,
                    s.height_safety_failure,
                    s.faulty_actual,
                    s.actual_height_safety_failure
                ),
            ),
        );
    }
    for (k, v) in rows {
        println!("{k:<20} {v}");
    }
}

/// The violations for the table: how many of each oracle, then the first few (each line of
/// the report starts with its oracle's name; past 64 the simulator counts the rest).
fn violations_text(violations: &[String]) -> String {
    let mut total = 0u64;
    let mut by_oracle: BTreeMap<&str, u64> = BTreeMap::new();
    let mut listed = Vec::new();
    for v in violations {
        let more = v
            .strip_prefix("... and ")
            .and_then(|r| r.strip_suffix(" more violations"))
            .and_then(|n| n.parse::<u64>().ok());
        match more {
            Some(n) => {
                total += n;
                *by_oracle.entry("other").or_default() += n;
            }
            None => {
                total += 1;
                *by_oracle
                    .entry(v.split(':').next().unwrap_or(""))
                    .or_default() += 1;
                listed.push(v.as_str());
            }
        }
    }
    if total == 0 {
        return "none".into();
    }
    let counts: Vec<String> = by_oracle.iter().map(|(o, n)| format!("{o} x{n}")).collect();
    let mut text = format!("{total} ({})", counts.join(", "));
    for v in listed.iter().take(SHOWN_VIOLATIONS) {
        text.push_str(&format!("\n{:<20} {v}", ""));
    }
    if listed.len() > SHOWN_VIOLATIONS || (total as usize) > listed.len() {
        text.push_str(&format!(
            "\n{:<20} … {} more (all of them in --json)",
            "",
            total - SHOWN_VIOLATIONS.min(listed.len()) as u64
        ));
    }
    text
}
