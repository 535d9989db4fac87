//! # conclave-dkg
//!
//! Joint-Feldman distributed key generation with GJKR-style complaint handling, as a sans-IO
//! state machine per participant ([`Participant`]): Deal → Complain → Justify → Finalize, driven
//! by broadcast messages and "deadline passed" inputs. Shares are encrypted inside the broadcast
//! dealing (hashed ElGamal on G1 + HKDF-SHA256 + ChaCha20-Poly1305, see [`encryption`]);
//! complaints carry a revealed Diffie–Hellman point with a DLEQ proof, so anyone can check them.
//! Resharing (same group key, new n and t), refresh, and weighted seats are supported.
//!
//! Security assumptions: an authenticated, synchronous broadcast (phase deadlines), at most `t`
//! corrupted seats for secrecy, `n ≥ 2t+1` for robustness. The consensus engine uses `t = 2f`
//! with `n = 3f+1` (quorum `2f+1`). Any `t < n` is accepted by the API.
//!
//! ```
//! use conclave_dkg::sim::{parse_byzantine, run_dkg, SimConfig};
//! let cfg = SimConfig { variant: "min-pk".into(), n: 4, t: 1, seed: [1; 32],
//!                       byzantine: parse_byzantine("2:bad-share").unwrap() };
//! let report = run_dkg(&cfg).unwrap();
//! assert_eq!(report.disqualified[0].reason, "bad-share");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod complain;
pub mod config;
mod deal;
pub mod encryption;
pub mod error;
pub mod evidence;
mod finalize;
pub mod messages;
pub mod participant;
pub mod sigma;
mod verify;

pub use config::{Committee, DkgConfig, IdentityKeys, Member};
pub use error::Error;
pub use evidence::{Evidence, FaultKind, SignedMessage};
pub use messages::{Complaint, ComplaintEntry, Dealing, Justification, Message, Signed};
pub use participant::{Disqualified, DkgOutput, Input, Output, Participant, Phase};
pub mod sim;
