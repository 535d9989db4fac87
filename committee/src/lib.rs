//! placeholder (being written)
mod binomial;
mod error;
mod softfloat;
pub use binomial::{SortitionParams, SortitionTable, MAX_STAKE, MAX_TAU, MAX_TOTAL_STAKE};
pub use error::Error;
