//! `conclave demo`: deal a threshold key, sign with t+1 shares (one of them corrupted), combine
//! robustly, and verify the result as an ordinary BLS signature.

use std::time::Instant;

use conclave_threshold_sig::{deal, Ciphersuite, Combiner, MinPk, MinSig, Scheme, Variant};
use rand::seq::SliceRandom;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::common::{rng_from_seed, seed_or_fresh, summarise, Invalid, Outcome, VariantArg};

/// Options of `conclave demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Number of shares n (at most 65536).
    #[arg(long, default_value_t = 7)]
    pub n: u32,
    /// Polynomial degree t: t+1 partial signatures are needed.
    #[arg(long, default_value_t = 4)]
    pub t: u32,
    /// BLS variant: min-pk (public keys in G1) or min-sig (public keys in G2).
    #[arg(long, value_enum, default_value_t)]
    pub variant: VariantArg,
    /// Seed, 1 to 64 hex digits, for a reproducible run (default: fresh; the seed is printed).
    #[arg(long)]
    pub seed: Option<String>,
}

/// Run the demo.
pub fn run(args: DemoArgs) -> Outcome {
    match args.variant {
        VariantArg::MinPk => run_with::<MinPk>(args),
        VariantArg::MinSig => run_with::<MinSig>(args),
    }
}

fn run_with<V: Variant>(args: DemoArgs) -> Outcome {
    let (seed, seed_hex) = seed_or_fresh(args.seed.as_deref())?;
    let mut rng = ChaCha20Rng::from_seed(seed);
    let (n, t) = (args.n, args.t);
    let start = Instant::now();
    let dealing = deal::<V>(n, t, &mut rng)?;
    let suite = Ciphersuite::<V>::new(Scheme::ProofOfPossession);
    println!(
        "dealt a {}-of-{n} key ({}): group public key {}",
        t + 1,
        V::NAME,
        dealing.commitment.group_public_key()
    );
    let msg = b"conclave demo: block 1";
    let mut signers: Vec<u32> = (1..=n).collect();
    signers.shuffle(&mut rng);
    signers.truncate((t + 2).min(n) as usize);
    let mut partials: Vec<_> = signers
        .iter()
        .map(|&i| dealing.shares[(i - 1) as usize].sign::<V>(suite.dst(), msg))
        .collect();
    let corrupted = partials[0].index;
    if partials.len() > (t + 1) as usize {
        partials[0] =
            dealing.shares[(corrupted - 1) as usize].sign::<V>(suite.dst(), b"something else");
        println!(
            "{} partial signatures from shares {}; share {corrupted} signed the wrong message",
            partials.len(),
            summarise(&signers, 20)
        );
    } else {
        println!(
            "{} partial signatures from shares {}",
            partials.len(),
            summarise(&signers, 20)
        );
    }
    let combiner = Combiner::for_suite(dealing.commitment.clone(), n, &suite)?;
    // Batch weights from the OS (signers must not predict them); the output does not depend on
    // them, so the demo stays deterministic for a given --seed.
    let mut weights = rng_from_seed(None)?;
    let out = combiner.combine_verified(msg, &partials, &mut weights)?;
    println!(
        "combined from shares {}; culprits: {}",
        summarise(&out.used, 20),
        summarise(&out.culprits, 20)
    );
    let ok = dealing
        .commitment
        .group_public_key()
        .verify(&suite, msg, &out.signature);
    println!(
        "group signature {} verifies: {ok} ({:.1} ms)",
        out.signature,
        start.elapsed().as_secs_f64() * 1e3
    );
    println!("seed {seed_hex} (pass --seed {seed_hex} to reproduce)");
    if ok {
        Ok(())
    } else {
        Err(Invalid("combined signature does not verify".into()))
    }
}
