//! One-shot side-by-side DKG timings, conclave next to commonware-cryptography's Joint-Feldman DKG
//! (`feldman_desmedt`), for sizes where criterion's ten-sample minimum is too slow (commonware's
//! whole run at n = 128 min-sig takes minutes):
//!
//! `cargo run --release -p conclave-benches --features peers --example dkg_peers --
//!  <n> <min-pk|min-sig> [verify|full|both] [reps]` (default `both`, 1 rep; one core:
//! `taskset -c 1 ./target/release/examples/dkg_peers 128 min-sig both 1`).
//!
//! t = 2f with f = ⌊(n−1)/3⌋, and commonware's quorum (the number of dealings it sums, its
//! polynomial's degree + 1) must be t+1 (asserted). For n = 3f+1 that is `N3f1` (quorum n − f).
//! For other n `N3f1`'s quorum exceeds t+1 (n = 128: f = 42, t = 84, quorum 86), so commonware
//! runs with `Quorum2f1` instead: the same rules with at most n − t − 1 faults, quorum 2f+1 = t+1.
//! The first line printed names the fault model.
//! Prints the best-of-reps wall time of each side and commonware/conclave:
//!
//! * `verify_all_dealings`: one player processing all n dealings. Ours: seat 2's participant
//!   after every dealer started (`sim::parties_and_dealings`), cloned, taking in every dealing
//!   (each signature checked on arrival), then `DeadlinePassed(Phase::Deal)`; commonware: a fresh `Player` taking every dealer's public and
//!   private message (`Player::dealer_message`, each must be `Valid`).
//! * `full`: a whole fresh DKG with every role in process: ours `sim::run_dkg` (seed `[4; 32]`, no
//!   faults), commonware `cw_full_run`. Both outputs are checked after the clock stops.
//!
//! This file is also the setup of the `dkg/verify_all_dealings/min-pk/64` and `dkg/full/min-pk/64`
//! criterion benchmarks: `benches/peers.rs` includes it as a module (its `main` unused there), so
//! the two measure the same code.

use std::time::Instant;

use commonware_cryptography::bls12381::dkg::feldman_desmedt::{
    Dealer, DealerPrivMsg, DealerPubMsg, Info, Logs, Output, Player, SignedDealerLog, Verdict,
};
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::bls12381::primitives::sharing::Mode;
use commonware_cryptography::bls12381::primitives::variant::{self, Variant as CwVariant};
use commonware_cryptography::ed25519::{self, PrivateKey, PublicKey};
use commonware_cryptography::Signer;
use commonware_parallel::Sequential;
use commonware_utils::{ordered::Set, Faults, N3f1, TryCollect};
use conclave_dkg::{sim, Input, Phase};
use conclave_threshold_sig::{MinPk, MinSig, Variant};
use num_traits::ToPrimitive;

/// The degree t = 2f, f = ⌊(n−1)/3⌋.
pub fn degree(n: u32) -> u32 {
    2 * ((n - 1) / 3)
}

/// Asserts that commonware's fault model `M` sums t+1 dealings (a degree-t polynomial) as ours.
pub fn check_quorum<M: Faults>(n: u32) {
    let t = degree(n);
    assert_eq!(
        M::quorum(n),
        t + 1,
        "n = {n}: commonware's quorum is not t+1 = {}",
        t + 1
    );
}

/// commonware's fault model with quorum t+1 = 2f+1, f = ⌊(n−1)/3⌋, for every n: at most
/// n − 2f − 1 faults. The same as `N3f1` for n = 3f+1; for other n `N3f1`'s quorum is n − f.
pub struct Quorum2f1;
impl Faults for Quorum2f1 {
    fn max_faults(n: impl ToPrimitive) -> u32 {
        let n = n.to_u32().expect("n fits in u32");
        n - degree(n) - 1
    }
}

/// Our whole-run configuration: t = 2f, seed `[4; 32]`, no faults.
pub fn sim_config<V: Variant>(n: u32) -> sim::SimConfig {
    sim::SimConfig::new(sim::SimVariant::of::<V>(), n, degree(n), [4u8; 32])
}

/// Our run's outcome: everyone qualified, no evidence, every player finished (`run_dkg` itself
/// checks that every share lies on the group's polynomial).
pub fn check_conclave(report: &sim::DkgReport, n: u32) {
    assert_eq!(report.qualified.len(), n as usize);
    assert!(report.disqualified.is_empty() && report.evidence.is_empty());
    assert_eq!(report.players.len(), n as usize);
}

/// commonware's participants: ed25519 keys from seeds 0..n.
fn cw_keys(n: u32) -> Vec<PrivateKey> {
    (0..n)
        .map(|i| PrivateKey::from_seed(u64::from(i)))
        .collect()
}

/// The round's `Info`: every participant both deals and plays.
pub fn info<C: CwVariant, M: Faults>(set: Set<PublicKey>) -> Info<C, PublicKey> {
    Info::new::<M>(
        b"conclave-peer-bench",
        0,
        None,
        Mode::NonZeroCounter,
        set.clone(),
        set,
    )
    .unwrap()
}

/// Every dealer's public message and its private message to one player.
pub type Msgs<C> = Vec<(PublicKey, DealerPubMsg<C>, DealerPrivMsg)>;

/// commonware's `verify_all_dealings` inputs: the round, the player (key 1), and every dealer's
/// messages to it.
pub struct CwVerify<C: CwVariant> {
    pub info: Info<C, PublicKey>,
    pub me: PrivateKey,
    pub msgs: Msgs<C>,
}

impl<C: CwVariant> CwVerify<C> {
    pub fn new<M: Faults>(n: u32) -> Self {
        check_quorum::<M>(n);
        let keys = cw_keys(n);
        let set: Set<PublicKey> = keys.iter().map(|k| k.public_key()).try_collect().unwrap();
        let info = info::<C, M>(set);
        let me = keys[1].clone();
        let mut rng = commonware_utils::test_rng();
        let msgs: Msgs<C> = keys
            .iter()
            .map(|k| {
                let (_dealer, pub_msg, privs) =
                    Dealer::start::<M>(&mut rng, info.clone(), k.clone(), None).unwrap();
                let mine = privs
                    .into_iter()
                    .find(|(p, _)| *p == me.public_key())
                    .unwrap()
                    .1;
                (k.public_key(), pub_msg, mine)
            })
            .collect();
        Self { info, me, msgs }
    }

    /// A fresh player for the timed part.
    pub fn player(&self) -> Player<C, PrivateKey> {
        Player::new(self.info.clone(), self.me.clone()).unwrap()
    }
}

/// The timed part of commonware's `verify_all_dealings`: the player takes every dealer's messages,
/// each must be valid (and yields a signed ack).
pub fn cw_verify_all<C: CwVariant, M: Faults>(
    mut player: Player<C, PrivateKey>,
    msgs: Msgs<C>,
) -> Player<C, PrivateKey> {
    for (dealer, pub_msg, priv_msg) in msgs {
        let v = player.dealer_message::<M>(dealer, pub_msg, priv_msg);
        assert!(matches!(v, Verdict::Valid(_)));
    }
    player
}

/// Each player's output and share.
pub type CwOutputs<C> = Vec<(Output<C, PublicKey>, Share)>;

/// commonware's whole Joint-Feldman run with all n participants in process, no faults: every
/// participant deals; every player checks every dealer's public and private message and acks it;
/// every dealer checks the acks it receives and signs its log; every player checks every signed
/// log, records it, and finalizes (which checks the acks of the quorum of logs it uses and sums its
/// shares). Messages are passed as values (no encoding), as in ours.
pub fn cw_full_run<C: CwVariant, M: Faults>(n: u32) -> CwOutputs<C> {
    let mut rng = commonware_utils::test_rng();
    let mut keys = cw_keys(n);
    // In the order of the `Set`, which is also the order of each dealer's private messages.
    keys.sort_by_key(|k| k.public_key());
    let set: Set<PublicKey> = keys.iter().map(|k| k.public_key()).try_collect().unwrap();
    let info = info::<C, M>(set);
    let mut players: Vec<Player<C, PrivateKey>> = keys
        .iter()
        .map(|k| Player::new(info.clone(), k.clone()).unwrap())
        .collect();
    let dealings: Vec<_> = keys
        .iter()
        .map(|k| Dealer::start::<M>(&mut rng, info.clone(), k.clone(), None).unwrap())
        .collect();
    let logs: Vec<SignedDealerLog<C, PrivateKey>> = dealings
        .into_iter()
        .zip(&keys)
        .map(|((mut dealer, pub_msg, privs), dk)| {
            let dk = dk.public_key();
            // A misrouted private message would fail the player's check.
            for ((pk, priv_msg), player) in privs.into_iter().zip(&mut players) {
                let v = player.dealer_message::<M>(dk.clone(), pub_msg.clone(), priv_msg);
                let Verdict::Valid(ack) = v else {
                    panic!("honest dealing rejected")
                };
                dealer.receive_player_ack(pk, ack).unwrap();
            }
            dealer.finalize::<M>()
        })
        .collect();
    let outputs: CwOutputs<C> = players
        .into_iter()
        .map(|player| {
            let mut mine = Logs::<C, PublicKey, M>::new(info.clone());
            for log in &logs {
                let (dealer, log) = log.clone().check(&info).unwrap();
                mine.record(dealer, log);
            }
            player
                .finalize::<M, ed25519::Batch>(&mut rng, mine, &Sequential)
                .unwrap()
        })
        .collect();
    assert!(
        outputs.iter().all(|(o, _)| *o == outputs[0].0),
        "players agree"
    );
    outputs
}

/// commonware's run's outcome: threshold t+1, each output built from the first quorum of logs,
/// every player's share on the group polynomial.
pub fn check_cw<C: CwVariant, M: Faults>(outputs: &CwOutputs<C>, n: u32) {
    let public = outputs[0].0.public();
    assert_eq!(public.required::<M>(), degree(n) + 1);
    assert_eq!(outputs.len(), n as usize);
    for (output, share) in outputs {
        assert_eq!(output.dealers().len(), M::quorum(n) as usize);
        assert_eq!(
            public.partial_public(share.index).unwrap(),
            share.public::<C>(),
            "commonware share on the group polynomial"
        );
    }
}

/// Best of `reps` wall times (seconds) of `timed(setup())`, `check`ing each result after the
/// clock stops.
fn best<S, T>(
    reps: usize,
    mut setup: impl FnMut() -> S,
    mut timed: impl FnMut(S) -> T,
    mut check: impl FnMut(&T),
) -> (f64, Vec<f64>) {
    let times: Vec<f64> = (0..reps)
        .map(|_| {
            let input = setup();
            let start = Instant::now();
            let out = timed(input);
            let secs = start.elapsed().as_secs_f64();
            check(&out);
            secs
        })
        .collect();
    (times.iter().copied().fold(f64::INFINITY, f64::min), times)
}

fn print(op: &str, unit: &str, scale: f64, ours: (f64, Vec<f64>), cw: (f64, Vec<f64>)) {
    let all = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{:.3}", x * scale))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "{op}: conclave {:.3} {unit} [{}]  commonware {:.3} {unit} [{}]  commonware/conclave {:.2}",
        ours.0 * scale,
        all(&ours.1),
        cw.0 * scale,
        all(&cw.1),
        cw.0 / ours.0
    );
}

/// Ours next to commonware with fault model `M` (`model` its name), each operation back to back.
fn run<V: Variant, C: CwVariant, M: Faults>(n: u32, what: &str, reps: usize, model: &str) {
    let t = degree(n);
    check_quorum::<M>(n);
    println!(
        "dkg_peers: {}, n = {n}, t = {t}, commonware {model} (quorum {}, N3f1's {}), best of {reps}",
        V::NAME,
        M::quorum(n),
        N3f1::quorum(n),
    );
    if what == "verify" || what == "both" {
        let (parties, dealings) = sim::parties_and_dealings::<V>(n, t).unwrap();
        let ours = best(
            reps,
            || (parties[1].participant.clone_for_bench(), dealings.clone()),
            |(mut p, msgs)| {
                for m in msgs {
                    p.handle(Input::Message(m)).unwrap();
                }
                p.handle(Input::DeadlinePassed(Phase::Deal)).unwrap()
            },
            |_| {},
        );
        drop(parties);
        let setup = CwVerify::<C>::new::<M>(n);
        let cw = best(
            reps,
            || (setup.player(), setup.msgs.clone()),
            |(player, msgs)| cw_verify_all::<C, M>(player, msgs),
            |_| {},
        );
        print(
            &format!("verify_all_dealings/{}/{n}", V::NAME),
            "ms",
            1e3,
            ours,
            cw,
        );
    }
    if what == "full" || what == "both" {
        let cfg = sim_config::<V>(n);
        let ours = best(
            reps,
            || (),
            |()| sim::run_dkg(&cfg).unwrap(),
            |r| check_conclave(r, n),
        );
        let cw = best(
            reps,
            || (),
            |()| cw_full_run::<C, M>(n),
            |o| check_cw::<C, M>(o, n),
        );
        print(&format!("full/{}/{n}", V::NAME), "s", 1.0, ours, cw);
    }
}

/// `N3f1` where its quorum is t+1 (n = 3f+1), `Quorum2f1` otherwise.
fn run_variant<V: Variant, C: CwVariant>(n: u32, what: &str, reps: usize) {
    if N3f1::quorum(n) == degree(n) + 1 {
        run::<V, C, N3f1>(n, what, reps, "N3f1")
    } else {
        run::<V, C, Quorum2f1>(n, what, reps, "Quorum2f1")
    }
}

fn main() {
    let usage = "usage: dkg_peers <n> <min-pk|min-sig> [verify|full|both] [reps]";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: u32 = args
        .first()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n >= 4)
        .expect(usage);
    let what = args.get(2).map_or("both", String::as_str);
    assert!(matches!(what, "verify" | "full" | "both"), "{usage}");
    let reps: usize = args
        .get(3)
        .map_or(Some(1), |s| s.parse().ok())
        .filter(|&r| r > 0)
        .expect(usage);
    match args.get(1).map(String::as_str) {
        Some("min-pk") => run_variant::<MinPk, variant::MinPk>(n, what, reps),
        Some("min-sig") => run_variant::<MinSig, variant::MinSig>(n, what, reps),
        _ => panic!("{usage}"),
    }
}
