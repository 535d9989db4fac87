//! The simulator over the real adapter: BLS12-381 threshold keys from the DKG, VRF sortition.

use conclave_bft::adapter::{KeySetup, RealProvider, VariantChoice};
use conclave_bft::sim::{run_simulation, AdversaryKind, Mode, SimConfig, SimReport};

fn config(nodes: u32, adversary: AdversaryKind, seed: u64, heights: u64) -> SimConfig {
    let mut c = SimConfig::new(nodes);
    c.adversary = adversary;
    c.seed = seed;
    c.heights = heights;
    c
}

fn assert_clean(r: &SimReport) {
    assert!(r.violations.is_empty(), "violations: {:?}", r.violations);
    assert_eq!(r.summary.heights_decided, r.config.heights);
    for e in &r.evidence {
        assert!(r.faulty.contains(&e.culprit.0), "honest node blamed: {e:?}");
    }
}

#[test]
fn smoke() {
    let t = std::time::Instant::now();
    let p = RealProvider::new();
    let r = run_simulation(&config(16, AdversaryKind::Mixed, 1, 5), &p).unwrap();
    assert_clean(&r);
    eprintln!(
        "{:?} {:?} {:?} {:?}",
        t.elapsed(),
        r.metrics,
        r.summary,
        p.last_setup()
    );
    let t = std::time::Instant::now();
    let r = run_simulation(&config(16, AdversaryKind::Silent, 1, 5), &p).unwrap();
    eprintln!("silent {:?} {:?}", t.elapsed(), r.metrics);
    let mut c = config(16, AdversaryKind::Silent, 1, 5);
    c.faulty = 0;
    let t = std::time::Instant::now();
    let r = run_simulation(&c, &p).unwrap();
    eprintln!("nofault {:?} {:?}", t.elapsed(), r.metrics);
}
