//! Certificate checks that share no code with the adapter under test (`crate::adapter`): the
//! oracle re-checks every decided certificate with these, from the public key material the
//! crypto provider published ([`super::CryptoSetup::group_public_key`],
//! [`super::CryptoSetup::sampled`]) and the written specification of the certificate formats.
//!
//! - **Threshold mode** ([`Independent::Bls`]): the certificate is one BLS signature under the
//!   group public key, checked with `conclave-threshold-sig` directly.
//! - **Sampled mode** ([`Independent::Sampled`]): the certificate is `aggregate ‖ epoch u64 ‖
//!   height u64 ‖ period u32 ‖ step u8 ‖ count u16 ‖ count × (voter u32 ‖ credential 120 B)`.
//!   Each credential is re-derived with the `conclave-committee` crate's public sortition API
//!   (the voter's registered ristretto255 VRF key, a merlin transcript of domain, epoch, the
//!   height's seed, height, period, step and role), the weights must reach `⌈T·τ⌉`, the voters
//!   must be distinct, and the aggregate is checked as one plain BLS signature under the sum of
//!   the listed voters' registered keys (each key's proof of possession checked here first).
//!   The certificate carries only the aggregate, so the individual votes' signatures cannot be
//!   checked one by one from it; the aggregate under exactly the listed keys is what they sum
//!   to. The height's seed comes from this module's own seed chain
//!   ([`SampledCheck::genesis_seed`], [`SampledCheck::next_seed`]): each decided value's seed
//!   seal is checked as a VRF proof with `conclave_committee::seed::verify_chain_seed`.

use crate::types::{beacon_message, Certificate, Seed, VoteStep};
use conclave_committee::seed::{verify_chain_seed, Seed as CommitteeSeed};
use conclave_committee::sortition::Credential;
use conclave_committee::transcript::{Role, SortitionContext};
use conclave_committee::vrf::{Proof, PublicKey as VrfPublicKey};
use conclave_committee::SortitionParams;
use conclave_threshold_sig::{
    aggregate_public_keys, Ciphersuite, MinPk, MinSig, PublicKey, Scheme, Signature, Variant,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The public material of a sampled-mode population, as registered at setup: what an outside
/// verifier needs to check sampled certificates on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampledPublic {
    /// Committee epoch.
    pub epoch: u64,
    /// The genesis bytes the seed chain starts from.
    pub genesis: [u8; 32],
    /// Every seat's BLS public key (canonical bytes), by seat.
    pub bls_keys: Vec<Vec<u8>>,
    /// Every seat's proof of possession of that key, by seat.
    pub proofs_of_possession: Vec<Vec<u8>>,
    /// Every seat's ristretto255 VRF public key, by seat.
    pub vrf_keys: Vec<[u8; 32]>,
    /// Expected committee weight per step τ.
    pub tau_step: u64,
    /// The step threshold `T` as `(numerator, denominator)`: the quorum is `⌈T·τ⌉`.
    pub threshold: (u64, u64),
}

/// The sortition transcript domain of the specification (`docs/`, adapter module docs).
const SORTITION_DOMAIN: &str = "conclave-bft/v1";
const SEED_V1: &[u8] = b"conclave-bft/sampled-seed/v1";
const SEED_V3: &[u8] = b"conclave-bft/sampled-seed/v3";
const HEADER_LEN: usize = 8 + 8 + 4 + 1 + 2;
const CREDENTIAL_LEN: usize = 120;
const SEAL_LEN: usize = 4 + 80;

/// Sampled mode's independent check (see the module docs), with its keys decoded.
pub(crate) struct SampledCheck {
    public: SampledPublic,
    variant: String,
    dst: Vec<u8>,
    vrf: Vec<VrfPublicKey>,
    quorum: u64,
    params: SortitionParams,
}

impl SampledCheck {
    /// Decodes the keys and checks every proof of possession; `Err` names the first problem.
    pub fn new(public: SampledPublic, variant: &str, dst: &[u8]) -> Result<Self, String> {
        let n = public.vrf_keys.len();
        if n == 0 || public.bls_keys.len() != n || public.proofs_of_possession.len() != n {
            return Err("sampled public material: key lists differ in length".into());
        }
        fn pops<V: Variant>(p: &SampledPublic) -> Result<(), String> {
            for (seat, (key, pop)) in p.bls_keys.iter().zip(&p.proofs_of_possession).enumerate() {
                let key =
                    PublicKey::<V>::from_bytes(key).map_err(|e| format!("seat {seat}: {e}"))?;
                let pop =
                    Signature::<V>::from_bytes(pop).map_err(|e| format!("seat {seat}: {e}"))?;
                if !key.pop_verify(&pop) {
                    return Err(format!("seat {seat}: proof of possession rejected"));
                }
            }
            Ok(())
        }
        match variant {
            "min-pk" => pops::<MinPk>(&public)?,
            "min-sig" => pops::<MinSig>(&public)?,
            other => return Err(format!("unknown BLS variant {other:?}")),
        }
        let vrf = public
            .vrf_keys
            .iter()
            .map(|k| VrfPublicKey::from_bytes(k).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let (tn, td) = public.threshold;
        if tn == 0 || td == 0 || tn > td {
            return Err("the step threshold must be in (0, 1]".into());
        }
        let tau = public.tau_step.clamp(1, n as u64);
        let quorum = (u128::from(tn) * u128::from(tau))
            .div_ceil(u128::from(td))
            .max(1) as u64;
        let params = SortitionParams::new(1, n as u64, tau).map_err(|e| e.to_string())?;
        Ok(SampledCheck {
            public,
            variant: variant.to_string(),
            dst: dst.to_vec(),
            vrf,
            quorum,
            params,
        })
    }

    /// `seed(1) = SHA-256("conclave-bft/sampled-seed/v1" ‖ genesis ‖ epoch ‖ 1)`.
    pub fn genesis_seed(&self) -> Seed {
        Seed(
            Sha256::new()
                .chain_update(SEED_V1)
                .chain_update(self.public.genesis)
                .chain_update(self.public.epoch.to_be_bytes())
                .chain_update(1u64.to_be_bytes())
                .finalize()
                .into(),
        )
    }

    /// `seed(h+1) = SHA-256("conclave-bft/sampled-seed/v3" ‖ genesis ‖ epoch ‖ h ‖ y)` with `y`
    /// the VRF-derived output of the decided value's seal `origin u32 ‖ proof` on
    /// `(seed(h), h)`; `Err` if the seal is not a valid VRF proof of a registered seat.
    pub fn next_seed(&self, seed: &Seed, certificate: &Certificate) -> Result<Seed, String> {
        let seal = &certificate.seal;
        if seal.len() != SEAL_LEN {
            return Err(format!("seal of {} bytes", seal.len()));
        }
        let origin = u32::from_be_bytes([seal[0], seal[1], seal[2], seal[3]]) as usize;
        let key = self
            .vrf
            .get(origin)
            .ok_or_else(|| format!("seal origin {origin} is not a seat"))?;
        let proof = Proof::from_slice(&seal[4..]).map_err(|e| e.to_string())?;
        let domain = format!("{SORTITION_DOMAIN}/seed-chain/epoch-{}", self.public.epoch);
        let h = certificate.height.0;
        let y = verify_chain_seed(key, &domain, &CommitteeSeed::from_bytes(seed.0), h, &proof)
            .map_err(|_| format!("seal of seat {origin} is not its VRF proof"))?;
        Ok(Seed(
            Sha256::new()
                .chain_update(SEED_V3)
                .chain_update(self.public.genesis)
                .chain_update(self.public.epoch.to_be_bytes())
                .chain_update(h.to_be_bytes())
                .chain_update(y.to_bytes())
                .finalize()
                .into(),
        ))
    }

    /// Checks one multisignature certificate on `message` for the cert step of `certificate`'s
    /// (height, period) against `seed`.
    fn check(
        &self,
        seed: &Seed,
        c: &Certificate,
        message: &[u8],
        cert: &[u8],
    ) -> Result<(), String> {
        match self.variant.as_str() {
            "min-pk" => self.check_with::<MinPk>(seed, c, message, cert),
            _ => self.check_with::<MinSig>(seed, c, message, cert),
        }
    }

    fn check_with<V: Variant>(
        &self,
        seed: &Seed,
        c: &Certificate,
        message: &[u8],
        cert: &[u8],
    ) -> Result<(), String> {
        let sig_len = V::SIGNATURE_SIZE;
        if cert.len() < sig_len + HEADER_LEN {
            return Err("shorter than its header".into());
        }
        let (sig, rest) = cert.split_at(sig_len);
        let (header, body) = rest.split_at(HEADER_LEN);
        let be = |b: &[u8]| b.iter().fold(0u64, |acc, x| acc << 8 | u64::from(*x));
        let (epoch, height, period, step) = (
            be(&header[0..8]),
            be(&header[8..16]),
            be(&header[16..20]),
            header[20],
        );
        if epoch != self.public.epoch
            || epoch != c.epoch.0
            || height != c.height.0
            || period != u64::from(c.period.0)
            || step != VoteStep::Cert.code()
        {
            return Err(format!(
                "header names epoch {epoch}, height {height}, period {period}, step {step}"
            ));
        }
        let count = be(&header[21..23]) as usize;
        if body.len() != count * (4 + CREDENTIAL_LEN) {
            return Err(format!("{count} entries in {} bytes", body.len()));
        }
        let context = SortitionContext::new(CommitteeSeed::from_bytes(seed.0), height)
            .with_domain(SORTITION_DOMAIN)
            .with_epoch(epoch)
            .with_period(period)
            .with_step(u64::from(step))
            .with_role(Role::Voter);
        let mut voters = BTreeSet::new();
        let mut keys = Vec::with_capacity(count);
        let mut weight = 0u64;
        for entry in body.chunks_exact(4 + CREDENTIAL_LEN) {
            let voter = be(&entry[..4]) as usize;
            if !voters.insert(voter) {
                return Err(format!("seat {voter} listed twice"));
            }
            let (Some(vrf), Some(bls)) = (self.vrf.get(voter), self.public.bls_keys.get(voter))
            else {
                return Err(format!("voter {voter} is not a seat"));
            };
            let credential = Credential::from_slice(&entry[4..])
                .map_err(|e| format!("seat {voter}'s credential: {e}"))?;
            if credential.public_key != *vrf {
                return Err(format!(
                    "seat {voter}'s credential is under another VRF key"
                ));
            }
            let verified = credential
                .verify(&context, &self.params)
                .map_err(|e| format!("seat {voter}'s credential: {e}"))?;
            if verified.weight() == 0 {
                return Err(format!("seat {voter} was not selected for this step"));
            }
            weight = weight.saturating_add(verified.weight());
            keys.push(PublicKey::<V>::from_bytes(bls).map_err(|e| e.to_string())?);
        }
        if weight < self.quorum {
            return Err(format!("weight {weight} below the quorum {}", self.quorum));
        }
        let aggregate_key = aggregate_public_keys(&keys).map_err(|e| e.to_string())?;
        let signature = Signature::<V>::from_bytes(sig).map_err(|e| e.to_string())?;
        let suite = Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, self.dst.clone())
            .map_err(|e| e.to_string())?;
        if !aggregate_key.verify(&suite, message, &signature) {
            return Err("the aggregate signature does not verify under the voters' keys".into());
        }
        Ok(())
    }
}

/// A certificate verifier that shares no code with the adapter under test.
pub(crate) enum Independent {
    /// Threshold mode with real crypto: the certificate is a BLS signature under the group key.
    Bls {
        /// `min-pk` or `min-sig`.
        variant: String,
        /// The group public key.
        public_key: Vec<u8>,
        /// The ciphersuite's domain-separation tag.
        dst: Vec<u8>,
    },
    /// Sampled mode with real crypto (see the module docs).
    Sampled(Box<SampledCheck>),
    /// No independent scheme (the mock): the adapter's check only.
    None,
}

impl Independent {
    /// The independent check a crypto setup allows: plain BLS for real threshold keys, the
    /// sampled check when the setup published its sampled keys, none for the mock. `Err` if
    /// the published material is unusable (e.g. a proof of possession fails).
    pub fn for_setup(setup: &super::CryptoSetup) -> Result<Independent, String> {
        if let Some(public) = &setup.sampled {
            return SampledCheck::new(public.clone(), &setup.variant, setup.dst.as_bytes())
                .map(|c| Independent::Sampled(Box::new(c)));
        }
        Ok(
            match (setup.variant.as_str(), setup.group_public_key.is_empty()) {
                ("min-pk" | "min-sig", false) => Independent::Bls {
                    variant: setup.variant.clone(),
                    public_key: setup.group_public_key.clone(),
                    dst: setup.dst.as_bytes().to_vec(),
                },
                _ => Independent::None,
            },
        )
    }

    /// A plain BLS check of `signature` on `message` (threshold mode; `true` otherwise).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        fn check<V: Variant>(pk: &[u8], dst: &[u8], msg: &[u8], sig: &[u8]) -> bool {
            let (Ok(pk), Ok(sig)) = (
                PublicKey::<V>::from_bytes(pk),
                Signature::<V>::from_bytes(sig),
            ) else {
                return false;
            };
            let Ok(suite) = Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, dst.to_vec())
            else {
                return false;
            };
            pk.verify(&suite, msg, &sig)
        }
        match self {
            Independent::Bls {
                variant,
                public_key,
                dst,
            } => match variant.as_str() {
                "min-pk" => check::<MinPk>(public_key, dst, message, signature),
                "min-sig" => check::<MinSig>(public_key, dst, message, signature),
                _ => false,
            },
            Independent::Sampled(_) | Independent::None => true,
        }
    }

    /// The seed of height 1 by this check's own chain (sampled mode), if it keeps one.
    pub fn genesis_seed(&self) -> Option<Seed> {
        match self {
            Independent::Sampled(s) => Some(s.genesis_seed()),
            _ => None,
        }
    }

    /// Checks a decided certificate; `seed` is the height's seed by this check's own chain
    /// (sampled mode). Returns the next height's seed by that chain (sampled mode) or the
    /// reason the certificate fails.
    pub fn check(&self, seed: Option<&Seed>, c: &Certificate) -> Result<Option<Seed>, String> {
        match (self, seed) {
            (Independent::Sampled(s), Some(seed)) => {
                s.check(seed, c, &c.message(), &c.signature)
                    .map_err(|e| format!("decision multisignature: {e}"))?;
                s.check(seed, c, &beacon_message(c.epoch, c.height), &c.beacon)
                    .map_err(|e| format!("beacon multisignature: {e}"))?;
                s.next_seed(seed, c).map(Some)
            }
            (Independent::Sampled(_), None) => Err("no seed".into()),
            _ => {
                if self.verify(&c.message(), &c.signature) {
                    Ok(None)
                } else {
                    Err("not a BLS signature under the group key".into())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Independent;
    use conclave_threshold_sig::{Ciphersuite, MinPk, Scheme, SecretKey, Variant};

    /// The independent check is plain BLS: it accepts a genuine signature under the group key
    /// and nothing else (a flipped bit, another key, a mock certificate hash).
    #[test]
    fn independent_check_is_plain_bls() {
        let dst = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_".to_vec();
        let suite = Ciphersuite::<MinPk>::with_dst(Scheme::ProofOfPossession, dst.clone())
            .expect("a non-empty DST");
        let key = SecretKey::key_gen(&[7u8; 32]).unwrap();
        let other = SecretKey::key_gen(&[8u8; 32]).unwrap();
        let check = |public_key: Vec<u8>| Independent::Bls {
            variant: MinPk::NAME.into(),
            public_key,
            dst: dst.clone(),
        };
        let independent = check(key.public_key::<MinPk>().to_bytes());
        let message = b"certificate message";
        let signature = key.sign(&suite, message).to_bytes();
        assert!(independent.verify(message, &signature));
        let mut flipped = signature.clone();
        flipped[10] ^= 1;
        assert!(!independent.verify(message, &flipped));
        assert!(!independent.verify(b"another message", &signature));
        assert!(!check(other.public_key::<MinPk>().to_bytes()).verify(message, &signature));
        assert!(!independent.verify(message, &[0u8; 32]));
    }
}
