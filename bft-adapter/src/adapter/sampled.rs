//! Sampled mode (large populations): per-step committees drawn by VRF sortition, votes signed
//! with individual BLS keys (proofs of possession checked at registration), certificates as a
//! BLS multisignature plus the voters' credentials.
//!
//! - A seat votes in a step when its credential (see [`super::sortition`]) has weight > 0 for
//!   expected committee weight `τ_step`; the quorum is `⌈T·τ_step⌉` with Algorand's
//!   `T = 0.685`, or the BFT quorum `⌊(n+f)/2⌋+1` when `τ_step` covers every seat (then each
//!   seat weighs exactly 1 and the scheme is a plain multisignature).
//! - [`Verifier::verify_batch`]: one random linear combination over all shares on the message
//!   (`verify_partials_batch`, individual keys standing in for public shares), bisection on
//!   failure. [`Verifier::combine`]: the aggregate signature of the shares (one G-sum) and their
//!   credentials.
//! - Certificate encoding: `aggregate signature ‖ epoch u64 ‖ height u64 ‖ period u32 ‖ step u8 ‖
//!   count u16 ‖ count × (voter u32 ‖ credential 120 B)`. [`Verifier::verify_certificate`]
//!   checks that the header matches the message, re-verifies every credential against the
//!   height's seed, sums the weights against the quorum and runs one `FastAggregateVerify`.
//!
//! **Seeds (security caveat).** A multisignature depends on which voters it aggregates, so it
//! cannot serve as an unbiased beacon that every node derives alike. Sampled mode therefore uses
//! the fixed seed chain `seed(h) = SHA-256("conclave-bft/sampled-seed/v1" ‖ genesis ‖ epoch ‖ h)`:
//! nobody can bias it, but everyone can predict every future committee, so an *adaptive*
//! adversary could corrupt selected voters in advance. Deployments need Algorand's VRF seed
//! chain (or a threshold beacon); the simulator's adversary is static.

use super::sortition::VrfRoster;
use super::threshold::value_id;
use super::{seeded_rng, CryptoCounters};
use crate::traits::{CombineError, Committee, Share, Signer, Verifier};
use crate::types::{beacon_message, vote_message, Epoch, Height, NodeId, Period, Seed, ValueId};
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

/// Algorand's step threshold `T = 0.685`, in thousandths.
pub const THRESHOLD_PER_MILLE: u64 = 685;

const SEED_DOMAIN: &[u8] = b"conclave-bft/sampled-seed/v1";
const HEADER_LEN: usize = 8 + 8 + 4 + 1 + 2;

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
    /// A verifier for seats with BLS keys `keys` (their proofs of possession already checked)
    /// and the VRF `roster` (which must be in sampled mode), signing under `dst`.
    pub fn new(
        epoch: u64,
        genesis: [u8; 32],
        keys: Vec<PublicKey<V>>,
        roster: Arc<VrfRoster>,
        dst: &[u8],
        salt: [u8; 32],
    ) -> Result<Self, String> {
        let n = keys.len() as u64;
        if roster.len() as u64 != n {
            return Err("BLS keys and VRF roster differ in size".into());
        }
        let tau = roster
            .tau_step()
            .ok_or("the VRF roster is not in sampled mode")?;
        let quorum = if tau >= n {
            let f = n.saturating_sub(1) / 3;
            (n + f) / 2 + 1
        } else {
            (THRESHOLD_PER_MILLE * tau).div_ceil(1000)
        };
        Ok(SampledVerifier {
            epoch,
            genesis,
            keys,
            roster,
            quorum,
            suite: Ciphersuite::with_dst(Scheme::ProofOfPossession, dst.to_vec()),
            salt,
            counters: Arc::default(),
        })
    }

    /// The sortition seed of `height` (see the module docs).
    pub fn seed(&self, height: Height) -> Seed {
        Seed(
            Sha256::new()
                .chain_update(SEED_DOMAIN)
                .chain_update(self.genesis)
                .chain_update(self.epoch.to_be_bytes())
                .chain_update(height.0.to_be_bytes())
                .finalize()
                .into(),
        )
    }

    fn public(&self, index: u32) -> Option<PublicShare<V>> {
        let key = self.keys.get(index.checked_sub(1)? as usize)?;
        Some(PublicShare {
            index,
            point: *key.as_affine(),
        })
    }

    /// Checks the header against `message` and returns (height, period, step).
    fn header_matches(&self, message: &[u8], header: &[u8]) -> Option<(Height, Period, VoteStep)> {
        let epoch = u64::from_be_bytes(header[0..8].try_into().ok()?);
        let height = Height(u64::from_be_bytes(header[8..16].try_into().ok()?));
        let period = Period(u32::from_be_bytes(header[16..20].try_into().ok()?));
        let step = VoteStep::from_code(header[20])?;
        if epoch != self.epoch {
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
        // the message. Beacon messages carry no period: the header records period 0 and
        // verification finds the cert step's period from the first credential.
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
        }
        let (Some(height), Some(step)) = (height, step) else {
            return Err(CombineError::InvalidShares(seen.into_iter().collect()));
        };
        let aggregate = aggregate_signatures(&sigs)
            .map_err(|_| CombineError::InvalidShares(seen.iter().copied().collect()))?;
        let mut out = aggregate.to_bytes();
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&period.unwrap_or(0).to_be_bytes());
        out.push(step);
        out.extend_from_slice(&(sigs.len() as u16).to_be_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    fn verify_certificate(&self, message: &[u8], certificate: &[u8]) -> bool {
        self.counters
            .certificate_verifications
            .fetch_add(1, Ordering::Relaxed);
        let sig_len = V::SIGNATURE_SIZE;
        if certificate.len() < sig_len + HEADER_LEN {
            return false;
        }
        let (sig, rest) = certificate.split_at(sig_len);
        let (header, body) = rest.split_at(HEADER_LEN);
        let Some((height, mut period, step)) = self.header_matches(message, header) else {
            return false;
        };
        let count = usize::from(u16::from_be_bytes([header[21], header[22]]));
        if count > self.keys.len() || body.len() != count * (4 + CREDENTIAL_LEN) {
            return false;
        }
        let seed = self.seed(height);
        let mut voters = BTreeSet::new();
        let mut pks = Vec::with_capacity(count);
        let mut weight = 0u64;
        for entry in body.chunks_exact(4 + CREDENTIAL_LEN) {
            let voter = NodeId(u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]));
            if !voters.insert(voter) {
                return false;
            }
            let Some(pk) = self.keys.get(voter.0 as usize) else {
                return false;
            };
            if period.0 == 0 {
                // A beacon certificate: its voters cast cert votes in one period, found from
                // the first credential (periods beyond the engine's window are not searched).
                period = (1..=MAX_BEACON_PERIOD)
                    .map(Period)
                    .find(|p| {
                        self.roster
                            .verify_voter(voter, &seed, height, *p, step, &entry[4..])
                            .is_some()
                    })
                    .unwrap_or(Period(0));
            }
            let w = self
                .roster
                .verify_voter(voter, &seed, height, period, step, &entry[4..]);
            let Some(w) = w else {
                return false;
            };
            weight += w;
            pks.push(*pk);
        }
        if weight < self.quorum {
            return false;
        }
        Signature::<V>::from_bytes(sig)
            .is_ok_and(|s| fast_aggregate_verify(&self.suite, &pks, message, &s))
    }

    fn value_id(&self, value: &[u8]) -> ValueId {
        value_id(value)
    }

    fn beacon_seed(&self, beacon: &[u8]) -> Seed {
        let sig_len = V::SIGNATURE_SIZE;
        match beacon.get(sig_len + 8..sig_len + 16) {
            Some(h) => {
                let height = u64::from_be_bytes(h.try_into().unwrap_or([0; 8]));
                self.seed(Height(height.saturating_add(1)))
            }
            None => self.seed(Height(u64::MAX)),
        }
    }

    /// Votes are signed with each voter's individual BLS key.
    fn attributable(&self) -> bool {
        true
    }
}

/// Periods searched for the cert step of a beacon certificate's voters.
const MAX_BEACON_PERIOD: u32 = 64;

/// One seat's individual BLS key (implements [`Signer`]).
pub struct SampledSigner<V: Variant> {
    id: NodeId,
    key: SecretKey,
    suite: Ciphersuite<V>,
}

impl<V: Variant> SampledSigner<V> {
    /// Seat `id` signing with `key` under `dst`.
    pub fn new(id: NodeId, key: SecretKey, dst: &[u8]) -> Self {
        SampledSigner {
            id,
            key,
            suite: Ciphersuite::with_dst(Scheme::ProofOfPossession, dst.to_vec()),
        }
    }
}

impl<V: Variant> Signer for SampledSigner<V> {
    fn id(&self) -> NodeId {
        self.id
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(&self.suite, message).to_bytes()
    }
}
