//! curl's tool messages (`src/tool_msgs.c`): `Warning: ` lines wrapped at
//! 79 columns on the last blank before the edge, hidden by `-s`.

use crate::tools::run::ToolRun;

/// `voutf`: `prefix` on every piece of `text`, cut at 79 columns.
pub(super) fn wrap(prefix: &str, text: &str) -> String {
    let width = 79 - prefix.len();
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        out.push_str(prefix);
        if rest.len() > width {
            let mut cut = width - 1;
            while cut > 0 && rest[cut] != b' ' && rest[cut] != b'\t' {
                cut -= 1;
            }
            if cut == 0 {
                cut = width - 1;
            }
            out.push_str(&String::from_utf8_lossy(&rest[..=cut]));
            out.push('\n');
            rest = &rest[cut + 1..];
        } else {
            out.push_str(&String::from_utf8_lossy(rest));
            rest = &[];
        }
    }
    out
}

/// `warnf`: a `Warning: ` message on stderr unless `-s`.
pub(super) async fn warnf(tool: &mut ToolRun<'_>, silent: bool, text: &str) {
    if !silent {
        tool.io.err(wrap("Warning: ", text)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_warning_wraps_as_curl_wraps_it() {
        let w = wrap("Warning: ", "Binary output can mess up your terminal. Use \"--output -\" to tell curl to output it to your terminal anyway, or consider \"--output <FILE>\" to save to a file.\n");
        assert_eq!(w, "Warning: Binary output can mess up your terminal. Use \"--output -\" to tell \nWarning: curl to output it to your terminal anyway, or consider \"--output \nWarning: <FILE>\" to save to a file.\n");
    }
}
