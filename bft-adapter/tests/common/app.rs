//! The application of the common test hosts (`net.rs`, `world.rs`): seat `s` proposes
//! `value-<height>-<s>`, and a value is valid iff it starts with `value-`.

use conclave_bft::types::NodeId;
use conclave_bft::{Action, Input};

/// The application's answer to a `RequestValue` or `ValidateValue` action of `node`'s engine
/// (`None` for every other action).
pub fn answer(node: NodeId, action: &Action) -> Option<Input> {
    match action {
        Action::RequestValue { height } => Some(Input::ProposedValue {
            height: *height,
            value: format!("value-{}-{}", height.0, node.0).into_bytes(),
        }),
        Action::ValidateValue {
            height,
            value_id,
            value,
        } => Some(Input::ValueValidated {
            height: *height,
            value_id: *value_id,
            valid: value.starts_with(b"value-"),
        }),
        _ => None,
    }
}
