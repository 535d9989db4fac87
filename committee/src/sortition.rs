//! Sortition credentials (Algorand, Gilad et al. SOSP 2017, Algorithms 1 and 2), proposer priority.
//!
//! * **Prove** ([`sortition`]): `(π, β) = VRF.prove(sk, α)` with `α` from
//!   [`SortitionContext::vrf_input`]; `u` = the first 8 bytes (big-endian) of
//!   `SHA-256("conclave-committee/v1/ratio" ‖ β)`; the weight is [`SortitionParams::weight`]`(u)`,
//!   i.e. the smallest `j` with `(2u + 1) / 2^65 ≤ BinomCDF(j; w, τ/W)` (computed as a lower bound
//!   within `2^-71`, see [`crate::binomial`]). The credential is `(pk, π, weight)`.
//! * **Verify** ([`Credential::verify`]): check `π` under `pk` for the same context (else
//!   [`Error::InvalidProof`]), recompute the weight from `β` with the stake the verifier looked up
//!   for `pk`, and reject a different claimed weight ([`Error::WeightMismatch`]).
//! * **Priority** ([`priority`]): `min_{i = 1..=weight} SHA-256("conclave-committee/v1/priority" ‖ β ‖
//!   i as u64 big-endian)`, compared as 32-byte big-endian integers; the lowest wins. The weight hash
//!   uses a different label, so the two are domain-separated.
//!
//! Security: the weight and priority are functions of `β`, which only the key holder can compute
//! before publishing and which is unique for `(pk, α)`; an adversary cannot choose it except by
//! choosing keys before the seed is known, which the seed's unpredictability defeats.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::binomial::{SortitionParams, SortitionTable};
use crate::encoding::{array_from_slice, impl_hex_encoding};
use crate::error::Error;
use crate::transcript::SortitionContext;
use crate::vrf::{Proof, PublicKey, SecretKey, VrfOutput, PROOF_LEN, PUBLIC_KEY_LEN};

/// Length of an encoded [`Credential`]: public key (32) ‖ proof (80) ‖ weight (8, big-endian).
pub const CREDENTIAL_LEN: usize = PUBLIC_KEY_LEN + PROOF_LEN + 8;

/// The 64-bit ratio value `u` of a VRF output (see the module docs).
pub fn ratio_value(output: &VrfOutput) -> u64 {
    let digest = Sha256::new()
        .chain_update(b"conclave-committee/v1/ratio")
        .chain_update(output.0)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// A proposer priority: 32 bytes compared as a big-endian integer; lower is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Priority([u8; 32]);

impl Priority {
    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Priority {
        Priority(bytes)
    }

    /// Decodes a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Priority, Error> {
        Ok(Priority(array_from_slice("priority", bytes)?))
    }

    /// The 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
}

impl_hex_encoding!(Priority, "priority");

/// The priority of an output with `weight` sub-users, or `None` for weight 0.
pub fn priority(output: &VrfOutput, weight: u64) -> Option<Priority> {
    let prefix = Sha256::new()
        .chain_update(b"conclave-committee/v1/priority")
        .chain_update(output.0);
    (1..=weight)
        .map(|i| {
            Priority(
                prefix
                    .clone()
                    .chain_update(i.to_be_bytes())
                    .finalize()
                    .into(),
            )
        })
        .min()
}

/// A sortition credential `(public key, proof, weight)`: what a participant publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The participant's VRF public key.
    pub public_key: PublicKey,
    /// The VRF proof on the context's input.
    pub proof: Proof,
    /// The claimed weight (number of selected sub-users); checked by [`Credential::verify`].
    pub weight: u64,
}

/// Runs sortition for `secret` in `context` with stake parameters `params`. The credential's weight
/// may be 0 (not selected); only selected participants publish.
pub fn sortition(
    secret: &SecretKey,
    context: &SortitionContext,
    params: &SortitionParams,
) -> VerifiedCredential {
    let (proof, output) = secret.prove(&context.vrf_input());
    let weight = params.weight(ratio_value(&output));
    VerifiedCredential {
        credential: Credential {
            public_key: secret.public_key(),
            proof,
            weight,
        },
        output,
    }
}

/// Verifies `proof` under `public_key` for `context` and returns the weight it yields (0 if not
/// selected) with the output, or [`Error::InvalidProof`].
pub fn verify_weight(
    public_key: &PublicKey,
    proof: &Proof,
    context: &SortitionContext,
    params: &SortitionParams,
) -> Result<(u64, VrfOutput), Error> {
    let output = public_key.verify(&context.vrf_input(), proof)?;
    Ok((params.weight(ratio_value(&output)), output))
}

impl Credential {
    /// Checks the proof and recomputes the weight with `params` (whose stake must be the stake the
    /// verifier has on record for `public_key`). Rejects an invalid proof or a wrong weight.
    pub fn verify(
        &self,
        context: &SortitionContext,
        params: &SortitionParams,
    ) -> Result<VerifiedCredential, Error> {
        let output = self.public_key.verify(&context.vrf_input(), &self.proof)?;
        self.check_weight(output, params.weight(ratio_value(&output)))
    }

    /// As [`Credential::verify`], with the weight looked up in a precomputed table.
    pub fn verify_with_table(
        &self,
        context: &SortitionContext,
        table: &SortitionTable,
    ) -> Result<VerifiedCredential, Error> {
        let output = self.public_key.verify(&context.vrf_input(), &self.proof)?;
        self.check_weight(output, table.weight(ratio_value(&output)))
    }

    fn check_weight(&self, output: VrfOutput, computed: u64) -> Result<VerifiedCredential, Error> {
        if computed != self.weight {
            return Err(Error::WeightMismatch {
                claimed: self.weight,
                computed,
            });
        }
        Ok(VerifiedCredential {
            credential: *self,
            output,
        })
    }

    /// The canonical encoding: public key ‖ proof ‖ weight (u64 big-endian), 120 bytes.
    pub fn to_bytes(&self) -> [u8; CREDENTIAL_LEN] {
        let mut out = [0u8; CREDENTIAL_LEN];
        out[..PUBLIC_KEY_LEN].copy_from_slice(&self.public_key.to_bytes());
        out[PUBLIC_KEY_LEN..PUBLIC_KEY_LEN + PROOF_LEN].copy_from_slice(&self.proof.to_bytes());
        out[PUBLIC_KEY_LEN + PROOF_LEN..].copy_from_slice(&self.weight.to_be_bytes());
        out
    }

    /// Decodes the canonical encoding; validates the key and proof encodings (not the proof).
    pub fn from_slice(bytes: &[u8]) -> Result<Credential, Error> {
        let bytes: [u8; CREDENTIAL_LEN] = array_from_slice("credential", bytes)?;
        let public_key = PublicKey::from_slice(&bytes[..PUBLIC_KEY_LEN])?;
        let proof = Proof::from_slice(&bytes[PUBLIC_KEY_LEN..PUBLIC_KEY_LEN + PROOF_LEN])?;
        let weight: [u8; 8] = array_from_slice("weight", &bytes[PUBLIC_KEY_LEN + PROOF_LEN..])?;
        Ok(Credential {
            public_key,
            proof,
            weight: u64::from_be_bytes(weight),
        })
    }
}

/// A credential whose proof and weight have been checked, with its VRF output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedCredential {
    credential: Credential,
    output: VrfOutput,
}

impl VerifiedCredential {
    /// The credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The verified weight.
    pub fn weight(&self) -> u64 {
        self.credential.weight
    }

    /// The verified VRF output.
    pub fn output(&self) -> &VrfOutput {
        &self.output
    }

    /// The proposer priority, `None` for weight 0. Costs `weight` hashes.
    pub fn priority(&self) -> Option<Priority> {
        priority(&self.output, self.credential.weight)
    }
}

/// The winning proposer among verified credentials: the lowest priority (ties, which need a
/// SHA-256 collision, are broken by the lower public key encoding). `None` if nobody is selected.
pub fn select_proposer(credentials: &[VerifiedCredential]) -> Option<&VerifiedCredential> {
    credentials
        .iter()
        .filter_map(|c| {
            c.priority()
                .map(|p| (p, c.credential.public_key.to_bytes(), c))
        })
        .min_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))
        .map(|(_, _, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;
    use crate::transcript::Role;

    fn setup() -> (SecretKey, SortitionContext, SortitionParams) {
        let sk = SecretKey::derive(b"unit", 3);
        let ctx = SortitionContext::new(Seed::from_bytes([4; 32]), 10);
        let params = SortitionParams::new(1_000, 2_000, 1_000).unwrap();
        (sk, ctx, params)
    }

    #[test]
    fn prove_then_verify() {
        let (sk, ctx, params) = setup();
        let vc = sortition(&sk, &ctx, &params);
        assert!(vc.weight() > 0);
        assert_eq!(vc.credential().verify(&ctx, &params), Ok(vc));
        let table = SortitionTable::new(params);
        assert_eq!(vc.credential().verify_with_table(&ctx, &table), Ok(vc));
        assert_eq!(
            Credential::from_slice(&vc.credential().to_bytes()),
            Ok(*vc.credential())
        );
    }

    #[test]
    fn wrong_weight_and_context_rejected() {
        let (sk, ctx, params) = setup();
        let vc = sortition(&sk, &ctx, &params);
        let mut forged = *vc.credential();
        forged.weight += 1;
        assert!(matches!(
            forged.verify(&ctx, &params),
            Err(Error::WeightMismatch { .. })
        ));
        let other_role = ctx.clone().with_role(Role::Proposer);
        assert_eq!(
            vc.credential().verify(&other_role, &params),
            Err(Error::InvalidProof)
        );
    }

    #[test]
    fn priority_is_min_over_subusers() {
        let output = VrfOutput([7; 64]);
        assert_eq!(priority(&output, 0), None);
        let p3 = priority(&output, 3).unwrap();
        assert!(p3 <= priority(&output, 2).unwrap());
        assert!(priority(&output, 1).unwrap() >= p3);
    }
}
