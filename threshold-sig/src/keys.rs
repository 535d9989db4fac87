//! Secret keys, public keys and signatures, with validated decoding (ZCash compressed encoding,
//! subgroup checks, identity public keys rejected).

use std::fmt;

use blstrs::Scalar;
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::{Curve, GroupEncoding};
use rand_core::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::encoding::impl_byte_encoding;
use crate::error::Error;
use crate::fixed_base::FixedBase;
use crate::scheme::{pop_dst, Ciphersuite, Scheme};
use crate::variant::Variant;

/// Overwrite a secret scalar with zero in a way the optimiser keeps.
pub(crate) fn wipe_scalar(s: &mut Scalar) {
    *s = Scalar::ZERO;
    std::hint::black_box(s);
}

/// Decode a 32-byte big-endian scalar, rejecting values `>= r`.
pub(crate) fn scalar_from_be(bytes: &[u8]) -> Result<Scalar, Error> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| Error::InvalidLength {
        expected: 32,
        actual: bytes.len(),
    })?;
    Option::from(Scalar::from_bytes_be(&arr)).ok_or(Error::NonCanonicalScalar)
}

/// A BLS secret key: a non-zero scalar modulo r. Zeroized on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct SecretKey(pub(crate) Scalar);

impl SecretKey {
    /// IETF `KeyGen(IKM)` (draft-irtf-cfrg-bls-signature-05, section 2.3) with an empty `key_info`.
    /// `ikm` must have at least 32 bytes.
    pub fn key_gen(ikm: &[u8]) -> Result<Self, Error> {
        Self::key_gen_with_info(ikm, &[])
    }

    /// IETF `KeyGen(IKM, key_info)`.
    pub fn key_gen_with_info(ikm: &[u8], key_info: &[u8]) -> Result<Self, Error> {
        if ikm.len() < 32 {
            return Err(Error::IkmTooShort(ikm.len()));
        }
        // blst implements the draft's HKDF loop exactly (salt re-hashing until SK != 0).
        let sk = blst::min_pk::SecretKey::key_gen(ikm, key_info)
            .map_err(|_| Error::IkmTooShort(ikm.len()))?;
        let bytes = Zeroizing::new(sk.to_bytes());
        Self::from_bytes(bytes.as_ref())
    }

    /// A uniformly random non-zero secret key.
    pub fn random(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        loop {
            let s = Scalar::random(&mut *rng);
            if !bool::from(s.is_zero()) {
                return SecretKey(s);
            }
        }
    }

    /// Decode a 32-byte big-endian scalar; rejects zero and values `>= r`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let s = scalar_from_be(bytes)?;
        if bool::from(s.is_zero()) {
            return Err(Error::ZeroSecretKey);
        }
        Ok(SecretKey(s))
    }

    /// Wrap a scalar; rejects zero.
    pub fn from_scalar(s: Scalar) -> Result<Self, Error> {
        if bool::from(s.is_zero()) {
            return Err(Error::ZeroSecretKey);
        }
        Ok(SecretKey(s))
    }

    /// The 32-byte big-endian encoding (zeroized when dropped).
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes_be())
    }

    /// The secret scalar.
    pub fn as_scalar(&self) -> &Scalar {
        &self.0
    }

    /// The public key `sk · G` in the public-key group of `V` (constant-time fixed-base
    /// multiplication, [`FixedBase`](crate::FixedBase)).
    pub fn public_key<V: Variant>(&self) -> PublicKey<V> {
        PublicKey(V::PublicAffine::mul_generator(&self.0).to_affine())
    }

    /// IETF `Sign` (`CoreSign`, with the public key prepended for the AUG scheme).
    pub fn sign<V: Variant>(&self, suite: &Ciphersuite<V>, msg: &[u8]) -> Signature<V> {
        let aug = match suite.scheme() {
            Scheme::MessageAugmentation => self.public_key::<V>().to_bytes(),
            _ => Vec::new(),
        };
        self.sign_raw::<V>(suite.dst(), &aug, msg)
    }

    /// `sk · H(aug ‖ msg)` with the given DST.
    pub(crate) fn sign_raw<V: Variant>(&self, dst: &[u8], aug: &[u8], msg: &[u8]) -> Signature<V> {
        Signature((V::hash_to_signature_group(msg, dst, aug) * self.0).to_affine())
    }

    /// IETF `PopProve`: a signature on the serialized public key under the POP DST.
    pub fn pop_prove<V: Variant>(&self) -> Signature<V> {
        let pk = self.public_key::<V>().to_bytes();
        self.sign_raw::<V>(&pop_dst::<V>(), &[], &pk)
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        wipe_scalar(&mut self.0);
    }
}

impl zeroize::ZeroizeOnDrop for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for SecretKey {}

impl serde::Serialize for SecretKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::encoding::serialize_bytes(self.to_bytes().as_ref(), s)
    }
}

impl<'de> serde::Deserialize<'de> for SecretKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let bytes = Zeroizing::new(crate::encoding::deserialize_bytes(d)?);
        SecretKey::from_bytes(&bytes).map_err(D::Error::custom)
    }
}

/// A validated public key: on the curve, in the prime-order subgroup and not the identity (IETF
/// KeyValidate), by construction: every public constructor checks, and the crate's internal
/// unchecked path is used only for points computed from checked ones. Verification relies on this
/// invariant: blst is called with its group checks off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey<V: Variant>(pub(crate) V::PublicAffine);

impl<V: Variant> PublicKey<V> {
    /// Decode a compressed public key and run KeyValidate.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        // The decoder has checked the curve and the subgroup.
        Self::from_affine_unchecked(V::decode_public(bytes)?)
    }

    /// Wrap a point after IETF KeyValidate: rejects the identity, points off the curve and
    /// points outside the prime-order subgroup. (A blstrs affine point is *not* necessarily in
    /// the subgroup: `from_compressed_unchecked`, `from_uncompressed_unchecked` and
    /// `from_raw_unchecked` build points that are not.)
    pub fn from_affine(p: V::PublicAffine) -> Result<Self, Error> {
        V::validate_public(&p)?;
        Self::from_affine_unchecked(p)
    }

    /// Wrap a point known to be in the subgroup (decoded and checked, or computed from checked
    /// points); rejects only the identity. Verification relies on the subgroup membership
    /// (blst is called with its group checks off), so only call this on such points.
    pub(crate) fn from_affine_unchecked(p: V::PublicAffine) -> Result<Self, Error> {
        if bool::from(p.is_identity()) {
            return Err(Error::IdentityPublicKey);
        }
        Ok(PublicKey(p))
    }

    /// The compressed encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes().as_ref().to_vec()
    }

    /// The point.
    pub fn as_affine(&self) -> &V::PublicAffine {
        &self.0
    }

    /// IETF `Verify` for the ciphersuite.
    pub fn verify(&self, suite: &Ciphersuite<V>, msg: &[u8], sig: &Signature<V>) -> bool {
        let aug = match suite.scheme() {
            Scheme::MessageAugmentation => self.to_bytes(),
            _ => Vec::new(),
        };
        crate::sign::core_verify::<V>(&self.0, suite.dst(), &aug, msg, &sig.0)
    }

    /// IETF `PopVerify`.
    pub fn pop_verify(&self, proof: &Signature<V>) -> bool {
        crate::sign::core_verify::<V>(&self.0, &pop_dst::<V>(), &[], &self.to_bytes(), &proof.0)
    }
}

impl_byte_encoding!(PublicKey<V: Variant>);

/// A signature: a point of the prime-order subgroup of the signature group, checked whenever one
/// is built from outside the crate (decoded or wrapped); the identity is allowed (it is a valid
/// encoding and never verifies under a valid key). Verification relies on this invariant: blst
/// is called with its group checks off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature<V: Variant>(pub(crate) V::SignatureAffine);

impl<V: Variant> Signature<V> {
    /// Decode a compressed signature (canonical encoding, on the curve, in the subgroup).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Ok(Signature(V::decode_signature(bytes)?))
    }

    /// Wrap a point of the signature group after checking that it is on the curve and in the
    /// prime-order subgroup (the identity is accepted).
    pub fn from_affine(p: V::SignatureAffine) -> Result<Self, Error> {
        V::validate_signature(&p)?;
        Ok(Signature(p))
    }

    /// The compressed encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes().as_ref().to_vec()
    }

    /// The point.
    pub fn as_affine(&self) -> &V::SignatureAffine {
        &self.0
    }
}

impl_byte_encoding!(Signature<V: Variant>);
