//! Min-of-N timing of deriving all n = 1024 public shares from a degree-682 commitment:
//! `taskset -c 0 cargo run --release -p conclave-benches --example public_shares` (prints the
//! best wall time of three runs and that run's process CPU time, steadier on a loaded machine).

use std::time::Instant;

use conclave_threshold_sig::{deal, MinPk, MinSig, Variant};
use rand::SeedableRng;

/// CPU time of the process (all threads) in milliseconds, for a loaded machine.
fn cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

fn run<V: Variant>() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let dealing = deal::<V>(1024, 682, &mut rng).unwrap();
    let best = (0..3)
        .map(|_| {
            let t = Instant::now();
            let c = cpu_ms();
            std::hint::black_box(dealing.commitment.public_shares(1024).unwrap());
            (t.elapsed(), cpu_ms() - c)
        })
        .min_by_key(|(wall, _)| *wall)
        .unwrap();
    let (best, best_cpu) = best;
    let t = Instant::now();
    std::hint::black_box(dealing.commitment.public_shares(1).unwrap());
    let init = t.elapsed();
    println!(
        "{}: table set-up alone (n = 1) {:.1} ms",
        V::NAME,
        init.as_secs_f64() * 1e3
    );
    let all = dealing.commitment.public_shares(1024).unwrap();
    assert_eq!(all[999], dealing.commitment.public_share(1000).unwrap());
    assert_eq!(all[1023], dealing.commitment.public_share(1024).unwrap());
    let t = Instant::now();
    std::hint::black_box(dealing.commitment.public_share(1000).unwrap());
    let one = t.elapsed();
    println!(
        "{}: all 1024 public shares {:.1} ms ({best_cpu:.1} ms process CPU; {:.3} ms per share); one share by Horner {:.2} ms",
        V::NAME,
        best.as_secs_f64() * 1e3,
        best.as_secs_f64() * 1e3 / 1024.0,
        one.as_secs_f64() * 1e3
    );
}

fn main() {
    run::<MinPk>();
    run::<MinSig>();
}
