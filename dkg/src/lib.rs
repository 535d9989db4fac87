//! placeholder
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
