//! VRF keys, proofs and outputs: thin, validated wrappers around `vrf-r255`
//! (RFC 9381 ECVRF on ristretto255 with SHA-512, suite `c2sp.org/vrf-r255`).
//!
//! A decoded [`PublicKey`] is always a valid non-identity point, a decoded [`Proof`] always has a
//! canonical point and scalar; invalid bytes never become a value.
//!
//! Secret keys: [`SecretKey`] keeps only the 32 canonical scalar bytes, zeroized on drop, and its
//! `Debug` prints `<redacted>`. `vrf_r255::SecretKey` is `Copy` and cannot be zeroized, so one is
//! rebuilt on the stack for each proof and dropped right after; that transient copy is outside our
//! control.

use sha2::{Digest, Sha512};
use zeroize::{Zeroize, Zeroizing};

use crate::encoding::{array_from_slice, impl_hex_encoding};
use crate::error::Error;

/// Length of an encoded public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an encoded secret key.
pub const SECRET_KEY_LEN: usize = 32;
/// Length of an encoded proof: Gamma (32) ‖ c (16) ‖ s (32).
pub const PROOF_LEN: usize = 80;
/// Length of a VRF output (SHA-512).
pub const OUTPUT_LEN: usize = 64;

/// A VRF secret key (a non-zero canonical ristretto255 scalar).
#[derive(Clone)]
pub struct SecretKey {
    bytes: [u8; SECRET_KEY_LEN],
    public: PublicKey,
}

impl SecretKey {
    /// Derives a key deterministically from seed material and an index (the CLI's `keygen`):
    /// `x = SHA-512("conclave-committee/v1/keygen" ‖ len(seed) ‖ seed ‖ index ‖ counter)[..32]` with
    /// the top four bits cleared (so `x < 2^252 < ℓ` is canonical; the distance from uniform mod ℓ is
    /// below `2^-120`); `counter` increments only in the negligible case `x = 0`.
    pub fn derive(seed: &[u8], index: u64) -> SecretKey {
        let mut counter = 0u32;
        loop {
            let mut hasher = Sha512::new();
            hasher.update(b"conclave-committee/v1/keygen");
            hasher.update((seed.len() as u64).to_be_bytes());
            hasher.update(seed);
            hasher.update(index.to_be_bytes());
            hasher.update(counter.to_be_bytes());
            let mut digest = Zeroizing::new([0u8; 64]);
            digest.copy_from_slice(&hasher.finalize());
            let mut candidate = Zeroizing::new([0u8; SECRET_KEY_LEN]);
            candidate.copy_from_slice(&digest[..SECRET_KEY_LEN]);
            candidate[31] &= 0x0f;
            if let Ok(key) = SecretKey::from_bytes(&candidate) {
                return key;
            }
            counter += 1;
        }
    }

    /// Decodes 32 bytes; rejects non-canonical scalars and zero.
    pub fn from_bytes(bytes: &[u8; SECRET_KEY_LEN]) -> Result<SecretKey, Error> {
        let inner: Option<vrf_r255::SecretKey> = vrf_r255::SecretKey::from_bytes(*bytes).into();
        let inner = inner.ok_or(Error::InvalidSecretKey)?;
        Ok(SecretKey {
            bytes: *bytes,
            public: PublicKey(vrf_r255::PublicKey::from(inner)),
        })
    }

    /// Decodes a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<SecretKey, Error> {
        let array = Zeroizing::new(array_from_slice::<SECRET_KEY_LEN>("secret key", bytes)?);
        SecretKey::from_bytes(&array)
    }

    /// The canonical encoding (zeroized when dropped).
    pub fn to_bytes(&self) -> Zeroizing<[u8; SECRET_KEY_LEN]> {
        Zeroizing::new(self.bytes)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// Proves `alpha`; returns the proof and its output (RFC 9381 proof-to-hash).
    pub fn prove(&self, alpha: &[u8]) -> (Proof, VrfOutput) {
        let inner: Option<vrf_r255::SecretKey> = vrf_r255::SecretKey::from_bytes(self.bytes).into();
        // The bytes were validated when this key was built.
        let Some(inner) = inner else {
            unreachable!("SecretKey holds a validated scalar")
        };
        let proof = inner.prove(alpha);
        let proof = Proof {
            bytes: proof.to_bytes(),
            inner: proof,
        };
        let output = proof.output();
        (proof, output)
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for SecretKey {}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecretKey")
            .field("secret", &"<redacted>")
            .field("public", &self.public)
            .finish()
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for SecretKey {}

impl serde::Serialize for SecretKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&Zeroizing::new(hex::encode(self.bytes)))
        } else {
            serializer.serialize_bytes(&self.bytes)
        }
    }
}

impl<'de> serde::Deserialize<'de> for SecretKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = Zeroizing::new(if deserializer.is_human_readable() {
            let text = Zeroizing::new(String::deserialize(deserializer)?);
            crate::encoding::decode_hex("secret key", &text).map_err(serde::de::Error::custom)?
        } else {
            deserializer.deserialize_byte_buf(crate::encoding::BytesVisitor)?
        });
        SecretKey::from_slice(&bytes).map_err(serde::de::Error::custom)
    }
}

/// A VRF public key (a valid, non-identity ristretto255 point).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(vrf_r255::PublicKey);

impl PublicKey {
    /// Decodes 32 bytes; rejects invalid encodings and the identity.
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<PublicKey, Error> {
        vrf_r255::PublicKey::from_bytes(*bytes)
            .map(PublicKey)
            .ok_or(Error::InvalidPublicKey)
    }

    /// Decodes a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<PublicKey, Error> {
        PublicKey::from_bytes(&array_from_slice("public key", bytes)?)
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.0.to_bytes()
    }

    /// Verifies `proof` for `alpha`; returns the VRF output, or [`Error::InvalidProof`].
    pub fn verify(&self, alpha: &[u8], proof: &Proof) -> Result<VrfOutput, Error> {
        let output: Option<[u8; OUTPUT_LEN]> = self.0.verify(alpha, &proof.inner).into();
        output.map(VrfOutput).ok_or(Error::InvalidProof)
    }
}

impl core::hash::Hash for PublicKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.to_bytes().hash(state);
    }
}

impl_hex_encoding!(PublicKey, "public key");

/// A VRF proof `π = (Γ, c, s)`, 80 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Proof {
    inner: vrf_r255::Proof,
    bytes: [u8; PROOF_LEN],
}

impl Proof {
    /// Decodes 80 bytes; rejects a non-canonical point or scalar.
    pub fn from_bytes(bytes: &[u8; PROOF_LEN]) -> Result<Proof, Error> {
        let inner = vrf_r255::Proof::from_bytes(*bytes).ok_or(Error::InvalidProofEncoding)?;
        Ok(Proof {
            inner,
            bytes: *bytes,
        })
    }

    /// Decodes a slice of exactly 80 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Proof, Error> {
        Proof::from_bytes(&array_from_slice("proof", bytes)?)
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> [u8; PROOF_LEN] {
        self.bytes
    }

    /// The output this proof commits to (RFC 9381 §5.2 proof-to-hash:
    /// `SHA-512(suite ‖ 0x03 ‖ Γ ‖ 0x00)` with suite `0xFF ‖ "c2sp.org/vrf-r255"`), *without*
    /// verifying the proof. Only trust it after [`PublicKey::verify`] succeeded.
    pub fn output(&self) -> VrfOutput {
        let mut hasher = Sha512::new();
        hasher.update(b"\xFFc2sp.org/vrf-r255");
        hasher.update([0x03]);
        hasher.update(&self.bytes[..32]);
        hasher.update([0x00]);
        VrfOutput(hasher.finalize().into())
    }
}

impl PartialEq for Proof {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Proof {}

impl_hex_encoding!(Proof, "proof");

/// A 64-byte VRF output `β`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VrfOutput(pub [u8; OUTPUT_LEN]);

impl VrfOutput {
    /// The 64 bytes.
    pub fn to_bytes(&self) -> [u8; OUTPUT_LEN] {
        self.0
    }

    /// Decodes a slice of exactly 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<VrfOutput, Error> {
        Ok(VrfOutput(array_from_slice("VRF output", bytes)?))
    }
}

impl_hex_encoding!(VrfOutput, "VRF output");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_matches_verification() {
        let sk = SecretKey::derive(b"test", 7);
        let (proof, output) = sk.prove(b"alpha");
        assert_eq!(sk.public_key().verify(b"alpha", &proof), Ok(output));
        assert_eq!(
            sk.public_key().verify(b"beta", &proof),
            Err(Error::InvalidProof)
        );
        assert_eq!(Proof::from_bytes(&proof.to_bytes()), Ok(proof));
    }

    #[test]
    fn secret_debug_is_redacted_and_round_trips() {
        let sk = SecretKey::derive(b"seed", 0);
        let shown = format!("{sk:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains(&hex::encode(*sk.to_bytes())));
        assert_eq!(SecretKey::from_slice(&*sk.to_bytes()), Ok(sk.clone()));
        let json = serde_json::to_string(&sk).unwrap();
        assert_eq!(serde_json::from_str::<SecretKey>(&json).unwrap(), sk);
    }

    #[test]
    fn invalid_encodings_rejected() {
        assert_eq!(
            SecretKey::from_bytes(&[0; 32]),
            Err(Error::InvalidSecretKey)
        );
        assert_eq!(
            SecretKey::from_bytes(&[0xff; 32]),
            Err(Error::InvalidSecretKey)
        );
        assert_eq!(
            PublicKey::from_bytes(&[0; 32]),
            Err(Error::InvalidPublicKey)
        );
        assert_eq!(
            PublicKey::from_bytes(&[0xff; 32]),
            Err(Error::InvalidPublicKey)
        );
        assert_eq!(
            Proof::from_bytes(&[0xff; 80]),
            Err(Error::InvalidProofEncoding)
        );
        assert!(matches!(
            PublicKey::from_slice(&[1; 31]),
            Err(Error::InvalidLength { .. })
        ));
    }
}
