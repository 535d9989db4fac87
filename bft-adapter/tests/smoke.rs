use conclave_bft::sim::{run_simulation, AdversaryKind, MockProvider, SimConfig};

#[test]
fn smoke() {
    for (n, f, adv) in [(4, 0, AdversaryKind::Silent), (4, 1, AdversaryKind::Mixed), (16, 5, AdversaryKind::Mixed)] {
        let mut c = SimConfig::new(n);
        c.faulty = f;
        c.adversary = adv;
        c.heights = 5;
        let r = run_simulation(&c, &MockProvider).unwrap();
        eprintln!("n={n} f={f} violations={:?} metrics={:?} summary={:?} evidence={}", r.violations, r.metrics, r.summary, r.evidence.len());
    }
}
