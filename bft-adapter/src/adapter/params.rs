//! [`SampledParams`]: the honest-stake model of sampled mode and the committee parameters
//! derived from it, refused when their per-step failure probability exceeds a target.
//!
//! Sampled committees are safe only under an assumption on the honest *stake* (Algorand:
//! `h ≈ 80%`, `τ` in the thousands, `T ≈ 0.685–0.77`), never under "fewer than a third of the
//! seats are faulty": with `n = 40`, `τ = 30`, quorum 21 and the 13 faulty seats that `f < n/3`
//! allows, a step admits two conflicting quorums with probability of several in a thousand, and
//! every period is a fresh draw. So a sampled configuration states its honest fraction `h`, the
//! faulty seats are `⌊(1 − h)·n⌋`, and [`SampledParams::new`] computes, exactly (integer
//! soft-float binomial tails from `conclave_committee::safety`, no floating point), the
//! per-step probabilities that
//!
//! - **safety** fails: the faulty voters can complete two quorums for different values by
//!   splitting the honest ones, `Pr[H + 2A ≥ 2q]`;
//! - **liveness** fails: the honest voters alone cannot reach a quorum, `Pr[H < q]`;
//!
//! with `H`, `A` the honest and faulty committee weights (binomial over the seats with
//! probability `τ/n`) and `q = ⌈T·τ⌉`, and refuses the parameters when either exceeds the
//! failure target (default `10⁻⁹` per step).
//!
//! **Per height.** A height runs soft, cert and next steps (and next_k steps) in each of its
//! periods, each step a fresh committee draw, so [`SampledParams::height_failure`] takes the
//! union over them ([`HeightFailure`]): a period ends without a decision with probability at
//! most `q = f/n + (1 − τ_p/n)^n + 2·Pr[H < q]` (a faulty best proposer, no proposer at all
//! with `τ_p` = [`super::sortition::TAU_PROPOSER`] expected proposers, or the honest soft or
//! cert voters missing the quorum), so a height runs at most `1/(1 − q)` periods in
//! expectation, and the probability of a safety failure in a height is at most
//! `1/(1 − q) × STEPS_PER_PERIOD × Pr[H + 2A ≥ 2q]` ([`STEPS_PER_PERIOD`]: soft, cert, next
//! and one next_k step). Computed in the same soft-float and 63-bit fixed-point integer
//! arithmetic (rounded up where it matters), no floating point.
//!
//! At `n ≤ 1000` no committee smaller than about two thirds of the seats meets `10⁻⁹` at 80%
//! honest stake (see the table in `conclave_committee::safety`); that is why threshold mode is
//! the default and sampled mode is for large populations.

use conclave_committee::safety::{StepFailure, StepModel};
use conclave_committee::seats::FailureProbability;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A fraction `numerator / denominator` (parameters stay rational: no floats on consensus paths).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    /// Numerator.
    pub numerator: u64,
    /// Denominator (non-zero in a valid ratio).
    pub denominator: u64,
}

impl Ratio {
    /// `numerator / denominator`.
    pub const fn new(numerator: u64, denominator: u64) -> Ratio {
        Ratio {
            numerator,
            denominator,
        }
    }

    /// True for a value in `[0, 1]` with a non-zero denominator.
    pub fn is_probability(&self) -> bool {
        self.denominator > 0 && self.numerator <= self.denominator
    }

    /// The nearest `f64`, for display only.
    pub fn to_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

/// Why a ratio did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a fraction (expected e.g. 0.8, 4/5 or 1e-9): {0:?}")]
pub struct RatioParseError(pub String);

impl FromStr for Ratio {
    type Err = RatioParseError;

    /// Parses `a/b`, a decimal `0.8` or a decimal with exponent `1e-9`, exactly.
    fn from_str(s: &str) -> Result<Ratio, RatioParseError> {
        let bad = || RatioParseError(s.to_string());
        if let Some((a, b)) = s.split_once('/') {
            let (a, b) = (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            );
            return (b > 0).then_some(Ratio::new(a, b)).ok_or_else(bad);
        }
        let (mantissa, exponent) = match s.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i32>().map_err(|_| bad())?),
            None => (s, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty()
            || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let digits: u64 = format!("{int}{frac}").parse().map_err(|_| bad())?;
        let scale = exponent - frac.len() as i32;
        let pow = |k: i32| 10u64.checked_pow(k.unsigned_abs());
        if scale >= 0 {
            let n = pow(scale)
                .and_then(|p| digits.checked_mul(p))
                .ok_or_else(bad)?;
            Ok(Ratio::new(n, 1))
        } else {
            Ok(Ratio::new(digits, pow(scale).ok_or_else(bad)?))
        }
    }
}

/// Why sampled parameters were refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SampledParamsError {
    /// A fraction is not in `[0, 1]` (the honest fraction must be above 0).
    #[error("{0} must be a fraction in [0, 1]")]
    InvalidFraction(&'static str),
    /// The population or committee size is out of range.
    #[error("invalid sampled committee: {0}")]
    Model(#[from] conclave_committee::Error),
    /// The computed per-step failure probability exceeds the target.
    #[error(
        "per-step failure probability above the target {target:.3e}: safety {safety:.3e}, \
         liveness {liveness:.3e} (n = {seats}, {faulty} faulty, τ = {tau}, quorum {quorum})"
    )]
    AboveTarget {
        /// Seats.
        seats: u32,
        /// Faulty seats derived from the honest fraction.
        faulty: u32,
        /// Expected committee weight per step.
        tau: u64,
        /// Quorum.
        quorum: u64,
        /// Safety failure per step (display value).
        safety: f64,
        /// Liveness failure per step (display value).
        liveness: f64,
        /// The target (display value).
        target: f64,
    },
}

/// Vote steps of one period counted by the per-height bound: soft, cert, next (steps 4 and 5
/// share one committee) and one next_k step. A period that runs `k` next_k steps draws `k − 1`
/// more committees; add their per-step terms for such schedules.
pub const STEPS_PER_PERIOD: u64 = 4;

/// The per-height bounds of a sampled configuration (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeightFailure {
    /// Upper bound on the probability that a period ends without a decision.
    pub period_failure: FailureProbability,
    /// Upper bound on the expected number of periods of a height, `1 / (1 − period_failure)`
    /// as an exact ratio (`None` when `period_failure ≥ 1`: no bound).
    pub expected_periods: Option<Ratio>,
    /// Union bound on a safety failure within one height (capped at one).
    pub safety: FailureProbability,
}

impl HeightFailure {
    /// The bounds for `seats` seats, `faulty` of them faulty, with per-step `step` failures.
    fn new(seats: u32, faulty: u32, step: StepFailure) -> HeightFailure {
        let n = u64::from(seats);
        let tau_p = super::sortition::TAU_PROPOSER.min(n);
        let no_proposer = FailureProbability::from_ratio(n - tau_p, n)
            .unwrap_or(FailureProbability::ONE)
            .pow(n);
        let faulty_proposer =
            FailureProbability::from_ratio(u64::from(faulty), n).unwrap_or(FailureProbability::ONE);
        let period_failure = faulty_proposer
            .union(no_proposer)
            .union(step.liveness)
            .union(step.liveness);
        const ONE: u64 = 1 << 63;
        let q = period_failure.fixed63_upper();
        let expected_periods = (q < ONE).then(|| Ratio::new(ONE, ONE - q));
        let safety = match expected_periods {
            Some(periods) => step
                .safety
                .scale(STEPS_PER_PERIOD, 1)
                .and_then(|s| s.scale(periods.numerator, periods.denominator))
                .map_or(FailureProbability::ONE, |s| s.min(FailureProbability::ONE)),
            None => FailureProbability::ONE,
        };
        HeightFailure {
            period_failure,
            expected_periods,
            safety,
        }
    }
}

/// Validated sampled-mode parameters for a population of `seats` unit-stake seats (see the
/// module docs): honest fraction, expected committee weight and threshold per step, failure
/// target, and what they imply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampledParams {
    seats: u32,
    honest_fraction: Ratio,
    tau_per_step: u64,
    threshold_per_step: Ratio,
    failure_target: Ratio,
    faulty: u32,
    quorum: u64,
    failure: StepFailure,
    height: HeightFailure,
}

impl SampledParams {
    /// Algorand's step threshold `T = 0.685`.
    pub const DEFAULT_THRESHOLD: Ratio = Ratio::new(685, 1000);
    /// The default honest stake, 80%.
    pub const DEFAULT_HONEST_FRACTION: Ratio = Ratio::new(4, 5);
    /// The default failure target, `10⁻⁹` per step.
    pub const DEFAULT_FAILURE_TARGET: Ratio = Ratio::new(1, 1_000_000_000);
    /// Algorand's expected committee weight per step; the default `τ` is `min(n, 2000)`.
    pub const DEFAULT_TAU: u64 = 2000;

    /// Derives the faulty seats `⌊(1 − h)·n⌋` and the quorum `⌈T·τ⌉`, computes the per-step
    /// safety and liveness failure probabilities and refuses the parameters if either exceeds
    /// `failure_target`.
    pub fn new(
        seats: u32,
        honest_fraction: Ratio,
        tau_per_step: u64,
        threshold_per_step: Ratio,
        failure_target: Ratio,
    ) -> Result<SampledParams, SampledParamsError> {
        if !honest_fraction.is_probability() || honest_fraction.numerator == 0 {
            return Err(SampledParamsError::InvalidFraction("the honest fraction"));
        }
        if !threshold_per_step.is_probability() || threshold_per_step.numerator == 0 {
            return Err(SampledParamsError::InvalidFraction("the step threshold"));
        }
        if !failure_target.is_probability() {
            return Err(SampledParamsError::InvalidFraction("the failure target"));
        }
        let n = u128::from(seats);
        let (hn, hd) = (
            u128::from(honest_fraction.numerator),
            u128::from(honest_fraction.denominator),
        );
        let faulty = ((hd - hn) * n / hd) as u32;
        let (tn, td) = (
            u128::from(threshold_per_step.numerator),
            u128::from(threshold_per_step.denominator),
        );
        let quorum = (tn * u128::from(tau_per_step)).div_ceil(td).max(1) as u64;
        let model = StepModel::new(u64::from(seats), u64::from(faulty), tau_per_step)?;
        let failure = model.failure(quorum);
        let target =
            FailureProbability::from_ratio(failure_target.numerator, failure_target.denominator)
                .ok_or(SampledParamsError::InvalidFraction("the failure target"))?;
        if failure.safety > target || failure.liveness > target {
            return Err(SampledParamsError::AboveTarget {
                seats,
                faulty,
                tau: tau_per_step,
                quorum,
                safety: failure.safety.to_f64(),
                liveness: failure.liveness.to_f64(),
                target: failure_target.to_f64(),
            });
        }
        Ok(SampledParams {
            seats,
            honest_fraction,
            tau_per_step,
            threshold_per_step,
            failure_target,
            faulty,
            quorum,
            failure,
            height: HeightFailure::new(seats, faulty, failure),
        })
    }

    /// The defaults for `seats`: 80% honest, `τ = min(n, 2000)`, `T = 0.685`, target `10⁻⁹`.
    pub fn defaults(seats: u32) -> Result<SampledParams, SampledParamsError> {
        SampledParams::new(
            seats,
            Self::DEFAULT_HONEST_FRACTION,
            Self::DEFAULT_TAU.min(u64::from(seats)),
            Self::DEFAULT_THRESHOLD,
            Self::DEFAULT_FAILURE_TARGET,
        )
    }

    /// Seats in the population.
    pub fn seats(&self) -> u32 {
        self.seats
    }

    /// The stated honest fraction of stake.
    pub fn honest_fraction(&self) -> Ratio {
        self.honest_fraction
    }

    /// Expected committee weight per step.
    pub fn tau_per_step(&self) -> u64 {
        self.tau_per_step
    }

    /// The step threshold `T`.
    pub fn threshold_per_step(&self) -> Ratio {
        self.threshold_per_step
    }

    /// The failure target per step.
    pub fn failure_target(&self) -> Ratio {
        self.failure_target
    }

    /// Faulty seats the model allows: `⌊(1 − h)·n⌋`.
    pub fn faulty(&self) -> u32 {
        self.faulty
    }

    /// The quorum weight `⌈T·τ⌉`.
    pub fn quorum(&self) -> u64 {
        self.quorum
    }

    /// Per-step probability that two conflicting quorums are possible.
    pub fn safety_failure(&self) -> FailureProbability {
        self.failure.safety
    }

    /// Per-step probability that the honest voters cannot reach a quorum.
    pub fn liveness_failure(&self) -> FailureProbability {
        self.failure.liveness
    }

    /// The per-height bounds at the stated fraction (see [`HeightFailure`]).
    pub fn height_failure(&self) -> HeightFailure {
        self.height
    }

    /// [`SampledParams::height_failure`] with `faulty` faulty seats instead of the stated
    /// fraction's.
    pub fn height_failure_with_faulty(
        &self,
        faulty: u32,
    ) -> Result<HeightFailure, SampledParamsError> {
        Ok(HeightFailure::new(
            self.seats,
            faulty,
            self.failure_with_faulty(faulty)?,
        ))
    }

    /// The same model evaluated with `faulty` faulty seats instead of the stated fraction's
    /// (what a run with less honest stake than stated should expect).
    pub fn failure_with_faulty(&self, faulty: u32) -> Result<StepFailure, SampledParamsError> {
        Ok(
            StepModel::new(u64::from(self.seats), u64::from(faulty), self.tau_per_step)?
                .failure(self.quorum),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_parse_exactly() {
        assert_eq!("0.8".parse(), Ok(Ratio::new(8, 10)));
        assert_eq!("4/5".parse(), Ok(Ratio::new(4, 5)));
        assert_eq!("1e-9".parse(), Ok(Ratio::new(1, 1_000_000_000)));
        assert_eq!("2.5e-3".parse(), Ok(Ratio::new(25, 10_000)));
        assert_eq!("1".parse(), Ok(Ratio::new(1, 1)));
        for bad in ["", ".", "x", "1/0", "-0.5", "1e-40", "0.8.1"] {
            assert!(bad.parse::<Ratio>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_issue_parameters_are_refused() {
        // n = 40, τ = 30, T = 0.685 (quorum 21): unsafe at 80% honest stake.
        let e = SampledParams::new(
            40,
            Ratio::new(4, 5),
            30,
            SampledParams::DEFAULT_THRESHOLD,
            SampledParams::DEFAULT_FAILURE_TARGET,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                SampledParamsError::AboveTarget {
                    quorum: 21,
                    faulty: 8,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn quorum_never_exceeds_the_honest_seats_at_the_2000_boundary() {
        // #17 item 2: the CLI defaults (τ = min(N, 2000), T = 0.685) with F = ⌊(N−1)/3⌋ gave
        // quorum 1370 with 1335 honest seats at N = 2001. Derived from 80% honest stake, both
        // sides of the boundary are accepted and the honest seats cover the quorum.
        for n in [2000u32, 2001] {
            let p = SampledParams::defaults(n).unwrap();
            assert_eq!(p.tau_per_step(), 2000);
            assert_eq!(p.quorum(), 1370);
            assert_eq!(p.faulty(), n / 5);
            assert!(u64::from(n - p.faulty()) > p.quorum());
            assert!(p.safety_failure().to_f64() <= 1e-9);
            assert!(p.liveness_failure().to_f64() <= 1e-9);
        }
        // With a third of the seats faulty, N = 2001 is refused instead of running a committee
        // that only faulty votes can complete.
        let third = Ratio::new(2001 - 666, 2001);
        let e = SampledParams::new(
            2001,
            third,
            2000,
            SampledParams::DEFAULT_THRESHOLD,
            SampledParams::DEFAULT_FAILURE_TARGET,
        )
        .unwrap_err();
        assert!(
            matches!(e, SampledParamsError::AboveTarget { faulty: 666, quorum: 1370, liveness, .. } if liveness > 0.999),
            "{e}"
        );
    }

    #[test]
    #[cfg(feature = "sim")]
    fn the_simulator_derives_the_faulty_seats_from_the_honest_fraction() {
        let p = SampledParams::defaults(40).unwrap();
        let c = crate::sim::SimConfig::sampled(&p);
        assert_eq!(
            (c.nodes, c.faulty, c.mode),
            (40, 8, crate::sim::Mode::Sampled)
        );
    }

    #[test]
    fn the_per_height_bound_is_the_union_over_the_expected_periods_and_steps() {
        // Algorand-sized committee at n = 10 000, 80% honest: 1/(1 − q) ≈ 1/(1 − 0.2) periods.
        let p = SampledParams::defaults(10_000).unwrap();
        let h = p.height_failure();
        let periods = h.expected_periods.unwrap().to_f64();
        assert!((1.249..1.251).contains(&periods), "{periods}");
        let step = p.safety_failure().to_f64();
        let height = h.safety.to_f64();
        assert!(step > 0.0 && step <= 1e-9);
        let expected = step * STEPS_PER_PERIOD as f64 * periods;
        assert!(
            (height / expected - 1.0).abs() < 1e-6,
            "{height} vs {expected}"
        );
        assert!(h.safety >= p.safety_failure());
        // More faulty seats: more periods and a larger bound; at half the seats faulty the
        // expected number of periods is still finite, the safety bound capped at one.
        let worse = p.height_failure_with_faulty(3_000).unwrap();
        assert!(worse.safety > h.safety);
        assert!(worse.expected_periods.unwrap().to_f64() > periods);
        let half = p.height_failure_with_faulty(5_000).unwrap();
        assert_eq!(half.safety, FailureProbability::ONE);
        // Everyone faulty: a period never ends in a decision, no bound.
        let all = p.height_failure_with_faulty(10_000).unwrap();
        assert_eq!(all.expected_periods, None);
        assert_eq!(all.safety, FailureProbability::ONE);
    }

    #[test]
    fn bad_fractions_are_typed_errors() {
        let t = SampledParams::DEFAULT_THRESHOLD;
        let g = SampledParams::DEFAULT_FAILURE_TARGET;
        assert!(SampledParams::new(10, Ratio::new(0, 1), 10, t, g).is_err());
        assert!(SampledParams::new(10, Ratio::new(3, 2), 10, t, g).is_err());
        assert!(SampledParams::new(10, Ratio::new(1, 0), 10, t, g).is_err());
        assert!(SampledParams::new(10, Ratio::new(4, 5), 0, t, g).is_err());
        assert!(SampledParams::new(10, Ratio::new(4, 5), 11, t, g).is_err());
        assert!(SampledParams::new(0, Ratio::new(4, 5), 1, t, g).is_err());
    }
}
