//! Structural comparison of tool output with the real tools' captures.
