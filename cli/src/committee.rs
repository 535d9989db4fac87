//! `conclave committee …`: VRF sortition from the command line (keygen, sortition, verify).
//!
//! Exit codes: 0 success / valid proof, 1 invalid input or invalid proof, 2 usage (clap).
//! Errors are printed as one line on stderr (`conclave: …`). Hex is printed lowercase without
//! `0x`; input accepts an optional `0x` prefix and uppercase digits.

use std::process::ExitCode;

use conclave_committee::encoding::decode_hex;
use conclave_committee::seed::Seed;
use conclave_committee::sortition::{sortition, verify_weight};
use conclave_committee::transcript::{Role, SortitionContext};
use conclave_committee::vrf::{Proof, PublicKey, SecretKey};
use conclave_committee::{Error, SortitionParams, MAX_TOTAL_STAKE};
use serde::{Deserialize, Serialize};

use crate::common::{fail, seed_bytes, Invalid};

/// Committee subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CommitteeCommand {
    /// Derive N VRF key pairs deterministically from a seed (ids 0..N-1).
    Keygen {
        /// Number of keys.
        #[arg(long)]
        count: u64,
        /// Seed, 1 to 64 hex digits (the same seed gives the same keys).
        #[arg(long)]
        seed: String,
    },
    /// Run sortition for every key of a keygen file and print the selected participants (a
    /// table, or JSON with --json).
    Sortition {
        /// JSON file printed by `keygen`.
        #[arg(long)]
        keys: std::path::PathBuf,
        /// Stakes, comma-separated, in key order.
        #[arg(long, value_delimiter = ',', required = true)]
        stakes: Vec<u64>,
        #[command(flatten)]
        context: ContextArgs,
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Verify one credential's proof and print its weight (0 if not selected).
    Verify {
        /// The participant's VRF public key, hex.
        #[arg(long)]
        public: String,
        /// The participant's stake.
        #[arg(long)]
        stake: u64,
        /// The total stake.
        #[arg(long = "total-stake")]
        total_stake: u64,
        #[command(flatten)]
        context: ContextArgs,
        /// The VRF proof, hex (80 bytes).
        #[arg(long)]
        proof: String,
    },
}

/// The sortition context and committee size shared by `sortition` and `verify`.
#[derive(Debug, clap::Args)]
pub struct ContextArgs {
    /// Expected committee size τ.
    #[arg(long)]
    tau: u64,
    /// The round's sortition seed (exactly 32 bytes of hex; a protocol input, not a `--seed` of
    /// randomness).
    #[arg(long)]
    seed: String,
    /// Round.
    #[arg(long)]
    round: u64,
    /// Period.
    #[arg(long, default_value_t = 0)]
    period: u64,
    /// Step.
    #[arg(long, default_value_t = 0)]
    step: u64,
    /// Epoch.
    #[arg(long, default_value_t = 0)]
    epoch: u64,
    /// Whom the credential selects.
    #[arg(long, value_enum, default_value_t = RoleArg::Voter)]
    role: RoleArg,
}

/// `--role proposer|voter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    /// Block proposer (the lowest priority wins).
    Proposer,
    /// Committee voter of a step.
    Voter,
}

impl RoleArg {
    fn role(self) -> Role {
        match self {
            RoleArg::Proposer => Role::Proposer,
            RoleArg::Voter => Role::Voter,
        }
    }
}

impl ContextArgs {
    fn context(&self) -> Result<SortitionContext, String> {
        let seed = Seed::from_slice(&decode_hex("seed", &self.seed).map_err(err)?).map_err(err)?;
        Ok(SortitionContext::new(seed, self.round)
            .with_epoch(self.epoch)
            .with_period(self.period)
            .with_step(self.step)
            .with_role(self.role.role()))
    }
}

#[derive(Serialize, Deserialize)]
struct KeyEntry {
    id: u64,
    secret: String,
    public: String,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<KeyEntry>,
}

#[derive(Serialize)]
struct Selected {
    id: u64,
    weight: u64,
    proof: String,
    output: String,
    priority: String,
}

#[derive(Serialize)]
struct SortitionReport {
    total_stake: u64,
    tau: u64,
    selected: Vec<Selected>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Runs a committee subcommand; prints results on stdout and errors as one line on stderr.
pub fn run(cmd: CommitteeCommand) -> ExitCode {
    let result = match cmd {
        CommitteeCommand::Keygen { count, seed } => keygen(count, &seed),
        CommitteeCommand::Sortition {
            keys,
            stakes,
            context,
            json,
        } => run_sortition(&keys, &stakes, &context, json),
        CommitteeCommand::Verify {
            public,
            stake,
            total_stake,
            context,
            proof,
        } => verify(&public, stake, total_stake, &context, &proof),
    };
    match result {
        Ok(Outcome::Print(text)) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Ok(Outcome::Invalid(text)) => fail(1, text),
        Err(message) => fail(1, message),
    }
}

enum Outcome {
    Print(String),
    Invalid(String),
}

fn keygen(count: u64, seed_hex: &str) -> Result<Outcome, String> {
    if count > 1_000_000 {
        return Err("--count must be at most 1000000".into());
    }
    let seed = seed_bytes(seed_hex).map_err(|Invalid(e)| e)?;
    let keys = (0..count)
        .map(|id| {
            let secret = SecretKey::derive(&seed, id);
            KeyEntry {
                id,
                secret: hex::encode(*secret.to_bytes()),
                public: secret.public_key().to_string(),
            }
        })
        .collect();
    serde_json::to_string(&KeyFile { keys })
        .map(Outcome::Print)
        .map_err(err)
}

fn run_sortition(
    path: &std::path::Path,
    stakes: &[u64],
    args: &ContextArgs,
    json: bool,
) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: KeyFile = serde_json::from_str(&text).map_err(|e| format!("keys file: {e}"))?;
    if file.keys.len() != stakes.len() {
        return Err(format!(
            "{} keys but {} stakes",
            file.keys.len(),
            stakes.len()
        ));
    }
    let total = stakes
        .iter()
        .try_fold(0u64, |acc, &s| acc.checked_add(s))
        .filter(|&t| t <= MAX_TOTAL_STAKE)
        .ok_or_else(|| err(Error::PopulationTooLarge))?;
    let context = args.context()?;
    let mut selected = Vec::new();
    for (entry, &stake) in file.keys.iter().zip(stakes) {
        let secret = SecretKey::from_slice(&decode_hex("secret key", &entry.secret).map_err(err)?)
            .map_err(|e| format!("key {}: {e}", entry.id))?;
        let public: PublicKey = entry.public.parse().map_err(err)?;
        if public != secret.public_key() {
            return Err(format!(
                "key {}: public key does not match the secret",
                entry.id
            ));
        }
        let params = SortitionParams::new(stake, total, args.tau).map_err(err)?;
        let credential = sortition(&secret, &context, &params);
        if let Some(priority) = credential.priority() {
            selected.push(Selected {
                id: entry.id,
                weight: credential.weight(),
                proof: credential.credential().proof.to_string(),
                output: credential.output().to_string(),
                priority: priority.to_string(),
            });
        }
    }
    let report = SortitionReport {
        total_stake: total,
        tau: args.tau,
        selected,
    };
    if json {
        return serde_json::to_string(&report)
            .map(Outcome::Print)
            .map_err(err);
    }
    Ok(Outcome::Print(sortition_table(
        &report,
        file.keys.len(),
        args,
    )))
}

/// The human form of a sortition: a header, then one row per selected key.
fn sortition_table(report: &SortitionReport, keys: usize, args: &ContextArgs) -> String {
    let role = args.role.role();
    let mut text = format!(
        "{} of {keys} keys selected ({role}, round {}, period {}, step {}, epoch {}; τ = {}, \
         total stake {})",
        report.selected.len(),
        args.round,
        args.period,
        args.step,
        args.epoch,
        report.tau,
        report.total_stake
    );
    if !report.selected.is_empty() {
        text.push_str(&format!("\n{:>8} {:>8}  priority", "id", "weight"));
    }
    for s in &report.selected {
        text.push_str(&format!("\n{:>8} {:>8}  {}", s.id, s.weight, s.priority));
    }
    text
}

fn verify(
    public: &str,
    stake: u64,
    total: u64,
    args: &ContextArgs,
    proof: &str,
) -> Result<Outcome, String> {
    let public: PublicKey = public.parse().map_err(err)?;
    let params = SortitionParams::new(stake, total, args.tau).map_err(err)?;
    let context = args.context()?;
    let proof = match proof.parse::<Proof>() {
        Ok(proof) => proof,
        Err(e @ Error::InvalidProofEncoding) => return Ok(Outcome::Invalid(e.to_string())),
        Err(e) => return Err(e.to_string()),
    };
    match verify_weight(&public, &proof, &context, &params) {
        Ok((weight, _)) => Ok(Outcome::Print(weight.to_string())),
        Err(e) => Ok(Outcome::Invalid(e.to_string())),
    }
}
