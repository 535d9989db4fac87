//! Round seeds: from a threshold-BLS beacon where a group key exists, else Algorand's VRF seed chain.
//!
//! # Beacon seeds (preferred)
//!
//! `seed_{r+1} = seed_from_beacon(domain, r, σ_r)` where `σ_r` is the canonical encoding of the threshold
//! BLS signature on round `r` under the epoch's group key. A BLS signature is unique for a given key
//! and message, and it needs `t+1` shares to exist, so no coalition below the threshold can predict
//! it and nobody can grind it. **The caller (the consensus layer) must verify `σ_r` under the group
//! key before deriving the seed**: this crate takes only its bytes and does not depend on the BLS
//! crate. Derivation: merlin transcript `"conclave-committee/v1/beacon-seed"` with
//! `append_message("domain", domain)`, `append_u64("round", r)` and
//! `append_message("signature", σ_r)`, then 32 challenge bytes. `domain` names the chain (a
//! chain id or genesis hash): two chains that share a group key, or reuse one after a
//! reset, still derive unrelated seeds.
//!
//! # VRF seed chain (fallback, Algorand §5.2)
//!
//! Without a group key, the proposer of round `r` publishes a VRF proof on
//! `α = ("conclave-committee/v1/vrf-seed", domain, seed_{r-1}, r)` (a merlin transcript) and
//! `seed_r = H(VRF output)`; if round `r` has no valid proposal, `seed_r = H(seed_{r-1} ‖ r)`
//! ([`fallback_seed`]). As Algorand notes, a malicious proposer can still choose between publishing
//! or withholding (a bias of one bit per round it controls); use seeds from a look-back round
//! (`r - 1 - (r mod R)`) to bound the influence, or use the beacon.

use merlin::Transcript;

use crate::encoding::{array_from_slice, impl_hex_encoding};
use crate::error::Error;
use crate::vrf::{Proof, PublicKey, SecretKey, VrfOutput};

/// A 32-byte round seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seed([u8; 32]);

impl Seed {
    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Seed {
        Seed(bytes)
    }

    /// Decodes a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Seed, Error> {
        Ok(Seed(array_from_slice("seed", bytes)?))
    }

    /// The 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The 32 bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl_hex_encoding!(Seed, "seed");

fn challenge(transcript: &mut Transcript) -> Seed {
    let mut out = [0u8; 32];
    transcript.challenge_bytes(b"seed", &mut out);
    Seed(out)
}

/// `seed_{round+1}` of the chain `domain` from the canonical bytes of the beacon (threshold BLS)
/// signature on `round`. The caller must have verified the signature under the group key (see
/// the module docs).
pub fn seed_from_beacon(domain: &str, round: u64, signature: &[u8]) -> Seed {
    let mut transcript = Transcript::new(b"conclave-committee/v1/beacon-seed");
    transcript.append_message(b"domain", domain.as_bytes());
    transcript.append_u64(b"round", round);
    transcript.append_message(b"signature", signature);
    challenge(&mut transcript)
}

/// The VRF input for the seed-chain proof of `round`, given the previous seed.
pub fn seed_vrf_input(domain: &str, previous: &Seed, round: u64) -> [u8; 64] {
    let mut transcript = Transcript::new(b"conclave-committee/v1/vrf-seed");
    transcript.append_message(b"domain", domain.as_bytes());
    transcript.append_message(b"previous", previous.as_bytes());
    transcript.append_u64(b"round", round);
    let mut alpha = [0u8; 64];
    transcript.challenge_bytes(b"vrf-input", &mut alpha);
    alpha
}

fn seed_from_output(output: &VrfOutput) -> Seed {
    let mut transcript = Transcript::new(b"conclave-committee/v1/vrf-seed-output");
    transcript.append_message(b"output", &output.0);
    challenge(&mut transcript)
}

/// The proposer of `round` proves the next link of the VRF seed chain: returns the proof to publish
/// with its proposal and the resulting `seed_round`.
pub fn prove_chain_seed(
    secret: &SecretKey,
    domain: &str,
    previous: &Seed,
    round: u64,
) -> (Proof, Seed) {
    let (proof, output) = secret.prove(&seed_vrf_input(domain, previous, round));
    (proof, seed_from_output(&output))
}

/// Verifies a proposer's seed-chain proof and returns `seed_round`, or [`Error::InvalidProof`].
pub fn verify_chain_seed(
    public: &PublicKey,
    domain: &str,
    previous: &Seed,
    round: u64,
    proof: &Proof,
) -> Result<Seed, Error> {
    let output = public.verify(&seed_vrf_input(domain, previous, round), proof)?;
    Ok(seed_from_output(&output))
}

/// `seed_round = H(seed_{round-1} ‖ round)` when round `round` had no valid proposal.
pub fn fallback_seed(previous: &Seed, round: u64) -> Seed {
    let mut transcript = Transcript::new(b"conclave-committee/v1/fallback-seed");
    transcript.append_message(b"previous", previous.as_bytes());
    transcript.append_u64(b"round", round);
    challenge(&mut transcript)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beacon_seed_depends_on_round_and_signature() {
        let a = seed_from_beacon("chain-a", 1, b"sig");
        assert_eq!(a, seed_from_beacon("chain-a", 1, b"sig"));
        assert_ne!(a, seed_from_beacon("chain-a", 2, b"sig"));
        assert_ne!(a, seed_from_beacon("chain-a", 1, b"sig2"));
    }

    #[test]
    fn beacon_seed_binds_the_chain() {
        // Two chains under one group key (or one key reused after a reset) see the same beacon
        // signature on the same round; their seeds must still differ.
        assert_ne!(
            seed_from_beacon("chain-a", 1, b"sig"),
            seed_from_beacon("chain-b", 1, b"sig")
        );
        // Length-prefixed: moving bytes between the domain and the signature changes the seed.
        assert_ne!(
            seed_from_beacon("ab", 1, b"c"),
            seed_from_beacon("a", 1, b"bc")
        );
    }

    #[test]
    fn chain_seed_verifies_and_binds() {
        let sk = SecretKey::derive(b"chain", 0);
        let other = SecretKey::derive(b"chain", 1);
        let prev = Seed::from_bytes([9; 32]);
        let (proof, seed) = prove_chain_seed(&sk, "d", &prev, 4);
        assert_eq!(
            verify_chain_seed(&sk.public_key(), "d", &prev, 4, &proof),
            Ok(seed)
        );
        assert_eq!(
            verify_chain_seed(&sk.public_key(), "d", &prev, 5, &proof),
            Err(Error::InvalidProof)
        );
        assert_eq!(
            verify_chain_seed(&other.public_key(), "d", &prev, 4, &proof),
            Err(Error::InvalidProof)
        );
        assert_ne!(fallback_seed(&prev, 4), seed);
        assert_ne!(fallback_seed(&prev, 4), fallback_seed(&prev, 5));
    }

    #[test]
    fn seed_hex_round_trip() {
        let s = Seed::from_bytes([0xab; 32]);
        assert_eq!(s.to_string().parse::<Seed>(), Ok(s));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Seed>(&json).unwrap(), s);
    }
}
