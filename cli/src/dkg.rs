//! `conclave dkg run|reshare`: the Joint-Feldman DKG (and resharing) with every participant in
//! one process over an in-memory broadcast, with named Byzantine participants.

use std::collections::BTreeMap;
use std::process::ExitCode;

use conclave_dkg::sim::{self, DkgReport, ReshareConfig, SimConfig};

use crate::common::{
    fail, progress_bar, progress_phase, seed_or_fresh, summarise, warn, Invalid, VariantArg,
};

/// The largest `--n` / `--new-n`: the in-process DKG holds n² encrypted shares and every party
/// checks n dealings (n = 64: 65 MB and 6 s in a debug build; cost grows as n² in memory and
/// faster than n² in time).
pub const MAX_DKG_SEATS: u32 = 256;

/// How many items a human list shows before `… (N in all)`.
const SHOWN: usize = 10;

/// `--byzantine I:KIND,...`, parsed by clap (a malformed list is a usage error, exit 2).
#[derive(Clone, Debug, Default)]
pub struct ByzantineList(Vec<(u32, sim::Behaviour)>);

fn parse_byzantine(s: &str) -> Result<ByzantineList, String> {
    sim::parse_byzantine(s)
        .map(ByzantineList)
        .map_err(|e| e.to_string())
}

/// DKG subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DkgCommand {
    /// Run a fresh DKG among n seats with degree t.
    Run {
        /// Number of seats (at most 256).
        #[arg(long)]
        n: u32,
        /// Degree (any t+1 shares reconstruct); the engine uses t = 2f for n = 3f+1.
        #[arg(long)]
        t: u32,
        /// BLS variant.
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Seed, 1 to 64 hex digits (default: fresh randomness; the seed used is printed).
        #[arg(long)]
        seed: Option<String>,
        /// I:KIND,... with KIND silent|bad-share|bad-commitment|wrong-justification|false-complaint.
        #[arg(long, value_parser = parse_byzantine)]
        byzantine: Option<ByzantineList>,
        /// Print the JSON report.
        #[arg(long)]
        json: bool,
    },
    /// Reshare the key of a previous run to a new committee (same group public key).
    Reshare {
        /// JSON report of a previous run or reshare.
        #[arg(long)]
        from: std::path::PathBuf,
        /// New number of seats (at most 256).
        #[arg(long = "new-n")]
        new_n: u32,
        /// New degree.
        #[arg(long = "new-t")]
        new_t: u32,
        /// Seed, 1 to 64 hex digits (default: fresh randomness; the seed used is printed).
        #[arg(long)]
        seed: Option<String>,
        /// Dealer kinds apply to old holder I, false-complaint to new player I.
        #[arg(long, value_parser = parse_byzantine)]
        byzantine: Option<ByzantineList>,
        /// Print the JSON report.
        #[arg(long)]
        json: bool,
    },
}

/// A finished run: the report, the seed to reproduce it, the dealers needed, the output format.
struct Finished {
    report: DkgReport,
    seed: String,
    dealers: u32,
    needed: u32,
    json: bool,
}

fn seats(what: &str, n: u32) -> Result<(), Invalid> {
    if n > MAX_DKG_SEATS {
        return Err(Invalid(format!(
            "{what} must be at most {MAX_DKG_SEATS} (the in-process DKG), got {n}"
        )));
    }
    Ok(())
}

fn byzantine_text(list: &[(u32, sim::Behaviour)]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|(i, b)| format!("{i} {}", b.name()))
        .collect();
    summarise(&items, SHOWN)
}

fn execute(cmd: DkgCommand) -> Result<Finished, Invalid> {
    match cmd {
        DkgCommand::Run {
            n,
            t,
            variant,
            seed,
            byzantine,
            json,
        } => {
            seats("--n", n)?;
            let (seed, seed_hex) = seed_or_fresh(seed.as_deref())?;
            let cfg = SimConfig::new(variant.dkg(), n, t, seed)
                .with_byzantine(byzantine.unwrap_or_default().0);
            if !json {
                println!(
                    "running DKG: {} n = {n}, t = {t}, seed {seed_hex}, byzantine: {}",
                    cfg.variant,
                    byzantine_text(&cfg.byzantine)
                );
            }
            Ok(Finished {
                report: with_progress(|p| sim::run_dkg_with_progress(&cfg, p))?,
                seed: seed_hex,
                dealers: n,
                needed: t.saturating_add(1),
                json,
            })
        }
        DkgCommand::Reshare {
            from,
            new_n,
            new_t,
            seed,
            byzantine,
            json,
        } => {
            seats("--new-n", new_n)?;
            let text = std::fs::read_to_string(&from)
                .map_err(|e| Invalid(format!("cannot read {}: {e}", from.display())))?;
            let previous: DkgReport = serde_json::from_str(&text)
                .map_err(|e| Invalid(format!("{}: not a DKG report: {e}", from.display())))?;
            let (seed, seed_hex) = seed_or_fresh(seed.as_deref())?;
            let cfg = ReshareConfig::new(new_n, new_t, seed)
                .with_byzantine(byzantine.unwrap_or_default().0);
            if !json {
                println!(
                    "resharing the {} key from n = {}, t = {} to n = {new_n}, t = {new_t}, seed {seed_hex}, byzantine: {}",
                    previous.variant,
                    previous.n,
                    previous.t,
                    byzantine_text(&cfg.byzantine)
                );
            }
            Ok(Finished {
                report: with_progress(|p| sim::run_reshare_with_progress(&previous, &cfg, p))?,
                seed: seed_hex,
                dealers: previous.n,
                needed: previous.t.saturating_add(1),
                json,
            })
        }
    }
}

/// Run `f` with a progress bar on stderr (party steps; only on a terminal), cleared at the end.
fn with_progress<T>(f: impl FnOnce(&mut dyn FnMut(u64, u64)) -> T) -> T {
    let bar = progress_bar("DKG", 0);
    let out = f(&mut |done, total| {
        if bar.length() != Some(total) {
            progress_phase(&bar, "DKG", total);
        }
        bar.set_position(done);
    });
    bar.finish_and_clear();
    out
}

fn summary(r: &DkgReport) {
    println!("group public key: {}", r.group_public_key);
    println!(
        "qualified dealers ({}): {}",
        r.qualified.len(),
        summarise(&r.qualified, SHOWN)
    );
    let mut disqualified: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for d in &r.disqualified {
        disqualified.entry(&d.reason).or_default().push(d.index);
    }
    for (reason, dealers) in &disqualified {
        println!(
            "disqualified for {reason} ({}): {}",
            dealers.len(),
            summarise(dealers, SHOWN)
        );
    }
    let mut evidence: BTreeMap<&str, Vec<&sim::ReportEvidence>> = BTreeMap::new();
    for e in &r.evidence {
        evidence.entry(&e.kind).or_default().push(e);
    }
    for (kind, items) in &evidence {
        let culprits: Vec<u32> = items.iter().map(|e| e.culprit).collect();
        println!(
            "evidence of {kind} ({}) against {}; first: {}",
            items.len(),
            summarise(&culprits, SHOWN),
            items[0].detail
        );
    }
    println!("honest players with consistent shares: {}", r.players.len());
    println!(
        "{} messages, {} bytes, {} ms",
        r.metrics.messages, r.metrics.bytes, r.metrics.wall_ms
    );
}

/// Run a DKG subcommand: exit 0 on success, 1 with one line on stderr on invalid input or when
/// fewer than the needed dealers qualified.
pub fn run(cmd: DkgCommand) -> ExitCode {
    let done = match execute(cmd) {
        Ok(done) => done,
        Err(Invalid(e)) => return fail(1, e),
    };
    let qualified = done.report.qualified.len() as u64;
    // The library refuses a key with fewer than t+1 qualified dealers; never print one.
    if qualified < u64::from(done.needed) {
        return fail(
            1,
            format!(
                "not enough qualified dealers: {qualified} of {}, need {}",
                done.dealers, done.needed
            ),
        );
    }
    let disqualified = done.report.disqualified.len() as u64;
    if 2 * disqualified > u64::from(done.dealers) {
        warn(format!(
            "{disqualified} of {} dealers were disqualified; the key rests on the {qualified} \
             others (at least {} needed)",
            done.dealers, done.needed
        ));
    }
    if done.json {
        let mut value = match serde_json::to_value(&done.report) {
            Ok(v) => v,
            Err(e) => return fail(1, e),
        };
        if let Some(object) = value.as_object_mut() {
            object.insert("seed".into(), done.seed.into());
        }
        println!("{value}");
    } else {
        summary(&done.report);
        println!(
            "seed {} (pass --seed {} to reproduce)",
            done.seed, done.seed
        );
    }
    ExitCode::SUCCESS
}
