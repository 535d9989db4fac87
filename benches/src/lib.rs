//! Benchmark support crate (the benchmarks live in `benches/`, one-off timers in `examples/`):
//! inputs shared by several of them.

use conclave_threshold_sig::{deal, Ciphersuite, Dealing, PartialSignature, Signature, Variant};
use group::Curve;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;

/// The inputs of a combine benchmark for threshold `k = t+1`: a dealing over
/// `n = ⌈1.5·k⌉` seats, the proof-of-possession ciphersuite's DST, and `count` random
/// `k`-subsets of the partial signatures of every seat on one message.
pub struct CombineInputs<V: Variant> {
    /// The number of seats.
    pub n: u32,
    /// The dealing (commitment and secret shares).
    pub dealing: Dealing<V>,
    /// The DST the partial signatures were made with.
    pub dst: Vec<u8>,
    /// The random subsets.
    pub subsets: Vec<Vec<PartialSignature<V>>>,
}

/// Build [`CombineInputs`] for threshold `k` and message `msg` (the message is hashed once and
/// every share multiplies the hash, as `SecretShare::sign` would).
pub fn combine_inputs<V: Variant>(
    k: u32,
    msg: &[u8],
    count: usize,
    rng: &mut ChaCha20Rng,
) -> CombineInputs<V> {
    let n = (3 * k).div_ceil(2);
    let dealing = deal::<V>(n, k - 1, rng).expect("k ≥ 1 and n ≥ k");
    let dst = Ciphersuite::<V>::pop().dst().to_vec();
    let hashed = V::hash_to_signature_group(msg, &dst, &[]);
    let all: Vec<PartialSignature<V>> = dealing
        .shares
        .iter()
        .map(|s| PartialSignature {
            index: s.index(),
            signature: Signature::from_affine((hashed * s.value()).to_affine())
                .expect("a multiple of a hashed point is in the subgroup"),
        })
        .collect();
    let subsets = (0..count)
        .map(|_| {
            let mut s = all.clone();
            s.shuffle(rng);
            s.truncate(k as usize);
            s
        })
        .collect();
    CombineInputs {
        n,
        dealing,
        dst,
        subsets,
    }
}
