//! Sampled mode (large populations): per-step committees drawn by VRF sortition, votes signed
//! with individual BLS keys (proofs of possession checked at registration), certificates as a
//! BLS multisignature plus the voters' credentials.
//!
//! - A seat votes in a step when its credential (see [`super::sortition`]) has weight > 0 for
//!   expected committee weight `τ_step`; the quorum is `⌈T·τ_step⌉` (Algorand's `T = 0.685`
//!   by default), taken from a [`SampledParams`] that states the honest-stake fraction and was
//!   refused if its per-step failure probability exceeds the target (see [`super::params`]).
//!   When `τ_step` covers every seat, each seat weighs exactly 1 (a plain multisignature).
//! - Registration: [`SampledVerifier::new`] takes each seat's BLS key with its proof of
//!   possession and rejects the set if any proof fails (aggregating unproven keys would allow
//!   rogue-key forgeries of `FastAggregateVerify`).
//! - [`Verifier::verify_batch`]: one random linear combination over all shares on the message
//!   (`verify_partials_batch`, individual keys standing in for public shares), bisection on
//!   failure. [`Verifier::combine`]: the aggregate signature of the shares (one G-sum) and their
//!   credentials.
//! - Certificate encoding: `aggregate signature ‖ epoch u64 ‖ height u64 ‖ period u32 ‖ step u8 ‖
//!   count u16 ‖ count × (voter u32 ‖ credential 120 B)`. [`Verifier::verify_certificate`]
//!   checks that the header matches the message, re-verifies every credential against the
//!   height's seed, sums the weights against the quorum and runs one `FastAggregateVerify`.
//!   The period is always the one of the voters' credentials, read from a vote message or, for
//!   a beacon (whose message names no period), supplied by the engine through
//!   [`Verifier::combine_beacon`]; [`Verifier::verify_beacon`] checks that it is the
//!   decision's period. (Before #17 a beacon recorded period 0 and verification searched
//!   periods 1..=64, so decisions from period 65 on never verified at other nodes.)
//!
//! **Seeds (Algorand's VRF seed chain).** A multisignature depends on which voters it
//! aggregates, so the sampled "beacon" certificate differs between nodes and cannot seed
//! sortition; [`Verifier::next_seed`] does not read it. (The beacon certificate is still formed
//! and checked, like the decision certificate, because the engine is mode-agnostic; it only
//! costs one aggregate and one pairing.) Instead every proposal carries its proposer's *seed
//! seal* ([`crate::types::Proposal::seal`]): `origin u32 ‖ π`, with `π` the origin's VRF proof on
//! `(seed(h), h)` under the epoch's seed-chain domain
//! (`conclave_committee::seed::prove_chain_seed`). Then
//!
//! - `seed(1) = SHA-256("conclave-bft/sampled-seed/v1" ‖ genesis ‖ epoch ‖ 1)` ([`SampledVerifier::genesis_seed`]);
//! - `seed(h+1) = SHA-256("conclave-bft/sampled-seed/v3" ‖ genesis ‖ epoch ‖ h ‖ y)`, where `y`
//!   is the VRF-derived output of the decided value's seal (`verify_chain_seed`).
//!
//! A VRF output is unique for a key and an input, so it does not depend on the value: a
//! proposer that tries different values gets the same next seed (it cannot grind). Votes name
//! [`crate::types::sealed_id`]`(value id, seal)` and the certificate carries the seal, so
//! every node that decides derives the same seed, a verifier recomputes it from the certificate
//! alone ([`Verifier::verify_seal`], part of
//! [`crate::traits::verify_decision_certificate`]), and a peer's claimed seal is never
//! trusted: a forged or foreign seal fails the VRF check, or names a different id than the
//! quorum signed. Honest nodes soft-vote only *fresh* proposals (seal origin = proposer); a
//! re-proposal of the pinned value keeps its original proposer's seal. (Were the seal unbound,
//! a faulty seat could re-send an honest value under its own seal and split the deciders'
//! seeds.) Certificates are verified against the seed of their height, so a certificate
//! precomputed before that seed existed does not verify.
//!
//! *What an adversary can still precompute or bias.*
//!
//! - **Height 1**: its seed is fixed at setup (genesis), so the committees of every period of
//!   height 1 are public from the start; the engine accepts a decision only within
//!   `period_window` periods of the node's own, so a coalition's offline search is worth at
//!   most (periods reached + window) × the per-step failure probability of the parameters.
//!   A genesis that is itself unpredictable (e.g. a beacon output after key registration)
//!   removes this; this crate takes `genesis` from its caller.
//! - **Withholding** (as in Algorand): a faulty seat whose proposal would win can withhold it,
//!   so the next-best proposer's seal (or a later period's) decides instead: a choice between a
//!   few VRF outputs per height it wins, not a free choice of seed. Every VRF output is
//!   revealed only with the proposal, so nothing of `seed(h+1)` is known before height `h`'s
//!   proposals are sent. (This engine always decides a proposed value, so there is no empty
//!   block whose seed falls back to `H(seed(h) ‖ h)`; the fallback hash is used only when
//!   [`Verifier::next_seed`] is handed a certificate whose seal does not verify, which the
//!   engine never decides.)
//! - **Within a height**: once `seed(h)` is known, faulty seats can compute their own
//!   credentials for every period of height `h` and search for one where they alone reach a
//!   quorum; the period window bounds that search as for height 1.
//!
//! *Alternative: seed look-back.* Algorand also uses the seed of round `r − 1 − (r mod R)` for
//! the committees of round `r` (with `R` large, e.g. 1000 rounds) together with stake that was
//! registered before that seed existed, so even a proposer that withholds cannot steer the
//! seed of a round whose stake distribution it knows; here the population is fixed per epoch,
//! so look-back would only lengthen the window in which every committee is public. A threshold
//! key (threshold mode: a unique BLS beacon) removes both withholding and precomputation.

use super::params::SampledParams;
use super::sortition::VrfRoster;
use super::threshold::value_id;
use super::{seeded_rng, CryptoCounters};
use crate::traits::{CombineError, Committee, InvalidSeal, Share, SignError, Signer, Verifier};
use crate::types::{
    beacon_message, vote_message, Certificate, Epoch, Height, NodeId, Period, Seed, ValueId,
};
use crate::types::{VoteStep, VoteValue};
use conclave_committee::sortition::CREDENTIAL_LEN;
use conclave_threshold_sig::{
    aggregate_signatures, fast_aggregate_verify, verify_partials_batch, Ciphersuite,
    PartialSignature, PublicKey, PublicShare, Scheme, SecretKey, Signature, Variant,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

const SEED_DOMAIN: &[u8] = b"conclave-bft/sampled-seed/v1";
const NEXT_SEED_DOMAIN: &[u8] = b"conclave-bft/sampled-seed/v3";
const FALLBACK_SEED_DOMAIN: &[u8] = b"conclave-bft/sampled-seed/fallback/v3";
const HEADER_LEN: usize = 8 + 8 + 4 + 1 + 2;

/// Why [`SampledVerifier::new`] refused a population.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SampledSetupError {
    /// The BLS registrations, the VRF roster and the parameters name different numbers of seats.
    #[error("BLS keys ({keys}), VRF roster ({roster}) and parameters ({params}) differ in size")]
    SizeMismatch {
        /// BLS registrations.
        keys: u64,
        /// Seats of the VRF roster.
        roster: u64,
        /// Seats of the parameters.
        params: u64,
    },
    /// The VRF roster was built for threshold mode (no voter τ).
    #[error("the VRF roster is not in sampled mode")]
    RosterNotSampled,
    /// The roster's τ per step is not the parameters'.
    #[error("the VRF roster (τ = {roster}) and the parameters (τ = {params}) differ in τ")]
    TauMismatch {
        /// The roster's τ per step.
        roster: u64,
        /// The parameters' τ per step.
        params: u64,
    },
    /// A seat's proof of possession does not verify under its BLS key.
    #[error("seat {0}: proof of possession rejected")]
    ProofOfPossession(NodeId),
    /// The DST is not a valid ciphersuite DST (e.g. empty).
    #[error("ciphersuite: {0}")]
    Ciphersuite(#[from] conclave_threshold_sig::Error),
}

/// The public side of a sampled population: [`Committee`] and [`Verifier`].
pub struct SampledVerifier<V: Variant> {
    epoch: u64,
    genesis: [u8; 32],
    keys: Vec<PublicKey<V>>,
    roster: Arc<VrfRoster>,
    quorum: u64,
    suite: Ciphersuite<V>,
    salt: [u8; 32],
    /// Work counters (shared with the provider that built this verifier).
    pub counters: Arc<CryptoCounters>,
}

impl<V: Variant> SampledVerifier<V> {
    /// A verifier for seats registered with BLS keys and their proofs of possession
    /// (`registrations[i]` for seat `i`; every proof is checked here), the VRF `roster` (in
    /// sampled mode, with `params`' τ) and the committee `params`, signing under `dst`.
    pub fn new(
        epoch: u64,
        genesis: [u8; 32],
        registrations: Vec<(PublicKey<V>, Signature<V>)>,
        roster: Arc<VrfRoster>,
        params: &SampledParams,
        dst: &[u8],
        salt: [u8; 32],
    ) -> Result<Self, SampledSetupError> {
        let n = registrations.len() as u64;
        if roster.len() as u64 != n || u64::from(params.seats()) != n {
            return Err(SampledSetupError::SizeMismatch {
                keys: n,
                roster: roster.len() as u64,
                params: u64::from(params.seats()),
            });
        }
        let tau = roster
            .tau_step()
            .ok_or(SampledSetupError::RosterNotSampled)?;
        if tau != params.tau_per_step() {
            return Err(SampledSetupError::TauMismatch {
                roster: tau,
                params: params.tau_per_step(),
            });
        }
        let mut keys = Vec::with_capacity(registrations.len());
        for (seat, (key, proof)) in registrations.into_iter().enumerate() {
            if !key.pop_verify(&proof) {
                return Err(SampledSetupError::ProofOfPossession(NodeId(seat as u32)));
            }
            keys.push(key);
        }
        let quorum = params.quorum();
        Ok(SampledVerifier {
            epoch,
            genesis,
            keys,
            roster,
            quorum,
            suite: Ciphersuite::with_dst(Scheme::ProofOfPossession, dst.to_vec())?,
            salt,
            counters: Arc::default(),
        })
    }

    /// The sortition seed of height 1 (see the module docs).
    pub fn genesis_seed(&self) -> Seed {
        Seed(
            Sha256::new()
                .chain_update(SEED_DOMAIN)
                .chain_update(self.genesis)
                .chain_update(self.epoch.to_be_bytes())
                .chain_update(1u64.to_be_bytes())
                .finalize()
                .into(),
        )
    }

    /// [`Verifier::combine`] and [`Verifier::combine_beacon`]: the header's period is parsed
    /// from a vote message, and must be supplied for a beacon message (which names none).
    fn combine_for(
        &self,
        message: &[u8],
        beacon_period: Option<Period>,
        shares: &[Share<'_>],
    ) -> Result<Vec<u8>, CombineError> {
        self.counters.combines.fetch_add(1, Ordering::Relaxed);
        let mut seen = BTreeSet::new();
        let mut sigs = Vec::new();
        let mut invalid = Vec::new();
        let mut body = Vec::new();
        let (mut height, mut period, mut step) = (None, None, None);
        let mut weight = 0u64;
        for s in shares {
            if !seen.insert(s.signer) {
                continue;
            }
            let Ok(sig) = Signature::<V>::from_bytes(s.signature) else {
                invalid.push(s.signer);
                continue;
            };
            if s.credential.len() != CREDENTIAL_LEN {
                invalid.push(s.signer);
                continue;
            }
            weight += u64::from_be_bytes(
                s.credential[CREDENTIAL_LEN - 8..]
                    .try_into()
                    .unwrap_or([0; 8]),
            );
            sigs.push(sig);
            body.extend_from_slice(&s.signer.0.to_be_bytes());
            body.extend_from_slice(s.credential);
        }
        if !invalid.is_empty() {
            return Err(CombineError::InvalidShares(invalid));
        }
        if weight < self.quorum || sigs.len() > usize::from(u16::MAX) {
            return Err(CombineError::NotEnoughShares {
                have: weight,
                need: self.quorum,
            });
        }
        // The header names the (height, period, step) of the voters' credentials, parsed from
        // the message. Beacon messages carry no period: the caller names the cert quorum's.
        let vote = vote_message(
            Epoch(0),
            Height(0),
            Period(0),
            VoteStep::Soft,
            VoteValue::Bottom,
        );
        let vote_prefix = vote.len() - 1 - 8 - 8 - 4 - 1;
        let beacon = beacon_message(Epoch(0), Height(0));
        let beacon_prefix = beacon.len() - 16;
        if message.starts_with(&vote[..vote_prefix]) && message.len() > vote_prefix + 21 {
            let m = &message[vote_prefix..];
            height = m[8..16].try_into().ok().map(u64::from_be_bytes);
            period = m[16..20].try_into().ok().map(u32::from_be_bytes);
            step = Some(m[20]);
        } else if message.starts_with(&beacon[..beacon_prefix]) && message.len() == beacon.len() {
            height = message[beacon_prefix + 8..]
                .try_into()
                .ok()
                .map(u64::from_be_bytes);
            step = Some(VoteStep::Cert.code());
            period = Some(beacon_period.ok_or(CombineError::PeriodRequired)?.0);
        }
        let (Some(height), Some(period), Some(step)) = (height, period, step) else {
            return Err(CombineError::InvalidShares(seen.into_iter().collect()));
        };
        let aggregate = aggregate_signatures(&sigs)
            .map_err(|_| CombineError::InvalidShares(seen.iter().copied().collect()))?;
        let mut out = aggregate.to_bytes();
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&period.to_be_bytes());
        out.push(step);
        out.extend_from_slice(&(sigs.len() as u16).to_be_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    fn public(&self, index: u32) -> Option<PublicShare<V>> {
        let key = self.keys.get(index.checked_sub(1)? as usize)?;
        PublicShare::from_public_key(index, key).ok()
    }

    /// Checks the header against `message` and returns (height, period, step).
    fn header_matches(&self, message: &[u8], header: &[u8]) -> Option<(Height, Period, VoteStep)> {
        let epoch = u64::from_be_bytes(header[0..8].try_into().ok()?);
        let height = Height(u64::from_be_bytes(header[8..16].try_into().ok()?));
        let period = Period(u32::from_be_bytes(header[16..20].try_into().ok()?));
        let step = VoteStep::from_code(header[20])?;
        if epoch != self.epoch || period.0 == 0 {
            return None;
        }
        let bottom = vote_message(Epoch(epoch), height, period, step, VoteValue::Bottom);
        let prefix = &bottom[..bottom.len() - 1];
        let is_vote = message.starts_with(prefix)
            && (message.len() == prefix.len() + 1 || message.len() == prefix.len() + 33);
        let is_beacon = step == VoteStep::Cert && message == beacon_message(Epoch(epoch), height);
        (is_vote || is_beacon).then_some((height, period, step))
    }
}

impl<V: Variant> Committee for SampledVerifier<V> {
    fn seats(&self) -> Vec<NodeId> {
        (0..self.keys.len() as u32).map(NodeId).collect()
    }

    fn is_member(&self, node: NodeId) -> bool {
        (node.0 as usize) < self.keys.len()
    }

    fn quorum(&self, _step: VoteStep) -> u64 {
        self.quorum
    }

    fn sampled(&self) -> bool {
        true
    }
}

impl<V: Variant> Verifier for SampledVerifier<V> {
    fn verify_share(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool {
        self.counters
            .single_verifications
            .fetch_add(1, Ordering::Relaxed);
        match (
            self.keys.get(signer.0 as usize),
            Signature::from_bytes(signature),
        ) {
            (Some(pk), Ok(sig)) => pk.verify(&self.suite, message, &sig),
            _ => false,
        }
    }

    fn verify_batch(&self, message: &[u8], shares: &[Share<'_>]) -> Result<(), Vec<NodeId>> {
        self.counters.record_batch(shares.len());
        let mut bad = BTreeSet::new();
        let mut partials = Vec::with_capacity(shares.len());
        for s in shares {
            match Signature::from_bytes(s.signature) {
                Ok(signature) if (s.signer.0 as usize) < self.keys.len() => {
                    partials.push(PartialSignature {
                        index: s.signer.0 + 1,
                        signature,
                    })
                }
                _ => {
                    bad.insert(s.signer);
                }
            }
        }
        let mut parts: Vec<&[u8]> = vec![message];
        parts.extend(shares.iter().map(|s| s.signature));
        let mut rng = seeded_rng(&self.salt, &parts);
        let lookup = |i: u32| self.public(i);
        if let Err(indices) =
            verify_partials_batch(&lookup, self.suite.dst(), message, &partials, &mut rng)
        {
            self.counters.batch_failures.fetch_add(1, Ordering::Relaxed);
            bad.extend(indices.into_iter().map(|i| NodeId(i - 1)));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(bad.into_iter().collect())
        }
    }

    fn combine(&self, message: &[u8], shares: &[Share<'_>]) -> Result<Vec<u8>, CombineError> {
        self.combine_for(message, None, shares)
    }

    fn verify_certificate(&self, seed: &Seed, message: &[u8], certificate: &[u8]) -> bool {
        self.counters
            .certificate_verifications
            .fetch_add(1, Ordering::Relaxed);
        let sig_len = V::SIGNATURE_SIZE;
        if certificate.len() < sig_len + HEADER_LEN {
            return false;
        }
        let (sig, rest) = certificate.split_at(sig_len);
        let (header, body) = rest.split_at(HEADER_LEN);
        let Some((height, period, step)) = self.header_matches(message, header) else {
            return false;
        };
        let count = usize::from(u16::from_be_bytes([header[21], header[22]]));
        if count > self.keys.len() || body.len() != count * (4 + CREDENTIAL_LEN) {
            return false;
        }
        // Cheap checks first (a certificate costs its sender's peers at most one pairing and
        // `quorum` VRF verifications): distinct known voters whose *claimed* weights reach the
        // quorum only with the last entry (what `combine` produces: no padding with replayed
        // credentials), then the aggregate signature, and only then the credentials.
        let mut voters = BTreeSet::new();
        let mut pks = Vec::with_capacity(count);
        let mut claimed = 0u64;
        for entry in body.chunks_exact(4 + CREDENTIAL_LEN) {
            let voter = NodeId(u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]));
            if claimed >= self.quorum || !voters.insert(voter) {
                return false;
            }
            let Some(pk) = self.keys.get(voter.0 as usize) else {
                return false;
            };
            let w =
                u64::from_be_bytes(entry[4 + CREDENTIAL_LEN - 8..].try_into().unwrap_or([0; 8]));
            claimed = claimed.saturating_add(w);
            pks.push(*pk);
        }
        if claimed < self.quorum {
            return false;
        }
        let signed = Signature::<V>::from_bytes(sig)
            .is_ok_and(|s| fast_aggregate_verify(&self.suite, &pks, message, &s));
        if !signed {
            return false;
        }
        let mut weight = 0u64;
        for entry in body.chunks_exact(4 + CREDENTIAL_LEN) {
            let voter = NodeId(u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]));
            self.counters
                .credential_verifications
                .fetch_add(1, Ordering::Relaxed);
            let Some(w) = self
                .roster
                .verify_voter(voter, seed, height, period, step, &entry[4..])
            else {
                return false;
            };
            weight += w;
        }
        weight >= self.quorum
    }

    fn combine_beacon(
        &self,
        message: &[u8],
        period: Period,
        shares: &[Share<'_>],
    ) -> Result<Vec<u8>, CombineError> {
        self.combine_for(message, Some(period), shares)
    }

    fn verify_beacon(
        &self,
        seed: &Seed,
        message: &[u8],
        period: Period,
        certificate: &[u8],
    ) -> bool {
        let at = V::SIGNATURE_SIZE + 16;
        certificate.get(at..at + 4) == Some(&period.0.to_be_bytes()[..])
            && self.verify_certificate(seed, message, certificate)
    }

    fn value_id(&self, value: &[u8]) -> ValueId {
        value_id(value)
    }

    /// From the decided value's seed seal (see the module docs); a certificate whose seal
    /// does not verify (never decided by the engine) gets the fallback
    /// `SHA-256(".../fallback/v3" ‖ genesis ‖ epoch ‖ h ‖ seed(h))`.
    fn next_seed(&self, previous: &Seed, certificate: &Certificate) -> Seed {
        let h = certificate.height;
        let (domain, material) = match self.roster.verify_seal(previous, h, &certificate.seal) {
            Some((_, output)) => (NEXT_SEED_DOMAIN, output),
            None => (FALLBACK_SEED_DOMAIN, previous.0),
        };
        Seed(
            Sha256::new()
                .chain_update(domain)
                .chain_update(self.genesis)
                .chain_update(self.epoch.to_be_bytes())
                .chain_update(h.0.to_be_bytes())
                .chain_update(material)
                .finalize()
                .into(),
        )
    }

    /// A seal must be the VRF proof of a seat on `(seed, height)` (an empty seal is invalid:
    /// sampled seeds always come from a proposer).
    fn verify_seal(
        &self,
        seed: &Seed,
        height: Height,
        seal: &[u8],
    ) -> Result<Option<NodeId>, InvalidSeal> {
        self.roster
            .verify_seal(seed, height, seal)
            .map(|(origin, _)| Some(origin))
            .ok_or(InvalidSeal)
    }

    /// Votes are signed with each voter's individual BLS key.
    fn attributable(&self) -> bool {
        true
    }

    /// A share is one individual signature; a certificate the aggregate, the header and at
    /// most one (voter, credential) entry per seat.
    fn signature_sizes(&self) -> crate::traits::SignatureSizes {
        use crate::codec::FieldSize;
        let entries = self.keys.len().saturating_mul(4 + CREDENTIAL_LEN);
        crate::traits::SignatureSizes {
            share: FieldSize::Exact(V::SIGNATURE_SIZE),
            certificate: FieldSize::AtMost(V::SIGNATURE_SIZE + HEADER_LEN + entries),
        }
    }
}

/// One seat's individual BLS key (implements [`Signer`]).
pub struct SampledSigner<V: Variant> {
    id: NodeId,
    key: SecretKey,
    suite: Ciphersuite<V>,
}

impl<V: Variant> SampledSigner<V> {
    /// Seat `id` signing with `key` under `dst`. Fails on an empty `dst`.
    pub fn new(
        id: NodeId,
        key: SecretKey,
        dst: &[u8],
    ) -> Result<Self, conclave_threshold_sig::Error> {
        Ok(SampledSigner {
            id,
            key,
            suite: Ciphersuite::with_dst(Scheme::ProofOfPossession, dst.to_vec())?,
        })
    }
}

impl<V: Variant> Signer for SampledSigner<V> {
    fn id(&self) -> NodeId {
        self.id
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(self.key.sign(&self.suite, message).to_bytes())
    }
}

#[cfg(test)]
mod setup_tests {
    use super::*;
    use crate::adapter::params::Ratio;
    use crate::adapter::sortition::RosterError;
    use conclave_committee::vrf::SecretKey as VrfSecretKey;
    use conclave_threshold_sig::MinPk;

    const N: u32 = 4;

    fn roster(tau: Option<u64>) -> Arc<VrfRoster> {
        let keys = (0..N)
            .map(|i| VrfSecretKey::derive(&[3; 32], u64::from(i)).public_key())
            .collect();
        Arc::new(VrfRoster::new(0, keys, tau).unwrap())
    }

    fn registrations() -> Vec<(PublicKey<MinPk>, Signature<MinPk>)> {
        (0..N)
            .map(|i| {
                let sk = SecretKey::key_gen(&[i as u8 + 1; 32]).unwrap();
                (sk.public_key::<MinPk>(), sk.pop_prove::<MinPk>())
            })
            .collect()
    }

    fn params() -> SampledParams {
        SampledParams::new(
            N,
            Ratio::new(1, 1),
            u64::from(N),
            SampledParams::DEFAULT_THRESHOLD,
            Ratio::new(1, 1),
        )
        .unwrap()
    }

    fn verifier(
        registrations: Vec<(PublicKey<MinPk>, Signature<MinPk>)>,
        roster: Arc<VrfRoster>,
        dst: &[u8],
    ) -> Result<SampledVerifier<MinPk>, SampledSetupError> {
        SampledVerifier::new(0, [0; 32], registrations, roster, &params(), dst, [0; 32])
    }

    #[test]
    fn setup_refusals_are_typed_errors() {
        assert_eq!(
            VrfRoster::new(0, vec![], None).err(),
            Some(RosterError::Empty)
        );
        let dst = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
        assert!(verifier(registrations(), roster(Some(u64::from(N))), dst).is_ok());
        assert_eq!(
            verifier(registrations(), roster(None), dst).err(),
            Some(SampledSetupError::RosterNotSampled)
        );
        assert_eq!(
            verifier(registrations(), roster(Some(2)), dst).err(),
            Some(SampledSetupError::TauMismatch {
                roster: 2,
                params: 4
            })
        );
        let mut short = registrations();
        short.pop();
        assert!(matches!(
            verifier(short, roster(Some(4)), dst),
            Err(SampledSetupError::SizeMismatch { keys: 3, .. })
        ));
        let mut forged = registrations();
        forged[2].1 = forged[1].1;
        assert_eq!(
            verifier(forged, roster(Some(4)), dst).err(),
            Some(SampledSetupError::ProofOfPossession(NodeId(2)))
        );
        assert!(matches!(
            verifier(registrations(), roster(Some(4)), b""),
            Err(SampledSetupError::Ciphersuite(_))
        ));
        assert_eq!(
            SampledSetupError::ProofOfPossession(NodeId(2)).to_string(),
            "seat 2: proof of possession rejected"
        );
    }
}
