//! Share encryption: hashed ElGamal on ristretto255 with HKDF-SHA256 and ChaCha20-Poly1305.
//!
//! Design (ristretto255 rather than X25519 so that a complainer can reveal one dealing's
//! Diffie–Hellman point with a Chaum–Pedersen DLEQ proof in the same prime-order group, which
//! X25519's Montgomery-`u`-only arithmetic cannot express):
//!
//! * every player has a static encryption key `x`, published as `X = x·B` (ristretto255);
//! * a dealer samples one ephemeral key `r` per dealing, publishes `R = r·B` with a Schnorr proof
//!   of knowledge of `r` bound to the session and dealer seat (so nobody can copy another
//!   dealing's `R` and make a complainer reveal the Diffie–Hellman point of someone else's
//!   dealing);
//! * the share for seat `j` of player `X` is encrypted under
//!   `key = HKDF-SHA256(ikm = enc(2·K), salt = "conclave-dkg/v1/share-key", info = H ‖ j)`, where
//!   `K = r·X = x·R` and `enc` is the ristretto255 encoding (of `2·K`, not `K`, because dalek
//!   encodes doubled points in batches with one inversion for all: a player derives its keys
//!   from all dealings at once, a dealer for all players at once), with
//!   ChaCha20-Poly1305, an all-zero nonce (each key encrypts exactly one message) and associated
//!   data `H ‖ j`, where `H` is the dealing's transcript hash (session, dealer, commitment, `R`);
//! * to complain, a player reveals `K = x·R` with a DLEQ proof `log_B X = log_R K`; anybody can
//!   then derive the key, decrypt, and check the share against the commitment without trusting
//!   the complainer. Revealing `K` discloses only the complainer's shares of that one dealing.

use blstrs::Scalar;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use curve25519_dalek::ristretto::RistrettoPoint;

use crate::sigma::Point;

/// Size of one encrypted share: 32-byte scalar + 16-byte tag.
pub const CIPHERTEXT_SIZE: usize = 48;

fn aad(transcript: &[u8; 32], seat: u32) -> [u8; 36] {
    let mut out = [0u8; 36];
    out[..32].copy_from_slice(transcript);
    out[32..].copy_from_slice(&seat.to_be_bytes());
    out
}

/// The input keying material of one dealing–player pair: the encoding of `2·K` for the
/// Diffie–Hellman point `K`. Zeroized on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct SharedSecret(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}

impl SharedSecret {
    /// The secret of one Diffie–Hellman point (e.g. one revealed in a complaint).
    pub fn from_point(k: &Point) -> Self {
        Self::batch(std::slice::from_ref(k.point())).remove(0)
    }

    /// The secrets of many Diffie–Hellman points with one field inversion (constant time).
    pub fn batch(points: &[RistrettoPoint]) -> Vec<Self> {
        RistrettoPoint::double_and_compress_batch(points)
            .into_iter()
            .map(|c| SharedSecret(Zeroizing::new(c.to_bytes())))
            .collect()
    }

    fn share_key(&self, transcript: &[u8; 32], seat: u32) -> Zeroizing<[u8; 32]> {
        let hk = Hkdf::<Sha256>::new(Some(b"conclave-dkg/v1/share-key"), self.0.as_ref());
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hk.expand(&aad(transcript, seat), okm.as_mut());
        okm
    }

    /// Encrypt `share` for `seat` of the dealing with transcript hash `transcript`.
    pub fn encrypt_share(&self, transcript: &[u8; 32], seat: u32, share: &Scalar) -> Vec<u8> {
        let key = self.share_key(transcript, seat);
        let cipher = ChaCha20Poly1305::new(key.as_ref().into());
        let plaintext = Zeroizing::new(share.to_bytes_be());
        let ad = aad(transcript, seat);
        cipher
            .encrypt(
                &Default::default(),
                Payload {
                    msg: plaintext.as_ref(),
                    aad: &ad,
                },
            )
            .unwrap_or_default()
    }

    /// Decrypt the share of `seat`; `None` if authentication fails or the plaintext is not a
    /// canonical scalar.
    pub fn decrypt_share(
        &self,
        transcript: &[u8; 32],
        seat: u32,
        ciphertext: &[u8],
    ) -> Option<Scalar> {
        if ciphertext.len() != CIPHERTEXT_SIZE {
            return None;
        }
        let key = self.share_key(transcript, seat);
        let cipher = ChaCha20Poly1305::new(key.as_ref().into());
        let ad = aad(transcript, seat);
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    &Default::default(),
                    Payload {
                        msg: ciphertext,
                        aad: &ad,
                    },
                )
                .ok()?,
        );
        let bytes: [u8; 32] = plaintext.as_slice().try_into().ok()?;
        Option::from(Scalar::from_bytes_be(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::SecretScalar;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn round_trip_and_binding() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let x = SecretScalar::random(&mut rng);
        let r = SecretScalar::random(&mut rng);
        let k_dealer = r.diffie_hellman(&x.public());
        let k_player = x.diffie_hellman(&r.public());
        assert_eq!(k_dealer, k_player);
        let dealer = SharedSecret::from_point(&k_dealer);
        let player = SharedSecret::from_point(&k_player);
        // The batch gives the same secrets as one at a time, and the encoding of 2·K.
        let other = SecretScalar::random(&mut rng).public();
        let batch = SharedSecret::batch(&[*k_dealer.point(), *other.point()]);
        assert_eq!(*batch[0].0, *player.0);
        assert_eq!(*batch[1].0, *SharedSecret::from_point(&other).0);
        assert_eq!(
            *player.0,
            (k_player.point() + k_player.point()).compress().to_bytes()
        );
        let share = Scalar::from(42u64);
        let h = [7u8; 32];
        let ct = dealer.encrypt_share(&h, 3, &share);
        assert_eq!(ct.len(), CIPHERTEXT_SIZE);
        assert_eq!(player.decrypt_share(&h, 3, &ct), Some(share));
        assert_eq!(player.decrypt_share(&h, 4, &ct), None);
        assert_eq!(player.decrypt_share(&[8u8; 32], 3, &ct), None);
        assert_eq!(batch[1].decrypt_share(&h, 3, &ct), None);
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert_eq!(player.decrypt_share(&h, 3, &bad), None);
        assert_eq!(player.decrypt_share(&h, 3, &ct[..10]), None);
        assert_eq!(format!("{player:?}"), "SharedSecret(<redacted>)");
    }
}
