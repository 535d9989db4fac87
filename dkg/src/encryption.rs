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
//!   `key = HKDF-SHA256(ikm = r·X = x·R, salt = "conclave-dkg/v1/share-key", info = H ‖ j)` with
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

use crate::sigma::Point;

/// Size of one encrypted share: 32-byte scalar + 16-byte tag.
pub const CIPHERTEXT_SIZE: usize = 48;

fn aad(transcript: &[u8; 32], seat: u32) -> [u8; 36] {
    let mut out = [0u8; 36];
    out[..32].copy_from_slice(transcript);
    out[32..].copy_from_slice(&seat.to_be_bytes());
    out
}

fn share_key(shared_point: &Point, transcript: &[u8; 32], seat: u32) -> Zeroizing<[u8; 32]> {
    let ikm = Zeroizing::new(shared_point.to_bytes());
    let hk = Hkdf::<Sha256>::new(Some(b"conclave-dkg/v1/share-key"), ikm.as_ref());
    let mut okm = Zeroizing::new([0u8; 32]);
    // 32 bytes is always a valid HKDF-SHA256 output length.
    let _ = hk.expand(&aad(transcript, seat), okm.as_mut());
    okm
}

/// Encrypt `share` for `seat` under the Diffie–Hellman point `shared_point = r·X`.
pub fn encrypt_share(
    shared_point: &Point,
    transcript: &[u8; 32],
    seat: u32,
    share: &Scalar,
) -> Vec<u8> {
    let key = share_key(shared_point, transcript, seat);
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
    shared_point: &Point,
    transcript: &[u8; 32],
    seat: u32,
    ciphertext: &[u8],
) -> Option<Scalar> {
    if ciphertext.len() != CIPHERTEXT_SIZE {
        return None;
    }
    let key = share_key(shared_point, transcript, seat);
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
        let share = Scalar::from(42u64);
        let h = [7u8; 32];
        let ct = encrypt_share(&k_dealer, &h, 3, &share);
        assert_eq!(ct.len(), CIPHERTEXT_SIZE);
        assert_eq!(decrypt_share(&k_player, &h, 3, &ct), Some(share));
        assert_eq!(decrypt_share(&k_player, &h, 4, &ct), None);
        assert_eq!(decrypt_share(&k_player, &[8u8; 32], 3, &ct), None);
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert_eq!(decrypt_share(&k_player, &h, 3, &bad), None);
        assert_eq!(decrypt_share(&k_player, &h, 3, &ct[..10]), None);
    }
}
