//! Fuzz harness for `conclave-threshold-sig`: every decoder (both variants), `combine` on
//! arbitrary partial sets, and batch verification against one-by-one verification.
//!
//! Each `pub fn` takes the raw fuzzer bytes and panics (assert) only when a property fails. The
//! fuzz targets in `fuzz/fuzz_targets/threshold_*.rs` and the stable regression test
//! `threshold-sig/tests/fuzz_corpus.rs` call the same functions; `seeds` gives the inputs
//! `gen-corpus` writes into `fuzz/corpus/<target>/`.
//!
//! Expects a sibling module `input` (`fuzz/harness/input.rs`) at the crate root.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use conclave_threshold_sig::{
    deal, verify_batch, verify_partials_batch, BatchItem, Ciphersuite, Combiner, Commitment, Error,
    MinPk, MinSig, PartialSignature, PublicKey, PublicShare, Scheme, SecretKey, SecretShare,
    Signature, Variant,
};
use group::prime::PrimeCurveAffine;
use group::Curve;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::input::Input;

/// Shares in the combine fixture.
const N: u32 = 7;
/// Degree of the combine fixture (quorum `T + 1 = 4`).
const T: u32 = 3;
/// Messages the combine fixture has partial signatures for.
const MESSAGES: [&[u8]; 2] = [b"height 1", b"height 2"];
/// Keys and messages of the batch fixture.
const BATCH_KEYS: usize = 4;
const BATCH_MESSAGES: [&[u8]; 3] = [b"", b"block", b"another block"];
const SCHEMES: [Scheme; 3] = [
    Scheme::Basic,
    Scheme::MessageAugmentation,
    Scheme::ProofOfPossession,
];

/// Precomputed keys and signatures for one variant (built once per process).
pub struct Fixture<V: Variant> {
    dst: Vec<u8>,
    combiner: Combiner<V>,
    /// `partials[m][i - 1]`: share `i`'s partial signature on `MESSAGES[m]`.
    partials: Vec<Vec<PartialSignature<V>>>,
    /// `group[m]`: the unique group signature on `MESSAGES[m]`.
    group: Vec<Signature<V>>,
    /// Partials of an unrelated dealing (valid points, wrong shares).
    foreign: Vec<Vec<PartialSignature<V>>>,
    keys: Vec<SecretKey>,
    public_keys: Vec<PublicKey<V>>,
    /// `sigs[s][k][m]`: key `k`'s signature on `BATCH_MESSAGES[m]` under `SCHEMES[s]`.
    sigs: Vec<Vec<Vec<Signature<V>>>>,
}

impl<V: Variant> Fixture<V> {
    fn build() -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
        let suite = Ciphersuite::<V>::pop();
        let dst = suite.dst().to_vec();
        let dealing = deal::<V>(N, T, &mut rng).expect("valid parameters");
        let other = deal::<V>(N, T, &mut rng).expect("valid parameters");
        let sign_all = |shares: &[SecretShare]| -> Vec<Vec<PartialSignature<V>>> {
            MESSAGES
                .iter()
                .map(|m| shares.iter().map(|s| s.sign::<V>(&dst, m)).collect())
                .collect()
        };
        let partials = sign_all(&dealing.shares);
        let foreign = sign_all(&other.shares);
        let combiner =
            Combiner::new(dealing.commitment.clone(), N, dst.clone()).expect("valid parameters");
        let group = MESSAGES
            .iter()
            .zip(&partials)
            .map(|(m, ps)| {
                combiner
                    .combine_verified(m, ps, &mut rng)
                    .expect("honest partials combine")
                    .signature
            })
            .collect();
        let keys: Vec<SecretKey> = (0..BATCH_KEYS)
            .map(|_| SecretKey::random(&mut rng))
            .collect();
        let public_keys = keys.iter().map(|k| k.public_key::<V>()).collect();
        let sigs = SCHEMES
            .iter()
            .map(|&s| {
                let suite = Ciphersuite::<V>::new(s);
                keys.iter()
                    .map(|k| BATCH_MESSAGES.iter().map(|m| k.sign(&suite, m)).collect())
                    .collect()
            })
            .collect();
        Fixture {
            dst,
            combiner,
            partials,
            group,
            foreign,
            keys,
            public_keys,
            sigs,
        }
    }
}

/// Per-variant glue: the process-wide fixture and blst's own validation (differential checks).
pub trait Harnessed: Variant {
    fn fixture() -> &'static Fixture<Self>;
    /// blst's KeyValidate on a compressed public key.
    fn blst_key_validate(bytes: &[u8]) -> bool;
    /// blst's signature validation (subgroup check, identity allowed) on a compressed signature.
    fn blst_sig_validate(bytes: &[u8]) -> bool;
}

impl Harnessed for MinPk {
    fn fixture() -> &'static Fixture<Self> {
        static F: OnceLock<Fixture<MinPk>> = OnceLock::new();
        F.get_or_init(Fixture::build)
    }
    fn blst_key_validate(bytes: &[u8]) -> bool {
        blst::min_pk::PublicKey::key_validate(bytes).is_ok()
    }
    fn blst_sig_validate(bytes: &[u8]) -> bool {
        blst::min_pk::Signature::sig_validate(bytes, false).is_ok()
    }
}

impl Harnessed for MinSig {
    fn fixture() -> &'static Fixture<Self> {
        static F: OnceLock<Fixture<MinSig>> = OnceLock::new();
        F.get_or_init(Fixture::build)
    }
    fn blst_key_validate(bytes: &[u8]) -> bool {
        blst::min_sig::PublicKey::key_validate(bytes).is_ok()
    }
    fn blst_sig_validate(bytes: &[u8]) -> bool {
        blst::min_sig::Signature::sig_validate(bytes, false).is_ok()
    }
}

// ---------------------------------------------------------------------------------------------
// Decoders: a decoded value re-encodes to exactly the input (canonical encodings), round-trips
// through hex, and blst agrees on what is valid.
// ---------------------------------------------------------------------------------------------

fn public_key_one<V: Harnessed>(data: &[u8]) {
    let ours = PublicKey::<V>::from_bytes(data);
    if data.len() == V::PUBLIC_KEY_SIZE {
        assert_eq!(
            ours.is_ok(),
            V::blst_key_validate(data),
            "{}: decoder and blst KeyValidate disagree: {ours:?}",
            V::NAME
        );
    }
    if let Ok(pk) = ours {
        assert_eq!(pk.to_bytes(), data);
        assert!(!bool::from(pk.as_affine().is_identity()));
        assert_eq!(pk.to_string().parse::<PublicKey<V>>(), Ok(pk));
        assert_eq!(PublicKey::<V>::try_from(data), Ok(pk));
    }
}

/// `PublicKey::from_bytes` for both variants.
pub fn public_key(data: &[u8]) {
    public_key_one::<MinPk>(data);
    public_key_one::<MinSig>(data);
}

fn signature_one<V: Harnessed>(data: &[u8]) {
    let ours = Signature::<V>::from_bytes(data);
    if data.len() == V::SIGNATURE_SIZE {
        assert_eq!(
            ours.is_ok(),
            V::blst_sig_validate(data),
            "{}: decoder and blst sig_validate disagree: {ours:?}",
            V::NAME
        );
    }
    if let Ok(sig) = ours {
        assert_eq!(sig.to_bytes(), data);
        assert_eq!(sig.to_string().parse::<Signature<V>>(), Ok(sig));
        // A decoded signature never verifies under a key it was not made with.
        let f = V::fixture();
        let suite = Ciphersuite::<V>::new(Scheme::Basic);
        let valid = f.public_keys[0].verify(&suite, BATCH_MESSAGES[1], &sig);
        assert_eq!(valid, sig == f.sigs[0][0][1]);
    }
}

/// `Signature::from_bytes` for both variants.
pub fn signature(data: &[u8]) {
    signature_one::<MinPk>(data);
    signature_one::<MinSig>(data);
}

fn partial_signature_one<V: Harnessed>(data: &[u8]) {
    let ours = PartialSignature::<V>::from_bytes(data);
    if data.len() == 4 + V::SIGNATURE_SIZE {
        let index_ok = data[..4] != [0, 0, 0, 0];
        assert_eq!(ours.is_ok(), index_ok && V::blst_sig_validate(&data[4..]));
    }
    if let Ok(p) = ours {
        assert!(p.index >= 1);
        assert_eq!(p.to_bytes(), data);
        assert_eq!(p.to_string().parse::<PartialSignature<V>>(), Ok(p));
        // Partial verification never panics, whatever the index.
        let f = V::fixture();
        if let Some(public) = f.combiner.public_share(p.index) {
            let ok = p.verify(&public, &f.dst, MESSAGES[0]);
            assert_eq!(ok, f.partials[0][(p.index - 1) as usize] == p);
        }
    }
}

/// `PartialSignature::from_bytes` for both variants.
pub fn partial_signature(data: &[u8]) {
    partial_signature_one::<MinPk>(data);
    partial_signature_one::<MinSig>(data);
}

fn public_share_one<V: Harnessed>(data: &[u8]) {
    let ours = PublicShare::<V>::from_bytes(data);
    if data.len() == 4 + V::PUBLIC_KEY_SIZE && data[..4] != [0, 0, 0, 0] {
        // A public share may be the identity (a share value can be zero); otherwise it is a
        // valid public key.
        let identity = {
            let mut inf = vec![0u8; V::PUBLIC_KEY_SIZE];
            inf[0] = 0xc0;
            data[4..] == inf[..]
        };
        assert_eq!(ours.is_ok(), identity || V::blst_key_validate(&data[4..]));
    }
    if let Ok(s) = ours {
        assert!(s.index() >= 1);
        assert_eq!(s.to_bytes(), data);
        assert_eq!(s.to_string().parse::<PublicShare<V>>(), Ok(s));
    }
}

/// `PublicShare::from_bytes` for both variants.
pub fn public_share(data: &[u8]) {
    public_share_one::<MinPk>(data);
    public_share_one::<MinSig>(data);
}

/// `SecretShare::from_bytes` (variant-independent) and the derived public share.
pub fn secret_share(data: &[u8]) {
    let ours = SecretShare::from_bytes(data);
    if data.len() == 36 {
        let index_ok = data[..4] != [0, 0, 0, 0];
        let value_ok = Option::<blstrs::Scalar>::from(blstrs::Scalar::from_bytes_be(
            &data[4..].try_into().expect("32 bytes"),
        ))
        .is_some();
        assert_eq!(ours.is_ok(), index_ok && value_ok);
    }
    if let Ok(s) = ours {
        assert!(s.index() >= 1);
        assert_eq!(&s.to_bytes()[..], data);
        let p = s.public_share::<MinPk>();
        assert_eq!(p.index(), s.index());
        let sig = s.sign::<MinPk>(b"dst", b"msg");
        // A zero share signs the identity and cannot be verified (public share is the identity).
        if !bool::from(p.point().is_identity()) {
            assert!(sig.verify(&p, b"dst", b"msg"));
        }
    }
}

/// `SecretKey::from_bytes` (variant-independent), against blst's own scalar check.
pub fn secret_key(data: &[u8]) {
    let ours = SecretKey::from_bytes(data);
    if data.len() == 32 {
        assert_eq!(
            ours.is_ok(),
            blst::min_pk::SecretKey::from_bytes(data).is_ok()
        );
    }
    if let Ok(sk) = ours {
        assert_eq!(&sk.to_bytes()[..], data);
        let pk = sk.public_key::<MinSig>();
        let suite = Ciphersuite::<MinSig>::pop();
        assert!(pk.verify(&suite, b"m", &sk.sign(&suite, b"m")));
        assert!(pk.pop_verify(&sk.pop_prove::<MinSig>()));
    }
}

fn commitment_one<V: Harnessed>(data: &[u8]) {
    let ours = Commitment::<V>::from_bytes(data);
    if let Ok(c) = &ours {
        assert_eq!(c.to_bytes(), data);
        assert_eq!(c.quorum() * V::PUBLIC_KEY_SIZE, data.len());
        assert!(!bool::from(c.points()[0].is_identity()));
        assert_eq!(c.group_public_key().to_bytes(), &data[..V::PUBLIC_KEY_SIZE]);
        // Public shares from the difference table equal direct evaluation.
        let shares = c.public_shares(5).expect("5 <= MAX_SHARES");
        for s in &shares {
            assert_eq!(*s.point(), c.evaluate(s.index()).to_affine());
        }
    } else if !data.is_empty() && data.len() % V::PUBLIC_KEY_SIZE == 0 {
        // Rejected: some point is invalid, or the constant term is the identity.
        let bad_point = data.chunks(V::PUBLIC_KEY_SIZE).any(|p| {
            let mut inf = vec![0u8; V::PUBLIC_KEY_SIZE];
            inf[0] = 0xc0;
            p != &inf[..] && !V::blst_key_validate(p)
        });
        let mut inf = vec![0u8; V::PUBLIC_KEY_SIZE];
        inf[0] = 0xc0;
        let identity_constant = data[..V::PUBLIC_KEY_SIZE] == inf[..];
        assert!(bad_point || identity_constant, "{ours:?}");
    }
}

/// `Commitment::from_bytes` for both variants.
pub fn commitment(data: &[u8]) {
    commitment_one::<MinPk>(data);
    commitment_one::<MinSig>(data);
}

// ---------------------------------------------------------------------------------------------
// combine on arbitrary partial sets
// ---------------------------------------------------------------------------------------------

fn negate<V: Variant>(s: &Signature<V>) -> Signature<V> {
    Signature::from_affine((-s.as_affine().to_curve()).to_affine())
        .expect("the negation of a subgroup point is in the subgroup")
}

/// One partial chosen by the fuzzer: an index (possibly out of range) and a signature that is
/// the right one, or one of several wrong ones.
fn pick_partial<V: Harnessed>(input: &mut Input<'_>, m: usize) -> Option<PartialSignature<V>> {
    let f = V::fixture();
    let index = input.below(N as usize + 3) as u32; // 0 and n+1, n+2 are out of range
    let slot = (index as usize).clamp(1, N as usize) - 1;
    let right = f.partials[m][slot].signature;
    let signature = match input.below(10) {
        0..=3 => right,
        4 => f.partials[1 - m][slot].signature, // wrong message
        5 => f.partials[m][(slot + 1) % N as usize].signature, // another signer's
        6 => f.foreign[m][slot].signature,      // another dealing's
        7 => Signature::from_affine(V::SignatureAffine::identity()).expect("identity is allowed"),
        8 => negate(&right),
        _ => Signature::from_bytes(input.bytes(V::SIGNATURE_SIZE)).ok()?,
    };
    Some(PartialSignature { index, signature })
}

fn combine_one<V: Harnessed>(input: &mut Input<'_>) {
    let f = V::fixture();
    let m = input.below(2);
    let msg = MESSAGES[m];
    let count = input.below(13);
    let partials: Vec<PartialSignature<V>> = (0..count)
        .filter_map(|_| pick_partial::<V>(input, m))
        .collect();
    let mut rng = ChaCha20Rng::from_seed(input.array());

    // What a correct implementation must do, worked out independently.
    let is_valid = |p: &PartialSignature<V>| {
        (1..=N).contains(&p.index) && f.partials[m][(p.index - 1) as usize] == *p
    };
    let distinct: BTreeSet<(u32, Vec<u8>)> = partials
        .iter()
        .map(|p| (p.index, p.signature.to_bytes()))
        .collect();
    let mut indices: Vec<u32> = distinct.iter().map(|(i, _)| *i).collect();
    // Indices with several different partials: culprits, although their valid one (if any)
    // may be used.
    let conflicts: BTreeSet<u32> = indices
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    let conflicting = !conflicts.is_empty();
    indices.dedup();
    let out_of_range = indices.iter().any(|&i| i == 0 || i > N);
    let valid: BTreeSet<u32> = partials
        .iter()
        .filter(|p| is_valid(p))
        .map(|p| p.index)
        .collect();
    // Every index under which an invalid partial arrived.
    let invalid: Vec<u32> = indices
        .iter()
        .copied()
        .filter(|i| !valid.contains(i) || conflicts.contains(i))
        .collect();
    let q = f.combiner.quorum();

    let check_ok = |out: &conclave_threshold_sig::Combined<V>, exact_culprits: bool| {
        assert_eq!(
            out.signature, f.group[m],
            "combined signature is not the group signature"
        );
        assert!(f.combiner.verify(msg, &out.signature));
        assert_eq!(out.used.len(), q);
        assert!(out.used.windows(2).all(|w| w[0] < w[1]));
        assert!(out.used.iter().all(|i| valid.contains(i)));
        assert!(out.culprits.iter().all(|i| invalid.contains(i)));
        if exact_culprits {
            assert_eq!(out.culprits, invalid);
        }
    };

    let verified = f.combiner.combine_verified(msg, &partials, &mut rng);
    let optimistic = f.combiner.combine(msg, &partials, &mut rng);
    let unchecked = f.combiner.combine_unchecked(&partials);
    // The robust methods treat conflicting and out-of-range entries as culprits and carry on;
    // only the unchecked one, which cannot tell which duplicate is right, refuses them.
    if conflicting || out_of_range {
        assert!(
            matches!(
                unchecked,
                Err(Error::DuplicateIndex(_) | Error::InvalidIndex(_))
            ),
            "{unchecked:?}"
        );
    }
    match &verified {
        Ok(out) => check_ok(out, true),
        Err(Error::NotEnoughPartials {
            needed,
            valid: have,
            culprits,
        }) => {
            assert!(valid.len() < q);
            assert_eq!((*needed, *have), (q, valid.len()));
            assert_eq!(culprits, &invalid);
        }
        Err(e) => panic!("combine_verified: unexpected error {e:?}"),
    }
    match &optimistic {
        Ok(out) => {
            check_ok(out, false);
            // Screening (range, conflicts) always happens: those culprits are always named.
            for i in indices
                .iter()
                .filter(|&&i| i == 0 || i > N || conflicts.contains(&i))
            {
                assert!(out.culprits.contains(i), "culprit {i} not named: {out:?}");
            }
        }
        Err(Error::NotEnoughPartials { .. }) => assert!(valid.len() < q),
        Err(e) => panic!("combine: unexpected error {e:?}"),
    }
    assert_eq!(verified.is_ok(), optimistic.is_ok());
    if conflicting || out_of_range {
        return;
    }
    match &unchecked {
        Ok(out) => {
            assert_eq!(out.used, indices[..q].to_vec());
            // Interpolating t+1 valid partials gives the group signature; anything else does not.
            let all_valid = out.used.iter().all(|i| valid.contains(i));
            assert_eq!(out.signature == f.group[m], all_valid);
        }
        Err(Error::NotEnoughPartials { .. }) => assert!(indices.len() < q),
        Err(e) => panic!("combine_unchecked: unexpected error {e:?}"),
    }
}

/// `Combiner::combine` / `combine_verified` / `combine_unchecked` on an arbitrary partial set:
/// never panics; every returned signature is the (unique) group signature and verifies; culprits
/// are exactly the invalid partials (`combine_verified`); errors only when there are fewer than
/// `t+1` valid partials or the set is malformed.
pub fn combine(data: &[u8]) {
    let mut input = Input::new(data);
    if input.bool() {
        combine_one::<MinSig>(&mut input);
    } else {
        combine_one::<MinPk>(&mut input);
    }
}

// ---------------------------------------------------------------------------------------------
// Batch verification agrees with one-by-one verification
// ---------------------------------------------------------------------------------------------

fn batch_one<V: Harnessed>(input: &mut Input<'_>) {
    let f = V::fixture();
    let s = input.below(SCHEMES.len());
    let suite = Ciphersuite::<V>::new(SCHEMES[s]);
    let count = input.below(10);
    let mut triples: Vec<(usize, Vec<u8>, Signature<V>)> = Vec::new();
    for _ in 0..count {
        let k = input.below(BATCH_KEYS);
        let m = input.below(BATCH_MESSAGES.len() + 1);
        let msg = match BATCH_MESSAGES.get(m) {
            Some(m) => m.to_vec(),
            None => input.short_bytes(16).to_vec(),
        };
        let right = || match BATCH_MESSAGES.get(m) {
            Some(_) => f.sigs[s][k][m],
            None => f.keys[k].sign(&suite, &msg),
        };
        let sig = match input.below(8) {
            0..=2 => right(),
            3 => f.sigs[s][k][(m + 1) % BATCH_MESSAGES.len()],
            4 => f.sigs[s][(k + 1) % BATCH_KEYS][m % BATCH_MESSAGES.len()],
            5 => f.sigs[(s + 1) % SCHEMES.len()][k][m % BATCH_MESSAGES.len()],
            6 => negate(&right()),
            _ => match Signature::from_bytes(input.bytes(V::SIGNATURE_SIZE)) {
                Ok(sig) => sig,
                Err(_) => Signature::from_affine(V::SignatureAffine::identity())
                    .expect("identity is allowed"),
            },
        };
        triples.push((k, msg, sig));
    }
    let items: Vec<BatchItem<'_, V>> = triples
        .iter()
        .map(|(k, msg, sig)| BatchItem {
            public_key: &f.public_keys[*k],
            message: msg,
            signature: sig,
        })
        .collect();
    let expected: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, it)| !it.public_key.verify(&suite, it.message, it.signature))
        .map(|(i, _)| i)
        .collect();
    let mut rng = ChaCha20Rng::from_seed(input.array());
    let got = verify_batch(&suite, &items, &mut rng);
    assert_eq!(
        got,
        if expected.is_empty() {
            Ok(())
        } else {
            Err(expected)
        }
    );

    // Partial signatures on one message: batched with bisection == one by one.
    let m = input.below(2);
    let count = input.below(10);
    let partials: Vec<PartialSignature<V>> = (0..count)
        .filter_map(|_| pick_partial::<V>(input, m))
        .collect();
    let lookup = |i: u32| f.combiner.public_share(i);
    let mut expected: Vec<u32> = partials
        .iter()
        .filter(|p| !lookup(p.index).is_some_and(|pk| p.verify(&pk, &f.dst, MESSAGES[m])))
        .map(|p| p.index)
        .collect();
    expected.sort_unstable();
    let got = verify_partials_batch(&lookup, &f.dst, MESSAGES[m], &partials, &mut rng);
    assert_eq!(
        got,
        if expected.is_empty() {
            Ok(())
        } else {
            Err(expected)
        }
    );
}

/// `verify_batch` (triples, all three schemes) and `verify_partials_batch` name exactly the
/// entries that fail one-by-one verification.
pub fn batch_verify(data: &[u8]) {
    let mut input = Input::new(data);
    if input.bool() {
        batch_one::<MinSig>(&mut input);
    } else {
        batch_one::<MinPk>(&mut input);
    }
}

// ---------------------------------------------------------------------------------------------
// Seed corpora
// ---------------------------------------------------------------------------------------------

fn flip(mut v: Vec<u8>, at: usize) -> Vec<u8> {
    if let Some(b) = v.get_mut(at) {
        *b ^= 1;
    }
    v
}

fn point_seeds(valid: Vec<Vec<u8>>, size: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut inf = vec![0u8; size];
    inf[0] = 0xc0;
    out.push(inf);
    out.push(vec![0u8; size]);
    out.push(vec![0xffu8; size]);
    for v in valid {
        out.push(flip(v.clone(), size - 1)); // usually off the curve
        out.push(flip(v.clone(), 0)); // sort flag
        out.push(v[..size - 1].to_vec()); // truncated
        out.push(v);
    }
    out
}

fn indexed(index: u32, body: Vec<u8>) -> Vec<u8> {
    let mut v = index.to_be_bytes().to_vec();
    v.extend(body);
    v
}

/// Seed inputs for the threshold targets (`target` is the fuzz target name).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let pk = MinPk::fixture();
    let sig = MinSig::fixture();
    let pk_keys = || {
        pk.public_keys
            .iter()
            .map(|k| k.to_bytes())
            .collect::<Vec<_>>()
    };
    let sig_keys = || {
        sig.public_keys
            .iter()
            .map(|k| k.to_bytes())
            .collect::<Vec<_>>()
    };
    let pk_sigs = || {
        pk.sigs[0][..2]
            .iter()
            .map(|r| r[1].to_bytes())
            .collect::<Vec<_>>()
    };
    let sig_sigs = || {
        sig.sigs[0][..2]
            .iter()
            .map(|r| r[1].to_bytes())
            .collect::<Vec<_>>()
    };
    match target {
        "threshold_public_key" => {
            let mut v = point_seeds(pk_keys(), 48);
            v.extend(point_seeds(sig_keys(), 96));
            v
        }
        "threshold_signature" => {
            let mut v = point_seeds(pk_sigs(), 96);
            v.extend(point_seeds(sig_sigs(), 48));
            v
        }
        "threshold_partial_signature" => {
            let mut v: Vec<Vec<u8>> = pk.partials[0]
                .iter()
                .take(3)
                .map(|p| p.to_bytes())
                .collect();
            v.extend(sig.partials[0].iter().take(3).map(|p| p.to_bytes()));
            v.push(indexed(0, pk.partials[0][0].signature.to_bytes()));
            v.push(indexed(u32::MAX, sig.partials[1][1].signature.to_bytes()));
            v.extend(
                point_seeds(pk_sigs(), 96)
                    .into_iter()
                    .map(|p| indexed(2, p)),
            );
            v
        }
        "threshold_public_share" => {
            let mut v: Vec<Vec<u8>> = (1..=3)
                .map(|i| pk.combiner.public_share(i).expect("in range").to_bytes())
                .collect();
            v.extend((1..=3).map(|i| sig.combiner.public_share(i).expect("in range").to_bytes()));
            v.extend(
                point_seeds(pk_keys(), 48)
                    .into_iter()
                    .map(|p| indexed(1, p)),
            );
            v.push(indexed(0, pk_keys()[0].clone()));
            v
        }
        "threshold_secret_share" => {
            let r_minus_1 =
                hex_bytes("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000");
            let r = hex_bytes("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001");
            vec![
                indexed(1, vec![0; 32]),
                indexed(1, {
                    let mut v = vec![0; 32];
                    v[31] = 1;
                    v
                }),
                indexed(7, r_minus_1.clone()),
                indexed(7, r.clone()),
                indexed(0, r_minus_1),
                indexed(3, vec![0xff; 32]),
                indexed(3, vec![0x11; 31]),
                indexed(u32::MAX, vec![0x42; 32]),
            ]
        }
        "threshold_secret_key" => {
            let mut v: Vec<Vec<u8>> = pk.keys.iter().map(|k| k.to_bytes().to_vec()).collect();
            v.push(vec![0; 32]);
            v.push(hex_bytes(
                "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000",
            ));
            v.push(hex_bytes(
                "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001",
            ));
            v.push(vec![0xff; 32]);
            v.push(vec![1; 31]);
            v
        }
        "threshold_commitment" => {
            let mut v = vec![
                pk.combiner.commitment().to_bytes(),
                sig.combiner.commitment().to_bytes(),
            ];
            let mut inf = vec![0u8; 48];
            inf[0] = 0xc0;
            let mut c = pk.combiner.commitment().to_bytes();
            c[48..96].copy_from_slice(&inf); // identity in a higher coefficient: allowed
            v.push(c.clone());
            c[..48].copy_from_slice(&inf); // identity constant term: rejected
            v.push(c);
            v.push(flip(pk.combiner.commitment().to_bytes(), 100));
            v.push(pk.combiner.commitment().to_bytes()[..100].to_vec());
            v.push(pk_keys()[0].clone());
            v.push(sig_keys()[0].clone());
            v
        }
        "threshold_combine" => {
            let mut v = Vec::new();
            for variant in 0u8..2 {
                for m in 0u8..2 {
                    // t+1 valid partials, then all valid, then some corrupted, then too few.
                    v.push(
                        [
                            vec![variant, m, 4],
                            (1u8..=4).flat_map(|i| [i, 0]).collect(),
                        ]
                        .concat(),
                    );
                    v.push(
                        [
                            vec![variant, m, 7],
                            (1u8..=7).flat_map(|i| [i, 1]).collect(),
                        ]
                        .concat(),
                    );
                    v.push(
                        [
                            vec![variant, m, 7],
                            vec![1, 4, 2, 5, 3, 0, 4, 6, 5, 0, 6, 0, 7, 8],
                        ]
                        .concat(),
                    );
                    v.push([vec![variant, m, 5], vec![1, 0, 2, 0, 3, 7, 9, 0, 0, 0]].concat());
                    v.push([vec![variant, m, 3], vec![1, 0, 2, 0, 3, 0]].concat());
                }
            }
            v
        }
        "threshold_batch_verify" => {
            let mut v = Vec::new();
            for variant in 0u8..2 {
                for scheme in 0u8..3 {
                    v.push(vec![
                        variant, scheme, 4, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 0, 0, 0,
                    ]);
                    v.push(vec![
                        variant, scheme, 5, 0, 0, 3, 1, 1, 4, 2, 3, 0, 3, 3, 6, 0, 1, 5,
                    ]);
                }
                v.push(
                    [
                        vec![variant, 0, 0],
                        vec![0; 32],
                        vec![0, 6],
                        (1u8..=6).flat_map(|i| [i, i]).collect(),
                    ]
                    .concat(),
                );
            }
            v
        }
        _ => Vec::new(),
    }
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A harness function: raw fuzzer bytes in, panic on a property violation.
pub type Harness = fn(&[u8]);

/// The threshold fuzz targets and their functions.
pub const TARGETS: &[(&str, Harness)] = &[
    ("threshold_public_key", public_key),
    ("threshold_signature", signature),
    ("threshold_partial_signature", partial_signature),
    ("threshold_public_share", public_share),
    ("threshold_secret_share", secret_share),
    ("threshold_secret_key", secret_key),
    ("threshold_commitment", commitment),
    ("threshold_combine", combine),
    ("threshold_batch_verify", batch_verify),
];
