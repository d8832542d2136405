//! The curl_* captures and how to reproduce them.

use super::cases::Case;

/// Every curl_* capture.
pub fn cases() -> Vec<Case> {
    Vec::new()
}
