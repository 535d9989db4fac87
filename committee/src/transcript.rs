//! The VRF input: a merlin transcript binding every field of the sortition context.
//!
//! `α = challenge_bytes("vrf-input", 64)` of the transcript
//!
//! ```text
//! Transcript::new("conclave-committee/v1/sortition")
//!   append_message("domain", domain) · append_u64("epoch", epoch) · append_message("seed", seed)
//!   append_u64("round", round) · append_u64("period", period) · append_u64("step", step)
//!   append_message("role", "proposer" | "voter")
//! ```
//!
//! Merlin frames every message with its label and length, so two contexts that differ in any field
//! give unrelated inputs, and no context shares an input with the seed chain (different transcript
//! label, see [`crate::seed`]).

use merlin::Transcript;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::seed::Seed;

/// What a credential is for; each role has its own VRF input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// Block proposer (Algorand's `τ_proposer`); the lowest priority wins.
    Proposer,
    /// Committee voter for a step.
    Voter,
}

impl Role {
    /// The label written into the transcript and accepted by `FromStr`.
    pub fn label(self) -> &'static str {
        match self {
            Role::Proposer => "proposer",
            Role::Voter => "voter",
        }
    }
}

impl core::fmt::Display for Role {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.label())
    }
}

impl core::str::FromStr for Role {
    type Err = Error;
    fn from_str(text: &str) -> Result<Role, Error> {
        match text {
            "proposer" => Ok(Role::Proposer),
            "voter" => Ok(Role::Voter),
            other => Err(Error::UnknownRole(other.to_owned())),
        }
    }
}

/// Everything a sortition credential is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SortitionContext {
    /// Application or chain label (e.g. a chain id) so that deployments never share inputs.
    pub domain: String,
    /// Epoch number (the committee/stake snapshot in force).
    pub epoch: u64,
    /// The round's seed (see [`crate::seed`]).
    pub seed: Seed,
    /// Round (height).
    pub round: u64,
    /// Period within the round (Algorand's `p`).
    pub period: u64,
    /// Step within the period.
    pub step: u64,
    /// Proposer or voter.
    pub role: Role,
}

/// The domain used by the CLI and the examples.
pub const DEFAULT_DOMAIN: &str = "conclave";

impl SortitionContext {
    /// A context for `round` with the default domain, epoch 0, period 0, step 0 and role voter.
    pub fn new(seed: Seed, round: u64) -> SortitionContext {
        SortitionContext {
            domain: DEFAULT_DOMAIN.to_owned(),
            epoch: 0,
            seed,
            round,
            period: 0,
            step: 0,
            role: Role::Voter,
        }
    }

    /// Replaces the domain.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = domain.into();
        self
    }

    /// Replaces the epoch.
    pub fn with_epoch(mut self, epoch: u64) -> Self {
        self.epoch = epoch;
        self
    }

    /// Replaces the period.
    pub fn with_period(mut self, period: u64) -> Self {
        self.period = period;
        self
    }

    /// Replaces the step.
    pub fn with_step(mut self, step: u64) -> Self {
        self.step = step;
        self
    }

    /// Replaces the role.
    pub fn with_role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// The 64-byte VRF input `α` for this context (see the module docs).
    pub fn vrf_input(&self) -> [u8; 64] {
        let mut transcript = Transcript::new(b"conclave-committee/v1/sortition");
        transcript.append_message(b"domain", self.domain.as_bytes());
        transcript.append_u64(b"epoch", self.epoch);
        transcript.append_message(b"seed", self.seed.as_bytes());
        transcript.append_u64(b"round", self.round);
        transcript.append_u64(b"period", self.period);
        transcript.append_u64(b"step", self.step);
        transcript.append_message(b"role", self.role.label().as_bytes());
        let mut alpha = [0u8; 64];
        transcript.challenge_bytes(b"vrf-input", &mut alpha);
        alpha
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_the_input() {
        let base = SortitionContext::new(Seed::from_bytes([1; 32]), 5);
        let variants = [
            base.clone().with_domain("other"),
            base.clone().with_epoch(1),
            SortitionContext::new(Seed::from_bytes([2; 32]), 5),
            SortitionContext::new(Seed::from_bytes([1; 32]), 6),
            base.clone().with_period(1),
            base.clone().with_step(1),
            base.clone().with_role(Role::Proposer),
        ];
        let mut inputs = vec![base.vrf_input()];
        for v in &variants {
            inputs.push(v.vrf_input());
        }
        let mut dedup = inputs.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), inputs.len());
        assert_eq!(base.vrf_input(), base.clone().vrf_input());
    }

    #[test]
    fn role_parsing() {
        assert_eq!("proposer".parse::<Role>(), Ok(Role::Proposer));
        assert_eq!("voter".parse::<Role>(), Ok(Role::Voter));
        assert!(matches!(
            "leader".parse::<Role>(),
            Err(Error::UnknownRole(_))
        ));
    }
}
