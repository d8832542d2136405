//! The hf_*, hf2_* captures and how to reproduce them.

use super::cases::Case;

/// Every hf_*, hf2_* capture.
pub fn cases() -> Vec<Case> {
    Vec::new()
}
