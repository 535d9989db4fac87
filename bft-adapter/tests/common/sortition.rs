//! A test sortition that delegates to another and overrides what a test scripts: which seats
//! are drawn, how often own credentials are computed, or a whole model's ranking. Used as a
//! module (`#[path = "common/sortition.rs"] mod sortition;`) by the relay, sortition-cache and
//! model-trace tests, so each states only its rule instead of repeating the trait.

#![allow(dead_code)]

use conclave_bft::traits::{CredentialSizes, Sortition};
use conclave_bft::types::{Height, NodeId, Period, Priority, Seed, VoteStep};
use std::sync::Arc;

type ProposerCredential =
    Box<dyn Fn(&dyn Sortition, &Seed, Height, Period) -> Option<Vec<u8>> + Send + Sync>;
type VerifyProposer = Box<
    dyn Fn(&dyn Sortition, NodeId, &Seed, Height, Period, &[u8]) -> Option<Priority> + Send + Sync,
>;
type VoterCredential =
    Box<dyn Fn(&dyn Sortition, &Seed, Height, Period, VoteStep) -> Option<Vec<u8>> + Send + Sync>;
type VerifyVoter = Box<
    dyn Fn(&dyn Sortition, NodeId, &Seed, Height, Period, VoteStep, &[u8]) -> Option<u64>
        + Send
        + Sync,
>;

/// `inner`'s sortition with the hooks set here in its place (each hook gets `inner` too).
pub struct Hooked {
    inner: Arc<dyn Sortition>,
    proposer_credential: Option<ProposerCredential>,
    verify_proposer: Option<VerifyProposer>,
    voter_credential: Option<VoterCredential>,
    verify_voter: Option<VerifyVoter>,
    sizes: Option<CredentialSizes>,
}

impl Hooked {
    /// `inner` unchanged.
    pub fn new(inner: Arc<dyn Sortition>) -> Self {
        Hooked {
            inner,
            proposer_credential: None,
            verify_proposer: None,
            voter_credential: None,
            verify_voter: None,
            sizes: None,
        }
    }

    pub fn proposer_credential(
        mut self,
        f: impl Fn(&dyn Sortition, &Seed, Height, Period) -> Option<Vec<u8>> + Send + Sync + 'static,
    ) -> Self {
        self.proposer_credential = Some(Box::new(f));
        self
    }

    pub fn verify_proposer(
        mut self,
        f: impl Fn(&dyn Sortition, NodeId, &Seed, Height, Period, &[u8]) -> Option<Priority>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.verify_proposer = Some(Box::new(f));
        self
    }

    pub fn voter_credential(
        mut self,
        f: impl Fn(&dyn Sortition, &Seed, Height, Period, VoteStep) -> Option<Vec<u8>>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.voter_credential = Some(Box::new(f));
        self
    }

    pub fn verify_voter(
        mut self,
        f: impl Fn(&dyn Sortition, NodeId, &Seed, Height, Period, VoteStep, &[u8]) -> Option<u64>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.verify_voter = Some(Box::new(f));
        self
    }

    /// Credential sizes other than `inner`'s (for credentials of another shape).
    pub fn sizes(mut self, sizes: CredentialSizes) -> Self {
        self.sizes = Some(sizes);
        self
    }
}

impl Sortition for Hooked {
    fn proposer_credential(&self, seed: &Seed, height: Height, period: Period) -> Option<Vec<u8>> {
        let inner = self.inner.as_ref();
        match &self.proposer_credential {
            Some(f) => f(inner, seed, height, period),
            None => inner.proposer_credential(seed, height, period),
        }
    }

    fn verify_proposer(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        credential: &[u8],
    ) -> Option<Priority> {
        let inner = self.inner.as_ref();
        match &self.verify_proposer {
            Some(f) => f(inner, node, seed, height, period, credential),
            None => inner.verify_proposer(node, seed, height, period, credential),
        }
    }

    fn voter_credential(
        &self,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
    ) -> Option<Vec<u8>> {
        let inner = self.inner.as_ref();
        match &self.voter_credential {
            Some(f) => f(inner, seed, height, period, step),
            None => inner.voter_credential(seed, height, period, step),
        }
    }

    fn verify_voter(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
        credential: &[u8],
    ) -> Option<u64> {
        let inner = self.inner.as_ref();
        match &self.verify_voter {
            Some(f) => f(inner, node, seed, height, period, step, credential),
            None => inner.verify_voter(node, seed, height, period, step, credential),
        }
    }

    fn seed_seal(&self, seed: &Seed, height: Height) -> Vec<u8> {
        self.inner.seed_seal(seed, height)
    }

    fn credential_sizes(&self) -> CredentialSizes {
        self.sizes.unwrap_or_else(|| self.inner.credential_sizes())
    }
}
