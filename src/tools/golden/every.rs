//! Every golden capture of every tool, as one list. None is skipped.

use super::cases::Case;

/// Every capture, tool by tool.
pub fn cases() -> Vec<Case> {
    let mut all = super::cases::civitdl_and_wget();
    all.extend(super::cases_curl::cases());
    all.extend(super::cases_hf::cases());
    all.extend(super::cases_git::cases());
    all.extend(super::cases_aria::cases());
    all
}
