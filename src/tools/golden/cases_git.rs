//! The git_* captures and how to reproduce them.

use super::cases::Case;

/// Every git_* capture.
pub fn cases() -> Vec<Case> {
    Vec::new()
}
