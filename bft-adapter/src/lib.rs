//! conclave-bft: placeholder docs, replaced below.
pub mod codec;
pub mod engine;
pub mod evidence;
pub mod mock;
pub mod sim;
pub mod traits;
pub mod types;
