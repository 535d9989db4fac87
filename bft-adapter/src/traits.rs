//! Adapter traits: the engine's only view of committees, sortition and signatures.
//!
//! A certificate scheme is a [`Committee`] (who votes, with how much weight, and how much weight
//! makes a quorum), a [`Sortition`] (verifiable proposer and voter selection), a [`Signer`] (this
//! node's partial signatures) and a [`Verifier`] (single and batched partial verification,
//! combination into a certificate, certificate verification, and the two hashes the engine needs).
//!
//! The traits fit at least three schemes:
//! - **threshold** (default): n = 3f+1 seats hold shares of a DKG'd key of degree 2f; a partial
//!   signature is a share signature, `combine` interpolates 2f+1 of them into one BLS signature;
//!   voter credentials are empty and every seat votes with weight 1.
//! - **plain multisig**: the same committee, `combine` aggregates signatures and records a signer
//!   bitmap in the certificate.
//! - **sampled**: per-step committees drawn by VRF sortition; a vote carries the voter's
//!   credential, whose verified weight counts towards Algorand-style thresholds, and `combine`
//!   produces a BLS multisignature plus the voters' credentials.

use crate::codec::{FieldSize, MAX_FIELD_LEN};
use crate::types::{Certificate, Height, NodeId, Period, Priority, Seed, ValueId, VoteStep};

/// The byte sizes of a scheme's signatures, which the engine's decoder enforces
/// ([`crate::codec::WireSizes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureSizes {
    /// A partial signature (vote, proposal, beacon share).
    pub share: FieldSize,
    /// A combined signature (certificate, beacon, bundle).
    pub certificate: FieldSize,
}

/// The byte sizes of a sortition scheme's credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialSizes {
    /// A proposer credential.
    pub proposer: FieldSize,
    /// A voter credential (empty where every seat votes with weight 1).
    pub voter: FieldSize,
}

/// One voter's contribution to a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share<'a> {
    /// The signer's seat.
    pub signer: NodeId,
    /// The signer's voter credential (empty in threshold mode).
    pub credential: &'a [u8],
    /// The partial signature.
    pub signature: &'a [u8],
}

/// Why combination failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CombineError {
    /// The shares do not reach the quorum.
    #[error("not enough shares: {have} weight of {need}")]
    NotEnoughShares {
        /// Weight supplied.
        have: u64,
        /// Weight required.
        need: u64,
    },
    /// Some shares are invalid; the caller should drop them.
    #[error("invalid shares from {}", seat_list(.0))]
    InvalidShares(Vec<NodeId>),
    /// The scheme needs the cert step's period to combine a beacon
    /// (use [`Verifier::combine_beacon`]).
    #[error("combining a beacon needs the period of its cert quorum")]
    PeriodRequired,
}

/// Seats for a message: `2, 5, 7`.
fn seat_list(seats: &[NodeId]) -> String {
    seats
        .iter()
        .map(NodeId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The voting population of one epoch.
pub trait Committee: Send + Sync {
    /// Every seat that may propose or vote.
    fn seats(&self) -> Vec<NodeId>;
    /// True if `node` holds a seat.
    fn is_member(&self, node: NodeId) -> bool;
    /// Verified vote weight needed for a quorum in `step` (2f+1 in threshold mode).
    fn quorum(&self, step: VoteStep) -> u64;
    /// True when each step's voters are drawn by sortition (sampled mode), so that a coalition
    /// holds a quorum alone in some periods and can find them offline once the height's seed
    /// is known. The engine then accepts a next-quorum bundle only within `period_window`
    /// periods of its own (a node further behind is moved forward by a chain of them), as it
    /// does for decisions. Default: false (a quorum needs the honest seats).
    fn sampled(&self) -> bool {
        false
    }
}

/// Verifiable selection of proposers and voters (VRF sortition, or "everyone" in threshold mode).
///
/// One instance belongs to one node: the `*_credential` methods use that node's secret.
pub trait Sortition: Send + Sync {
    /// This node's proposer credential for (seed, height, period), or `None` if not selected.
    fn proposer_credential(&self, seed: &Seed, height: Height, period: Period) -> Option<Vec<u8>>;
    /// Checks `node`'s proposer credential; returns its priority (lower wins).
    fn verify_proposer(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        credential: &[u8],
    ) -> Option<Priority>;
    /// This node's voter credential for a step, or `None` if not selected to vote.
    fn voter_credential(
        &self,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
    ) -> Option<Vec<u8>>;
    /// Checks `node`'s voter credential; returns its vote weight (0 or `None` = not selected).
    fn verify_voter(
        &self,
        node: NodeId,
        seed: &Seed,
        height: Height,
        period: Period,
        step: VoteStep,
        credential: &[u8],
    ) -> Option<u64>;
    /// This node's seed seal for a value it proposes at `height` under `seed`: in sampled mode
    /// its VRF proof on `(seed, height)`, from which the next height's seed derives if the
    /// value is decided (see [`Verifier::verify_seal`]). Default: empty (seeds that do not come
    /// from proposers, as in threshold mode).
    fn seed_seal(&self, seed: &Seed, height: Height) -> Vec<u8> {
        let _ = (seed, height);
        Vec::new()
    }

    /// The sizes of this scheme's credentials (default: anything up to
    /// [`MAX_FIELD_LEN`]; schemes should state their fixed sizes).
    fn credential_sizes(&self) -> CredentialSizes {
        CredentialSizes {
            proposer: FieldSize::AtMost(MAX_FIELD_LEN),
            voter: FieldSize::AtMost(MAX_FIELD_LEN),
        }
    }
}

/// A seed seal that does not verify (see [`Verifier::verify_seal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid seed seal")]
pub struct InvalidSeal;

/// This node's signing key (a DKG share, or an individual BLS key in multisig schemes).
pub trait Signer: Send + Sync {
    /// The seat this key signs for.
    fn id(&self) -> NodeId;
    /// A partial (share) signature over `message`. A remote signer or HSM may fail; the
    /// engine then abstains from that proposal or vote (it never sends an unsigned message)
    /// and counts the failure ([`crate::Engine::signing_failures`]).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// Why a [`Signer`] could not sign.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key is not reachable (a remote signer or HSM did not answer).
    #[error("signer unavailable: {0}")]
    Unavailable(String),
    /// The signer refused this message (e.g. its own slashing-protection rule).
    #[error("signer refused the message: {0}")]
    Refused(String),
}

/// Public verification, combination and hashing for one epoch's committee.
pub trait Verifier: Send + Sync {
    /// Verifies one partial signature (used for proposals and to confirm equivocation evidence).
    fn verify_share(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool;
    /// Verifies many partial signatures over one message at once (one batch, e.g. random linear
    /// combination); on failure names exactly the invalid entries (e.g. by bisection, see
    /// [`bisect_culprits`]).
    fn verify_batch(&self, message: &[u8], shares: &[Share<'_>]) -> Result<(), Vec<NodeId>>;
    /// Combines verified shares reaching a quorum into certificate bytes.
    fn combine(&self, message: &[u8], shares: &[Share<'_>]) -> Result<Vec<u8>, CombineError>;
    /// Verifies combined certificate bytes over `message` (self-contained: no votes needed)
    /// formed at a height whose sortition seed is `seed` (sampled mode re-verifies the voters'
    /// credentials against it; threshold signatures do not depend on it).
    fn verify_certificate(&self, seed: &Seed, message: &[u8], certificate: &[u8]) -> bool;
    /// Combines the beacon shares of the cert quorum of `period` into beacon certificate bytes.
    /// The beacon message names no period; schemes whose certificates carry the voters'
    /// credentials (sampled mode) must record it. Default: [`Verifier::combine`].
    fn combine_beacon(
        &self,
        message: &[u8],
        period: Period,
        shares: &[Share<'_>],
    ) -> Result<Vec<u8>, CombineError> {
        let _ = period;
        self.combine(message, shares)
    }
    /// Combines one cert quorum's vote shares over `message` and its beacon shares over
    /// `beacon_message` into (certificate, beacon certificate) bytes, both verified. Schemes
    /// that can check the two results together (one pairing product for threshold signatures)
    /// override it. Default: [`Verifier::combine`] then [`Verifier::combine_beacon`].
    fn combine_with_beacon(
        &self,
        message: &[u8],
        shares: &[Share<'_>],
        beacon_message: &[u8],
        period: Period,
        beacon_shares: &[Share<'_>],
    ) -> Result<(Vec<u8>, Vec<u8>), CombineError> {
        Ok((
            self.combine(message, shares)?,
            self.combine_beacon(beacon_message, period, beacon_shares)?,
        ))
    }
    /// Combines one cert quorum's shares **that were not verified one by one** (and their
    /// beacon shares) and returns (certificate, beacon certificate) bytes only if both results
    /// verify, exactly as [`Verifier::verify_certificate`] and [`Verifier::verify_beacon`]
    /// would accept them. `None` if they do not (some share is invalid: nothing is named) or
    /// if the scheme cannot combine unverified shares (the default). On `None` the engine
    /// verifies the shares ([`Verifier::verify_batch`], which names the culprits) and
    /// combines the valid ones.
    ///
    /// The engine leaves the shares unverified either way: a `Some` proves the certificate,
    /// not each share, so anything that later needs one vote on its own (a conflicting vote)
    /// still checks it. Threshold signatures override this: one pairing product checks the
    /// certificate the engine needs anyway, in place of two batch checks of the shares.
    fn combine_unverified_with_beacon(
        &self,
        message: &[u8],
        shares: &[Share<'_>],
        beacon_message: &[u8],
        period: Period,
        beacon_shares: &[Share<'_>],
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        let _ = (message, shares, beacon_message, period, beacon_shares);
        None
    }
    /// Verifies beacon certificate bytes formed by the cert quorum of `period` (sampled mode
    /// also checks that the certificate names that period). Default:
    /// [`Verifier::verify_certificate`].
    fn verify_beacon(
        &self,
        seed: &Seed,
        message: &[u8],
        period: Period,
        certificate: &[u8],
    ) -> bool {
        let _ = period;
        self.verify_certificate(seed, message, certificate)
    }
    /// The id of a value (a collision-resistant hash).
    fn value_id(&self, value: &[u8]) -> ValueId;
    /// The next height's sortition seed, from this height's seed `previous` and its decision
    /// `certificate` (threshold mode: a hash of the unique beacon signature). Every node that
    /// decides the same value must derive the same seed, whichever quorum it combined.
    fn next_seed(&self, previous: &Seed, certificate: &Certificate) -> Seed;
    /// Checks a seed seal (see [`Sortition::seed_seal`]) for `height` under its seed `seed`;
    /// returns the seat that made it (`None` for the empty seal of a scheme whose seeds do not
    /// come from proposers). Default: only the empty seal is valid.
    fn verify_seal(
        &self,
        seed: &Seed,
        height: Height,
        seal: &[u8],
    ) -> Result<Option<NodeId>, InvalidSeal> {
        let _ = (seed, height);
        if seal.is_empty() {
            Ok(None)
        } else {
            Err(InvalidSeal)
        }
    }
    /// True if a signature that passes [`Verifier::verify_share`] for `signer` can only have
    /// been made with `signer`'s own secret, so that two conflicting ones prove `signer` signed
    /// both (see [`crate::evidence::Evidence::verify`]).
    ///
    /// Threshold partial signatures are **not** attributable: anyone holding a quorum (t+1) of
    /// partials on a message can compute every seat's partial on it by Lagrange interpolation in
    /// the exponent, so "two validly signed conflicting votes" can be manufactured for an honest
    /// seat. Schemes with individual keys (multisig, sampled, or threshold votes that also carry
    /// an individual BLS signature) are attributable.
    fn attributable(&self) -> bool;
    /// True if a valid certificate proves that a quorum of the committee signed it, whatever
    /// period it names, so that a certificate for a period far beyond a node's own is as good
    /// as one for the current period (threshold signatures and multisignatures over a fixed
    /// committee: a combined signature needs a quorum of shares in any period).
    ///
    /// False (the default) for sampled committees, where each period draws new committees and
    /// an adversary may search many periods offline for one it alone controls: there the engine
    /// accepts a decision only within `Config::period_window` periods of its own, even from
    /// the host's ledger ([`crate::Input::Synced`]).
    fn certificates_bind_quorum_at_any_period(&self) -> bool {
        false
    }
    /// The sizes of this scheme's signatures (default: anything up to [`MAX_FIELD_LEN`];
    /// schemes should state their fixed sizes).
    fn signature_sizes(&self) -> SignatureSizes {
        SignatureSizes {
            share: FieldSize::AtMost(MAX_FIELD_LEN),
            certificate: FieldSize::AtMost(MAX_FIELD_LEN),
        }
    }
}

/// Checks a decision certificate completely: its signature over [`Certificate::message`], its
/// beacon over [`Certificate::beacon_message`], formed in the certificate's period at a height
/// whose sortition seed is `seed`, and its seed seal ([`Verifier::verify_seal`]), from which
/// sampled mode derives the next seed.
pub fn verify_decision_certificate(
    verifier: &dyn Verifier,
    seed: &Seed,
    certificate: &Certificate,
) -> bool {
    verifier.verify_certificate(seed, &certificate.message(), &certificate.signature)
        && verifier.verify_beacon(
            seed,
            &certificate.beacon_message(),
            certificate.period,
            &certificate.beacon,
        )
        && verifier
            .verify_seal(seed, certificate.height, &certificate.seal)
            .is_ok()
}

/// The application: supplies values to propose and judges proposed values.
///
/// The engine asks through [`crate::Action::RequestValue`] / [`crate::Action::ValidateValue`] and
/// hears back through inputs, so validation can be asynchronous; hosts (and the simulator) use
/// this trait to answer.
pub trait Application {
    /// A value to propose at `height` by `proposer`.
    fn propose(&mut self, height: Height, proposer: NodeId) -> Vec<u8>;
    /// Whether `value` is acceptable at `height`.
    fn validate(&self, height: Height, value: &[u8]) -> bool;
}

/// Generic bisection for adapters whose batch check is all-or-nothing: finds every entry for
/// which `batch_ok` fails, with O(k log n) batch calls for k culprits.
pub fn bisect_culprits<T: Copy>(
    entries: &[T],
    batch_ok: &mut dyn FnMut(&[T]) -> bool,
    culprit: &dyn Fn(&T) -> NodeId,
) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack = vec![entries];
    while let Some(part) = stack.pop() {
        if part.is_empty() || batch_ok(part) {
            continue;
        }
        if part.len() == 1 {
            out.push(culprit(&part[0]));
            continue;
        }
        let (left, right) = part.split_at(part.len() / 2);
        stack.push(right);
        stack.push(left);
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_names_exactly_the_bad_entries() {
        let entries: Vec<(u32, bool)> = (0..37).map(|i| (i, i % 11 == 3)).collect();
        let mut calls = 0;
        let bad = bisect_culprits(
            &entries,
            &mut |part: &[(u32, bool)]| {
                calls += 1;
                part.iter().all(|e| !e.1)
            },
            &|e| NodeId(e.0),
        );
        assert_eq!(bad, vec![NodeId(3), NodeId(14), NodeId(25), NodeId(36)]);
        assert!(calls < 37, "bisection used {calls} batch calls");
        assert!(bisect_culprits(&entries[..3], &mut |_| true, &|e| NodeId(e.0)).is_empty());
    }
}
