//! Profile target for `Commitment::public_shares` (callgrind):
//! `valgrind --tool=callgrind target/release/examples/ps_profile 200 256`.
use conclave_threshold_sig::{deal, MinPk};
use rand::SeedableRng;

fn main() {
    let t: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let n: u32 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let dealing = deal::<MinPk>(n, t, &mut rng).unwrap();
    std::hint::black_box(dealing.commitment.public_shares(n).unwrap());
}
