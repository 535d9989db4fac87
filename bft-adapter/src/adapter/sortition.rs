//! VRF sortition over `conclave-committee`: proposer credentials (both modes) and per-step voter
//! credentials (sampled mode).
//!
//! Every seat holds one ristretto255 VRF key and one unit of stake. A credential is the committee
//! crate's canonical `(public key ‖ proof ‖ weight)` encoding (120 bytes), proved over a merlin
//! transcript bound to the domain `conclave-bft/v1`, the epoch, the height's seed, the height (as
//! the sortition round), the period, the step (0 for proposals, else the vote step's wire code)
//! and the role. The proposer of a period is the valid proposal with the lowest priority
//! (expected number of proposers [`TAU_PROPOSER`], capped at the number of seats).
//!
//! In threshold mode every seat votes with weight 1 and an empty voter credential; in sampled
//! mode a seat votes in a step only if its VRF selects it with expected committee size `τ_step`.

use crate::types::{Height, NodeId, Period, Priority, Seed, VoteStep};
use conclave_committee::seed::{prove_chain_seed, verify_chain_seed, Seed as CommitteeSeed};
use conclave_committee::sortition::{sortition, Credential};
use conclave_committee::transcript::{Role, SortitionContext};
use conclave_committee::vrf::{Proof, PROOF_LEN};
use conclave_committee::vrf::{PublicKey as VrfPublicKey, SecretKey as VrfSecretKey};
use conclave_committee::SortitionParams;
use std::sync::Arc;

/// Domain written into every sortition transcript of this crate.
pub const SORTITION_DOMAIN: &str = "conclave-bft/v1";

/// Expected number of proposers per period (capped at the number of seats). Algorand uses 26
/// for very large populations; an epoch committee needs fewer: with one stake unit per seat the
/// chance that nobody is selected is `(1 − τ/n)^n ≤ e^−τ` (4.5·10⁻⁵ for τ = 10, which only
/// costs a period), and every proposal costs each node one VRF and one pairing check.
pub const TAU_PROPOSER: u64 = 10;

/// Why [`VrfRoster::new`] refused a roster.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// No seats.
    #[error("empty roster")]
    Empty,
    /// The seats and τ give no valid sortition parameters (e.g. more seats than the largest
    /// total stake).
    #[error("sortition parameters: {0}")]
    Params(#[from] conclave_committee::Error),
}

/// The public side of an epoch's VRF sortition: every seat's VRF key and the parameters.
pub struct VrfRoster {
    epoch: u64,
    keys: Vec<VrfPublicKey>,
    proposer: SortitionParams,
    /// `None` in threshold mode (everyone votes with weight 1).
    voter: Option<SortitionParams>,
}

impl VrfRoster {
    /// A roster of one-stake seats. `tau_step` is `None` in threshold mode; in sampled mode it is
    /// the expected committee weight per step (at most the number of seats).
    pub fn new(
        epoch: u64,
        keys: Vec<VrfPublicKey>,
        tau_step: Option<u64>,
    ) -> Result<Self, RosterError> {
        let n = keys.len() as u64;
        if n == 0 {
            return Err(RosterError::Empty);
        }
        let proposer = SortitionParams::new(1, n, TAU_PROPOSER.min(n))?;
        let voter = tau_step
            .map(|tau| SortitionParams::new(1, n, tau.clamp(1, n)))
            .transpose()?;
        Ok(VrfRoster {
            epoch,
            keys,
            proposer,
            voter,
        })
    }

    /// Number of seats.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True for an empty roster (never: the constructor rejects it).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The expected voter committee weight per step (`None` in threshold mode).
    pub fn tau_step(&self) -> Option<u64> {
        self.voter.map(|p| p.tau())
    }

    fn context(
        &self,
        seed: &Seed,
        height: Height,
        period: Period,
        step: u64,
        role: Role,
    ) -> SortitionContext {
        SortitionContext::new(CommitteeSeed::from_bytes(seed.0), height.0)
            .with_domain(SORTITION_DOMAIN)
            .with_epoch(self.epoch)
            .with_period(u64::from(period.0))
            .with_step(step)
            .with_role(role)
    }

    /// Checks `node`'s proposer credential; its priority if valid and selected.
    pub fn verify_proposer(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        credential: &[u8],
    ) -> Option<Priority> {
        let expected = self.keys.get(node.0 as usize)?;
        let credential = Credential::from_slice(credential).ok()?;
        if credential.public_key != *expected {
            return None;
        }
        let context = self.context(seed, height, period, 0, Role::Proposer);
        let verified = credential.verify(&context, &self.proposer).ok()?;
        verified.priority().map(|p| Priority(p.to_bytes()))
    }

    /// Checks `node`'s voter credential for a step; its weight (`None` if invalid or unselected).
    /// In threshold mode the credential must be empty and every seat weighs 1.
    pub fn verify_voter(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
        credential: &[u8],
    ) -> Option<u64> {
        let expected = self.keys.get(node.0 as usize)?;
        let Some(params) = &self.voter else {
            return credential.is_empty().then_some(1);
        };
        let credential = Credential::from_slice(credential).ok()?;
        if credential.public_key != *expected {
            return None;
        }
        let context = self.context(seed, height, period, u64::from(step.code()), Role::Voter);
        let weight = credential.verify(&context, params).ok()?.weight();
        (weight > 0).then_some(weight)
    }
}

/// Length of a sampled-mode seed seal: `origin seat u32 ‖ VRF proof` (see [`VrfRoster::verify_seal`]).
pub const SEAL_LEN: usize = 4 + PROOF_LEN;

impl VrfRoster {
    /// The VRF domain of this epoch's seed chain.
    fn seed_domain(&self) -> String {
        format!("{SORTITION_DOMAIN}/seed-chain/epoch-{}", self.epoch)
    }

    /// Checks a seed seal `origin u32 ‖ proof` (sampled mode only): the origin's VRF proof on
    /// `(seed, height)` (`conclave_committee::seed::verify_chain_seed`). Returns the origin
    /// and the VRF-derived seed material, unique for that key and input: whatever value the
    /// origin proposes, its seal yields the same material.
    pub fn verify_seal(
        &self,
        seed: &Seed,
        height: Height,
        seal: &[u8],
    ) -> Option<(NodeId, [u8; 32])> {
        self.voter?;
        if seal.len() != SEAL_LEN {
            return None;
        }
        let origin = NodeId(u32::from_be_bytes(seal[..4].try_into().ok()?));
        let key = self.keys.get(origin.0 as usize)?;
        let proof = Proof::from_slice(&seal[4..]).ok()?;
        let material = verify_chain_seed(
            key,
            &self.seed_domain(),
            &CommitteeSeed::from_bytes(seed.0),
            height.0,
            &proof,
        )
        .ok()?;
        Some((origin, material.to_bytes()))
    }
}

/// One seat's sortition: its VRF secret key plus the shared roster (implements
/// [`crate::traits::Sortition`]).
pub struct VrfSortition {
    id: NodeId,
    secret: VrfSecretKey,
    roster: Arc<VrfRoster>,
}

impl VrfSortition {
    /// Seat `id` with its VRF secret key.
    pub fn new(id: NodeId, secret: VrfSecretKey, roster: Arc<VrfRoster>) -> Self {
        VrfSortition { id, secret, roster }
    }

    /// The seat this sortition proves for.
    pub fn id(&self) -> NodeId {
        self.id
    }
}

impl crate::traits::Sortition for VrfSortition {
    fn proposer_credential(&self, seed: &Seed, height: Height, period: Period) -> Option<Vec<u8>> {
        let context = self.roster.context(seed, height, period, 0, Role::Proposer);
        let mine = sortition(&self.secret, &context, &self.roster.proposer);
        (mine.weight() > 0).then(|| mine.credential().to_bytes().to_vec())
    }

    fn verify_proposer(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        credential: &[u8],
    ) -> Option<Priority> {
        self.roster
            .verify_proposer(node, seed, height, period, credential)
    }

    fn voter_credential(
        &self,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
    ) -> Option<Vec<u8>> {
        let Some(params) = &self.roster.voter else {
            return Some(Vec::new());
        };
        let context =
            self.roster
                .context(seed, height, period, u64::from(step.code()), Role::Voter);
        let mine = sortition(&self.secret, &context, params);
        (mine.weight() > 0).then(|| mine.credential().to_bytes().to_vec())
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
        self.roster
            .verify_voter(node, seed, height, period, step, credential)
    }

    /// Sampled mode: `id u32 ‖ VRF proof on (seed, height)` under this epoch's seed-chain
    /// domain. Threshold mode (seeds from the beacon): empty.
    fn seed_seal(&self, seed: &Seed, height: Height) -> Vec<u8> {
        if self.roster.voter.is_none() {
            return Vec::new();
        }
        let (proof, _) = prove_chain_seed(
            &self.secret,
            &self.roster.seed_domain(),
            &CommitteeSeed::from_bytes(seed.0),
            height.0,
        );
        let mut seal = self.id.0.to_be_bytes().to_vec();
        seal.extend_from_slice(&proof.to_bytes());
        seal
    }

    /// Proposer credentials are the committee crate's 120-byte encoding; voter credentials
    /// too in sampled mode, and empty in threshold mode.
    fn credential_sizes(&self) -> crate::traits::CredentialSizes {
        use crate::codec::FieldSize;
        use conclave_committee::sortition::CREDENTIAL_LEN;
        crate::traits::CredentialSizes {
            proposer: FieldSize::Exact(CREDENTIAL_LEN),
            voter: FieldSize::Exact(if self.roster.voter.is_some() {
                CREDENTIAL_LEN
            } else {
                0
            }),
        }
    }
}
