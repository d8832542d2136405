//! The aria_* captures and how to reproduce them.

use super::cases::Case;

/// Every aria_* capture.
pub fn cases() -> Vec<Case> {
    Vec::new()
}
