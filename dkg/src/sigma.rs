//! Sigma protocols on ristretto255 (`curve25519-dalek`) with merlin Fiat–Shamir transcripts:
//! Schnorr signatures (which double as proofs of knowledge of an ephemeral key) and
//! Chaum–Pedersen DLEQ proofs.
//!
//! Identity and encryption keys live in ristretto255, not in BLS12-381: nothing here needs a
//! pairing, ristretto255 is a prime-order group (no cofactor, no subgroup check), and its
//! scalar multiplications are about three times faster than in G1, which is what a DKG spends
//! most of its time on outside the Feldman checks (`2n²` Diffie–Hellman operations in a run).
//!
//! All protocol messages are signed with Schnorr signatures in `(A, z)` form, so many of them
//! can be checked with one multi-scalar multiplication (a batched check): a signature on `m`
//! under `P = x·B` is `A = k·B`, `z = k + c·x` with `c = H(domain, P, A, m)`, and verifies when
//! `z·B − A − c·P = 0`.

use std::fmt;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use curve25519_dalek::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

use crate::codec::{Reader, Writer};
use crate::error::Error;

/// Bits of the random weights of a batched check (odd, so 127 random bits): a forged item passes
/// with probability ≤ 2^-127.
pub const BATCH_WEIGHT_BITS: usize = 128;

fn challenge(t: &mut Transcript) -> Scalar {
    let mut buf = [0u8; 64];
    t.challenge_bytes(b"challenge", &mut buf);
    Scalar::from_bytes_mod_order_wide(&buf)
}

/// A ristretto255 group element as it crosses the wire: its canonical 32-byte encoding and the
/// decoded point. Decoding rejects non-canonical encodings and the identity, so every `Point`
/// is a valid non-identity group element; equality is equality of encodings.
#[derive(Clone, Copy)]
pub struct Point {
    bytes: [u8; 32],
    point: RistrettoPoint,
}

impl Point {
    /// Encoded size in bytes.
    pub const SIZE: usize = 32;

    /// Decode a canonical, non-identity ristretto255 encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::Malformed("a ristretto255 point is 32 bytes"))?;
        let point = CompressedRistretto(bytes)
            .decompress()
            .ok_or(Error::InvalidPoint("not a canonical ristretto255 encoding"))?;
        if point.is_identity() {
            return Err(Error::InvalidPoint("identity element"));
        }
        Ok(Point { bytes, point })
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.bytes
    }

    /// The group element.
    pub fn point(&self) -> &RistrettoPoint {
        &self.point
    }

    /// Wrap a computed group element (encodes it once). Callers never pass the identity: every
    /// point this crate computes is a non-zero multiple of a non-identity element of a
    /// prime-order group.
    pub(crate) fn from_point(point: RistrettoPoint) -> Self {
        Point {
            bytes: point.compress().to_bytes(),
            point,
        }
    }
}

impl PartialEq for Point {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for Point {}

impl fmt::Debug for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Point({})", hex::encode(self.bytes))
    }
}

impl serde::Serialize for Point {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::codec::hex_bytes::serialize(&self.bytes, s)
    }
}

impl<'de> serde::Deserialize<'de> for Point {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let bytes = crate::codec::hex_bytes::deserialize(d)?;
        Point::from_bytes(&bytes).map_err(D::Error::custom)
    }
}

/// serde for a ristretto255 [`Scalar`] as its canonical 32-byte little-endian encoding (hex in
/// human-readable formats).
pub(crate) mod scalar_serde {
    use curve25519_dalek::Scalar;
    pub(crate) fn serialize<S: serde::Serializer>(v: &Scalar, s: S) -> Result<S::Ok, S::Error> {
        super::super::codec::hex_bytes::serialize(v.as_bytes(), s)
    }
    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        use serde::de::Error as _;
        let v = zeroize::Zeroizing::new(super::super::codec::hex_bytes::deserialize(d)?);
        super::decode_scalar(&v).map_err(D::Error::custom)
    }
}

/// Decode a canonical 32-byte little-endian ristretto255 scalar.
pub(crate) fn decode_scalar(bytes: &[u8]) -> Result<Scalar, Error> {
    let b: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::Malformed("a ristretto255 scalar is 32 bytes"))?;
    Option::from(Scalar::from_canonical_bytes(b))
        .ok_or(Error::InvalidPoint("non-canonical ristretto255 scalar"))
}

impl Writer {
    pub(crate) fn point(&mut self, p: &Point) {
        self.0.extend_from_slice(&p.bytes);
    }
    pub(crate) fn id_scalar(&mut self, s: &Scalar) {
        self.0.extend_from_slice(s.as_bytes());
    }
}

impl Reader<'_> {
    pub(crate) fn point(&mut self) -> Result<Point, Error> {
        Point::from_bytes(self.take(Point::SIZE)?)
    }
    pub(crate) fn id_scalar(&mut self) -> Result<Scalar, Error> {
        decode_scalar(self.take(32)?)
    }
}

/// A secret ristretto255 scalar (identity signing key, encryption key or ephemeral key).
/// Zeroized on drop; `Debug` is redacted.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct SecretScalar(#[serde(with = "scalar_serde")] pub(crate) Scalar);

impl SecretScalar {
    /// A uniformly random non-zero scalar.
    pub fn random(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        loop {
            let s = Scalar::random(&mut *rng);
            if s != Scalar::ZERO {
                return SecretScalar(s);
            }
        }
    }

    /// `x·B` (constant time, precomputed basepoint table).
    pub fn public(&self) -> Point {
        Point::from_point(&self.0 * RISTRETTO_BASEPOINT_TABLE)
    }

    /// `x·P` in constant time: the Diffie–Hellman operation.
    pub fn diffie_hellman(&self, p: &Point) -> Point {
        Point::from_point(self.dh_point(p))
    }

    /// `x·P` in constant time, not yet encoded (for batches, see
    /// [`crate::encryption::SharedSecret::batch`]).
    pub fn dh_point(&self, p: &Point) -> RistrettoPoint {
        p.point * self.0
    }
}

impl Drop for SecretScalar {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}
impl zeroize::ZeroizeOnDrop for SecretScalar {}
impl fmt::Debug for SecretScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretScalar(<redacted>)")
    }
}

/// A Schnorr signature `(A, z)` on ristretto255.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchnorrSignature {
    /// The commitment `A = k·B`.
    pub a: Point,
    /// The response `z = k + c·x`.
    #[serde(with = "scalar_serde")]
    pub z: Scalar,
}

fn sig_challenge(domain: &'static [u8], public: &Point, a: &Point, msg: &[u8]) -> Scalar {
    let mut t = Transcript::new(b"conclave-dkg/v1/schnorr");
    t.append_message(b"domain", domain);
    t.append_message(b"public", &public.bytes);
    t.append_message(b"commitment", &a.bytes);
    t.append_message(b"message", msg);
    challenge(&mut t)
}

/// The verification equation `z·B − A − c·P = 0` of one Schnorr signature, for
/// [`batch_check`].
pub(crate) struct Equation {
    /// The response `z` (coefficient of the basepoint).
    z: Scalar,
    /// The commitment `A`.
    a: RistrettoPoint,
    /// The public key `P`.
    public: RistrettoPoint,
    /// The challenge `c`.
    c: Scalar,
}

impl SchnorrSignature {
    /// Encoded size in bytes.
    pub const SIZE: usize = 64;

    /// Sign `msg` under `domain` with `key`.
    pub fn sign(
        key: &SecretScalar,
        domain: &'static [u8],
        msg: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let public = key.public();
        // Nonce bound to the witness (the key), the whole statement (domain, public key,
        // message) and the caller's randomness: a repeated RNG stream with another statement
        // still gives an unrelated nonce.
        let mut t = Transcript::new(b"conclave-dkg/v2/schnorr-nonce");
        t.append_message(b"domain", domain);
        t.append_message(b"public", &public.bytes);
        t.append_message(b"message", msg);
        let mut nonce_rng = t
            .build_rng()
            .rekey_with_witness_bytes(b"key", key.0.as_bytes())
            .finalize(rng);
        let k = SecretScalar::random(&mut nonce_rng);
        let a = k.public();
        let c = sig_challenge(domain, &public, &a, msg);
        SchnorrSignature {
            a,
            z: k.0 + c * key.0,
        }
    }

    /// The equation `z·B − A − c·P = 0`.
    pub(crate) fn equation(&self, public: &Point, domain: &'static [u8], msg: &[u8]) -> Equation {
        let c = sig_challenge(domain, public, &self.a, msg);
        Equation {
            z: self.z,
            a: self.a.point,
            public: public.point,
            c,
        }
    }

    /// Verify one signature.
    pub fn verify(&self, public: &Point, domain: &'static [u8], msg: &[u8]) -> bool {
        let c = sig_challenge(domain, public, &self.a, msg);
        // z·B − c·P must equal A.
        RistrettoPoint::vartime_double_scalar_mul_basepoint(&-c, &public.point, &self.z)
            == self.a.point
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.point(&self.a);
        w.id_scalar(&self.z);
    }

    /// The canonical 64-byte encoding (`A` compressed, `z` little-endian).
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        out[..32].copy_from_slice(&self.a.to_bytes());
        out[32..].copy_from_slice(self.z.as_bytes());
        out
    }

    /// Decode [`Self::to_bytes`]: a non-identity canonical point and a canonical scalar.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != Self::SIZE {
            return Err(Error::Malformed("a Schnorr signature is 64 bytes"));
        }
        Ok(SchnorrSignature {
            a: Point::from_bytes(&bytes[..32])?,
            z: decode_scalar(&bytes[32..])?,
        })
    }
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(SchnorrSignature {
            a: r.point()?,
            z: r.id_scalar()?,
        })
    }
}

/// Check many signature equations at once: a random linear combination with
/// [`BATCH_WEIGHT_BITS`]-bit weights `ρ`, `(Σ ρ·z)·B − Σ ρ·A − Σ (ρ·c)·P = 0`, evaluated as ONE
/// variable-time multi-scalar multiplication (all inputs are public). Returns `true` when all
/// equations hold (up to the soundness error).
pub(crate) fn batch_check(equations: &[Equation], rng: &mut (impl RngCore + CryptoRng)) -> bool {
    let mut points = Vec::with_capacity(2 * equations.len() + 1);
    let mut scalars = Vec::with_capacity(2 * equations.len() + 1);
    let mut base = Scalar::ZERO;
    for eq in equations {
        let rho = random_weight(rng);
        base += rho * eq.z;
        points.push(eq.a);
        scalars.push(-rho);
        points.push(eq.public);
        scalars.push(-(rho * eq.c));
    }
    points.push(curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT);
    scalars.push(base);
    RistrettoPoint::vartime_multiscalar_mul(&scalars, &points).is_identity()
}

/// A random non-zero weight of [`BATCH_WEIGHT_BITS`] bits.
pub(crate) fn random_weight(rng: &mut (impl RngCore + CryptoRng)) -> Scalar {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b[..BATCH_WEIGHT_BITS / 8]);
    b[0] |= 1;
    Scalar::from_bytes_mod_order(b)
}

/// A Chaum–Pedersen proof that `log_B(X) = log_R(K)`: the prover knows `x` with `X = x·B` and
/// `K = x·R`. Used by a complainer to reveal the Diffie–Hellman point of one dealing verifiably.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DleqProof {
    /// The challenge.
    #[serde(with = "scalar_serde")]
    pub c: Scalar,
    /// The response.
    #[serde(with = "scalar_serde")]
    pub z: Scalar,
}

fn dleq_challenge(
    context: &[u8],
    x: &Point,
    r: &Point,
    k: &Point,
    a1: &[u8; 32],
    a2: &[u8; 32],
) -> Scalar {
    let mut t = Transcript::new(b"conclave-dkg/v1/dleq");
    t.append_message(b"context", context);
    for (label, p) in [
        (&b"X"[..], &x.bytes),
        (&b"R"[..], &r.bytes),
        (&b"K"[..], &k.bytes),
        (&b"A1"[..], a1),
        (&b"A2"[..], a2),
    ] {
        t.append_message(label, p);
    }
    challenge(&mut t)
}

impl DleqProof {
    /// Encoded size in bytes.
    pub const SIZE: usize = 64;

    /// Prove `K = x·R` for `X = x·B`, bound to `context`.
    pub fn prove(
        x: &SecretScalar,
        r: &Point,
        context: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> (Point, Self) {
        let big_x = x.public();
        let k_point = x.diffie_hellman(r);
        // The nonce is bound to the witness, the whole statement (X, R, K, context) and the
        // caller's randomness (merlin's witness-rekeyed RNG): before, it came from the RNG
        // alone, so one RNG position reused for another statement (a seed reused across
        // sessions, a resume from an old snapshot) gave `x = (z₁ − z₂)/(c₁ − c₂)`.
        let mut t = Transcript::new(b"conclave-dkg/v2/dleq-nonce");
        t.append_message(b"context", context);
        t.append_message(b"X", &big_x.bytes);
        t.append_message(b"R", &r.bytes);
        t.append_message(b"K", &k_point.bytes);
        let mut nonce_rng = t
            .build_rng()
            .rekey_with_witness_bytes(b"x", x.0.as_bytes())
            .finalize(rng);
        let w = SecretScalar::random(&mut nonce_rng);
        let a1 = w.public();
        let a2 = w.diffie_hellman(r);
        let c = dleq_challenge(context, &big_x, r, &k_point, &a1.bytes, &a2.bytes);
        (
            k_point,
            DleqProof {
                c,
                z: w.0 + c * x.0,
            },
        )
    }

    /// Verify the proof for `(X, R, K)`.
    pub fn verify(&self, x: &Point, r: &Point, k: &Point, context: &[u8]) -> bool {
        let a1 = RistrettoPoint::vartime_double_scalar_mul_basepoint(&-self.c, &x.point, &self.z);
        let a2 = RistrettoPoint::vartime_multiscalar_mul([self.z, -self.c], [r.point, k.point]);
        let c = dleq_challenge(
            context,
            x,
            r,
            k,
            &a1.compress().to_bytes(),
            &a2.compress().to_bytes(),
        );
        c == self.c
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.id_scalar(&self.c);
        w.id_scalar(&self.z);
    }
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(DleqProof {
            c: r.id_scalar()?,
            z: r.id_scalar()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn schnorr_sign_verify_and_batch() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let keys: Vec<_> = (0..4).map(|_| SecretScalar::random(&mut rng)).collect();
        let sigs: Vec<_> = keys
            .iter()
            .map(|k| SchnorrSignature::sign(k, b"test", b"msg", &mut rng))
            .collect();
        for (k, s) in keys.iter().zip(&sigs) {
            assert!(s.verify(&k.public(), b"test", b"msg"));
            assert!(!s.verify(&k.public(), b"test", b"other"));
            assert!(!s.verify(&k.public(), b"other-domain", b"msg"));
        }
        let mut eqs: Vec<Equation> = keys
            .iter()
            .zip(&sigs)
            .map(|(k, s)| s.equation(&k.public(), b"test", b"msg"))
            .collect();
        assert!(batch_check(&eqs, &mut rng));
        eqs[2] = sigs[2].equation(&keys[1].public(), b"test", b"msg");
        assert!(!batch_check(&eqs, &mut rng));
        // A tampered response is caught.
        let mut bad = sigs[0];
        bad.z += Scalar::ONE;
        assert!(!bad.verify(&keys[0].public(), b"test", b"msg"));
    }

    #[test]
    fn dleq_proves_and_rejects() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let x = SecretScalar::random(&mut rng);
        let r = SecretScalar::random(&mut rng).public();
        let (k, proof) = DleqProof::prove(&x, &r, b"ctx", &mut rng);
        assert!(proof.verify(&x.public(), &r, &k, b"ctx"));
        assert!(!proof.verify(&x.public(), &r, &k, b"other"));
        let wrong = SecretScalar::random(&mut rng).public();
        assert!(!proof.verify(&x.public(), &r, &wrong, b"ctx"));
        assert!(!proof.verify(&wrong, &r, &k, b"ctx"));
    }

    #[test]
    fn point_decoding_rejects_bad_encodings() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let p = SecretScalar::random(&mut rng).public();
        assert_eq!(Point::from_bytes(&p.to_bytes()).unwrap(), p);
        assert_eq!(
            Point::from_bytes(&[0u8; 32]),
            Err(Error::InvalidPoint("identity element"))
        );
        assert!(matches!(
            Point::from_bytes(&[0xffu8; 32]),
            Err(Error::InvalidPoint(_))
        ));
        assert!(matches!(
            Point::from_bytes(&[1u8; 31]),
            Err(Error::Malformed(_))
        ));
        // The field element 2^255 − 19 + 1 encodes 1 non-canonically.
        let mut noncanonical = [0xffu8; 32];
        noncanonical[0] = 0xee;
        noncanonical[31] = 0x7f;
        assert!(Point::from_bytes(&noncanonical).is_err());
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Point>(&json).unwrap(), p);
        assert!(decode_scalar(&[0xffu8; 32]).is_err());
    }
}
