//! `conclave dkg run|reshare`: the Joint-Feldman DKG (and resharing) with every participant in
//! one process over an in-memory broadcast, with named Byzantine participants.

use std::io::Write as _;
use std::process::ExitCode;

/// Print to stdout, ignoring a closed pipe (never panic).
macro_rules! out {
    ($($a:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($a)*);
    }};
}

use conclave_dkg::sim::{self, DkgReport, ReshareConfig, SimConfig};

/// DKG subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DkgCommand {
    /// Run a fresh DKG among n seats with degree t.
    Run {
        /// Number of seats.
        #[arg(long)]
        n: u32,
        /// Degree (any t+1 shares reconstruct); the engine uses t = 2f for n = 3f+1.
        #[arg(long)]
        t: u32,
        /// min-pk or min-sig.
        #[arg(long, default_value = "min-pk")]
        variant: String,
        /// 32-byte seed, hex (default: all zero).
        #[arg(long)]
        seed: Option<String>,
        /// I:KIND,... with KIND silent|bad-share|bad-commitment|wrong-justification|false-complaint.
        #[arg(long)]
        byzantine: Option<String>,
        /// Print the JSON report.
        #[arg(long)]
        json: bool,
    },
    /// Reshare the key of a previous run to a new committee (same group public key).
    Reshare {
        /// JSON report of a previous run or reshare.
        #[arg(long)]
        from: std::path::PathBuf,
        /// New number of seats.
        #[arg(long = "new-n")]
        new_n: u32,
        /// New degree.
        #[arg(long = "new-t")]
        new_t: u32,
        /// 32-byte seed, hex.
        #[arg(long)]
        seed: Option<String>,
        /// Dealer kinds apply to old holder I, false-complaint to new player I.
        #[arg(long)]
        byzantine: Option<String>,
        /// Print the JSON report.
        #[arg(long)]
        json: bool,
    },
}

fn seed(s: &Option<String>) -> Result<[u8; 32], String> {
    match s {
        None => Ok([0u8; 32]),
        Some(s) => conclave_threshold_sig::decode_hex(s)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| "--seed must be 32 bytes of hex".to_string()),
    }
}

fn byzantine(list: Option<&str>) -> Result<Vec<(u32, sim::Behaviour)>, String> {
    sim::parse_byzantine(list.unwrap_or("")).map_err(|e| e.to_string())
}

fn execute(cmd: DkgCommand) -> Result<(DkgReport, bool), String> {
    match cmd {
        DkgCommand::Run {
            n,
            t,
            variant,
            seed: s,
            byzantine,
            json,
        } => {
            let cfg = SimConfig {
                variant,
                n,
                t,
                seed: seed(&s)?,
                byzantine: self::byzantine(byzantine.as_deref())?,
            };
            if !json {
                out!(
                    "running DKG: {} n={n} t={t}, byzantine: {:?}",
                    cfg.variant,
                    cfg.byzantine
                );
            }
            Ok((sim::run_dkg(&cfg).map_err(|e| e.to_string())?, json))
        }
        DkgCommand::Reshare {
            from,
            new_n,
            new_t,
            seed: s,
            byzantine,
            json,
        } => {
            let text = std::fs::read_to_string(&from)
                .map_err(|e| format!("cannot read {}: {e}", from.display()))?;
            let previous: DkgReport =
                serde_json::from_str(&text).map_err(|e| format!("invalid report: {e}"))?;
            let cfg = ReshareConfig {
                new_n,
                new_t,
                seed: seed(&s)?,
                byzantine: self::byzantine(byzantine.as_deref())?,
            };
            if !json {
                out!(
                    "resharing {} key from n={} t={} to n={new_n} t={new_t}",
                    previous.variant,
                    previous.n,
                    previous.t
                );
            }
            Ok((
                sim::run_reshare(&previous, &cfg).map_err(|e| e.to_string())?,
                json,
            ))
        }
    }
}

fn summary(r: &DkgReport) {
    out!("group public key: {}", r.group_public_key);
    out!(
        "qualified dealers ({}): {:?}",
        r.qualified.len(),
        r.qualified
    );
    for d in &r.disqualified {
        out!("disqualified dealer {}: {}", d.index, d.reason);
    }
    for e in &r.evidence {
        out!("evidence against {}: {} ({})", e.culprit, e.kind, e.detail);
    }
    out!("honest players with consistent shares: {}", r.players.len());
    out!(
        "{} messages, {} bytes, {} ms",
        r.metrics.messages,
        r.metrics.bytes,
        r.metrics.wall_ms
    );
}

/// Run a DKG subcommand: exit 0 on success, 1 with one line on stderr on invalid input.
pub fn run(cmd: DkgCommand) -> ExitCode {
    match execute(cmd) {
        Ok((report, true)) => match serde_json::to_string(&report) {
            Ok(s) => {
                out!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Ok((report, false)) => {
            summary(&report);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", e.replace('\n', " "));
            ExitCode::from(1)
        }
    }
}
