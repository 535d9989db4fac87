//! Sigma protocols on BLS12-381 G1 with merlin Fiat–Shamir transcripts: Schnorr signatures (which
//! double as proofs of knowledge of an ephemeral key) and Chaum–Pedersen DLEQ proofs.
//!
//! All protocol messages are signed with Schnorr signatures on G1 in `(A, z)` form, so many of
//! them can be checked with one multi-scalar multiplication (`batch_check`): a signature on `m`
//! under `P = x·G` is `A = k·G`, `z = k + c·x` with `c = H(domain, P, A, m)`, and verifies when
//! `z·G − A − c·P = 0`.

use std::fmt;

use blstrs::{G1Affine, G1Projective, Scalar};
use conclave_threshold_sig::Msm;
use ff::Field;
use group::prime::PrimeCurveAffine;
use group::{Curve, Group};
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};

use crate::codec::{scalar_from_wide, Reader, Writer};
use crate::error::Error;

/// Bits of the random weights of a batched check: a forged item passes with probability ≤ 2^-128.
pub const BATCH_WEIGHT_BITS: usize = 128;

fn challenge(t: &mut Transcript) -> Scalar {
    let mut buf = [0u8; 64];
    t.challenge_bytes(b"challenge", &mut buf);
    scalar_from_wide(&buf)
}

/// A secret scalar key in G1 (identity signing key, encryption key or ephemeral key).
/// Zeroized on drop; `Debug` is redacted.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct SecretScalar(#[serde(with = "crate::codec::scalar")] pub(crate) Scalar);

impl SecretScalar {
    /// A uniformly random non-zero scalar.
    pub fn random(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        loop {
            let s = Scalar::random(&mut *rng);
            if !bool::from(s.is_zero()) {
                return SecretScalar(s);
            }
        }
    }
    /// `x·G` in G1.
    pub fn public(&self) -> G1Affine {
        (G1Projective::generator() * self.0).to_affine()
    }
}

impl Drop for SecretScalar {
    fn drop(&mut self) {
        self.0 = Scalar::ZERO;
        std::hint::black_box(&mut self.0);
    }
}
impl zeroize::ZeroizeOnDrop for SecretScalar {}
impl fmt::Debug for SecretScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretScalar(<redacted>)")
    }
}

/// A Schnorr signature `(A, z)` on G1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchnorrSignature {
    /// The commitment `A = k·G`.
    #[serde(with = "crate::codec::g1")]
    pub a: G1Affine,
    /// The response `z = k + c·x`.
    #[serde(with = "crate::codec::scalar")]
    pub z: Scalar,
}

fn sig_challenge(domain: &'static [u8], public: &G1Affine, a: &G1Affine, msg: &[u8]) -> Scalar {
    let mut t = Transcript::new(b"conclave-dkg/v1/schnorr");
    t.append_message(b"domain", domain);
    t.append_message(b"public", &public.to_compressed());
    t.append_message(b"commitment", &a.to_compressed());
    t.append_message(b"message", msg);
    challenge(&mut t)
}

impl SchnorrSignature {
    /// Encoded size in bytes.
    pub const SIZE: usize = 80;

    /// Sign `msg` under `domain` with `key`.
    pub fn sign(
        key: &SecretScalar,
        domain: &'static [u8],
        msg: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let public = key.public();
        // Nonce bound to the key and the message as well as to fresh randomness.
        let mut t = Transcript::new(b"conclave-dkg/v1/nonce");
        t.append_message(b"message", msg);
        let secret = zeroize::Zeroizing::new(key.0.to_bytes_be());
        let mut nonce_rng = t
            .build_rng()
            .rekey_with_witness_bytes(b"key", secret.as_ref())
            .finalize(rng);
        let k = SecretScalar::random(&mut nonce_rng);
        let a = k.public();
        let c = sig_challenge(domain, &public, &a, msg);
        SchnorrSignature {
            a,
            z: k.0 + c * key.0,
        }
    }

    /// The terms of `z·G − A − c·P = 0`.
    pub(crate) fn equation(
        &self,
        public: &G1Affine,
        domain: &'static [u8],
        msg: &[u8],
    ) -> [(G1Affine, Scalar); 3] {
        let c = sig_challenge(domain, public, &self.a, msg);
        [
            (G1Affine::generator(), self.z),
            (self.a, -Scalar::ONE),
            (*public, -c),
        ]
    }

    /// Verify one signature.
    pub fn verify(&self, public: &G1Affine, domain: &'static [u8], msg: &[u8]) -> bool {
        if bool::from(public.is_identity()) {
            return false;
        }
        let eq = self.equation(public, domain, msg);
        let (points, scalars): (Vec<_>, Vec<_>) = eq.into_iter().unzip();
        bool::from(G1Affine::msm(&points, &scalars, 255).is_identity())
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.g1(&self.a);
        w.scalar(&self.z);
    }
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(SchnorrSignature {
            a: r.g1()?,
            z: r.scalar()?,
        })
    }
}

/// Check many linear equations `Σ scalar·point = 0` at once: a random linear combination with
/// [`BATCH_WEIGHT_BITS`]-bit weights, evaluated as ONE multi-scalar multiplication. Returns `true`
/// when all equations hold (up to the soundness error).
pub(crate) fn batch_check(
    equations: &[Vec<(G1Affine, Scalar)>],
    rng: &mut (impl RngCore + CryptoRng),
) -> bool {
    let total: usize = equations.iter().map(Vec::len).sum();
    let mut points = Vec::with_capacity(total);
    let mut scalars = Vec::with_capacity(total);
    // Terms with coefficient −1 (the commitments `A`) get the short weight alone: they go to a
    // second MSM with BATCH_WEIGHT_BITS-bit scalars, as `ρ·(−A)`.
    let mut short_points = Vec::with_capacity(total);
    let mut short_scalars = Vec::with_capacity(total);
    let mut g_scalar = Scalar::ZERO;
    let minus_one = -Scalar::ONE;
    for eq in equations {
        let rho = random_weight(rng);
        for (p, s) in eq {
            if *p == G1Affine::generator() {
                g_scalar += rho * s;
            } else if *s == minus_one {
                short_points.push(-*p);
                short_scalars.push(rho);
            } else {
                points.push(*p);
                scalars.push(rho * s);
            }
        }
    }
    points.push(G1Affine::generator());
    scalars.push(g_scalar);
    let long = G1Affine::msm(&points, &scalars, 255);
    let short = G1Affine::msm(&short_points, &short_scalars, BATCH_WEIGHT_BITS);
    bool::from((long + short).is_identity())
}

/// A random non-zero weight of [`BATCH_WEIGHT_BITS`] bits.
pub(crate) fn random_weight(rng: &mut (impl RngCore + CryptoRng)) -> Scalar {
    let lo = rng.next_u64() | 1;
    let hi = rng.next_u64();
    Scalar::from(hi) * (Scalar::from(u64::MAX) + Scalar::ONE) + Scalar::from(lo)
}

/// A Chaum–Pedersen proof that `log_G(X) = log_R(K)`: the prover knows `x` with `X = x·G` and
/// `K = x·R`. Used by a complainer to reveal the Diffie–Hellman point of one dealing verifiably.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DleqProof {
    /// The challenge.
    #[serde(with = "crate::codec::scalar")]
    pub c: Scalar,
    /// The response.
    #[serde(with = "crate::codec::scalar")]
    pub z: Scalar,
}

fn dleq_challenge(
    context: &[u8],
    x: &G1Affine,
    r: &G1Affine,
    k: &G1Affine,
    a1: &G1Affine,
    a2: &G1Affine,
) -> Scalar {
    let mut t = Transcript::new(b"conclave-dkg/v1/dleq");
    t.append_message(b"context", context);
    for (label, p) in [
        (&b"X"[..], x),
        (&b"R"[..], r),
        (&b"K"[..], k),
        (&b"A1"[..], a1),
        (&b"A2"[..], a2),
    ] {
        t.append_message(label, &p.to_compressed());
    }
    challenge(&mut t)
}

impl DleqProof {
    /// Encoded size in bytes.
    pub const SIZE: usize = 64;

    /// Prove `K = x·R` for `X = x·G`, bound to `context`.
    pub fn prove(
        x: &SecretScalar,
        r: &G1Affine,
        context: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> (G1Affine, Self) {
        let big_x = x.public();
        let k_point = (r * x.0).to_affine();
        let w = SecretScalar::random(rng);
        let a1 = w.public();
        let a2 = (r * w.0).to_affine();
        let c = dleq_challenge(context, &big_x, r, &k_point, &a1, &a2);
        (
            k_point,
            DleqProof {
                c,
                z: w.0 + c * x.0,
            },
        )
    }

    /// Verify the proof for `(X, R, K)`.
    pub fn verify(&self, x: &G1Affine, r: &G1Affine, k: &G1Affine, context: &[u8]) -> bool {
        if bool::from(x.is_identity()) || bool::from(r.is_identity()) {
            return false;
        }
        let a1 = (G1Projective::generator() * self.z - G1Projective::from(x) * self.c).to_affine();
        let a2 = (G1Projective::from(r) * self.z - G1Projective::from(k) * self.c).to_affine();
        dleq_challenge(context, x, r, k, &a1, &a2) == self.c
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.scalar(&self.c);
        w.scalar(&self.z);
    }
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(DleqProof {
            c: r.scalar()?,
            z: r.scalar()?,
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
        let mut eqs: Vec<Vec<_>> = keys
            .iter()
            .zip(&sigs)
            .map(|(k, s)| s.equation(&k.public(), b"test", b"msg").to_vec())
            .collect();
        assert!(batch_check(&eqs, &mut rng));
        eqs[2] = sigs[2]
            .equation(&keys[1].public(), b"test", b"msg")
            .to_vec();
        assert!(!batch_check(&eqs, &mut rng));
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
}
