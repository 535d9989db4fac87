//! `conclave simulate --epochs K`: K epochs of the real engine, each under its own committee,
//! with the committee changes and the key's resharing carried in the decided blocks
//! ([`conclave_bft::sim::epochs`]); prints one row per epoch (or one JSON object).

use std::process::ExitCode;

use conclave_bft::sim::epochs::{run_epochs_with_progress, EpochSimConfig, EpochSimReport};
use conclave_bft::sim::epochs::{EpochRecord, Transition};
use conclave_threshold_sig::{standard_dst, MinPk, Scheme};

use super::SimulateArgs;
use crate::common::{fail, progress_bar, seed_number};

/// The most epochs of one run.
pub const MAX_EPOCHS: u32 = 100;
/// The most genesis validators.
pub const MAX_VALIDATORS: u32 = 64;
/// The longest epoch in blocks.
pub const MAX_EPOCH_LENGTH: u64 = 10_000;
/// The most joins or leaves of one `--changes` item.
pub const MAX_CHANGE: u32 = 64;

/// One `--changes` item: `+J`, `-L`, `+J-L` (J joins, L leaves) or `0` (no change).
pub fn change_arg(s: &str) -> Result<Transition, String> {
    let bad = || format!("`{s}` is not +J, -L, +J-L or 0");
    let s = s.trim();
    if s == "0" {
        return Ok(Transition { join: 0, leave: 0 });
    }
    let (join, rest) = match s.strip_prefix('+') {
        Some(r) => {
            let end = r.find('-').unwrap_or(r.len());
            (Some(&r[..end]), &r[end..])
        }
        None => (None, s),
    };
    let leave = match rest {
        "" => None,
        r => Some(r.strip_prefix('-').ok_or_else(bad)?),
    };
    if join.is_none() && leave.is_none() {
        return Err(bad());
    }
    let number = |d: Option<&str>| -> Result<u32, String> {
        match d {
            None => Ok(0),
            Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => d
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_CHANGE)
                .ok_or_else(|| format!("`{s}`: at most {MAX_CHANGE} joins or leaves per epoch")),
            Some(_) => Err(bad()),
        }
    };
    Ok(Transition {
        join: number(join)?,
        leave: number(leave)?,
    })
}

/// The parsed `--changes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan(pub Vec<Transition>);

/// The plan of `--changes`: comma-separated items (`none`: no changes).
pub fn changes_arg(s: &str) -> Result<Plan, String> {
    if s.trim() == "none" {
        return Ok(Plan(Vec::new()));
    }
    s.split(',')
        .map(change_arg)
        .collect::<Result<_, _>>()
        .map(Plan)
}

/// The flags as an [`EpochSimConfig`]; errors are usage errors (exit 2).
fn config(args: &SimulateArgs, epochs: u32) -> Result<EpochSimConfig, String> {
    let mut cfg = EpochSimConfig::new(epochs);
    cfg.validators = args.validators;
    cfg.length = args.epoch_length;
    cfg.window = args.resharing_window;
    if cfg.window.checked_mul(3).is_none_or(|w| w >= cfg.length) {
        return Err(format!(
            "--resharing-window ({}) × 3 must be below --epoch-length ({}): the three rounds \
             of the resharing end at the boundary",
            cfg.window, cfg.length
        ));
    }
    cfg.seed = seed_number(&args.seed).map_err(|e| e.0)?;
    cfg.adversary = args.adversary.0;
    cfg.byzantine = match args.faulty {
        None => true,
        Some(0) => false,
        Some(f) => {
            return Err(format!(
                "with --epochs, --faulty is 0 (honest committees) or omitted (f = ⌊(n−1)/3⌋ of \
                 every committee), got {f}"
            ))
        }
    };
    if let Some(plan) = &args.changes {
        cfg.plan = plan.0.clone();
    }
    if let Some(e) = args.fail_epoch {
        if e + 1 >= epochs {
            return Err(format!(
                "--fail-epoch must be below {} (the last epoch ends the run without a \
                 resharing), got {e}",
                epochs - 1
            ));
        }
        cfg.fail_epoch = Some(e);
    }
    if let Some(e) = args.crash_epoch {
        if e >= epochs {
            return Err(format!(
                "--crash-epoch must be below --epochs ({epochs}), got {e}"
            ));
        }
        cfg.crash_epoch = Some(e);
    }
    if args.latency_ms > 60_000 || args.jitter_ms > 60_000 {
        return Err("--latency-ms and --jitter-ms must be at most 60000".into());
    }
    cfg.latency_ms = args.latency_ms;
    cfg.jitter_ms = args.jitter_ms;
    Ok(cfg)
}

/// Runs `conclave simulate --epochs K`.
pub fn run(args: &SimulateArgs, epochs: u32) -> ExitCode {
    let cfg = match config(args, epochs) {
        Ok(c) => c,
        Err(e) => return fail(2, e),
    };
    let bar = progress_bar("epochs", u64::from(epochs));
    let result = run_epochs_with_progress(&cfg, &mut |e| bar.set_position(e + 1));
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => return fail(1, e),
    };
    if args.json {
        let mut value = match serde_json::to_value(&report) {
            Ok(v) => v,
            Err(e) => return fail(1, e),
        };
        if let Some(obj) = value.as_object_mut() {
            let dst = standard_dst::<MinPk>(Scheme::ProofOfPossession);
            obj.insert("variant".into(), "min-pk".into());
            obj.insert("dst".into(), String::from_utf8_lossy(&dst).into());
        }
        println!("{value}");
    } else {
        print_table(&report);
    }
    ExitCode::from(report.exit_code() as u8)
}

fn ids(v: &[u32]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
    }
}

/// The committee as `id` (stake 1) or `id×stake`.
fn committee(e: &EpochRecord) -> String {
    e.committee
        .iter()
        .zip(&e.stake)
        .map(|(id, s)| {
            if *s == 1 {
                id.to_string()
            } else {
                format!("{id}×{s}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn resharing(e: &EpochRecord) -> String {
    let Some(r) = &e.resharing else {
        return "- (last epoch)".into();
    };
    if r.outcome != "reshared" {
        return format!("FAILED: {}", r.reason);
    }
    let mut text = format!("reshared, qualified {}", ids(&r.qualified));
    if !r.disqualified.is_empty() {
        let d: Vec<String> = r
            .disqualified
            .iter()
            .map(|(id, why)| format!("{id} {why}"))
            .collect();
        text.push_str(&format!(", disqualified {}", d.join(", ")));
    }
    text
}

fn print_table(r: &EpochSimReport) {
    println!(
        "{:<6} {:<11} {:<6} {:<4} {:<24} {:<12} {:<18} resharing at the boundary",
        "epoch", "heights", "seats", "t", "committee", "key from", "qualified (key)"
    );
    for e in &r.epochs {
        println!(
            "{:<6} {:<11} {:<6} {:<4} {:<24} {:<12} {:<18} {}",
            e.epoch,
            format!("{}-{}", e.heights.0, e.heights.1),
            e.seats,
            e.threshold,
            committee(e),
            e.key_from,
            ids(&e.qualified_old_holders),
            resharing(e)
        );
    }
    let same = r
        .epochs
        .iter()
        .all(|e| e.group_public_key == r.group_public_key);
    println!(
        "group key {} ({})",
        r.group_public_key,
        if same {
            "the same in every epoch"
        } else {
            "CHANGED"
        }
    );
    println!(
        "certificates {} verified under it (conclave-threshold-sig, outside the engine)",
        r.certificates_verified
    );
    if r.violations.is_empty() {
        println!("violations none");
    } else {
        println!("violations {}", r.violations.len());
        for v in &r.violations {
            println!("  {v}");
        }
    }
}
