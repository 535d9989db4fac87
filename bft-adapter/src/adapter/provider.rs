//! [`RealProvider`]: real BLS12-381 keys and VRF sortition for the simulator.
//!
//! Threshold mode runs the Joint-Feldman DKG of `conclave-dkg` among the seats (n = seats,
//! t = ⌊(n+f)/2⌋, every participant in process) and hands each seat its DKG share; the
//! simulation's faulty seats may also misbehave in the DKG (they deal bad shares and are
//! disqualified as dealers, yet still receive player shares so that they can attack the
//! agreement). [`KeySetup::TrustedDealer`] replaces the DKG with `threshold_sig::deal` (faster,
//! for large benchmarks); the report says which one ran.
//!
//! Signatures use the variant's IETF proof-of-possession ciphersuite DST
//! (`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` for min-pk), so a certificate verifies with
//! any BLS library (`conclave bls verify` defaults); the signed messages carry their own
//! `conclave-bft/...` domain prefixes. All key material derives from the simulation seed, so
//! runs are reproducible.

use super::params::{Ratio, SampledParams};
use super::sampled::{SampledSigner, SampledVerifier};
use super::sortition::{VrfRoster, VrfSortition};
use super::threshold::{ThresholdSigner, ThresholdVerifier};
use super::{CounterSnapshot, CryptoCounters};
use crate::engine::Adapters;
use crate::sim::{faulty_seats, CryptoProvider, CryptoSetup, Mode, SampledPublic, SimConfig};
use crate::types::{NodeId, Seed};
use conclave_committee::vrf::SecretKey as VrfSecretKey;
use conclave_dkg::sim::{
    dkg_parties, run_parties_with_progress, Behaviour, SimConfig as DkgSimConfig,
    SimVariant as DkgSimVariant,
};
use conclave_threshold_sig::{
    deal, standard_dst, Commitment, MinPk, MinSig, Scheme, SecretKey, SecretShare, Variant,
};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Which BLS variant signs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VariantChoice {
    /// Public keys in G1 (48 B), signatures in G2 (96 B).
    #[default]
    MinPk,
    /// Public keys in G2 (96 B), signatures in G1 (48 B).
    MinSig,
}

impl VariantChoice {
    /// `"min-pk"` or `"min-sig"` (the CLI's `--variant` names).
    pub fn name(self) -> &'static str {
        match self {
            VariantChoice::MinPk => MinPk::NAME,
            VariantChoice::MinSig => MinSig::NAME,
        }
    }
}

/// How the threshold key is created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeySetup {
    /// The dealer-free DKG of `conclave-dkg`, run among the seats.
    #[default]
    Dkg,
    /// A trusted dealer (`conclave_threshold_sig::deal`): for benchmarks only.
    TrustedDealer,
}

impl KeySetup {
    /// `"dkg"` or `"trusted-dealer"`.
    pub fn name(self) -> &'static str {
        match self {
            KeySetup::Dkg => "dkg",
            KeySetup::TrustedDealer => "trusted-dealer",
        }
    }
}

/// What the last [`RealProvider::setup`] did (for reports).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SetupInfo {
    /// `"dkg"`, `"trusted-dealer"` or, in sampled mode, `"individual-keys"`.
    pub key_setup: String,
    /// Degree of the threshold key (threshold mode).
    pub threshold: Option<u32>,
    /// Sampled mode: expected committee weight per step.
    pub tau_step: Option<u64>,
    /// Sampled mode: the honest-stake model and its computed failure probabilities.
    pub sampled: Option<SampledSetup>,
    /// DKG: seats (0-based) that misbehaved in the DKG.
    pub dkg_byzantine: Vec<u32>,
    /// DKG: qualified dealers (0-based seats).
    pub dkg_qualified: Vec<u32>,
    /// DKG: disqualified dealers (0-based seats) with the reason.
    pub dkg_disqualified: Vec<(u32, String)>,
    /// DKG: broadcast messages.
    pub dkg_messages: u64,
    /// DKG: bytes broadcast.
    pub dkg_bytes: u64,
    /// Wall-clock milliseconds of the key setup.
    pub setup_wall_ms: u64,
}

/// The sampled-mode model of a setup, for reports (probabilities as display values).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SampledSetup {
    /// The stated honest fraction of stake.
    pub honest_fraction: String,
    /// Faulty seats the stated fraction allows.
    pub faulty_assumed: u32,
    /// Faulty seats in the run.
    pub faulty_actual: u32,
    /// Quorum weight ⌈T·τ⌉.
    pub quorum: u64,
    /// Step threshold T.
    pub threshold_per_step: String,
    /// Per-step failure target.
    pub failure_target: f64,
    /// Per-step probability of two conflicting quorums at the stated fraction.
    pub safety_failure: f64,
    /// Per-step probability that honest voters miss the quorum at the stated fraction.
    pub liveness_failure: f64,
    /// The same two with the run's actual faulty seats.
    pub actual_safety_failure: f64,
    /// See `actual_safety_failure`.
    pub actual_liveness_failure: f64,
    /// Union bound on a safety failure within one height at the stated fraction
    /// ([`SampledParams::height_failure`]).
    #[serde(default)]
    pub height_safety_failure: f64,
    /// Upper bound on the expected periods of a height at the stated fraction (infinite when
    /// unbounded).
    #[serde(default)]
    pub expected_periods: f64,
    /// `height_safety_failure` with the run's actual faulty seats.
    #[serde(default)]
    pub actual_height_safety_failure: f64,
}

impl SampledSetup {
    fn new(params: &SampledParams, faulty: u32) -> Self {
        let actual = params.failure_with_faulty(faulty.min(params.seats())).ok();
        SampledSetup {
            honest_fraction: params.honest_fraction().to_string(),
            faulty_assumed: params.faulty(),
            faulty_actual: faulty,
            quorum: params.quorum(),
            threshold_per_step: params.threshold_per_step().to_string(),
            failure_target: params.failure_target().to_f64(),
            safety_failure: params.safety_failure().to_f64(),
            liveness_failure: params.liveness_failure().to_f64(),
            actual_safety_failure: actual.map_or(f64::NAN, |f| f.safety.to_f64()),
            actual_liveness_failure: actual.map_or(f64::NAN, |f| f.liveness.to_f64()),
            height_safety_failure: params.height_failure().safety.to_f64(),
            expected_periods: params
                .height_failure()
                .expected_periods
                .map_or(f64::INFINITY, Ratio::to_f64),
            actual_height_safety_failure: params
                .height_failure_with_faulty(faulty.min(params.seats()))
                .map_or(f64::NAN, |h| h.safety.to_f64()),
        }
    }
}

/// The real crypto backend of the simulator (`conclave simulate --crypto real`).
#[derive(Debug, Default)]
pub struct RealProvider {
    /// Signature variant.
    pub variant: VariantChoice,
    /// Threshold-mode key generation.
    pub key_setup: KeySetup,
    /// Give the simulation's faulty seats the DKG's `bad-share` behaviour (default true; at most
    /// `n − t − 1` of them, the most a DKG with `t+1` qualified dealers tolerates).
    pub byzantine_dkg: Option<bool>,
    /// Sampled mode: expected committee weight per step (default: min(n, 2000), Algorand's τ_step).
    pub tau_step: Option<u64>,
    /// Sampled mode: the stated honest fraction of stake (default 4/5).
    pub honest_fraction: Option<Ratio>,
    /// Sampled mode: the step threshold T (default 0.685).
    pub threshold_per_step: Option<Ratio>,
    /// Sampled mode: the largest acceptable per-step failure probability (default 1e-9).
    pub failure_target: Option<Ratio>,
    /// Threshold mode: also give every seat an individual BLS key (with a proof of possession)
    /// and sign every vote and proposal with it too, so equivocation evidence is attributable.
    pub attributable: bool,
    last: Mutex<Option<SetupInfo>>,
    counters: Mutex<Option<Arc<CryptoCounters>>>,
    setup_progress: Option<SetupProgress>,
}

/// A callback for the DKG phase of [`RealProvider`]'s setup: `(done, total)` work units.
#[derive(Clone)]
pub struct SetupProgress(Arc<dyn Fn(u64, u64) + Send + Sync>);

impl SetupProgress {
    /// Wraps `f`, called from the thread that runs the setup.
    pub fn new(f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        SetupProgress(Arc::new(f))
    }
}

impl std::fmt::Debug for SetupProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetupProgress")
    }
}

impl RealProvider {
    /// Defaults: min-pk, DKG among the seats with Byzantine dealers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The crypto work counters of the last setup's verifier (all seats share it).
    pub fn last_counters(&self) -> Option<CounterSnapshot> {
        self.counters
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|c| c.snapshot()))
    }

    fn keep_counters(&self, counters: &Arc<CryptoCounters>) {
        if let Ok(mut g) = self.counters.lock() {
            *g = Some(counters.clone());
        }
    }

    /// Sets the signature variant.
    pub fn with_variant(mut self, variant: VariantChoice) -> Self {
        self.variant = variant;
        self
    }

    /// Reports the progress of the threshold-mode DKG (for progress bars).
    pub fn with_setup_progress(mut self, progress: SetupProgress) -> Self {
        self.setup_progress = Some(progress);
        self
    }

    /// Sets the threshold-mode key generation.
    pub fn with_key_setup(mut self, key_setup: KeySetup) -> Self {
        self.key_setup = key_setup;
        self
    }

    /// Threshold mode: votes also carry individual signatures (attributable evidence).
    pub fn with_attributable(mut self, attributable: bool) -> Self {
        self.attributable = attributable;
        self
    }

    /// Sets the expected committee weight per step of sampled mode.
    pub fn with_tau_step(mut self, tau: u64) -> Self {
        self.tau_step = Some(tau);
        self
    }

    /// Sets the stated honest fraction of stake of sampled mode.
    pub fn with_honest_fraction(mut self, honest: Ratio) -> Self {
        self.honest_fraction = Some(honest);
        self
    }

    /// Sets the per-step failure target of sampled mode (`Ratio::new(1, 1)` accepts any
    /// parameters: for tests that attack deliberately unsafe committees).
    pub fn with_failure_target(mut self, target: Ratio) -> Self {
        self.failure_target = Some(target);
        self
    }

    /// The sampled-mode parameters this provider uses for `n` seats (refused above the target).
    pub fn sampled_params(&self, n: u32) -> Result<SampledParams, String> {
        SampledParams::new(
            n,
            self.honest_fraction
                .unwrap_or(SampledParams::DEFAULT_HONEST_FRACTION),
            self.tau_step
                .unwrap_or(SampledParams::DEFAULT_TAU)
                .clamp(1, u64::from(n.max(1))),
            self.threshold_per_step
                .unwrap_or(SampledParams::DEFAULT_THRESHOLD),
            self.failure_target
                .unwrap_or(SampledParams::DEFAULT_FAILURE_TARGET),
        )
        .map_err(|e| e.to_string())
    }

    /// The information of the last successful setup.
    pub fn last_setup(&self) -> Option<SetupInfo> {
        self.last.lock().ok().and_then(|g| g.clone())
    }

    fn record(&self, info: SetupInfo) {
        if let Ok(mut g) = self.last.lock() {
            *g = Some(info);
        }
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"conclave-bft/real-provider/v1")
        .chain_update(master)
        .chain_update((label.len() as u64).to_be_bytes())
        .chain_update(label)
        .finalize()
        .into()
}

/// The degree of the threshold key for n seats: t = ⌊(n+f)/2⌋ with f = ⌊(n−1)/3⌋, so that the
/// quorum t+1 is the general BFT quorum (2f+1 for n = 3f+1).
pub fn threshold_degree(n: u32) -> u32 {
    let f = n.saturating_sub(1) / 3;
    (n + f) / 2
}

impl CryptoProvider for RealProvider {
    fn setup(&self, config: &SimConfig) -> Result<CryptoSetup, String> {
        match (config.mode, self.variant) {
            (Mode::Threshold, VariantChoice::MinPk) => self.threshold::<MinPk>(config),
            (Mode::Threshold, VariantChoice::MinSig) => self.threshold::<MinSig>(config),
            (Mode::Sampled, VariantChoice::MinPk) => self.sampled::<MinPk>(config),
            (Mode::Sampled, VariantChoice::MinSig) => self.sampled::<MinSig>(config),
        }
    }
}

impl RealProvider {
    fn master(&self, config: &SimConfig) -> [u8; 32] {
        Sha256::new()
            .chain_update(b"conclave-bft/simulation-keys/v1")
            .chain_update(self.variant.name())
            .chain_update(config.seed.to_be_bytes())
            .finalize()
            .into()
    }

    fn vrf(
        &self,
        master: &[u8; 32],
        n: u32,
        tau: Option<u64>,
    ) -> Result<(Vec<VrfSecretKey>, Arc<VrfRoster>), String> {
        let seed = derive(master, b"vrf");
        let secrets: Vec<VrfSecretKey> = (0..n)
            .map(|i| VrfSecretKey::derive(&seed, u64::from(i)))
            .collect();
        let roster = VrfRoster::new(0, secrets.iter().map(|k| k.public_key()).collect(), tau)
            .map_err(|e| e.to_string())?;
        Ok((secrets, Arc::new(roster)))
    }

    /// Runs the DKG (or deals) and returns the commitment and every seat's share.
    fn threshold_keys<V: Variant>(
        &self,
        config: &SimConfig,
        master: &[u8; 32],
        t: u32,
        info: &mut SetupInfo,
    ) -> Result<(Commitment<V>, Vec<SecretShare>), String> {
        let n = config.nodes;
        if self.key_setup == KeySetup::TrustedDealer {
            let mut rng = rand_chacha::ChaCha20Rng::from_seed(derive(master, b"dealer"));
            let dealing = deal::<V>(n, t, &mut rng).map_err(|e| e.to_string())?;
            return Ok((dealing.commitment, dealing.shares));
        }
        // A DKG needs t+1 qualified dealers, so at most n−t−1 dealers can misbehave before it
        // refuses to produce a key. Runs with more faulty seats than that (e.g. f+1 to show that
        // consensus safety then breaks) give the DKG behaviour to the first n−t−1 of them only.
        let byzantine: Vec<u32> = if self.byzantine_dkg.unwrap_or(true) {
            faulty_seats(config)
                .into_iter()
                .map(|s| s.0)
                .take(n.saturating_sub(t + 1) as usize)
                .collect()
        } else {
            Vec::new()
        };
        let dkg_config = DkgSimConfig::new(DkgSimVariant::of::<V>(), n, t, derive(master, b"dkg"))
            .with_byzantine(
                byzantine
                    .iter()
                    .map(|s| (s + 1, Behaviour::BadShare))
                    .collect(),
            );
        let mut parties = dkg_parties::<V>(&dkg_config).map_err(|e| format!("DKG: {e}"))?;
        let hook = self.setup_progress.clone();
        let (results, metrics) = run_parties_with_progress(&mut parties, &mut |done, total| {
            if let Some(SetupProgress(f)) = &hook {
                f(done, total);
            }
        })
        .map_err(|e| format!("DKG: {e}"))?;
        let honest = parties
            .iter()
            .zip(&results)
            .find(|(p, r)| p.honest && r.is_some())
            .and_then(|(_, r)| r.as_ref())
            .ok_or("DKG: no honest participant finished")?;
        let commitment = honest.commitment.clone();
        info.dkg_byzantine = byzantine;
        info.dkg_qualified = honest.qualified.iter().map(|i| i - 1).collect();
        info.dkg_disqualified = honest
            .disqualified
            .iter()
            .map(|d| (d.index - 1, d.reason.as_str().to_string()))
            .collect();
        info.dkg_messages = metrics.messages;
        info.dkg_bytes = metrics.bytes;
        let mut shares = Vec::with_capacity(n as usize);
        for (seat, (party, result)) in parties.iter().zip(&results).enumerate() {
            let output = result
                .as_ref()
                .ok_or_else(|| format!("DKG: seat {seat} did not finish"))?;
            if party.honest && output.commitment != commitment {
                return Err("DKG: honest participants disagree on the group key".into());
            }
            let share = output
                .shares
                .iter()
                .find(|s| s.index() == seat as u32 + 1)
                .cloned()
                .ok_or_else(|| format!("DKG: seat {seat} holds no share"))?;
            if !share.verify::<V>(&commitment) {
                return Err(format!(
                    "DKG: seat {seat}'s share does not match the group key"
                ));
            }
            shares.push(share);
        }
        Ok((commitment, shares))
    }

    fn threshold<V: Variant>(&self, config: &SimConfig) -> Result<CryptoSetup, String> {
        let start = Instant::now();
        let n = config.nodes;
        let t = threshold_degree(n);
        let master = self.master(config);
        let dst = standard_dst::<V>(Scheme::ProofOfPossession);
        let mut info = SetupInfo {
            key_setup: self.key_setup.name().into(),
            threshold: Some(t),
            ..SetupInfo::default()
        };
        let (commitment, shares) = self.threshold_keys::<V>(config, &master, t, &mut info)?;
        let group_public_key = commitment.group_public_key().to_bytes();
        let mut verifier =
            ThresholdVerifier::new(commitment, n, &dst, derive(&master, b"batch-salt"))
                .map_err(|e| e.to_string())?;
        let mut individual: Vec<Option<SecretKey>> = (0..n).map(|_| None).collect();
        if self.attributable {
            let seed = derive(&master, b"individual-keys");
            let mut keys = Vec::with_capacity(n as usize);
            for (i, slot) in individual.iter_mut().enumerate() {
                let key = SecretKey::key_gen(&derive(&seed, &(i as u64).to_be_bytes()))
                    .map_err(|e| e.to_string())?;
                keys.push((key.public_key::<V>(), key.pop_prove::<V>()));
                *slot = Some(key);
            }
            verifier = verifier
                .with_individual_keys(&keys)
                .map_err(|e| e.to_string())?;
        }
        let verifier = Arc::new(verifier);
        self.keep_counters(&verifier.counters);
        let (vrf, roster) = self.vrf(&master, n, None)?;
        let mut adapters = Vec::with_capacity(n as usize);
        for (i, ((share, secret), key)) in shares.into_iter().zip(vrf).zip(individual).enumerate() {
            let id = NodeId(i as u32);
            let mut signer =
                ThresholdSigner::<V>::new(id, share, &dst).map_err(|e| e.to_string())?;
            if let Some(key) = key {
                signer = signer.with_individual_key(key);
            }
            adapters.push(Adapters {
                committee: verifier.clone(),
                sortition: Arc::new(VrfSortition::new(id, secret, roster.clone())),
                signer: Arc::new(signer),
                verifier: verifier.clone(),
            });
        }
        info.setup_wall_ms = start.elapsed().as_millis() as u64;
        self.record(info);
        Ok(CryptoSetup {
            variant: V::NAME.into(),
            dst: String::from_utf8_lossy(&dst).into_owned(),
            group_public_key,
            genesis_seed: Seed(derive(&master, b"genesis")),
            adapters,
            verifier,
            sampled: None,
        })
    }

    fn sampled<V: Variant>(&self, config: &SimConfig) -> Result<CryptoSetup, String> {
        let start = Instant::now();
        let n = config.nodes;
        let master = self.master(config);
        let dst = standard_dst::<V>(Scheme::ProofOfPossession);
        let params = self.sampled_params(n)?;
        let tau = params.tau_per_step();
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(derive(&master, b"bls-keys"));
        let secrets: Vec<SecretKey> = (0..n).map(|_| SecretKey::random(&mut rng)).collect();
        // Registration: each key with its proof of possession (checked by the verifier).
        let registrations: Vec<_> = secrets
            .iter()
            .map(|sk| (sk.public_key::<V>(), sk.pop_prove::<V>()))
            .collect();
        let (vrf, roster) = self.vrf(&master, n, Some(tau))?;
        let genesis = derive(&master, b"genesis");
        let threshold = params.threshold_per_step();
        let public = SampledPublic {
            epoch: 0,
            genesis,
            bls_keys: registrations.iter().map(|(k, _)| k.to_bytes()).collect(),
            proofs_of_possession: registrations.iter().map(|(_, p)| p.to_bytes()).collect(),
            vrf_keys: vrf.iter().map(|k| k.public_key().to_bytes()).collect(),
            tau_step: tau,
            threshold: (threshold.numerator, threshold.denominator),
        };
        let verifier = Arc::new(
            SampledVerifier::new(
                0,
                genesis,
                registrations,
                roster.clone(),
                &params,
                &dst,
                derive(&master, b"batch-salt"),
            )
            .map_err(|e| e.to_string())?,
        );
        self.keep_counters(&verifier.counters);
        let adapters = secrets
            .into_iter()
            .zip(vrf)
            .enumerate()
            .map(|(i, (sk, secret))| {
                let id = NodeId(i as u32);
                Ok(Adapters {
                    committee: verifier.clone(),
                    sortition: Arc::new(VrfSortition::new(id, secret, roster.clone())),
                    signer: Arc::new(
                        SampledSigner::<V>::new(id, sk, &dst).map_err(|e| e.to_string())?,
                    ),
                    verifier: verifier.clone(),
                })
            })
            .collect::<Result<_, String>>()?;
        self.record(SetupInfo {
            key_setup: "individual-keys".into(),
            tau_step: Some(tau),
            sampled: Some(SampledSetup::new(&params, config.faulty)),
            setup_wall_ms: start.elapsed().as_millis() as u64,
            ..SetupInfo::default()
        });
        Ok(CryptoSetup {
            variant: V::NAME.into(),
            dst: String::from_utf8_lossy(&dst).into_owned(),
            group_public_key: Vec::new(),
            genesis_seed: verifier.genesis_seed(),
            adapters,
            verifier,
            sampled: Some(public),
        })
    }
}
