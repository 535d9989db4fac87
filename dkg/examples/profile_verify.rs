//! Times one player's processing of all dealings (`dkg/verify_all_dealings`: the signature
//! check of each on arrival, then the end-of-deal checks) and, optionally, a
//! whole in-process run (`dkg/full`) and a resharing. Usage:
//! `profile_verify [n] [verify|full|reshare|all] [reps]` (t = 2f; min-pk up to 64, min-sig above, or
//! `DKG_VARIANT=min-pk|min-sig`).
use conclave_dkg::{sim, Input, Phase};
use conclave_threshold_sig::{MinPk, MinSig, Variant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(64);
    let what = args.get(2).map_or("verify", String::as_str).to_string();
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let min_sig = std::env::var("DKG_VARIANT").map_or(n > 64, |v| v == "min-sig");
    if !min_sig {
        run::<MinPk>(n, &what, reps);
    } else {
        run::<MinSig>(n, &what, reps);
    }
}

fn run<V: Variant>(n: u32, what: &str, reps: usize) {
    let t = 2 * ((n - 1) / 3);
    if what == "verify" || what == "all" {
        let (parties, dealings) = sim::parties_and_dealings::<V>(n, t).unwrap();
        let (mut best_arrival, mut best) = (f64::MAX, f64::MAX);
        for _ in 0..reps {
            let mut p = parties[1].participant.clone_for_bench();
            let msgs = dealings.clone();
            let start = std::time::Instant::now();
            for m in msgs {
                p.handle(Input::Message(m)).unwrap();
            }
            let arrived = start.elapsed().as_secs_f64();
            p.handle(Input::DeadlinePassed(Phase::Deal)).unwrap();
            best = best.min(start.elapsed().as_secs_f64());
            best_arrival = best_arrival.min(arrived);
        }
        println!(
            "verify_all_dealings/{n} ({}): {:.2} ms (of which arrival checks {:.2} ms)",
            V::NAME,
            best * 1e3,
            best_arrival * 1e3
        );
    }
    let cfg = sim::SimConfig::new(sim::SimVariant::of::<V>(), n, t, [4u8; 32]);
    if what == "full" || what == "all" || what == "reshare" {
        let mut best = f64::MAX;
        let mut report = None;
        for _ in 0..if what == "reshare" { 1 } else { reps } {
            let start = std::time::Instant::now();
            report = Some(sim::run_dkg(&cfg).unwrap());
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!("full/{n} ({}): {:.3} s", V::NAME, best);
        if what != "full" {
            let rc = sim::ReshareConfig::new(n, t, [6u8; 32]);
            let mut best = f64::MAX;
            for _ in 0..reps {
                let start = std::time::Instant::now();
                sim::run_reshare(report.as_ref().unwrap(), &rc).unwrap();
                best = best.min(start.elapsed().as_secs_f64());
            }
            println!("reshare/{n} ({}): {:.3} s", V::NAME, best);
        }
    }
}
