//! Identity mode: a fixed committee whose votes are Schnorr signatures (ristretto255) under each
//! seat's DKG identity signing key, and whose certificates list the signatures of a quorum.
//!
//! This is the scheme for agreement *before* a threshold key exists: a host runs the engine in
//! identity mode to order the messages of the genesis DKG (see `conclave_dkg::log`), so that
//! every honest node takes the same dealings, complaints and justifications before the same
//! deadline whatever the timing of a Byzantine member's messages. The keys are the ones the DKG
//! already authenticates its messages with ([`conclave_dkg::Member::signing_key`]); votes are
//! signed under their own domain ([`VOTE_DOMAIN`]), so no DKG message can be replayed as a vote
//! or the other way round.
//!
//! - Quorum: `⌊(n+f)/2⌋ + 1` seats with `f = ⌊(n−1)/3⌋` (2f+1 for n = 3f+1): two quorums
//!   intersect in more than f seats, so in an honest one.
//! - Certificate: `count u16 ‖ count × (seat u32 ‖ signature 64 B)`, seats strictly increasing;
//!   [`Verifier::verify_certificate`] checks every signature (no aggregation: Schnorr
//!   signatures do not aggregate, and the committees this mode serves are small).
//! - Attributable: a valid signature can only come from the seat's own key, so equivocation
//!   evidence is real.
//! - Seeds: `seed(h+1) = SHA-256(domain ‖ seed(h) ‖ h)`. Certificates differ between nodes (any
//!   quorum forms one), so the seed cannot come from them; it does not depend on the decided
//!   value either, so a proposer cannot grind the next proposer order. Proposer order is thus
//!   public in advance, which a short agreement (a DKG's few blocks) can afford.

use std::collections::BTreeSet;

use conclave_dkg::sigma::{Point, SchnorrSignature, SecretScalar};
use sha2::{Digest, Sha256};

use crate::codec::FieldSize;
use crate::traits::{CombineError, Committee, SignError, SignatureSizes, Signer, Verifier};
use crate::types::{Certificate, NodeId, Seed, ValueId, VoteStep};

/// The Schnorr domain of every vote and proposal signature in identity mode.
pub const VOTE_DOMAIN: &[u8] = b"conclave-bft/identity-vote/v1";
const SEED_DOMAIN: &[u8] = b"conclave-bft/identity-seed/v1";
/// Encoded size of one certificate entry: seat u32 and a signature.
const ENTRY: usize = 4 + SchnorrSignature::SIZE;

/// Why [`IdentityVerifier::new`] refused a committee.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentitySetupError {
    /// No seats.
    #[error("an identity committee needs at least one seat")]
    Empty,
    /// More seats than a certificate can count.
    #[error("{0} seats: an identity committee holds at most 65535")]
    TooLarge(usize),
    /// Two seats share a key (one key would count twice towards a quorum).
    #[error("seats {0} and {1} have the same signing key")]
    DuplicateKey(NodeId, NodeId),
}

/// Committee and verifier of identity mode (see the module docs).
#[derive(Clone, Debug)]
pub struct IdentityVerifier {
    keys: Vec<Point>,
    quorum: u64,
}

impl IdentityVerifier {
    /// The committee of seats `0..keys.len()`, seat `i` signing with `keys[i]` (decoded
    /// points are never the identity: [`Point::from_bytes`] refuses it).
    pub fn new(keys: Vec<Point>) -> Result<Self, IdentitySetupError> {
        let n = keys.len();
        if n == 0 {
            return Err(IdentitySetupError::Empty);
        }
        if n > u16::MAX as usize {
            return Err(IdentitySetupError::TooLarge(n));
        }
        for i in 0..n {
            for j in 0..i {
                if keys[i] == keys[j] {
                    return Err(IdentitySetupError::DuplicateKey(
                        NodeId(j as u32),
                        NodeId(i as u32),
                    ));
                }
            }
        }
        let n = n as u64;
        let f = (n - 1) / 3;
        Ok(IdentityVerifier {
            keys,
            quorum: (n + f) / 2 + 1,
        })
    }

    /// The number of seats.
    pub fn seats_len(&self) -> usize {
        self.keys.len()
    }

    fn key(&self, seat: NodeId) -> Option<&Point> {
        self.keys.get(seat.0 as usize)
    }

    fn check(&self, seat: NodeId, message: &[u8], signature: &[u8]) -> bool {
        match (self.key(seat), SchnorrSignature::from_bytes(signature)) {
            (Some(key), Ok(sig)) => sig.verify(key, VOTE_DOMAIN, message),
            _ => false,
        }
    }
}

impl Committee for IdentityVerifier {
    fn seats(&self) -> Vec<NodeId> {
        (0..self.keys.len() as u32).map(NodeId).collect()
    }

    fn is_member(&self, node: NodeId) -> bool {
        (node.0 as usize) < self.keys.len()
    }

    /// ⌊(n+f)/2⌋ + 1 seats in every step.
    fn quorum(&self, _step: VoteStep) -> u64 {
        self.quorum
    }
}

impl Verifier for IdentityVerifier {
    fn verify_share(&self, signer: NodeId, message: &[u8], signature: &[u8]) -> bool {
        self.check(signer, message, signature)
    }

    fn verify_batch(
        &self,
        message: &[u8],
        shares: &[crate::traits::Share<'_>],
    ) -> Result<(), Vec<NodeId>> {
        let bad: BTreeSet<NodeId> = shares
            .iter()
            .filter(|s| !self.check(s.signer, message, s.signature))
            .map(|s| s.signer)
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(bad.into_iter().collect())
        }
    }

    /// The certificate of every distinct valid share (at least a quorum), by seat.
    fn combine(
        &self,
        message: &[u8],
        shares: &[crate::traits::Share<'_>],
    ) -> Result<Vec<u8>, CombineError> {
        let mut invalid = Vec::new();
        let mut entries: Vec<(u32, &[u8])> = Vec::with_capacity(shares.len());
        let mut seen = BTreeSet::new();
        for s in shares {
            if !self.check(s.signer, message, s.signature) {
                invalid.push(s.signer);
            } else if seen.insert(s.signer.0) {
                entries.push((s.signer.0, s.signature));
            }
        }
        if !invalid.is_empty() {
            return Err(CombineError::InvalidShares(invalid));
        }
        if (entries.len() as u64) < self.quorum {
            return Err(CombineError::NotEnoughShares {
                have: entries.len() as u64,
                need: self.quorum,
            });
        }
        entries.sort_by_key(|e| e.0);
        let mut out = Vec::with_capacity(2 + entries.len() * ENTRY);
        out.extend_from_slice(&(entries.len() as u16).to_be_bytes());
        for (seat, sig) in entries {
            out.extend_from_slice(&seat.to_be_bytes());
            out.extend_from_slice(sig);
        }
        Ok(out)
    }

    /// A quorum of distinct seats in increasing order, each signature valid, nothing else.
    fn verify_certificate(&self, _seed: &Seed, message: &[u8], certificate: &[u8]) -> bool {
        let Some((count, rest)) = certificate.split_first_chunk::<2>() else {
            return false;
        };
        let count = u16::from_be_bytes(*count) as usize;
        if (count as u64) < self.quorum || count > self.keys.len() || rest.len() != count * ENTRY {
            return false;
        }
        let mut last: Option<u32> = None;
        rest.chunks_exact(ENTRY).all(|e| {
            let seat = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
            let increasing = last.is_none_or(|l| seat > l);
            last = Some(seat);
            increasing && self.check(NodeId(seat), message, &e[4..])
        })
    }

    fn value_id(&self, value: &[u8]) -> ValueId {
        super::threshold::value_id(value)
    }

    fn next_seed(&self, previous: &Seed, certificate: &Certificate) -> Seed {
        Seed(
            Sha256::new()
                .chain_update(SEED_DOMAIN)
                .chain_update(previous.0)
                .chain_update(certificate.height.0.to_be_bytes())
                .finalize()
                .into(),
        )
    }

    /// True: a Schnorr signature under a seat's key needs that seat's secret.
    fn attributable(&self) -> bool {
        true
    }

    /// True: the committee is fixed, so a certificate needs a quorum in any period.
    fn certificates_bind_quorum_at_any_period(&self) -> bool {
        true
    }

    fn signature_sizes(&self) -> SignatureSizes {
        SignatureSizes {
            share: FieldSize::Exact(SchnorrSignature::SIZE),
            certificate: FieldSize::AtMost(2 + self.keys.len() * ENTRY),
        }
    }
}

/// One seat's identity signing key (implements [`Signer`]). Each signature uses fresh
/// randomness from the OS together with the key and the message (see
/// [`SchnorrSignature::sign`]).
pub struct IdentitySigner {
    id: NodeId,
    key: SecretScalar,
}

impl IdentitySigner {
    /// Seat `id` signing with `key` (its DKG identity signing key).
    pub fn new(id: NodeId, key: SecretScalar) -> Self {
        IdentitySigner { id, key }
    }
}

impl std::fmt::Debug for IdentitySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySigner")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Signer for IdentitySigner {
    fn id(&self) -> NodeId {
        self.id
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(
            SchnorrSignature::sign(&self.key, VOTE_DOMAIN, message, &mut rand::rngs::OsRng)
                .to_bytes()
                .to_vec(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traits::Share;
    use rand::SeedableRng;

    fn committee(n: usize) -> (IdentityVerifier, Vec<IdentitySigner>) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let secrets: Vec<SecretScalar> = (0..n).map(|_| SecretScalar::random(&mut rng)).collect();
        let v = IdentityVerifier::new(secrets.iter().map(SecretScalar::public).collect()).unwrap();
        let signers = secrets
            .into_iter()
            .enumerate()
            .map(|(i, k)| IdentitySigner::new(NodeId(i as u32), k))
            .collect();
        (v, signers)
    }

    fn sigs(signers: &[IdentitySigner], msg: &[u8]) -> Vec<(NodeId, Vec<u8>)> {
        signers
            .iter()
            .map(|s| (s.id(), s.sign(msg).unwrap()))
            .collect()
    }

    fn shares(s: &[(NodeId, Vec<u8>)]) -> Vec<Share<'_>> {
        s.iter()
            .map(|(id, sig)| Share {
                signer: *id,
                credential: &[],
                signature: sig,
            })
            .collect()
    }

    #[test]
    fn quorum_is_two_f_plus_one_and_intersects() {
        for (n, q) in [(1, 1), (4, 3), (5, 4), (7, 5), (10, 7), (16, 11)] {
            let (v, _) = committee(n);
            assert_eq!(v.quorum(VoteStep::Soft), q, "n = {n}");
            let f = (n as u64 - 1) / 3;
            assert!(2 * q > n as u64 + f, "n = {n}");
        }
    }

    #[test]
    fn a_quorum_certifies_and_nothing_less_or_forged_does() {
        let (v, signers) = committee(4);
        let msg = b"vote";
        let all = sigs(&signers, msg);
        let cert = v.combine(msg, &shares(&all[..3])).unwrap();
        assert!(v.verify_certificate(&Seed([0; 32]), msg, &cert));
        assert!(!v.verify_certificate(&Seed([0; 32]), b"other", &cert));
        // Two shares are not a quorum.
        assert_eq!(
            v.combine(msg, &shares(&all[..2])),
            Err(CombineError::NotEnoughShares { have: 2, need: 3 })
        );
        // A repeated seat counts once.
        let rep = vec![all[0].clone(), all[0].clone(), all[1].clone()];
        assert!(v.combine(msg, &shares(&rep)).is_err());
        // A certificate that repeats a seat, is out of order, truncated or has a bad signature.
        let mut dup = cert.clone();
        let entry = dup[2..2 + ENTRY].to_vec();
        dup[2 + ENTRY..2 + 2 * ENTRY].copy_from_slice(&entry);
        assert!(!v.verify_certificate(&Seed([0; 32]), msg, &dup));
        assert!(!v.verify_certificate(&Seed([0; 32]), msg, &cert[..cert.len() - 1]));
        let mut bad = cert.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(!v.verify_certificate(&Seed([0; 32]), msg, &bad));
        // Count lowered below the quorum with the bytes cut to match.
        let mut low = cert[..2 + 2 * ENTRY].to_vec();
        low[..2].copy_from_slice(&2u16.to_be_bytes());
        assert!(!v.verify_certificate(&Seed([0; 32]), msg, &low));
        // A share under another seat's key is invalid and named.
        let wrong = vec![(NodeId(1), all[0].1.clone())];
        assert_eq!(v.verify_batch(msg, &shares(&wrong)), Err(vec![NodeId(1)]));
        assert!(v.verify_batch(msg, &shares(&all)).is_ok());
        assert!(v.attributable());
    }

    #[test]
    fn duplicate_keys_and_empty_committees_are_refused() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let k = SecretScalar::random(&mut rng).public();
        assert_eq!(
            IdentityVerifier::new(vec![k, k]).unwrap_err(),
            IdentitySetupError::DuplicateKey(NodeId(0), NodeId(1))
        );
        assert_eq!(
            IdentityVerifier::new(Vec::new()).unwrap_err(),
            IdentitySetupError::Empty
        );
    }
}
