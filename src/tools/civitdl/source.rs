//! The sources on civitdl's command line: model and version ids, civitai
//! URLs, comma lists and batch files (`sourcemanager.parse_src`).

use super::failure::Failure;
use crate::program::Ctx;
use crate::tools::files;

/// One parsed source: a model id, maybe with a version id, or a version id alone.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Source {
    Model { mid: u64, vid: Option<u64> },
    Version { vid: u64 },
}

/// The digits after `key` in a civitai URL (`models/123`), as an id.
fn civitai_id_after(s: &str, key: &str) -> Option<u64> {
    let i = s.find(key)? + key.len();
    let digits: String = s[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// `sourcemanager.parse_src`, recursively (comma lists and batch files).
pub(super) fn parse_src(
    ctx: &Ctx,
    src: &str,
    base: &str,
    depth: u32,
    out: &mut Vec<Source>,
) -> Result<(), Failure> {
    let s = src.trim();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        let mid = s.parse().map_err(|_| bad_source(s))?;
        out.push(Source::Model { mid, vid: None });
        return Ok(());
    }
    let flat = s.replace('\n', "");
    if flat.contains(',') {
        let items: Vec<&str> = flat.split(',').filter(|x| !x.trim().is_empty()).collect();
        if items.len() > 1 {
            for it in items {
                parse_src(ctx, it, base, depth, out)?;
            }
            return Ok(());
        }
    }
    if s.contains("civitai.com/api") || s.contains("civitai.red/api") {
        return match civitai_id_after(s, "models/") {
            Some(vid) => {
                out.push(Source::Version { vid });
                Ok(())
            }
            None => Err(Failure::Input(vec![
                format!("Incorrect format for the url provided: {s}"),
                "None".into(),
            ])),
        };
    }
    if s.contains("civitai.com/models") || s.contains("civitai.red/models") {
        return match civitai_id_after(s, "models/") {
            Some(mid) => {
                out.push(Source::Model {
                    mid,
                    vid: civitai_id_after(s, "modelVersionId="),
                });
                Ok(())
            }
            None => Err(Failure::Input(vec![
                format!("Incorrect format for the url provided: {s}"),
                "None".into(),
            ])),
        };
    }
    let path = crate::instance::Sandbox::absolute(base, s);
    if depth < 16 && !s.is_empty() && files::file_size(ctx, &path).is_some() {
        let text = files::read(ctx, &path).map_err(|_| bad_source(s))?;
        let text = String::from_utf8_lossy(&text).replace(['\n', '\r'], "");
        let dir = path
            .rsplit_once('/')
            .map(|(d, _)| d)
            .filter(|d| !d.is_empty())
            .unwrap_or("/");
        for it in text.split(',').filter(|x| !x.trim().is_empty()) {
            parse_src(ctx, it, dir, depth + 1, out)?;
        }
        return Ok(());
    }
    Err(bad_source(s))
}

/// The exception for a source civitdl cannot read.
fn bad_source(s: &str) -> Failure {
    Failure::Input(vec![format!("Bad source provided: {s}"), "None".into()])
}
