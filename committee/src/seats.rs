//! Epoch seats: draw `c` seats from a stake population; the seat holders run the DKG for the epoch.
//!
//! # Draw
//!
//! Seat `k` (for `k = 0..c`) goes to the participant whose cumulative-stake interval contains
//! `x_k`, where `x_k` is uniform in `[0, W)`: a merlin transcript `"conclave-committee/v1/seats"`
//! with the chain `domain` (a chain id or genesis hash, so two chains that share a seed draw
//! unrelated seats), `seed`, `epoch`, `k` and a counter yields 16 bytes `r` (big-endian `u128`),
//! accepted when
//! `r < ⌊2^128 / W⌋ · W` (rejection sampling, so exactly uniform; a retry has probability below
//! `2^-65`), and `x_k = r mod W`. Seats are drawn independently with replacement, so one participant
//! may hold several seats (the DKG's weighted mode). The draw is public and deterministic: its
//! unpredictability is that of the seed, so use a beacon seed (see [`crate::seed`]).
//!
//! # Failure probability
//!
//! With `c = 3f + 1` seats (in general `f = ⌊(c - 1) / 3⌋`) the committee is safe while at most `f`
//! seats are Byzantine. If the adversary controls a fraction `β = 1 - h` of the stake, the number
//! of Byzantine seats is exactly `Binomial(c, β)`, so the failure probability is
//! `Pr[X ≥ f + 1] = Σ_{k > f} C(c, k) β^k (1 - β)^(c - k)`, computed by [`failure_probability`] with
//! the integer soft-float of the sortition path (relative error below `2^-100`). The table is
//! generated and checked by the test `seats::tests::failure_table_matches_docs`:
//!
//! | seats `c` | `h = 3/4`  | `h = 4/5`  | `h = 9/10` |
//! |-----------|------------|------------|------------|
//! | 64        | 5.962e-2   | 5.086e-3   | 1.202e-7   |
//! | 100       | 2.759e-2   | 7.369e-4   | 6.996e-11  |
//! | 256       | 1.282e-3   | 2.438e-7   | 1.036e-24  |
//! | 512       | 1.281e-5   | 8.524e-13  | 5.147e-47  |
//! | 1024      | 1.106e-9   | 7.041e-24  | 3.917e-92  |
//! | 2048      | 1.711e-17  | 1.351e-45  | 1.445e-181 |
//!
//! (`h` is the honest fraction of stake. Cross-checked offline with exact rationals:
//! `Σ comb(c,k)·β^k·h^(c-k)` in Python's `fractions`, which agrees to all four digits.)

use merlin::Transcript;
use serde::{Deserialize, Serialize};

use crate::binomial::MAX_TOTAL_STAKE;
use crate::error::Error;
use crate::seed::Seed;
use crate::softfloat::SoftFloat;

/// The outcome of a seat draw: `holders[k]` is the index (into the stake list) of seat `k`'s holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatAssignment {
    /// Seat holders by seat index.
    pub holders: Vec<usize>,
}

impl SeatAssignment {
    /// How many seats participant `index` holds.
    pub fn seats_of(&self, index: usize) -> usize {
        self.holders.iter().filter(|&&h| h == index).count()
    }
}

/// The most seats one draw may ask for (the range of [`failure_probability`]). The count often
/// comes from configuration or the wire; larger requests are [`Error::TooManySeats`] instead of
/// an unbounded allocation.
pub const MAX_SEATS: u32 = 1_000_000;

/// Draws `seats` seats (at most [`MAX_SEATS`]) from the population `stakes` for `epoch` of the
/// chain `domain` (see the module docs).
pub fn draw_seats(
    domain: &str,
    seed: &Seed,
    epoch: u64,
    stakes: &[u64],
    seats: u32,
) -> Result<SeatAssignment, Error> {
    if seats > MAX_SEATS {
        return Err(Error::TooManySeats {
            requested: seats,
            max: MAX_SEATS,
        });
    }
    let mut cumulative = Vec::with_capacity(stakes.len());
    let mut total: u64 = 0;
    for &stake in stakes {
        total = total
            .checked_add(stake)
            .filter(|&t| t <= MAX_TOTAL_STAKE)
            .ok_or(Error::PopulationTooLarge)?;
        cumulative.push(total);
    }
    if total == 0 {
        return Err(Error::EmptyPopulation);
    }
    let total128 = total as u128;
    let limit = (u128::MAX / total128) * total128; // values below `limit` are uniform mod W
    let mut holders = Vec::with_capacity(seats as usize);
    for k in 0..seats {
        let mut counter = 0u64;
        let x = loop {
            let mut transcript = Transcript::new(b"conclave-committee/v1/seats");
            transcript.append_message(b"domain", domain.as_bytes());
            transcript.append_message(b"seed", seed.as_bytes());
            transcript.append_u64(b"epoch", epoch);
            transcript.append_u64(b"seat", k as u64);
            transcript.append_u64(b"counter", counter);
            let mut bytes = [0u8; 16];
            transcript.challenge_bytes(b"draw", &mut bytes);
            let r = u128::from_be_bytes(bytes);
            if r < limit {
                break (r % total128) as u64;
            }
            counter += 1;
        };
        // First participant whose cumulative stake exceeds x (zero-stake entries are never chosen).
        holders.push(cumulative.partition_point(|&c| c <= x));
    }
    Ok(SeatAssignment { holders })
}

/// A failure probability computed exactly up to a relative error below `2^-100`. Ordered by
/// value (exactly, on the integer representation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureProbability(SoftFloat);

impl PartialOrd for FailureProbability {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FailureProbability {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp_value(&other.0)
    }
}

impl FailureProbability {
    pub(crate) fn from_soft(value: SoftFloat) -> Self {
        FailureProbability(value)
    }

    /// `numerator / denominator` (one truncation), e.g. a failure target of `1 / 10⁹`; `None`
    /// unless `numerator ≤ denominator` and `denominator > 0`.
    pub fn from_ratio(numerator: u64, denominator: u64) -> Option<Self> {
        (denominator > 0 && numerator <= denominator)
            .then(|| FailureProbability(SoftFloat::ratio(numerator, denominator)))
    }

    /// The nearest `f64` (for display; underflows to 0 below about `1e-308`).
    pub fn to_f64(self) -> f64 {
        self.0.to_f64_for_display()
    }

    /// `⌊log2 p⌋`, or `None` for zero.
    pub fn log2_floor(self) -> Option<i64> {
        self.0.log2_floor()
    }

    /// Zero.
    pub const ZERO: FailureProbability = FailureProbability(SoftFloat::ZERO);

    /// One.
    pub const ONE: FailureProbability = FailureProbability(SoftFloat::ONE);

    /// `self + other` (one truncation), capped at one: a union bound.
    pub fn union(self, other: FailureProbability) -> FailureProbability {
        FailureProbability(self.0.add(other.0)).min(FailureProbability::ONE)
    }

    /// `self · numerator / denominator` (two truncations; not capped); `None` for a zero
    /// denominator.
    pub fn scale(self, numerator: u64, denominator: u64) -> Option<FailureProbability> {
        (denominator > 0)
            .then(|| FailureProbability(self.0.mul_u64(numerator).div_u64(denominator)))
    }

    /// `self^k` (square-and-multiply, truncating).
    pub fn pow(self, k: u64) -> FailureProbability {
        FailureProbability(self.0.pow(k))
    }

    /// An upper bound in 63-bit fixed point: `⌊p · 2^63⌋ + 1` (so `p < result / 2^63` up to
    /// the truncation error below `2^-100` relative), saturating at `2^63 + 1` for `p ≥ 1`.
    pub fn fixed63_upper(self) -> u64 {
        let fixed = self.0.to_fixed127() >> 64;
        (fixed.min(1 << 63) as u64) + 1
    }
}

/// `Pr[Binomial(seats, 1 - h) > f]` with `f = ⌊(seats - 1) / 3⌋` and honest fraction
/// `h = honest_numerator / honest_denominator` (see the module docs).
pub fn failure_probability(
    seats: u64,
    honest_numerator: u64,
    honest_denominator: u64,
) -> Result<FailureProbability, Error> {
    if seats == 0 || seats > 1_000_000 {
        return Err(Error::InvalidSeatParameters("seats must be in 1..=1000000"));
    }
    if honest_numerator == 0 || honest_numerator > honest_denominator {
        return Err(Error::InvalidSeatParameters(
            "honest fraction must be in (0, 1]",
        ));
    }
    if honest_numerator == honest_denominator {
        return Ok(FailureProbability(SoftFloat::ZERO));
    }
    let f = (seats - 1) / 3;
    let h = SoftFloat::ratio(honest_numerator, honest_denominator);
    let odds = SoftFloat::ratio(honest_denominator - honest_numerator, honest_numerator);
    // term(k) = C(c, k) β^k h^(c-k), walked from k = 0 as in the sortition CDF.
    let mut term = h.pow(seats);
    let mut tail = SoftFloat::ZERO;
    for k in 0..seats {
        term = term.mul_u64(seats - k).mul(odds).div_u64(k + 1);
        if k + 1 > f {
            tail = tail.add(term);
        }
    }
    Ok(FailureProbability(tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of the table in the module docs.
    pub(crate) fn failure_table() -> String {
        let mut rows = Vec::new();
        for c in [64u64, 100, 256, 512, 1024, 2048] {
            let cells: Vec<String> = [(3, 4), (4, 5), (9, 10)]
                .iter()
                .map(|&(n, d)| format!("{:.3e}", failure_probability(c, n, d).unwrap().to_f64()))
                .collect();
            rows.push(format!(
                "| {:<9} | {:<10} | {:<10} | {:<10} |",
                c, cells[0], cells[1], cells[2]
            ));
        }
        rows.join("\n//! ")
    }

    #[test]
    fn failure_table_matches_docs() {
        let source = include_str!("seats.rs");
        let table = failure_table();
        assert!(
            source.contains(&format!("//! {table}\n")),
            "regenerate the table in the seats module docs:\n//! {table}"
        );
    }

    #[test]
    fn failure_probability_small_case_exact() {
        // c = 4, f = 1, β = 1/2: Pr[X ≥ 2] = 11/16.
        let p = failure_probability(4, 1, 2).unwrap();
        assert_eq!(p.0.to_fixed127(), 11 << 123);
        assert!(failure_probability(0, 1, 2).is_err());
        assert!(failure_probability(4, 3, 2).is_err());
        assert_eq!(failure_probability(4, 1, 1).unwrap().to_f64(), 0.0);
    }

    #[test]
    fn seats_follow_stake() {
        let seed = Seed::from_bytes([3; 32]);
        let stakes = [1u64, 0, 3, 6];
        let draw = draw_seats("chain-a", &seed, 1, &stakes, 10_000).unwrap();
        assert_eq!(
            draw,
            draw_seats("chain-a", &seed, 1, &stakes, 10_000).unwrap()
        );
        assert_ne!(
            draw,
            draw_seats("chain-a", &seed, 2, &stakes, 10_000).unwrap()
        );
        assert_eq!(draw.seats_of(1), 0);
        for (i, &s) in stakes.iter().enumerate() {
            let expected = 10_000.0 * s as f64 / 10.0;
            let sd = (10_000.0 * s as f64 / 10.0 * (1.0 - s as f64 / 10.0)).sqrt();
            let got = draw.seats_of(i) as f64;
            assert!(
                (got - expected).abs() <= 5.0 * sd + 1e-9,
                "participant {i}: {got} vs {expected}"
            );
        }
        assert_eq!(
            draw_seats("chain-a", &seed, 1, &[0, 0], 3),
            Err(Error::EmptyPopulation)
        );
        assert_eq!(
            draw_seats("chain-a", &seed, 1, &[u64::MAX, 1], 3),
            Err(Error::PopulationTooLarge)
        );
    }

    #[test]
    fn seat_draw_binds_the_chain() {
        let seed = Seed::from_bytes([3; 32]);
        let stakes = [5u64; 64];
        assert_ne!(
            draw_seats("chain-a", &seed, 1, &stakes, 32).unwrap(),
            draw_seats("chain-b", &seed, 1, &stakes, 32).unwrap()
        );
    }

    #[test]
    fn absurd_seat_counts_are_a_typed_error_not_an_allocation() {
        let seed = Seed::from_bytes([3; 32]);
        // u32::MAX seats would reserve 32 GiB before drawing the first one.
        assert_eq!(
            draw_seats("chain-a", &seed, 1, &[1, 2], u32::MAX),
            Err(Error::TooManySeats {
                requested: u32::MAX,
                max: MAX_SEATS
            })
        );
        assert_eq!(
            draw_seats("chain-a", &seed, 1, &[1, 2], MAX_SEATS + 1),
            Err(Error::TooManySeats {
                requested: MAX_SEATS + 1,
                max: MAX_SEATS
            })
        );
        assert!(draw_seats("chain-a", &seed, 1, &[1, 2], 0)
            .unwrap()
            .holders
            .is_empty());
    }
}
