//! conclave-bft: placeholder docs, replaced below.
pub mod codec;
pub mod engine;
pub mod evidence;
pub mod traits;
pub mod types;
