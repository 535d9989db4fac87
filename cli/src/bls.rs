//! `conclave bls …`: the IETF BLS operations, exactly as in the CLI contract.

use clap::Subcommand;
use conclave_threshold_sig::{
    aggregate_public_keys, aggregate_signatures, aggregate_verify, fast_aggregate_verify,
    hash_to_g1, hash_to_g2, Ciphersuite, MinPk, MinSig, PublicKey, Scheme, SecretKey, Signature,
    Variant,
};
use rand_core::RngCore;

use crate::common::{hex_arg, hex_list, print_json, Invalid, Outcome, SchemeArg, VariantArg};

/// BLS subcommands.
#[derive(Debug, Subcommand)]
pub enum BlsCommand {
    /// IETF KeyGen from IKM (random IKM if absent): prints {"sk":HEX,"pk":HEX}.
    Keygen {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Input key material, hex (at least 32 bytes; default: 32 random bytes).
        #[arg(long)]
        ikm: Option<String>,
    },
    /// The public key of a secret key.
    Pubkey {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Secret key: 32-byte big-endian scalar, hex.
        #[arg(long)]
        sk: String,
    },
    /// Sign a message.
    Sign {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// IETF ciphersuite: basic (NUL), aug (message augmentation) or pop (proof of possession).
        #[arg(long, value_enum, default_value_t)]
        scheme: SchemeArg,
        /// Domain separation tag, exactly (overrides the scheme's DST).
        #[arg(long)]
        dst: Option<String>,
        /// Secret key: 32-byte big-endian scalar, hex.
        #[arg(long)]
        sk: String,
        /// Message, hex (empty string: the empty message).
        #[arg(long, allow_hyphen_values = true)]
        msg: String,
    },
    /// Verify a signature: exit 0 valid, 1 invalid.
    Verify {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// IETF ciphersuite: basic (NUL), aug (message augmentation) or pop (proof of possession).
        #[arg(long, value_enum, default_value_t)]
        scheme: SchemeArg,
        /// Domain separation tag, exactly (overrides the scheme's DST).
        #[arg(long)]
        dst: Option<String>,
        /// Public key, compressed point, hex.
        #[arg(long)]
        pk: String,
        /// Message, hex (empty string: the empty message).
        #[arg(long)]
        msg: String,
        /// Signature, compressed point, hex.
        #[arg(long)]
        sig: String,
    },
    /// Aggregate signatures.
    Aggregate {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Signatures, comma-separated compressed points, hex.
        #[arg(long)]
        sigs: String,
    },
    /// Aggregate public keys.
    AggregatePks {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Public keys, comma-separated compressed points, hex.
        #[arg(long)]
        pks: String,
    },
    /// FastAggregateVerify (POP scheme): exit 0 valid, 1 invalid.
    FastAggregateVerify {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Domain separation tag, exactly (overrides the scheme's DST).
        #[arg(long)]
        dst: Option<String>,
        /// Public keys, comma-separated compressed points, hex.
        #[arg(long)]
        pks: String,
        /// Message, hex (empty string: the empty message).
        #[arg(long)]
        msg: String,
        /// Signature, compressed point, hex.
        #[arg(long)]
        sig: String,
    },
    /// AggregateVerify: exit 0 valid, 1 invalid.
    AggregateVerify {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// IETF ciphersuite: basic (NUL), aug (message augmentation) or pop (proof of possession).
        #[arg(long, value_enum, default_value_t)]
        scheme: SchemeArg,
        /// Domain separation tag, exactly (overrides the scheme's DST).
        #[arg(long)]
        dst: Option<String>,
        /// Public keys, comma-separated compressed points, hex.
        #[arg(long)]
        pks: String,
        /// Messages, comma-separated hex, one per public key.
        #[arg(long)]
        msgs: String,
        /// Signature, compressed point, hex.
        #[arg(long)]
        sig: String,
    },
    /// IETF PopProve.
    PopProve {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Secret key: 32-byte big-endian scalar, hex.
        #[arg(long)]
        sk: String,
    },
    /// IETF PopVerify: exit 0 valid, 1 invalid.
    PopVerify {
        /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
        #[arg(long, value_enum, default_value_t)]
        variant: VariantArg,
        /// Public key, compressed point, hex.
        #[arg(long)]
        pk: String,
        /// Proof of possession, compressed point, hex.
        #[arg(long)]
        proof: String,
    },
    /// RFC 9380 hash_to_curve to G1 (compressed).
    HashToG1 {
        /// Message, hex (empty string: the empty message).
        #[arg(long)]
        msg: String,
        /// Domain separation tag (RFC 9380), exactly.
        #[arg(long)]
        dst: String,
    },
    /// RFC 9380 hash_to_curve to G2 (compressed).
    HashToG2 {
        /// Message, hex (empty string: the empty message).
        #[arg(long)]
        msg: String,
        /// Domain separation tag (RFC 9380), exactly.
        #[arg(long)]
        dst: String,
    },
}

fn suite<V: Variant>(scheme: SchemeArg, dst: &Option<String>) -> Result<Ciphersuite<V>, Invalid> {
    match dst {
        Some(d) => Ciphersuite::with_dst(scheme.scheme(), d.as_bytes())
            .map_err(|e| Invalid(format!("--dst: {e}"))),
        None => Ok(Ciphersuite::new(scheme.scheme())),
    }
}

fn sk_arg(s: &str) -> Result<SecretKey, Invalid> {
    SecretKey::from_bytes(&hex_arg(s, "--sk")?).map_err(|e| Invalid(format!("--sk: {e}")))
}

fn pk_arg<V: Variant>(s: &str, what: &str) -> Result<PublicKey<V>, Invalid> {
    PublicKey::from_bytes(&hex_arg(s, what)?).map_err(|e| Invalid(format!("{what}: {e}")))
}

fn sig_arg<V: Variant>(s: &str, what: &str) -> Result<Signature<V>, Invalid> {
    Signature::from_bytes(&hex_arg(s, what)?).map_err(|e| Invalid(format!("{what}: {e}")))
}

fn verdict(ok: bool, what: &str) -> Outcome {
    if ok {
        println!("valid");
        Ok(())
    } else {
        Err(Invalid(format!("{what} does not verify")))
    }
}

/// Run a `bls` subcommand.
pub fn run(cmd: BlsCommand) -> Outcome {
    let variant = match &cmd {
        BlsCommand::Keygen { variant, .. }
        | BlsCommand::Pubkey { variant, .. }
        | BlsCommand::Sign { variant, .. }
        | BlsCommand::Verify { variant, .. }
        | BlsCommand::Aggregate { variant, .. }
        | BlsCommand::AggregatePks { variant, .. }
        | BlsCommand::FastAggregateVerify { variant, .. }
        | BlsCommand::AggregateVerify { variant, .. }
        | BlsCommand::PopProve { variant, .. }
        | BlsCommand::PopVerify { variant, .. } => *variant,
        BlsCommand::HashToG1 { .. } | BlsCommand::HashToG2 { .. } => VariantArg::MinPk,
    };
    match variant {
        VariantArg::MinPk => run_with::<MinPk>(cmd),
        VariantArg::MinSig => run_with::<MinSig>(cmd),
    }
}

fn run_with<V: Variant>(cmd: BlsCommand) -> Outcome {
    match cmd {
        BlsCommand::Keygen { ikm, .. } => {
            let ikm = match ikm {
                Some(h) => hex_arg(&h, "--ikm")?,
                None => {
                    let mut b = vec![0u8; 32];
                    rand::rngs::OsRng.fill_bytes(&mut b);
                    b
                }
            };
            let sk = SecretKey::key_gen(&ikm)?;
            print_json(&serde_json::json!({
                "sk": hex::encode(sk.to_bytes().as_ref()),
                "pk": hex::encode(sk.public_key::<V>().to_bytes()),
            }));
        }
        BlsCommand::Pubkey { sk, .. } => println!("{}", sk_arg(&sk)?.public_key::<V>()),
        BlsCommand::Sign {
            scheme,
            dst,
            sk,
            msg,
            ..
        } => {
            let sig = sk_arg(&sk)?.sign::<V>(&suite(scheme, &dst)?, &hex_arg(&msg, "--msg")?);
            println!("{sig}");
        }
        BlsCommand::Verify {
            scheme,
            dst,
            pk,
            msg,
            sig,
            ..
        } => {
            let pk = pk_arg::<V>(&pk, "--pk")?;
            let sig = sig_arg::<V>(&sig, "--sig")?;
            return verdict(
                pk.verify(&suite(scheme, &dst)?, &hex_arg(&msg, "--msg")?, &sig),
                "signature",
            );
        }
        BlsCommand::Aggregate { sigs, .. } => {
            let sigs = hex_list(&sigs, "--sigs")?
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    Signature::<V>::from_bytes(b).map_err(|e| Invalid(format!("--sigs[{i}]: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            println!("{}", aggregate_signatures(&sigs)?);
        }
        BlsCommand::AggregatePks { pks, .. } => {
            let pks = parse_pks::<V>(&pks)?;
            println!("{}", aggregate_public_keys(&pks)?);
        }
        BlsCommand::FastAggregateVerify {
            dst, pks, msg, sig, ..
        } => {
            let pks = parse_pks::<V>(&pks)?;
            let sig = sig_arg::<V>(&sig, "--sig")?;
            let ok = fast_aggregate_verify(
                &suite(SchemeArg::Pop, &dst)?,
                &pks,
                &hex_arg(&msg, "--msg")?,
                &sig,
            );
            return verdict(ok, "aggregate signature");
        }
        BlsCommand::AggregateVerify {
            scheme,
            dst,
            pks,
            msgs,
            sig,
            ..
        } => {
            let pks = parse_pks::<V>(&pks)?;
            let msgs = hex_list(&msgs, "--msgs")?;
            let sig = sig_arg::<V>(&sig, "--sig")?;
            let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
            let suite = suite(scheme, &dst)?;
            if suite.scheme() == Scheme::Basic && pks.len() == refs.len() {
                let mut sorted = refs.clone();
                sorted.sort_unstable();
                if sorted.windows(2).any(|w| w[0] == w[1]) {
                    return Err(Invalid("basic scheme: messages are not distinct".into()));
                }
            }
            return verdict(
                aggregate_verify(&suite, &pks, &refs, &sig),
                "aggregate signature",
            );
        }
        BlsCommand::PopProve { sk, .. } => println!("{}", sk_arg(&sk)?.pop_prove::<V>()),
        BlsCommand::PopVerify { pk, proof, .. } => {
            let pk = pk_arg::<V>(&pk, "--pk")?;
            let proof = sig_arg::<V>(&proof, "--proof")?;
            return verdict(pk.pop_verify(&proof), "proof of possession");
        }
        BlsCommand::HashToG1 { msg, dst } => println!(
            "{}",
            hex::encode(hash_to_g1(&hex_arg(&msg, "--msg")?, dst.as_bytes()))
        ),
        BlsCommand::HashToG2 { msg, dst } => println!(
            "{}",
            hex::encode(hash_to_g2(&hex_arg(&msg, "--msg")?, dst.as_bytes()))
        ),
    }
    Ok(())
}

fn parse_pks<V: Variant>(s: &str) -> Result<Vec<PublicKey<V>>, Invalid> {
    hex_list(s, "--pks")?
        .iter()
        .enumerate()
        .map(|(i, b)| {
            PublicKey::<V>::from_bytes(b).map_err(|e| Invalid(format!("--pks[{i}]: {e}")))
        })
        .collect()
}
