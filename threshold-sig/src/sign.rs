//! Verification and aggregation: IETF `CoreVerify`, `Aggregate`, `FastAggregateVerify` and
//! `AggregateVerify`, all on blst's pairing context (one multi-Miller loop, one final
//! exponentiation per check).

use group::prime::PrimeCurveAffine;
use group::{Curve, Group};

use crate::error::Error;
use crate::keys::{PublicKey, Signature};
use crate::scheme::{Ciphersuite, Scheme};
use crate::variant::Variant;

/// `e(pk, H(aug ‖ msg)) == e(g, sig)`: hashing and pairing inside blst. blst's group checks are
/// off (`false, false`): [`PublicKey`] and [`Signature`] hold subgroup points by construction.
pub(crate) fn core_verify<V: Variant>(
    pk: &V::PublicAffine,
    dst: &[u8],
    aug: &[u8],
    msg: &[u8],
    sig: &V::SignatureAffine,
) -> bool {
    if bool::from(pk.is_identity()) {
        return false;
    }
    let mut ctx = blst::Pairing::new(true, dst);
    let r = ctx.aggregate(
        V::blst_public(pk),
        false,
        V::blst_signature(sig),
        false,
        msg,
        aug,
    );
    if r != blst::BLST_ERROR::BLST_SUCCESS {
        return false;
    }
    ctx.commit();
    ctx.finalverify(None)
}

/// IETF `Aggregate`: the sum of the signatures. Fails on an empty list.
pub fn aggregate_signatures<V: Variant>(sigs: &[Signature<V>]) -> Result<Signature<V>, Error> {
    if sigs.is_empty() {
        return Err(Error::Empty);
    }
    let mut acc = V::Signature::identity();
    for s in sigs {
        acc += s.0;
    }
    Ok(Signature(acc.to_affine()))
}

/// The sum of public keys (for FastAggregateVerify). Fails on an empty list, and when the sum is
/// the identity (it would not be a valid public key).
pub fn aggregate_public_keys<V: Variant>(pks: &[PublicKey<V>]) -> Result<PublicKey<V>, Error> {
    if pks.is_empty() {
        return Err(Error::Empty);
    }
    let mut acc = V::Public::identity();
    for p in pks {
        acc += p.0;
    }
    // A sum of subgroup points is in the subgroup: only the identity check is needed.
    PublicKey::from_affine_unchecked(acc.to_affine())
}

/// IETF `FastAggregateVerify`: all keys signed the same message (POP scheme: the keys must come
/// with verified proofs of possession). An empty key list is invalid.
pub fn fast_aggregate_verify<V: Variant>(
    suite: &Ciphersuite<V>,
    pks: &[PublicKey<V>],
    msg: &[u8],
    sig: &Signature<V>,
) -> bool {
    match aggregate_public_keys(pks) {
        Ok(agg) => core_verify::<V>(&agg.0, suite.dst(), &[], msg, &sig.0),
        Err(_) => false,
    }
}

/// IETF `AggregateVerify`: key i signed message i. With the basic scheme the messages must be
/// distinct (returns false otherwise); with AUG each message is prefixed with its signer's key.
pub fn aggregate_verify<V: Variant>(
    suite: &Ciphersuite<V>,
    pks: &[PublicKey<V>],
    msgs: &[&[u8]],
    sig: &Signature<V>,
) -> bool {
    if pks.is_empty() || pks.len() != msgs.len() {
        return false;
    }
    if suite.scheme() == Scheme::Basic && !distinct(msgs) {
        return false;
    }
    let mut ctx = blst::Pairing::new(true, suite.dst());
    for (i, (pk, msg)) in pks.iter().zip(msgs).enumerate() {
        let aug = match suite.scheme() {
            Scheme::MessageAugmentation => pk.to_bytes(),
            _ => Vec::new(),
        };
        let no_sig = ();
        let sig_any: &dyn std::any::Any = if i == 0 {
            V::blst_signature(&sig.0)
        } else {
            &no_sig
        };
        if ctx.aggregate(V::blst_public(&pk.0), false, sig_any, false, msg, &aug)
            != blst::BLST_ERROR::BLST_SUCCESS
        {
            return false;
        }
    }
    ctx.commit();
    ctx.finalverify(None)
}

/// True when all messages are pairwise distinct.
pub(crate) fn distinct(msgs: &[&[u8]]) -> bool {
    let mut sorted: Vec<&[u8]> = msgs.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).all(|w| w[0] != w[1])
}
