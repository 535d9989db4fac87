//! Times one player's end-of-deal processing (used to profile `dkg/verify_all_dealings`).
use conclave_dkg::{sim, Input, Phase};
use conclave_threshold_sig::MinPk;
fn main() {
    let n = 64;
    let parties = sim::parties_after_dealing::<MinPk>(n, 42).unwrap();
    for _ in 0..3 {
        let mut p = parties[1].participant.clone_for_bench();
        let t = std::time::Instant::now();
        p.handle(Input::DeadlinePassed(Phase::Deal)).unwrap();
        println!("{:?}", t.elapsed());
    }
}
