//! Shared CLI plumbing: the variant flag, hex and list parsing, seeded RNGs, error reporting.

use std::process::ExitCode;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
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

impl<E: std::fmt::Display> From<E> for Invalid {
    fn from(e: E) -> Self {
        Invalid(e.to_string())
    }
}

/// The result of a command: `Ok(true)` valid/success, `Ok(false)` "invalid" verdict (exit 1).
pub type Outcome = Result<(), Invalid>;

/// Map an outcome to the contract's exit codes.
pub fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Invalid(msg)) => {
            eprintln!(
                "conclave: {}",
                msg.lines().next().unwrap_or("invalid input")
            );
            ExitCode::from(1)
        }
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

/// A deterministic RNG from `--seed HEX` (SHA-256 of the bytes), or the OS RNG's seed.
pub fn rng_from_seed(seed: Option<&str>) -> Result<ChaCha20Rng, Invalid> {
    match seed {
        Some(s) => {
            let bytes = hex_arg(s, "--seed")?;
            Ok(ChaCha20Rng::from_seed(Sha256::digest(bytes).into()))
        }
        None => Ok(ChaCha20Rng::from_entropy()),
    }
}

/// Print a JSON value on stdout.
pub fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string(v).unwrap_or_else(|_| "null".into())
    );
}
