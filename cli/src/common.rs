//! Shared CLI plumbing: the variant flag, hex and list parsing, seeds, error reporting.

use std::fmt::Display;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;
use sha2::{Digest, Sha256};

/// `--variant min-pk|min-sig`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum VariantArg {
    /// Public keys in G1, signatures in G2.
    #[default]
    #[value(name = "min-pk")]
    MinPk,
    /// Public keys in G2, signatures in G1.
    #[value(name = "min-sig")]
    MinSig,
}

impl VariantArg {
    /// The contract's name of the variant.
    pub fn name(self) -> &'static str {
        match self {
            VariantArg::MinPk => "min-pk",
            VariantArg::MinSig => "min-sig",
        }
    }

    /// The DKG simulator's variant.
    pub fn dkg(self) -> conclave_dkg::sim::SimVariant {
        match self {
            VariantArg::MinPk => conclave_dkg::sim::SimVariant::MinPk,
            VariantArg::MinSig => conclave_dkg::sim::SimVariant::MinSig,
        }
    }
}

/// `--scheme basic|aug|pop`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemeArg {
    /// IETF basic scheme (`NUL`).
    Basic,
    /// IETF message augmentation (`AUG`).
    Aug,
    /// IETF proof of possession (`POP`).
    #[default]
    Pop,
}

impl SchemeArg {
    /// The library's scheme.
    pub fn scheme(self) -> conclave_threshold_sig::Scheme {
        match self {
            SchemeArg::Basic => conclave_threshold_sig::Scheme::Basic,
            SchemeArg::Aug => conclave_threshold_sig::Scheme::MessageAugmentation,
            SchemeArg::Pop => conclave_threshold_sig::Scheme::ProofOfPossession,
        }
    }
}

/// A rejected input: exit code 1 and one line on stderr.
#[derive(Debug)]
pub struct Invalid(pub String);

impl<E: Display> From<E> for Invalid {
    fn from(e: E) -> Self {
        Invalid(e.to_string())
    }
}

/// The result of a command: `Ok(())` valid/success, `Err` invalid input or verdict (exit 1).
pub type Outcome = Result<(), Invalid>;

/// `message` on one line: line breaks (and the indentation after them) become single spaces.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Report a runtime error the one way every command does: `conclave: MESSAGE` as one line on
/// stderr, then exit with `code`.
pub fn fail(code: u8, message: impl Display) -> ExitCode {
    let line = one_line(&message.to_string());
    eprintln!(
        "conclave: {}",
        if line.is_empty() {
            "invalid input"
        } else {
            &line
        }
    );
    ExitCode::from(code)
}

/// A warning on stderr (`conclave: warning: …`); the command goes on.
pub fn warn(message: impl Display) {
    eprintln!("conclave: warning: {}", one_line(&message.to_string()));
}

/// Map an outcome to the contract's exit codes.
pub fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Invalid(msg)) => fail(1, msg),
    }
}

/// Hex with optional `0x`, any case; `what` names the argument in errors.
pub fn hex_arg(s: &str, what: &str) -> Result<Vec<u8>, Invalid> {
    conclave_threshold_sig::decode_hex(s).map_err(|_| Invalid(format!("{what}: not valid hex")))
}

/// A comma-separated list; the empty string is the empty list.
pub fn list(s: &str) -> Vec<&str> {
    if s.trim().is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::trim).collect()
    }
}

/// A comma-separated list of hex strings.
pub fn hex_list(s: &str, what: &str) -> Result<Vec<Vec<u8>>, Invalid> {
    list(s)
        .into_iter()
        .enumerate()
        .map(|(i, h)| hex_arg(h, &format!("{what}[{i}]")))
        .collect()
}

/// The longest `--seed`, in bytes.
pub const MAX_SEED_BYTES: usize = 32;

/// The one `--seed` format of every command: 1 to 64 hex digits (optional `0x`, any case);
/// an odd number of digits reads as if a `0` led (`--seed 7` is the byte `07`).
pub fn seed_bytes(s: &str) -> Result<Vec<u8>, Invalid> {
    let digits = seed_digits(s);
    if digits.is_empty() || digits.len() > 2 * MAX_SEED_BYTES {
        return Err(Invalid(format!(
            "--seed: expected 1 to {} hex digits, got {}",
            2 * MAX_SEED_BYTES,
            digits.len()
        )));
    }
    let padded = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits.to_string()
    };
    hex::decode(padded).map_err(|_| Invalid("--seed: not valid hex".into()))
}

/// The hex digits of a `--seed` (without blanks and the optional `0x` / `0X`).
fn seed_digits(s: &str) -> &str {
    let digits = s.trim();
    digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .unwrap_or(digits)
}

/// A seed's 32 bytes of key material: SHA-256 of the `--seed` bytes.
fn seed_key(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The seed a command runs with: from `--seed`, or drawn from the OS RNG when absent. The
/// returned hex is what `--seed` must be given to reproduce the run.
pub fn seed_or_fresh(seed: Option<&str>) -> Result<([u8; 32], String), Invalid> {
    let bytes = match seed {
        Some(s) => seed_bytes(s)?,
        None => {
            let mut b = vec![0u8; MAX_SEED_BYTES];
            rand::rngs::OsRng.fill_bytes(&mut b);
            b
        }
    };
    Ok((seed_key(&bytes), hex::encode(&bytes)))
}

/// A deterministic RNG from `--seed` (ChaCha20 keyed with SHA-256 of the seed bytes), or the OS
/// RNG's when absent.
pub fn rng_from_seed(seed: Option<&str>) -> Result<ChaCha20Rng, Invalid> {
    match seed {
        Some(s) => Ok(ChaCha20Rng::from_seed(seed_key(&seed_bytes(s)?))),
        None => Ok(ChaCha20Rng::from_entropy()),
    }
}

/// `--seed` as a number (the simulator's seed): at most 8 bytes, big-endian.
pub fn seed_number(s: &str) -> Result<u64, Invalid> {
    let bytes = seed_bytes(s)?;
    if bytes.len() > 8 {
        return Err(Invalid(format!(
            "--seed: the simulator takes at most 16 hex digits, got {}",
            seed_digits(s).len()
        )));
    }
    Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// At most `first` items joined by `, `, then `… (N in all)` when there are more.
pub fn summarise<T: Display>(items: &[T], first: usize) -> String {
    let mut text = items
        .iter()
        .take(first)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if items.is_empty() {
        text.push_str("none");
    } else if items.len() > first {
        text.push_str(&format!(", … ({} in all)", items.len()));
    }
    text
}

/// Print a JSON value on stdout.
pub fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string(v).unwrap_or_else(|_| "null".into())
    );
}

/// A progress bar on stderr (indicatif), drawn only when stderr is a terminal: stdout (tables,
/// JSON) never carries it. `message` names the phase, `length` its work units.
pub fn progress_bar(message: &'static str, length: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(length), target);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>8} [{bar:30}] {pos}/{len} {elapsed_precise}")
    {
        bar.set_style(style.progress_chars("#>-"));
    }
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Move `bar` to another phase (`message`, `length` units), from 0, without drawing a mix of
/// the two phases.
pub fn progress_phase(bar: &ProgressBar, message: &'static str, length: u64) {
    bar.set_position(0);
    bar.set_length(length);
    bar.set_message(message);
}
