//! Batch verification of independent `(public key, message, signature)` triples with random odd
//! 128-bit weights (2^127 values: soundness error 2^-127 per batch check, against an RNG the
//! signers cannot predict), and bisection that names the invalid entries.
//!
//! The batch equation is `Π e(r_i·pk_i, H(m_i)) == e(g, Σ r_i·σ_i)`; an adversary who does not know
//! the weights `r_i` cannot make invalid entries cancel. On failure the batch is split in halves
//! recursively (a half whose sibling passed is known to fail and is split without re-checking),
//! so `k` invalid entries among `n` cost `O(k log n)` extra batch checks.

use rand_core::{CryptoRng, RngCore};

use crate::keys::{PublicKey, Signature};
use crate::scheme::{Ciphersuite, Scheme};
use crate::variant::Variant;

/// Bits of the random weights of [`verify_batch`].
pub const BATCH_WEIGHT_BITS: usize = 128;

/// One `(public key, message, signature)` triple of a batch.
#[derive(Clone, Copy, Debug)]
pub struct BatchItem<'a, V: Variant> {
    /// The signer's validated public key.
    pub public_key: &'a PublicKey<V>,
    /// The signed message.
    pub message: &'a [u8],
    /// The signature to check.
    pub signature: &'a Signature<V>,
}

/// Verify all items at once. `Ok(())` when every signature is valid; otherwise `Err` with the
/// positions (in `items`) of exactly the invalid ones, found by bisection.
pub fn verify_batch<V: Variant>(
    suite: &Ciphersuite<V>,
    items: &[BatchItem<'_, V>],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(), Vec<usize>> {
    let all: Vec<usize> = (0..items.len()).collect();
    let mut bad = Vec::new();
    bisect(suite, items, &all, false, rng, &mut bad);
    if bad.is_empty() {
        Ok(())
    } else {
        bad.sort_unstable();
        Err(bad)
    }
}

fn bisect<V: Variant>(
    suite: &Ciphersuite<V>,
    items: &[BatchItem<'_, V>],
    idx: &[usize],
    known_bad: bool,
    rng: &mut (impl RngCore + CryptoRng),
    bad: &mut Vec<usize>,
) {
    match idx.len() {
        0 => {}
        1 => {
            let it = &items[idx[0]];
            if !it.public_key.verify(suite, it.message, it.signature) {
                bad.push(idx[0]);
            }
        }
        _ => {
            if !known_bad && check(suite, items, idx, rng) {
                return;
            }
            let (left, right) = idx.split_at(idx.len() / 2);
            let before = bad.len();
            bisect(suite, items, left, false, rng, bad);
            // If the left half was clean, the right half must hold the failure.
            let right_known_bad = bad.len() == before;
            bisect(suite, items, right, right_known_bad, rng, bad);
        }
    }
}

/// One randomised batch check of the items at `idx`.
fn check<V: Variant>(
    suite: &Ciphersuite<V>,
    items: &[BatchItem<'_, V>],
    idx: &[usize],
    rng: &mut (impl RngCore + CryptoRng),
) -> bool {
    let mut ctx = blst::Pairing::new(true, suite.dst());
    for &i in idx {
        let it = &items[i];
        let aug = match suite.scheme() {
            Scheme::MessageAugmentation => it.public_key.to_bytes(),
            _ => Vec::new(),
        };
        let mut w = [0u8; BATCH_WEIGHT_BITS / 8];
        rng.fill_bytes(&mut w);
        w[0] |= 1; // never zero
        let r = ctx.mul_n_aggregate(
            V::blst_public(it.public_key.as_affine()),
            false,
            V::blst_signature(it.signature.as_affine()),
            false,
            &w,
            BATCH_WEIGHT_BITS,
            it.message,
            &aug,
        );
        if r != blst::BLST_ERROR::BLST_SUCCESS {
            return false;
        }
    }
    ctx.commit();
    ctx.finalverify(None)
}
