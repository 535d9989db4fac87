//! `conclave simulate --sweep N`: N seeds across every adversary, the committee sizes
//! 4, 7, 10, 16 and 31, and six network/crash scenarios, with every oracle on; prints a table
//! of runs and violations per adversary, size and scenario (or one JSON object).
//!
//! Seed `s` (from `--seed` on) runs size `SIZES[i % 5]`, adversary `KINDS[(i / 5) % 13]` and
//! scenario `SCENARIOS[(i / 65) % 6]` with `i = s − first seed`, so every combination comes up
//! once per 390 seeds. Threshold or sampled mode (`--mode`): F = f + E with f from the mode's
//! fault bound (sampled: the stated honest fraction's ⌊(1−h)·N⌋). Runs keep no decision lists and the sweep keeps only counters and the
//! first [`EXAMPLES`] violations, so its memory does not grow with N.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use conclave_bft::sim::{
    run_simulation_with, AdversaryKind, CrashPoint, CryptoProvider, LastWrite, Mode, SimConfig,
    SimOptions, SimReport, LIVENESS_PERIODS,
};
use serde::Serialize;

/// Committee sizes swept.
pub const SIZES: [u32; 5] = [4, 7, 10, 16, 31];
/// Violating runs quoted in full.
pub const EXAMPLES: usize = 20;
/// Violation categories counted (a violation's text starts with its category).
const CATEGORIES: [&str; 9] = [
    "agreement",
    "validity",
    "integrity",
    "certificate",
    "liveness",
    "accountability",
    "blame",
    "framing",
    "barrier",
];

/// A network and crash scenario of the sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// No loss, GST = 0.
    Synchronous,
    /// Two honest halves cut apart and 20 % loss until GST = 2 s.
    Partitioned,
    /// One honest node crashes at a random time and restarts.
    CrashTimed,
    /// One honest node crashes right after a persist whose write is lost.
    CrashAfterPersistLost,
    /// One honest node crashes between the height's persist and `Decide` (write kept).
    CrashBeforeDecide,
    /// One honest node crashes right after a persist whose write is torn.
    CrashAfterPersistTorn,
}

impl Scenario {
    /// All scenarios, in sweep order.
    pub const ALL: [Scenario; 6] = [
        Scenario::Synchronous,
        Scenario::Partitioned,
        Scenario::CrashTimed,
        Scenario::CrashAfterPersistLost,
        Scenario::CrashBeforeDecide,
        Scenario::CrashAfterPersistTorn,
    ];

    /// The table's name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Synchronous => "synchronous",
            Scenario::Partitioned => "partition+loss",
            Scenario::CrashTimed => "crash (timed)",
            Scenario::CrashAfterPersistLost => "crash after persist, lost",
            Scenario::CrashBeforeDecide => "crash before decide",
            Scenario::CrashAfterPersistTorn => "crash after persist, torn",
        }
    }

    fn apply(self, c: &mut SimConfig) {
        let crash = |c: &mut SimConfig, point, last_write| {
            c.crashes = 1;
            c.crash_point = point;
            c.last_write = last_write;
        };
        match self {
            Scenario::Synchronous => {}
            Scenario::Partitioned => {
                c.partition = true;
                c.drop = c.drop.max(0.2);
                c.gst_ms = c.gst_ms.max(2_000);
            }
            Scenario::CrashTimed => crash(c, CrashPoint::Timed, LastWrite::Kept),
            Scenario::CrashAfterPersistLost => crash(c, CrashPoint::AfterPersist, LastWrite::Lost),
            Scenario::CrashBeforeDecide => crash(c, CrashPoint::BeforeDecide, LastWrite::Kept),
            Scenario::CrashAfterPersistTorn => crash(c, CrashPoint::AfterPersist, LastWrite::Torn),
        }
    }
}

/// Every adversary kind, concrete ones and the mix.
fn kinds() -> Vec<AdversaryKind> {
    let mut k = AdversaryKind::CONCRETE.to_vec();
    k.push(AdversaryKind::Mixed);
    k
}

/// How many faulty seats a committee of N tolerates: f = ⌊(N−1)/3⌋ in threshold mode, the
/// stated honest fraction's ⌊(1−h)·N⌋ in sampled mode (`Err` if its parameters are refused).
pub type Tolerated<'a> = &'a dyn Fn(u32) -> Result<u32, String>;

/// The configuration of the `i`-th run of a sweep over `base`: F = `tolerated(N)` + E.
pub fn config_for(
    i: u64,
    base: &SimConfig,
    extra_faulty: u32,
    tolerated: Tolerated<'_>,
) -> Result<(SimConfig, Scenario), String> {
    let kinds = kinds();
    let nodes = SIZES[(i % SIZES.len() as u64) as usize];
    let kind = kinds[((i / SIZES.len() as u64) % kinds.len() as u64) as usize];
    let scenario = Scenario::ALL
        [((i / (SIZES.len() * kinds.len()) as u64) % Scenario::ALL.len() as u64) as usize];
    let mut c = base.clone();
    c.nodes = nodes;
    c.faulty = (tolerated(nodes)? + extra_faulty).min(nodes - 1);
    c.adversary = kind;
    c.seed = base.seed + i;
    scenario.apply(&mut c);
    Ok((c, scenario))
}

/// Counters of one table row.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Row {
    /// Runs.
    pub runs: u64,
    /// Runs with at least one violation.
    pub violating: u64,
    /// Runs with a violation of each category.
    pub violations: BTreeMap<&'static str, u64>,
    /// Highest period of an honest decision.
    pub max_period: u32,
    /// Honest-node crashes that happened.
    pub crashes: u64,
    /// Heights decided by every honest node, summed over the runs.
    pub heights_decided: u64,
}

impl Row {
    fn add(&mut self, r: &SimReport) {
        self.runs += 1;
        if !r.violations.is_empty() {
            self.violating += 1;
        }
        for category in CATEGORIES {
            if r.violations.iter().any(|v| v.starts_with(category)) {
                *self.violations.entry(category).or_default() += 1;
            }
        }
        self.max_period = self.max_period.max(r.metrics.max_period);
        self.crashes += u64::from(r.summary.crashes);
        self.heights_decided += r.summary.heights_decided;
    }
}

/// One violating run, quoted.
#[derive(Clone, Debug, Serialize)]
pub struct Example {
    /// Its seed.
    pub seed: u64,
    /// N.
    pub nodes: u32,
    /// F.
    pub faulty: u32,
    /// Adversary.
    pub adversary: String,
    /// Scenario.
    pub scenario: &'static str,
    /// Its first violations.
    pub violations: Vec<String>,
}

/// The outcome of a sweep.
#[derive(Clone, Debug, Serialize)]
pub struct Sweep {
    /// Runs.
    pub seeds: u64,
    /// First seed.
    pub first_seed: u64,
    /// Certificate mode of every run.
    pub mode: Mode,
    /// How F follows from N before `extra_faulty` (e.g. `f = ⌊(N−1)/3⌋`).
    pub faulty_rule: String,
    /// F − f in every run.
    pub extra_faulty: u32,
    /// Heights per run.
    pub heights: u64,
    /// The liveness oracle's K (honest-led periods after stabilisation).
    pub liveness_periods: u32,
    /// Rows by group ("adversary", "size", "scenario") and name.
    pub rows: Vec<(String, String, Row)>,
    /// All runs.
    pub total: Row,
    /// The first violating runs.
    pub examples: Vec<Example>,
    /// Wall-clock time of the sweep.
    pub wall_ms: u64,
}

/// Runs the sweep in `base.mode`; `Err` if a configuration is unusable. `tolerated` gives the
/// F of each size before `extra_faulty` is added; `rule` describes it for the table.
pub fn sweep(
    seeds: u64,
    base: &SimConfig,
    extra_faulty: u32,
    tolerated: Tolerated<'_>,
    rule: &str,
    crypto: &dyn CryptoProvider,
) -> Result<Sweep, String> {
    let started = Instant::now();
    let options = SimOptions {
        keep_decisions: false,
        ..SimOptions::default()
    };
    let mut rows: BTreeMap<(u8, usize, String), Row> = BTreeMap::new();
    let mut total = Row::default();
    let mut examples = Vec::new();
    // Drawn only when stderr is a terminal (never into --json output or a pipe).
    let bar = crate::common::progress_bar("runs", seeds);
    for i in 0..seeds {
        let (config, scenario) = config_for(i, base, extra_faulty, tolerated)?;
        let report = run_simulation_with(&config, crypto, &options, &mut |_| {})
            .map_err(|e| e.to_string())?;
        total.add(&report);
        let kind_index = kinds().iter().position(|k| *k == config.adversary);
        let scenario_index = Scenario::ALL.iter().position(|s| *s == scenario);
        for key in [
            (
                0,
                kind_index.unwrap_or(0),
                config.adversary.name().to_string(),
            ),
            (1, config.nodes as usize, format!("N = {}", config.nodes)),
            (2, scenario_index.unwrap_or(0), scenario.name().to_string()),
        ] {
            rows.entry(key).or_default().add(&report);
        }
        if !report.violations.is_empty() && examples.len() < EXAMPLES {
            examples.push(Example {
                seed: config.seed,
                nodes: config.nodes,
                faulty: config.faulty,
                adversary: config.adversary.name().into(),
                scenario: scenario.name(),
                violations: report.violations.iter().take(3).cloned().collect(),
            });
        }
        bar.set_position(i + 1);
        if total.violating > 0 {
            bar.set_message(format!("runs, {} violating", total.violating));
        }
    }
    bar.finish_and_clear();
    let groups = ["adversary", "size", "scenario"];
    let rows = rows
        .into_iter()
        .map(|((g, _, name), row)| (groups[g as usize].to_string(), name, row))
        .collect();
    Ok(Sweep {
        seeds,
        first_seed: base.seed,
        mode: base.mode,
        faulty_rule: rule.to_string(),
        extra_faulty,
        heights: base.heights,
        liveness_periods: LIVENESS_PERIODS,
        rows,
        total,
        examples,
        wall_ms: started.elapsed().as_millis() as u64,
    })
}

fn print_row(name: &str, row: &Row) {
    let count = |c: &str| row.violations.get(c).copied().unwrap_or(0);
    let other: u64 = CATEGORIES
        .iter()
        .filter(|c| !["agreement", "liveness", "accountability"].contains(c))
        .map(|c| count(c))
        .sum();
    println!(
        "{name:<28} {:>7} {:>9} {:>9} {:>8} {:>14} {:>7} {:>7} {:>10}",
        row.runs,
        row.violating,
        count("agreement"),
        count("liveness"),
        count("accountability"),
        other,
        row.crashes,
        row.max_period
    );
}

/// Prints the sweep's table (or JSON) and returns the exit code: 0 without violations, 3 with.
pub fn finish(s: &Sweep, json: bool) -> ExitCode {
    if json {
        match serde_json::to_string(s) {
            Ok(text) => println!("{text}"),
            Err(e) => return crate::common::fail(1, e),
        }
    } else {
        println!(
            "sweep of {} seeds from {:x} (the --seed format: hex) in {} mode: F = f{} with {}, {} heights per run, \
             liveness K = {} honest-led periods",
            s.seeds,
            s.first_seed,
            match s.mode {
                Mode::Threshold => "threshold",
                Mode::Sampled => "sampled",
            },
            if s.extra_faulty > 0 {
                format!(" + {}", s.extra_faulty)
            } else {
                String::new()
            },
            s.faulty_rule,
            s.heights,
            s.liveness_periods
        );
        println!(
            "{:<28} {:>7} {:>9} {:>9} {:>8} {:>14} {:>7} {:>7} {:>10}",
            "",
            "runs",
            "violating",
            "agreement",
            "liveness",
            "accountability",
            "other",
            "crashes",
            "max period"
        );
        let mut group = "";
        for (g, name, row) in &s.rows {
            if g != group {
                println!("by {g}:");
                group = g;
            }
            print_row(&format!("  {name}"), row);
        }
        print_row("total", &s.total);
        println!(
            "wall time {:.1} s ({:.1} ms per run)",
            s.wall_ms as f64 / 1000.0,
            s.wall_ms as f64 / s.seeds.max(1) as f64
        );
        for e in &s.examples {
            println!(
                "seed {:x} (N = {}, F = {}, {}, {}): {}",
                e.seed,
                e.nodes,
                e.faulty,
                e.adversary,
                e.scenario,
                e.violations.join("; ")
            );
        }
    }
    ExitCode::from(if s.total.violating == 0 { 0 } else { 3 })
}
