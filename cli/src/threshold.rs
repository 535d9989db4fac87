//! `conclave threshold …`: trusted-dealer dealing, partial signing and robust combining.

use clap::Subcommand;
use conclave_threshold_sig::{
    deal, standard_dst, Combiner, Commitment, MinPk, MinSig, PartialSignature, Scheme, SecretShare,
    Signature, Variant, MAX_SHARES,
};

use crate::common::{
    hex_arg, hex_list, list, print_json, rng_from_seed, summarise, Invalid, Outcome, VariantArg,
};

/// Threshold subcommands.
#[derive(Debug, Subcommand)]
pub enum ThresholdCommand {
    /// Deal a t+1-of-n key with a trusted dealer; prints the commitment and all shares as JSON.
    Deal {
        /// Number of shares n (at most 65536).
        #[arg(long)]
        n: u32,
        /// Degree t: any t+1 shares sign.
        #[arg(long)]
        t: u32,
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Seed, 1 to 64 hex digits, for a deterministic dealing (default: fresh randomness).
        #[arg(long)]
        seed: Option<String>,
    },
    /// Partial signature of one share on a message.
    PartialSign {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Domain separation tag, exactly (overrides the scheme's DST).
        #[arg(long)]
        dst: Option<String>,
        /// The share's index (1..=n, at most 65536).
        #[arg(long)]
        index: u32,
        /// The share's secret: 32-byte big-endian scalar, hex.
        #[arg(long)]
        secret: String,
        /// Message, hex (empty string: the empty message).
        #[arg(long)]
        msg: String,
    },
    /// Verify partials against the commitment, name the invalid ones, interpolate t+1 valid ones.
    Combine {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Domain separation tag, exactly (overrides the scheme's DST).
        #[arg(long)]
        dst: Option<String>,
        /// The dealing's commitment: t+1 comma-separated compressed points, hex.
        #[arg(long)]
        commitment: String,
        /// Message, hex (empty string: the empty message).
        #[arg(long)]
        msg: String,
        /// `I:HEX,I:HEX,…`
        #[arg(long)]
        partials: String,
    },
}

/// The DST threshold commands use: `--dst`, or the variant's POP DST (as `bls verify` defaults to).
pub fn dst_or_default<V: Variant>(dst: &Option<String>) -> Vec<u8> {
    dst.as_ref()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_else(|| standard_dst::<V>(Scheme::ProofOfPossession))
}

/// Run a `threshold` subcommand.
pub fn run(cmd: ThresholdCommand) -> Outcome {
    let variant = match &cmd {
        ThresholdCommand::Deal { variant, .. }
        | ThresholdCommand::PartialSign { variant, .. }
        | ThresholdCommand::Combine { variant, .. } => *variant,
    };
    match variant {
        VariantArg::MinPk => run_with::<MinPk>(cmd, variant),
        VariantArg::MinSig => run_with::<MinSig>(cmd, variant),
    }
}

fn run_with<V: Variant>(cmd: ThresholdCommand, variant: VariantArg) -> Outcome {
    match cmd {
        ThresholdCommand::Deal { n, t, seed, .. } => {
            let mut rng = rng_from_seed(seed.as_deref())?;
            let dealing = deal::<V>(n, t, &mut rng)?;
            let publics = dealing.commitment.public_shares(n)?;
            let shares: Vec<serde_json::Value> = dealing
                .shares
                .iter()
                .zip(&publics)
                .map(|(s, p)| {
                    serde_json::json!({
                        "index": s.index(),
                        "secret": hex::encode(s.value().to_bytes_be()),
                        "public": hex::encode(&p.to_bytes()[4..]),
                    })
                })
                .collect();
            print_json(&serde_json::json!({
                "variant": variant.name(),
                "n": n,
                "t": t,
                "group_public_key": dealing.commitment.group_public_key().to_string(),
                "commitment": commitment_hex(&dealing.commitment),
                "shares": shares,
            }));
        }
        ThresholdCommand::PartialSign {
            dst,
            index,
            secret,
            msg,
            ..
        } => {
            if index > MAX_SHARES {
                return Err(Invalid(format!(
                    "--index: share index {index} exceeds the maximum {MAX_SHARES}"
                )));
            }
            let mut bytes = index.to_be_bytes().to_vec();
            bytes.extend(hex_arg(&secret, "--secret")?);
            let share = SecretShare::from_bytes(&bytes)
                .map_err(|e| Invalid(format!("--secret/--index: {e}")))?;
            let partial = share.sign::<V>(&dst_or_default::<V>(&dst), &hex_arg(&msg, "--msg")?);
            println!("{}", partial.signature);
        }
        ThresholdCommand::Combine {
            dst,
            commitment,
            msg,
            partials,
            ..
        } => {
            let points = hex_list(&commitment, "--commitment")?.concat();
            let commitment = Commitment::<V>::from_bytes(&points)
                .map_err(|e| Invalid(format!("--commitment: {e}")))?;
            let msg = hex_arg(&msg, "--msg")?;
            let (decoded, mut culprits) = parse_partials::<V>(&partials)?;
            // The commitment does not say n: derive the public shares up to the largest index
            // given (at least t+1; parse_partials bounded it by MAX_SHARES).
            let n = decoded
                .iter()
                .map(|p| p.index)
                .max()
                .unwrap_or(1)
                .max(commitment.quorum() as u32);
            let combiner = Combiner::new(commitment, n, dst_or_default::<V>(&dst))
                .map_err(|e| Invalid(format!("--commitment/--dst: {e}")))?;
            let mut rng = rng_from_seed(None)?;
            match combiner.combine_verified(&msg, &decoded, &mut rng) {
                Ok(out) => {
                    culprits.extend(out.culprits);
                    culprits.sort_unstable();
                    culprits.dedup();
                    print_json(&serde_json::json!({
                        "signature": out.signature.to_string(),
                        "used": out.used,
                        "culprits": culprits,
                    }));
                }
                Err(conclave_threshold_sig::Error::NotEnoughPartials {
                    needed,
                    valid,
                    culprits: bad,
                }) => {
                    culprits.extend(bad);
                    culprits.sort_unstable();
                    culprits.dedup();
                    return Err(Invalid(format!(
                        "not enough valid partial signatures: need {needed}, have {valid}; culprits: {}",
                        summarise(&culprits, 20)
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// The commitment as a list of hex points.
pub fn commitment_hex<V: Variant>(c: &Commitment<V>) -> Vec<String> {
    let bytes = c.to_bytes();
    bytes.chunks(V::PUBLIC_KEY_SIZE).map(hex::encode).collect()
}

/// Parse `I:HEX,…`. Syntax errors are invalid input; undecodable points make their index a culprit.
fn parse_partials<V: Variant>(s: &str) -> Result<(Vec<PartialSignature<V>>, Vec<u32>), Invalid> {
    let mut ok = Vec::new();
    let mut culprits = Vec::new();
    for (k, item) in list(s).into_iter().enumerate() {
        let (i, h) = item
            .split_once(':')
            .ok_or_else(|| Invalid(format!("--partials[{k}]: expected I:HEX")))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| Invalid(format!("--partials[{k}]: bad index {i:?}")))?;
        if index == 0 {
            return Err(Invalid(format!(
                "--partials[{k}]: share indices start at 1"
            )));
        }
        if index > MAX_SHARES {
            return Err(Invalid(format!(
                "--partials[{k}]: share index {index} exceeds the maximum {MAX_SHARES}"
            )));
        }
        match Signature::<V>::from_bytes(&hex_arg(h, "--partials")?) {
            Ok(signature) => ok.push(PartialSignature { index, signature }),
            Err(_) => culprits.push(index),
        }
    }
    Ok((ok, culprits))
}
