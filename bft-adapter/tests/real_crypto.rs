//! The simulator over the real adapter: BLS12-381 threshold keys from the DKG among the seats,
//! VRF sortition, and (sampled mode) multisignature certificates.

use conclave_bft::adapter::{Ratio, RealProvider, VariantChoice};
use conclave_bft::sim::{run_simulation, AdversaryKind, Mode, SimConfig, SimReport};
use conclave_threshold_sig::{Ciphersuite, MinPk, MinSig, PublicKey, Scheme, Signature, Variant};

fn config(nodes: u32, adversary: AdversaryKind, seed: u64, heights: u64) -> SimConfig {
    let mut c = SimConfig::new(nodes);
    c.adversary = adversary;
    c.seed = seed;
    c.heights = heights;
    c
}

fn assert_clean(r: &SimReport) {
    assert!(
        r.violations.is_empty(),
        "{:?} N={}: violations {:?}",
        r.config.adversary,
        r.config.nodes,
        r.violations
    );
    assert_eq!(r.summary.heights_decided, r.config.heights);
    for e in &r.evidence {
        assert!(r.faulty.contains(&e.culprit.0), "honest node blamed: {e:?}");
    }
}

/// Every certificate in the report verifies as an ordinary BLS signature under the group key.
fn certificates_verify<V: Variant>(r: &SimReport) -> usize {
    let pk = PublicKey::<V>::from_bytes(&hex::decode(&r.group_public_key).unwrap()).unwrap();
    let suite =
        Ciphersuite::<V>::with_dst(Scheme::ProofOfPossession, r.dst.as_bytes().to_vec()).unwrap();
    let mut checked = 0;
    for d in r.decisions.values().flatten() {
        let msg = hex::decode(&d.certificate.message).unwrap();
        let sig = hex::decode(&d.certificate.signature).unwrap();
        assert_eq!(sig.len(), V::SIGNATURE_SIZE);
        let sig = Signature::<V>::from_bytes(&sig).unwrap();
        assert!(
            pk.verify(&suite, &msg, &sig),
            "certificate of height {}",
            d.height
        );
        let mut wrong = msg.clone();
        *wrong.last_mut().unwrap() ^= 1;
        assert!(!pk.verify(&suite, &wrong, &sig));
        checked += 1;
    }
    checked
}

/// Every adversary (and the mix) with F = f on N seats, over `seeds`, `heights` heights each.
fn adversary_matrix(nodes: u32, heights: u64, seeds: &[u64]) {
    let mut kinds = AdversaryKind::CONCRETE.to_vec();
    kinds.push(AdversaryKind::Mixed);
    adversaries(&kinds, nodes, heights, seeds);
}

/// `kinds` with F = f on N seats, over `seeds`, `heights` heights each.
fn adversaries(kinds: &[AdversaryKind], nodes: u32, heights: u64, seeds: &[u64]) {
    let provider = RealProvider::new();
    for (i, &kind) in kinds.iter().enumerate() {
        for &seed in seeds {
            let c = config(nodes, kind, seed + 10 * i as u64, heights);
            let r = run_simulation(&c, &provider).expect("valid configuration");
            assert_clean(&r);
            assert_eq!(r.dst, "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_");
            assert!(certificates_verify::<MinPk>(&r) > 0);
            let info = provider.last_setup().unwrap();
            assert_eq!(info.key_setup, "dkg");
            // The faulty seats dealt bad shares in the DKG and were disqualified.
            assert_eq!(info.dkg_byzantine, r.faulty);
            assert_eq!(info.dkg_disqualified.len(), r.faulty.len());
        }
    }
}

// What the adversary matrix checks with real crypto (clean runs, certificates as plain BLS,
// the DKG disqualifying every faulty dealer) does not depend on the committee size, so CI runs
// every adversary at N = 4 and N = 7 and the mix (five adversaries at once) at N = 16; the full
// matrices of before (three seeds at N = 4, two at N = 7, every adversary at N = 16) run with
// `cargo test -p conclave-bft --test real_crypto -- --ignored`.

#[test]
fn every_adversary_n4_real_crypto() {
    adversary_matrix(4, 2, &[1]);
}

#[test]
fn every_adversary_n7_real_crypto() {
    adversary_matrix(7, 1, &[1]);
}

#[test]
fn mixed_adversaries_n16_real_crypto() {
    adversaries(&[AdversaryKind::Mixed], 16, 1, &[1]);
}

#[test]
#[ignore = "long (minutes in the debug test profile): the full real-crypto adversary matrices"]
fn every_adversary_real_crypto_full_matrices() {
    adversary_matrix(4, 2, &[1, 2, 3]);
    adversary_matrix(7, 1, &[1, 2]);
    adversary_matrix(16, 1, &[1]);
}

#[test]
fn one_fault_too_many_breaks_safety_accountably() {
    // F = f + 1 split-brain proposers with real signatures break agreement, and the evidence
    // (verified signatures) names at least f + 1 distinct faulty culprits.
    // (Seed 1: since quorum bundles are forwarded at once, the split of seed 0 no longer
    // succeeds; seeds 1, 4 and 6 of 0..12 still break agreement.)
    let provider = RealProvider::new();
    let mut c = config(4, AdversaryKind::ConflictingProposals, 1, 2);
    c.faulty = 2;
    let r = run_simulation(&c, &provider).unwrap();
    assert!(
        r.violations.iter().any(|v| v.starts_with("agreement")),
        "{:?}",
        r.violations
    );
    assert_eq!(r.exit_code(), 3);
    let culprits: std::collections::BTreeSet<u32> =
        r.evidence.iter().map(|e| e.culprit.0).collect();
    assert!(culprits.len() >= 2, "{:?}", r.evidence);
    assert!(culprits.iter().all(|c| r.faulty.contains(c)));
}

#[test]
fn same_seed_same_report_with_real_crypto() {
    let provider = RealProvider::new();
    let c = config(7, AdversaryKind::Mixed, 42, 3);
    let mut a = serde_json::to_value(run_simulation(&c, &provider).unwrap()).unwrap();
    let mut b = serde_json::to_value(run_simulation(&c, &provider).unwrap()).unwrap();
    a["metrics"]["wall_ms"] = 0.into();
    b["metrics"]["wall_ms"] = 0.into();
    assert_eq!(a, b);
    let mut other = c.clone();
    other.seed = 43;
    let mut d = serde_json::to_value(run_simulation(&other, &provider).unwrap()).unwrap();
    d["metrics"]["wall_ms"] = 0.into();
    assert_ne!(a["group_public_key"], d["group_public_key"]);
}

#[test]
fn min_sig_certificates_are_48_bytes_and_verify() {
    let provider = RealProvider::new().with_variant(VariantChoice::MinSig);
    let r = run_simulation(&config(4, AdversaryKind::Equivocate, 9, 2), &provider).unwrap();
    assert_clean(&r);
    assert_eq!(r.variant, "min-sig");
    assert_eq!(r.dst, "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_");
    assert!(certificates_verify::<MinSig>(&r) > 0);
}

#[test]
fn certificate_size_is_constant_in_the_committee_size() {
    let provider = RealProvider::new();
    let small = run_simulation(&config(4, AdversaryKind::Silent, 1, 1), &provider).unwrap();
    let large = run_simulation(&config(16, AdversaryKind::Silent, 1, 1), &provider).unwrap();
    assert_eq!(
        small.summary.certificate_bytes,
        large.summary.certificate_bytes
    );
    // epoch, height, period, value id, two 96-byte signatures (plus length prefixes).
    assert!(small.summary.certificate_bytes < 300);
}

/// Sampled committees (τ < N) with `kinds`: clean runs whose certificates carry the voters'
/// credentials (and pass the oracle's independent sampled check).
fn sampled_committees(nodes: u32, tau: u64, faulty: u32, kinds: &[AdversaryKind]) {
    // (Far from 1e-9 per step at 80% honest stake — see `SampledParams` — so the target is
    // lifted explicitly: this test checks the mechanics, not the parameters.)
    let provider = RealProvider::new()
        .with_tau_step(tau)
        .with_failure_target(Ratio::new(1, 1));
    let quorum = (685 * tau).div_ceil(1000);
    for &kind in kinds {
        let mut c = config(nodes, kind, 3, 2);
        c.mode = Mode::Sampled;
        c.faulty = faulty;
        let r = run_simulation(&c, &provider).unwrap();
        assert_clean(&r);
        assert_eq!(provider.last_setup().unwrap().tau_step, Some(tau));
        // Certificates carry the voters' credentials: larger than a threshold signature.
        assert!(r.summary.certificate_bytes > quorum as usize * 120);
    }
}

#[test]
#[ignore = "long (minutes in the debug test profile): sampled committees of 40 seats"]
fn sampled_mode_end_to_end_40_seats() {
    // 40 seats, 4 faulty, expected committee weight 30 per step, quorum ⌈0.685·30⌉ = 21.
    sampled_committees(
        40,
        30,
        4,
        &[AdversaryKind::Equivocate, AdversaryKind::Mixed],
    );
}

#[test]
fn sampled_mode_end_to_end() {
    // 20 seats, 2 faulty (equivocate and conflicting proposals, the mix's first two), expected
    // committee weight 15 per step, quorum ⌈0.685·15⌉ = 11: committees are samples (τ < N),
    // which is what this checks; the 40-seat run above is the same at twice the size.
    sampled_committees(20, 15, 2, &[AdversaryKind::Mixed]);
    // With every seat on every committee it is a plain multisignature scheme.
    let mut c = config(7, AdversaryKind::InvalidSig, 4, 2);
    c.mode = Mode::Sampled;
    let r = run_simulation(&c, &RealProvider::new()).unwrap();
    assert_clean(&r);
}

#[test]
fn one_batch_verification_and_one_combine_per_quorum() {
    // No faults, no duplicates: every node settles each quorum with one batch verification
    // (two for cert votes: votes and beacon shares) and combines once per certificate, instead
    // of one pairing per vote.
    let provider = RealProvider::new();
    let mut c = config(16, AdversaryKind::Silent, 7, 3);
    c.faulty = 0;
    c.duplicate = 0.0;
    let r = run_simulation(&c, &provider).unwrap();
    assert_clean(&r);
    let k = provider.last_counters().unwrap();
    let per_node_height = |x: u64| x as f64 / 16.0 / 3.0;
    // soft + cert (votes and beacon) + next ⇒ about 4 batches per node and height.
    assert!(per_node_height(k.batch_verifications) <= 5.0, "{k:?}");
    assert!(
        k.batched_shares >= k.batch_verifications * 5,
        "batches are not singletons: {k:?}"
    );
    assert_eq!(k.batch_failures, 0);
    // Certificate and beacon only: the soft bundle a node would combine from its own tally is
    // forwarded after a delay, and not at all once the cert quorum has completed (issue #14
    // §1; three combines per node and height before).
    assert!(per_node_height(k.combines) <= 2.0, "{k:?}");
    // Single verifications are for proposals only (one per received proposal).
    let votes_seen = 16 * 15 * 3 * 3; // nodes × peers × heights × vote steps
    assert!(k.single_verifications < votes_seen / 3, "{k:?}");
}

/// Attributable threshold mode (every vote also signed with the seat's individual key) decides
/// like the default mode, with the Equivocate adversary proven by attributable evidence.
#[test]
fn attributable_mode_end_to_end() {
    use conclave_bft::adapter::KeySetup;
    let provider = RealProvider::new()
        .with_key_setup(KeySetup::TrustedDealer)
        .with_attributable(true);
    let r = run_simulation(&config(4, AdversaryKind::Equivocate, 5, 3), &provider).unwrap();
    assert_clean(&r);
    assert!(certificates_verify::<MinPk>(&r) > 0);
    let proven = r.evidence.iter().filter(|e| e.attributable).count();
    assert!(proven > 0, "no attributable evidence: {:?}", r.evidence);
}

/// The cost of attributable mode (run with `--release -- --ignored --nocapture`): wall time,
/// bytes on the wire and pairing work with and without individual signatures.
#[test]
#[ignore]
fn measure_attributable_mode_cost() {
    use conclave_bft::adapter::KeySetup;
    for nodes in [4u32, 16, 64] {
        for attributable in [false, true] {
            let provider = RealProvider::new()
                .with_key_setup(KeySetup::TrustedDealer)
                .with_attributable(attributable);
            let mut c = config(nodes, AdversaryKind::Silent, 1, 10);
            c.faulty = 0;
            let r = run_simulation(&c, &provider).unwrap();
            assert_clean(&r);
            let counters = provider.last_counters().unwrap();
            println!(
                "n={nodes:3} attributable={attributable:5} wall={:6} ms bytes={:10} batches={} batched_shares={}",
                r.metrics.wall_ms, r.metrics.bytes, counters.batch_verifications, counters.batched_shares
            );
        }
    }
}
