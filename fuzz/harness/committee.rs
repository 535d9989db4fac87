//! Fuzz harness for `conclave-committee`: the decoders of VRF keys, proofs and credentials (and
//! the fixed-size seed, priority and output types), and the exact sortition walk on arbitrary
//! stake parameters.
//!
//! Shared by `fuzz/fuzz_targets/committee_*.rs` and `committee/tests/fuzz_corpus.rs`. Expects a
//! sibling module `input` (`fuzz/harness/input.rs`) at the crate root.

use std::sync::OnceLock;

use conclave_committee::seed::Seed;
use conclave_committee::sortition::{ratio_value, sortition, Credential, Priority};
use conclave_committee::transcript::{Role, SortitionContext};
use conclave_committee::vrf::{Proof, PublicKey, SecretKey, VrfOutput};
use conclave_committee::{SortitionParams, SortitionTable};

use crate::input::Input;

struct Fixture {
    key: SecretKey,
    context: SortitionContext,
    params: SortitionParams,
    credential: Credential,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = SecretKey::derive(b"fuzz", 1);
        let context = SortitionContext::new(Seed::from_bytes([3; 32]), 9).with_role(Role::Proposer);
        let params = SortitionParams::new(500, 1_000, 20).expect("valid parameters");
        let credential = *sortition(&key, &context, &params).credential();
        Fixture {
            key,
            context,
            params,
            credential,
        }
    })
}

/// `vrf::PublicKey::from_slice`: valid encodings re-encode to the input, never the identity,
/// hex round-trips; verification with a decoded key never panics.
pub fn public_key(data: &[u8]) {
    if let Ok(pk) = PublicKey::from_slice(data) {
        assert_eq!(&pk.to_bytes()[..], data);
        assert_ne!(pk.to_bytes(), [0u8; 32], "identity accepted");
        assert_eq!(pk.to_string().parse::<PublicKey>(), Ok(pk));
        let f = fixture();
        let ok = pk
            .verify(&f.context.vrf_input(), &f.credential.proof)
            .is_ok();
        assert_eq!(ok, pk == f.credential.public_key);
    }
}

/// `vrf::SecretKey::from_slice`: valid keys re-encode, prove and verify (on the rest of the
/// input as α), and agree with `vrf-r255` itself.
pub fn secret_key(data: &[u8]) {
    let mut input = Input::new(data);
    let bytes = input.bytes(32);
    let ours = SecretKey::from_slice(bytes);
    if let Ok(array) = <[u8; 32]>::try_from(bytes) {
        let theirs: Option<vrf_r255::SecretKey> = vrf_r255::SecretKey::from_bytes(array).into();
        assert_eq!(ours.is_ok(), theirs.is_some());
    }
    if let Ok(sk) = ours {
        assert_eq!(&sk.to_bytes()[..], bytes);
        let alpha = input.rest();
        let (proof, output) = sk.prove(alpha);
        assert_eq!(sk.public_key().verify(alpha, &proof), Ok(output));
        assert_eq!(proof.output(), output);
        let again = Proof::from_slice(&proof.to_bytes()).expect("own proof decodes");
        assert_eq!(again, proof);
    }
}

/// `vrf::Proof::from_slice`: valid encodings re-encode; verification never panics and accepts
/// only the fixture's own proof.
pub fn proof(data: &[u8]) {
    if let Ok(proof) = Proof::from_slice(data) {
        assert_eq!(&proof.to_bytes()[..], data);
        assert_eq!(proof.to_string().parse::<Proof>(), Ok(proof));
        let f = fixture();
        let result = f.key.public_key().verify(&f.context.vrf_input(), &proof);
        if let Ok(output) = result {
            assert_eq!(output, proof.output());
            assert_eq!(proof, f.credential.proof);
        }
    }
}

/// `Credential::from_slice` (and the fixed-size `Seed`, `Priority`, `VrfOutput` decoders on the
/// same bytes): re-encodes; verification never panics and checks the weight.
pub fn credential(data: &[u8]) {
    if let Ok(c) = Credential::from_slice(data) {
        assert_eq!(&c.to_bytes()[..], data);
        let f = fixture();
        match c.verify(&f.context, &f.params) {
            Ok(v) => {
                assert_eq!(c, f.credential);
                assert_eq!(v.weight(), f.params.weight(ratio_value(v.output())));
            }
            Err(_) => assert_ne!(c, f.credential),
        }
    }
    for len in [32usize, 64] {
        let prefix = &data[..data.len().min(len)];
        if let Ok(seed) = Seed::from_slice(prefix) {
            assert_eq!(&seed.to_bytes()[..], prefix);
        }
        if let Ok(p) = Priority::from_slice(prefix) {
            assert_eq!(&p.to_bytes()[..], prefix);
        }
        if let Ok(o) = VrfOutput::from_slice(prefix) {
            assert_eq!(&o.to_bytes()[..], prefix);
        }
    }
}

/// `SortitionParams::new` and the exact CDF walk on arbitrary (stake, total, τ, u): never panics;
/// the weight is at most the stake, monotone in u, and the precomputed table agrees.
pub fn sortition_walk(data: &[u8]) {
    let mut input = Input::new(data);
    // Mix small and full-range values so the fuzzer reaches both the valid and invalid ranges.
    let number = |input: &mut Input<'_>| match input.below(4) {
        0 => u64::from(input.u8()),
        1 => u64::from(input.u32() % 100_000),
        2 => input.u64() >> input.below(64),
        _ => input.u64(),
    };
    let stake = number(&mut input);
    let total = number(&mut input);
    let tau = number(&mut input);
    let Ok(params) = SortitionParams::new(stake, total, tau) else {
        return;
    };
    // Keep single runs fast: the walk is O(weight); large expected weights are fine, huge
    // stakes with a large τ/W ratio are the slow corner and still bounded by τ ≤ 10,000.
    let table = SortitionTable::new(params);
    let mut us: Vec<u64> = (0..4).map(|_| input.u64()).collect();
    us.extend([0, u64::MAX]);
    us.sort_unstable();
    let weights: Vec<u64> = us.iter().map(|&u| params.weight(u)).collect();
    for (&u, &w) in us.iter().zip(&weights) {
        assert!(w <= stake, "weight {w} above stake {stake}");
        assert_eq!(table.weight(u), w, "table disagrees at u = {u}");
    }
    assert!(
        weights.windows(2).all(|w| w[0] <= w[1]),
        "not monotone: {weights:?}"
    );
    if stake == 0 {
        assert!(weights.iter().all(|&w| w == 0));
    }
}

fn flip(mut v: Vec<u8>, at: usize) -> Vec<u8> {
    if let Some(b) = v.get_mut(at) {
        *b ^= 0x80;
    }
    v
}

fn be(values: &[u64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Seed inputs for the committee targets.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let f = fixture();
    let pk = f.key.public_key().to_bytes().to_vec();
    let proof = f.credential.proof.to_bytes().to_vec();
    let cred = f.credential.to_bytes().to_vec();
    match target {
        "committee_public_key" => vec![
            pk.clone(),
            SecretKey::derive(b"fuzz", 2)
                .public_key()
                .to_bytes()
                .to_vec(),
            vec![0; 32],
            vec![0xff; 32],
            flip(pk.clone(), 31),
            flip(pk.clone(), 0),
            pk[..31].to_vec(),
        ],
        "committee_secret_key" => vec![
            [f.key.to_bytes().to_vec(), b"alpha".to_vec()].concat(),
            SecretKey::derive(b"fuzz", 3).to_bytes().to_vec(),
            vec![0; 32],
            [vec![1], vec![0; 31]].concat(),
            vec![0xff; 32],
            // ℓ and ℓ - 1 (little-endian): the first is non-canonical.
            hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"),
            hex("ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"),
        ],
        "committee_proof" => vec![
            proof.clone(),
            flip(proof.clone(), 79),
            flip(proof.clone(), 40),
            flip(proof.clone(), 5),
            vec![0; 80],
            proof[..79].to_vec(),
        ],
        "committee_credential" => vec![
            cred.clone(),
            {
                let mut c = cred.clone();
                c[119] ^= 1; // wrong weight
                c
            },
            flip(cred.clone(), 60),
            [pk.clone(), vec![0; 88]].concat(),
            vec![7; 32],
            vec![9; 64],
            cred[..119].to_vec(),
        ],
        "committee_sortition" => vec![
            [vec![1], be(&[0]), vec![1], be(&[0]), vec![0]].concat(),
            [vec![0, 100, 0, 200, 0, 20], be(&[1 << 40, 1 << 60, 5, 9])].concat(),
            [
                vec![1],
                1000u32.to_be_bytes().to_vec(),
                vec![1],
                1000u32.to_be_bytes().to_vec(),
            ]
            .concat(),
            [
                vec![3],
                be(&[1 << 53]),
                vec![3],
                be(&[1 << 63]),
                vec![1],
                10_000u32.to_be_bytes().to_vec(),
            ]
            .concat(),
            [
                vec![3],
                be(&[u64::MAX]),
                vec![3],
                be(&[u64::MAX]),
                vec![3],
                be(&[u64::MAX]),
            ]
            .concat(),
            [
                vec![1],
                99_999u32.to_be_bytes().to_vec(),
                vec![1],
                99_999u32.to_be_bytes().to_vec(),
                vec![1],
                10_000u32.to_be_bytes().to_vec(),
            ]
            .concat(),
        ],
        _ => Vec::new(),
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A harness function: raw fuzzer bytes in, panic on a property violation.
pub type Harness = fn(&[u8]);

/// The committee fuzz targets and their functions.
pub const TARGETS: &[(&str, Harness)] = &[
    ("committee_public_key", public_key),
    ("committee_secret_key", secret_key),
    ("committee_proof", proof),
    ("committee_credential", credential),
    ("committee_sortition", sortition_walk),
];
