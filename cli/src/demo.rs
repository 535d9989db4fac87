//! `conclave demo`: deal a threshold key, sign with t+1 shares (one of them corrupted), combine
//! robustly, and verify the result as an ordinary BLS signature.

use std::time::Instant;

use conclave_threshold_sig::{deal, Ciphersuite, Combiner, MinPk, MinSig, Scheme, Variant};
use rand::seq::SliceRandom;

use crate::common::{rng_from_seed, Invalid, Outcome, VariantArg};

/// Options of `conclave demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Number of shares.
    #[arg(long, default_value_t = 7)]
    pub n: u32,
    /// Polynomial degree: t+1 partial signatures are needed.
    #[arg(long, default_value_t = 4)]
    pub t: u32,
    #[arg(long, value_enum, default_value_t)]
    pub variant: VariantArg,
    /// Seed (hex) for a reproducible run.
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
    let mut rng = rng_from_seed(args.seed.as_deref())?;
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
        println!("{} partial signatures from shares {signers:?}; share {corrupted} signed the wrong message", partials.len());
    } else {
        println!(
            "{} partial signatures from shares {signers:?}",
            partials.len()
        );
    }
    let combiner = Combiner::for_suite(dealing.commitment.clone(), n, &suite)?;
    // Batch weights from the OS (signers must not predict them); the output does not depend on
    // them, so the demo stays deterministic for a given --seed.
    let mut weights = rng_from_seed(None)?;
    let out = combiner.combine_verified(msg, &partials, &mut weights)?;
    println!(
        "combined from shares {:?}; culprits {:?}",
        out.used, out.culprits
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
    if ok {
        Ok(())
    } else {
        Err(Invalid("combined signature does not verify".into()))
    }
}
