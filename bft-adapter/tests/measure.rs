//! Throughput and cost figures (run with `cargo test -p conclave-bft --release --test measure -- --ignored --nocapture`).

use conclave_bft::mock::MockCrypto;
use conclave_bft::sim::{
    run_simulation, AdversaryKind, CryptoProvider, CryptoSetup, Mode, SimConfig,
};
use conclave_bft::types::NodeId;
use std::sync::atomic::Ordering;

struct Counted(MockCrypto);

impl CryptoProvider for Counted {
    fn setup(&self, config: &SimConfig) -> Result<CryptoSetup, String> {
        assert_eq!(config.mode, Mode::Threshold);
        Ok(CryptoSetup {
            variant: "mock".into(),
            dst: "mock".into(),
            group_public_key: self.0.group_public_key().to_vec(),
            genesis_seed: self.0.genesis_seed(),
            adapters: (0..config.nodes)
                .map(|i| self.0.adapters(NodeId(i)))
                .collect(),
            verifier: self.0.verifier(),
            sampled: None,
        })
    }
}

#[test]
#[ignore]
fn measure() {
    for (nodes, faulty, adversary) in [
        (4, 0, AdversaryKind::Silent),
        (16, 0, AdversaryKind::Silent),
        (64, 0, AdversaryKind::Silent),
        (16, 5, AdversaryKind::Mixed),
        (64, 21, AdversaryKind::Mixed),
    ] {
        let mut c = SimConfig::new(nodes);
        c.faulty = faulty;
        c.adversary = adversary;
        c.heights = 50;
        c.duplicate = 0.0;
        let crypto = MockCrypto::new(nodes, c.seed);
        let provider = Counted(crypto.clone());
        let r = run_simulation(&c, &provider).unwrap();
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        let h = c.heights as f64;
        let stats = &crypto.verifier().stats;
        let per = |x: &std::sync::atomic::AtomicU64| {
            x.load(Ordering::Relaxed) as f64 / h / f64::from(nodes)
        };
        println!(
            "N={nodes:3} F={faulty:2} {adversary:>5}: {:7.1} msgs/decision ({:5.2} per node per step), {:8.0} bytes/decision, cert {} B, max period {}, {:6.0} decisions/wall-s, per node per decision: {:.2} batch verifies ({:.1} shares), {:.2} single verifies, {:.2} combines",
            r.metrics.messages as f64 / h,
            r.metrics.messages as f64 / h / f64::from(nodes) / 3.0,
            r.metrics.bytes as f64 / h,
            r.summary.certificate_bytes,
            r.metrics.max_period,
            h / (r.metrics.wall_ms.max(1) as f64 / 1000.0),
            per(&stats.batch_verifications),
            per(&stats.batched_shares),
            per(&stats.single_verifications),
            per(&stats.combines),
        );
    }
}
