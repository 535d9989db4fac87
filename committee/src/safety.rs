//! Per-step failure probabilities of a sampled voting committee, computed exactly.
//!
//! # Model
//!
//! A population of `n` seats, one stake unit each, `f` of them faulty (the adversary's share of
//! stake is `f / n`; it is the *stake* fraction that matters, not `f < n/3`). In every step each
//! seat is selected into the voting committee independently with probability `p = τ / n` (VRF
//! sortition with expected committee weight `τ`; a selected unit-stake seat weighs 1), so the
//! honest weight is `H ~ Binomial(n − f, p)` and the faulty weight `A ~ Binomial(f, p)`, and a
//! quorum is `q` weight for one value. Faulty voters vote for every value; honest ones vote once.
//!
//! - **Liveness failure**: the honest voters alone cannot reach a quorum, `Pr[H < q]`.
//! - **Safety failure**: the adversary can complete two quorums for different values by
//!   splitting the honest votes (`H₁ + A ≥ q` and `H₂ + A ≥ q` with `H₁ + H₂ ≤ H`), i.e.
//!   `Pr[H + 2A ≥ 2q]`. This includes the adversary reaching a quorum alone (`A ≥ q`).
//!
//! Both are sums of exact binomial terms walked as in the sortition CDF ([`crate::binomial`]),
//! in the integer soft-float (every operation truncates; relative error below `2^-100` for
//! populations up to 10⁶). No floating point is used; [`FailureProbability::to_f64`] is for
//! display only.
//!
//! # What sampling needs (generated and checked by `safety::tests::sampling_table_matches_docs`)
//!
//! For `h = 4/5` honest stake, the smallest expected committee `τ` for which *some* quorum keeps
//! both per-step failure probabilities at or below `10⁻⁹` (and that quorum):
//!
//! | seats `n` | smallest `τ` | `τ / n` | quorum |
//! |-----------|--------------|---------|--------|
//! | 100       | 96           | 0.960   | 61     |
//! | 200       | 183          | 0.915   | 121    |
//! | 500       | 404          | 0.808   | 273    |
//! | 1000      | 677          | 0.677   | 461    |
//! | 2000      | 1022         | 0.511   | 698    |
//!
//! So at `n ≤ 1000` a sampled committee meets `10⁻⁹` per step only when it holds two thirds of
//! the seats or more, which buys little over letting everyone vote (and a threshold key then
//! gives constant-size certificates). Committees much smaller than the population need `τ` in
//! the thousands (Algorand's `τ_step = 2000`, `T = 0.685`).

use crate::error::Error;
use crate::seats::FailureProbability;
use crate::softfloat::SoftFloat;

/// The largest population [`step_failure`] accepts.
pub const MAX_POPULATION: u64 = 1_000_000;

/// The two per-step failure probabilities of a sampled committee (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepFailure {
    /// `Pr[H + 2A ≥ 2q]`: two conflicting quorums are possible.
    pub safety: FailureProbability,
    /// `Pr[H < q]`: the honest voters cannot reach a quorum.
    pub liveness: FailureProbability,
}

impl StepFailure {
    /// The larger of the two.
    pub fn worst(&self) -> FailureProbability {
        self.safety.max(self.liveness)
    }
}

/// The binomial distribution of the weight of `trials` unit seats, each selected with
/// probability `tau / seats` (`tau < seats`): `pmf[k] = C(trials, k) p^k (1 − p)^(trials − k)`.
fn weight_pmf(trials: u64, tau: u64, seats: u64) -> Vec<SoftFloat> {
    let q = SoftFloat::ratio(seats - tau, seats);
    let odds = SoftFloat::ratio(tau, seats - tau);
    let mut term = q.pow(trials);
    let mut pmf = Vec::with_capacity(trials as usize + 1);
    pmf.push(term);
    for k in 0..trials {
        term = term.mul_u64(trials - k).mul(odds).div_u64(k + 1);
        pmf.push(term);
    }
    pmf
}

/// Precomputed honest and faulty weight distributions for one `(n, f, τ)`: evaluates
/// [`StepFailure`] for any quorum in `O(f)`.
pub struct StepModel {
    seats: u64,
    faulty: u64,
    tau: u64,
    /// `Pr[H ≥ k]` for `k = 0..=n − f` (sampled case only).
    honest_tail: Vec<SoftFloat>,
    /// `Pr[H = k]` for `k = 0..=n − f` (sampled case only).
    honest_pmf: Vec<SoftFloat>,
    /// `Pr[A = a]` for `a = 0..=f` (sampled case only).
    faulty_pmf: Vec<SoftFloat>,
}

impl StepModel {
    /// Checks `1 ≤ τ ≤ n ≤ 10⁶`, `f ≤ n`, and walks both distributions.
    pub fn new(seats: u64, faulty: u64, tau: u64) -> Result<StepModel, Error> {
        if seats == 0 || seats > MAX_POPULATION {
            return Err(Error::InvalidSeatParameters(
                "population must be in 1..=1000000",
            ));
        }
        if faulty > seats {
            return Err(Error::InvalidSeatParameters(
                "faulty seats exceed the population",
            ));
        }
        if tau == 0 || tau > seats {
            return Err(Error::InvalidSeatParameters(
                "expected committee weight must be in 1..=population",
            ));
        }
        let honest = seats - faulty;
        let (mut honest_pmf, mut honest_tail, mut faulty_pmf) =
            (Vec::new(), Vec::new(), Vec::new());
        if tau < seats {
            honest_pmf = weight_pmf(honest, tau, seats);
            faulty_pmf = weight_pmf(faulty, tau, seats);
            // Suffix sums, smallest terms first.
            honest_tail = vec![SoftFloat::ZERO; honest_pmf.len()];
            let mut acc = SoftFloat::ZERO;
            for k in (0..honest_pmf.len()).rev() {
                acc = acc.add(honest_pmf[k]);
                honest_tail[k] = acc;
            }
        }
        Ok(StepModel {
            seats,
            faulty,
            tau,
            honest_tail,
            honest_pmf,
            faulty_pmf,
        })
    }

    /// The failure probabilities for quorum `quorum` (weight `≥ 1`).
    pub fn failure(&self, quorum: u64) -> StepFailure {
        let honest = self.seats - self.faulty;
        let quorum = quorum.max(1);
        if self.tau == self.seats {
            // Everyone votes with weight 1: H = n − f and A = f exactly.
            let certain = |b: bool| {
                FailureProbability::from_soft(if b { SoftFloat::ONE } else { SoftFloat::ZERO })
            };
            return StepFailure {
                safety: certain(honest + 2 * self.faulty >= 2 * quorum),
                liveness: certain(honest < quorum),
            };
        }
        let mut liveness = SoftFloat::ZERO;
        for &term in self.honest_pmf.iter().take(quorum.min(honest + 1) as usize) {
            liveness = liveness.add(term);
        }
        let mut safety = SoftFloat::ZERO;
        for (a, &pa) in self.faulty_pmf.iter().enumerate().rev() {
            let need = (2 * quorum).saturating_sub(2 * a as u64);
            if let Some(&tail) = self.honest_tail.get(need as usize) {
                safety = safety.add(pa.mul(tail));
            }
        }
        StepFailure {
            safety: FailureProbability::from_soft(safety),
            liveness: FailureProbability::from_soft(liveness),
        }
    }

    /// The quorum in `1..=τ·2` that minimises the worse of the two probabilities, with them
    /// (liveness grows and safety shrinks with the quorum, so a binary search finds it).
    pub fn best_quorum(&self) -> (u64, StepFailure) {
        let (mut lo, mut hi) = (1u64, (2 * self.tau).min(self.seats).max(1));
        // Smallest quorum whose safety failure is at most its liveness failure.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let f = self.failure(mid);
            if f.safety <= f.liveness {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let mut best = (lo, self.failure(lo));
        if lo > 1 {
            let below = self.failure(lo - 1);
            if below.worst() < best.1.worst() {
                best = (lo - 1, below);
            }
        }
        best
    }
}

/// [`StepFailure`] of a population of `seats` unit seats, `faulty` of them faulty, with expected
/// committee weight `tau` and quorum `quorum` (see the module docs).
pub fn step_failure(seats: u64, faulty: u64, tau: u64, quorum: u64) -> Result<StepFailure, Error> {
    Ok(StepModel::new(seats, faulty, tau)?.failure(quorum))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest τ (and its best quorum) meeting `target` at honest fraction 4/5.
    fn smallest_tau(seats: u64, target: FailureProbability) -> (u64, u64) {
        let faulty = seats / 5;
        for tau in 1..=seats {
            let model = StepModel::new(seats, faulty, tau).unwrap();
            let (quorum, f) = model.best_quorum();
            if f.worst() <= target {
                return (tau, quorum);
            }
        }
        (seats + 1, 0)
    }

    fn sampling_table() -> String {
        let target = FailureProbability::from_ratio(1, 1_000_000_000).unwrap();
        let mut rows = Vec::new();
        for seats in [100u64, 200, 500, 1000, 2000] {
            let (tau, quorum) = smallest_tau(seats, target);
            let ratio = tau * 1000 / seats;
            rows.push(format!(
                "| {:<9} | {:<12} | {:<7} | {:<6} |",
                seats,
                tau,
                format!("{}.{:03}", ratio / 1000, ratio % 1000),
                quorum
            ));
        }
        rows.join("\n//! ")
    }

    #[test]
    fn sampling_table_matches_docs() {
        let source = include_str!("safety.rs");
        let table = sampling_table();
        assert!(
            source.contains(&format!("//! {table}\n")),
            "regenerate the table in the safety module docs:\n//! {table}"
        );
    }

    #[test]
    fn small_case_is_exact() {
        // n = 2, f = 1, τ = 1 (p = 1/2), quorum 1: liveness fails iff the honest seat is not
        // selected (1/2); safety fails iff H + 2A ≥ 2, i.e. A = 1 (1/2).
        let f = step_failure(2, 1, 1, 1).unwrap();
        let half = FailureProbability::from_ratio(1, 2).unwrap();
        assert_eq!(f.liveness, half);
        assert_eq!(f.safety, half);
        // Quorum 2: liveness Pr[H < 2] = 1; safety Pr[H + 2A ≥ 4] = 0.
        let f = step_failure(2, 1, 1, 2).unwrap();
        assert_eq!(f.liveness.to_f64(), 1.0);
        assert_eq!(f.safety.to_f64(), 0.0);
        // Everyone votes: deterministic.
        let f = step_failure(4, 1, 4, 3).unwrap();
        assert_eq!((f.safety.to_f64(), f.liveness.to_f64()), (0.0, 0.0));
        let f = step_failure(4, 2, 4, 3).unwrap();
        assert_eq!((f.safety.to_f64(), f.liveness.to_f64()), (1.0, 1.0));
        assert!(step_failure(0, 0, 1, 1).is_err());
        assert!(step_failure(4, 5, 1, 1).is_err());
        assert!(step_failure(4, 1, 5, 1).is_err());
    }

    #[test]
    fn matches_a_float_reference_for_the_issue_parameters() {
        // n = 40, τ = 30, quorum 21 with 13 faulty seats (the f = ⌊(n−1)/3⌋ that #17 broke):
        // a computed safety failure per step of several in a thousand (the issue measured about
        // 3 in 400 period-1 draws for one particular split).
        let f = step_failure(40, 13, 30, 21).unwrap();
        let reference = {
            let p: f64 = 30.0 / 40.0;
            let pmf = |n: u64, k: u64| -> f64 {
                let mut c = 1.0;
                for i in 0..k {
                    c = c * (n - i) as f64 / (i + 1) as f64;
                }
                c * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32)
            };
            let mut s = 0.0;
            for a in 0..=13 {
                for h in 0..=27 {
                    if h + 2 * a >= 42 {
                        s += pmf(13, a) * pmf(27, h);
                    }
                }
            }
            s
        };
        let got = f.safety.to_f64();
        assert!(
            (got - reference).abs() <= 1e-12 * reference,
            "{got} vs {reference}"
        );
        assert!(got > 1e-3, "{got}");
    }

    #[test]
    fn algorand_parameters_in_a_large_population() {
        // τ = 2000, T = 0.685 (quorum 1370), h = 80% of 100,000 seats: both per step below 1e-8
        // (Algorand reports about 5e-9 for the Poisson limit).
        let f = step_failure(100_000, 20_000, 2000, 1370).unwrap();
        assert!(f.safety.to_f64() < 1e-8, "{:e}", f.safety.to_f64());
        assert!(f.liveness.to_f64() < 1e-8, "{:e}", f.liveness.to_f64());
    }
}
