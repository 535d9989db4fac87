//! Each oracle of the simulator catches the fault it exists for: a planted fault ([`Plant`])
//! breaks exactly the property an oracle checks, and the same run without it is clean.

use conclave_bft::adapter::{KeySetup, RealProvider};
use conclave_bft::sim::{
    run_simulation_with, AdversaryKind, CrashPoint, CryptoProvider, LastWrite, MockProvider, Plant,
    SimConfig, SimOptions, SimReport,
};

fn config(nodes: u32, adversary: AdversaryKind, seed: u64, heights: u64) -> SimConfig {
    let mut c = SimConfig::new(nodes);
    c.adversary = adversary;
    c.seed = seed;
    c.heights = heights;
    c
}

fn run_with(c: &SimConfig, crypto: &dyn CryptoProvider, plant: Option<Plant>) -> SimReport {
    let options = SimOptions {
        plant,
        ..SimOptions::default()
    };
    run_simulation_with(c, crypto, &options, &mut |_| {}).expect("valid configuration")
}

fn has(r: &SimReport, prefix: &str) -> bool {
    r.violations.iter().any(|v| v.starts_with(prefix))
}

#[test]
fn a_planted_wrong_value_breaks_agreement() {
    let c = config(4, AdversaryKind::Silent, 0, 2);
    assert!(run_with(&c, &MockProvider, None).violations.is_empty());
    let r = run_with(&c, &MockProvider, Some(Plant::WrongValue));
    assert!(has(&r, "agreement"), "{:?}", r.violations);
    assert!(has(&r, "certificate"), "{:?}", r.violations);
    assert_eq!(r.exit_code(), 3);
}

#[test]
fn a_planted_bad_certificate_is_caught_by_mock_and_by_plain_bls() {
    let c = config(4, AdversaryKind::Equivocate, 1, 2);
    let r = run_with(&c, &MockProvider, Some(Plant::TamperCertificate));
    assert!(has(&r, "certificate"), "{:?}", r.violations);
    // Real threshold crypto: the oracle also checks the certificate as a BLS signature
    // under the group key with conclave-threshold-sig directly.
    let real = RealProvider::new().with_key_setup(KeySetup::TrustedDealer);
    let c = config(4, AdversaryKind::Silent, 2, 1);
    assert!(run_with(&c, &real, None).violations.is_empty());
    let r = run_with(&c, &real, Some(Plant::TamperCertificate));
    assert!(has(&r, "certificate"), "{:?}", r.violations);
}

#[test]
fn a_planted_accusation_of_an_honest_node_is_caught() {
    let c = config(7, AdversaryKind::Mixed, 3, 2);
    assert!(run_with(&c, &MockProvider, None).violations.is_empty());
    let r = run_with(&c, &MockProvider, Some(Plant::BlameHonest));
    assert!(has(&r, "blame"), "{:?}", r.violations);
}

#[test]
fn accountability_counts_only_evidence_that_verifies() {
    // F = f + 1 split-brain proposers: find a seed where agreement breaks.
    let fork = (0..16)
        .map(|seed| {
            let mut c = config(4, AdversaryKind::ConflictingProposals, seed, 4);
            c.faulty = 2;
            c
        })
        .find(|c| has(&run_with(c, &MockProvider, None), "agreement"))
        .expect("some seed forks with F = f + 1");
    // The honest nodes' forensic exchange proves both faulty seats.
    let r = run_with(&fork, &MockProvider, None);
    assert!(!has(&r, "accountability"), "{:?}", r.violations);
    // Without transcripts, forged claims against the very same seats prove nothing.
    let r = run_with(&fork, &MockProvider, Some(Plant::ForgedAccountability));
    assert!(has(&r, "agreement"), "{:?}", r.violations);
    assert!(has(&r, "accountability"), "{:?}", r.violations);
    assert!(r
        .evidence
        .iter()
        .any(|e| r.faulty.contains(&e.culprit.0) && e.attributable));
}

#[test]
fn stalled_periods_after_gst_break_the_liveness_bound() {
    let c = config(4, AdversaryKind::Silent, 5, 2);
    assert!(run_with(&c, &MockProvider, None).violations.is_empty());
    // Nobody soft-votes in periods 1..=6: the nodes still decide, but only in period 7,
    // after more honest-led periods than the bound allows.
    let r = run_with(&c, &MockProvider, Some(Plant::DropFilterTimers(6)));
    assert_eq!(r.summary.heights_decided, 2);
    assert!(
        r.violations
            .iter()
            .any(|v| v.starts_with("liveness") && v.contains("honest-led")),
        "{:?}",
        r.violations
    );
}

#[test]
fn crashes_at_every_persist_point_are_harmless() {
    for point in [CrashPoint::AfterPersist, CrashPoint::BeforeDecide] {
        for last_write in [LastWrite::Kept, LastWrite::Lost, LastWrite::Torn] {
            let mut crashed = 0;
            for seed in 0..4 {
                let mut c = config(7, AdversaryKind::Mixed, seed, 5);
                c.crashes = 2;
                c.crash_point = point;
                c.last_write = last_write;
                let r = run_with(&c, &MockProvider, None);
                assert!(
                    r.violations.is_empty(),
                    "{point:?} {last_write:?} seed {seed}: {:?}",
                    r.violations
                );
                assert!(r.evidence.iter().all(|e| r.faulty.contains(&e.culprit.0)));
                crashed += r.summary.crashes;
            }
            assert!(crashed >= 4, "{point:?} {last_write:?}: {crashed} crashes");
        }
    }
}

/// How the test's sampled verifier forges the decision certificates it combines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Forge {
    /// No forgery (the baseline with the adapter's check disabled).
    None,
    /// A correct aggregate of one voter fewer than the quorum, honest weights.
    Underweight,
    /// The same, with one voter's credential claiming one more weight, so that the claimed
    /// weights reach the quorum (a check that trusts claimed weights would accept it).
    InflatedClaim,
}

/// The sampled adapter with its certificate check disabled (everything verifies) and a
/// `combine` that forges decision certificates as `forge` says. The honest engines and the
/// oracle's adapter-based check both use it, so only the independent check can object.
struct Unchecked {
    inner: std::sync::Arc<dyn conclave_bft::traits::Verifier>,
    forge: Forge,
    /// Forged certificates the real adapter was asked about, and how many it rejected.
    asked: std::sync::atomic::AtomicUsize,
    rejected: std::sync::atomic::AtomicUsize,
}

const MIN_PK_SIGNATURE: usize = 96;
const HEADER: usize = 23;
const ENTRY: usize = 4 + 120;

impl conclave_bft::traits::Verifier for Unchecked {
    fn verify_share(&self, signer: conclave_bft::types::NodeId, m: &[u8], s: &[u8]) -> bool {
        self.inner.verify_share(signer, m, s)
    }
    fn verify_batch(
        &self,
        m: &[u8],
        shares: &[conclave_bft::traits::Share<'_>],
    ) -> Result<(), Vec<conclave_bft::types::NodeId>> {
        self.inner.verify_batch(m, shares)
    }
    fn combine(
        &self,
        message: &[u8],
        shares: &[conclave_bft::traits::Share<'_>],
    ) -> Result<Vec<u8>, conclave_bft::traits::CombineError> {
        use conclave_threshold_sig::{aggregate_signatures, MinPk, Signature};
        let genuine = self.inner.combine(message, shares)?;
        let cert_step = genuine[MIN_PK_SIGNATURE + 20] == 2;
        if self.forge == Forge::None || !cert_step {
            return Ok(genuine);
        }
        // Sampled τ = N: every seat weighs 1, so the quorum is the number of entries.
        let count = (genuine.len() - MIN_PK_SIGNATURE - HEADER) / ENTRY;
        let kept = &shares[..count - 1];
        let sigs: Vec<Signature<MinPk>> = kept
            .iter()
            .map(|s| Signature::from_bytes(s.signature).unwrap())
            .collect();
        let mut out = aggregate_signatures(&sigs).unwrap().to_bytes();
        out.extend_from_slice(&genuine[MIN_PK_SIGNATURE..MIN_PK_SIGNATURE + HEADER - 2]);
        out.extend_from_slice(&(kept.len() as u16).to_be_bytes());
        for (i, s) in kept.iter().enumerate() {
            out.extend_from_slice(&s.signer.0.to_be_bytes());
            let mut credential = s.credential.to_vec();
            if i == 0 && self.forge == Forge::InflatedClaim {
                let w = u64::from_be_bytes(credential[112..].try_into().unwrap()) + 1;
                credential[112..].copy_from_slice(&w.to_be_bytes());
            }
            out.extend_from_slice(&credential);
        }
        Ok(out)
    }
    fn verify_certificate(&self, seed: &conclave_bft::types::Seed, m: &[u8], c: &[u8]) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let count = c.len().saturating_sub(MIN_PK_SIGNATURE + HEADER) / ENTRY;
        if self.forge != Forge::None && c.get(MIN_PK_SIGNATURE + 20) == Some(&2) && count == 2 {
            self.asked.fetch_add(1, Relaxed);
            if !self.inner.verify_certificate(seed, m, c) {
                self.rejected.fetch_add(1, Relaxed);
            }
        }
        true
    }
    fn combine_beacon(
        &self,
        message: &[u8],
        period: conclave_bft::types::Period,
        shares: &[conclave_bft::traits::Share<'_>],
    ) -> Result<Vec<u8>, conclave_bft::traits::CombineError> {
        self.inner.combine_beacon(message, period, shares)
    }
    fn verify_beacon(
        &self,
        seed: &conclave_bft::types::Seed,
        m: &[u8],
        p: conclave_bft::types::Period,
        c: &[u8],
    ) -> bool {
        self.inner.verify_beacon(seed, m, p, c)
    }
    fn value_id(&self, value: &[u8]) -> conclave_bft::types::ValueId {
        self.inner.value_id(value)
    }
    fn next_seed(
        &self,
        previous: &conclave_bft::types::Seed,
        c: &conclave_bft::types::Certificate,
    ) -> conclave_bft::types::Seed {
        self.inner.next_seed(previous, c)
    }
    fn verify_seal(
        &self,
        seed: &conclave_bft::types::Seed,
        height: conclave_bft::types::Height,
        seal: &[u8],
    ) -> Result<Option<conclave_bft::types::NodeId>, conclave_bft::traits::InvalidSeal> {
        self.inner.verify_seal(seed, height, seal)
    }
    fn attributable(&self) -> bool {
        self.inner.attributable()
    }
    fn signature_sizes(&self) -> conclave_bft::traits::SignatureSizes {
        self.inner.signature_sizes()
    }
}

/// The real sampled provider with [`Unchecked`] in place of its verifier.
struct UncheckedProvider {
    forge: Forge,
    verifier: std::sync::Mutex<Option<std::sync::Arc<Unchecked>>>,
}

impl CryptoProvider for UncheckedProvider {
    fn setup(&self, config: &SimConfig) -> Result<conclave_bft::sim::CryptoSetup, String> {
        let mut setup = RealProvider::new().setup(config)?;
        let unchecked = std::sync::Arc::new(Unchecked {
            inner: setup.verifier.clone(),
            forge: self.forge,
            asked: Default::default(),
            rejected: Default::default(),
        });
        *self.verifier.lock().unwrap() = Some(unchecked.clone());
        for a in &mut setup.adapters {
            a.verifier = unchecked.clone();
        }
        setup.verifier = unchecked;
        Ok(setup)
    }
}

#[test]
fn a_forged_sampled_certificate_is_caught_without_the_adapters_check() {
    use conclave_bft::sim::Mode;
    use std::sync::atomic::Ordering::Relaxed;
    let mut c = config(4, AdversaryKind::Silent, 3, 2);
    c.mode = Mode::Sampled;
    c.faulty = 0;
    // Genuine sampled certificates pass the independent check, with the adapter's check on
    // and off.
    assert!(run_with(&c, &RealProvider::new(), None)
        .violations
        .is_empty());
    let provider = |forge| UncheckedProvider {
        forge,
        verifier: Default::default(),
    };
    let r = run_with(&c, &provider(Forge::None), None);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    for forge in [Forge::Underweight, Forge::InflatedClaim] {
        let p = provider(forge);
        let r = run_with(&c, &p, None);
        // The engines decided on the forged certificates (their check is disabled) ...
        assert_eq!(r.summary.heights_decided, 2, "{forge:?}");
        // ... the adapter's own check, had it been on, would have refused each of them ...
        let v = p.verifier.lock().unwrap().clone().unwrap();
        assert!(v.asked.load(Relaxed) > 0, "{forge:?}");
        assert_eq!(v.rejected.load(Relaxed), v.asked.load(Relaxed), "{forge:?}");
        // ... and the oracle's independent check refuses them without it.
        let independent: Vec<&String> = r
            .violations
            .iter()
            .filter(|v| v.starts_with("certificate") && v.contains("independent check"))
            .collect();
        assert!(!independent.is_empty(), "{forge:?}: {:?}", r.violations);
        let reason = match forge {
            Forge::Underweight => "below the quorum",
            _ => "credential",
        };
        assert!(
            independent.iter().all(|v| v.contains(reason)),
            "{forge:?}: {independent:?}"
        );
    }
}
