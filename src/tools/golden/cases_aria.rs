//! The aria_* captures and how to reproduce them: aria2c 1.36.0 run from
//! `/workspace` against the capture server (`S/`), the commands inferred
//! from what each capture shows (sizes from the readout, names from the
//! paths, `--console-log-level=warn` where no NOTICE line appears).

use super::cases::{case, sized, Case};
use crate::net::catalog::FileEntry;
use crate::net::Catalog;

const LORAS: &str = "/workspace/ComfyUI/models/loras";
const MODELS: &str = "/workspace/ComfyUI/models";
/// A 2.8 MiB file named by Content-Disposition.
const CD: &str = "S/cd/download?size=3000000&rate=3030000";

/// Pins `url` (with `S/` for the capture server) to a file of `size` bytes at `rate`.
fn file(c: &mut Catalog, url: &str, size: u64, rate: f64, filename: Option<&str>) {
    c.files.insert(
        url.replace("S/", "http://localhost:8765/"),
        FileEntry {
            size: Some(size),
            rate_bytes_per_s: Some(rate),
            filename: filename.map(str::to_string),
            ..FileEntry::default()
        },
    );
}

/// Pins `url` to an HTTP error status.
fn status(c: &mut Catalog, url: &str, code: u16) {
    c.files.insert(
        url.replace("S/", "http://localhost:8765/"),
        FileEntry {
            status: Some(code),
            content_type: Some("text/html".into()),
            ..FileEntry::default()
        },
    );
}

/// Every aria_* capture.
pub fn cases() -> Vec<Case> {
    vec![
        case(
            "aria_notty",
            &[
                "-d",
                MODELS,
                "-o",
                "b.bin",
                "S/file.bin?size=6000000&rate=3000000",
            ],
        )
        .patch(|c| {
            file(
                c,
                "S/file.bin?size=6000000&rate=3000000",
                6_000_000,
                3e6,
                None,
            )
        }),
        case(
            "aria_tty",
            &[
                "-x",
                "4",
                "-s",
                "4",
                "-d",
                MODELS,
                "-o",
                "a.bin",
                "S/file.bin?size=24000000&rate=12000000",
            ],
        )
        .tty(80)
        .patch(|c| {
            file(
                c,
                "S/file.bin?size=24000000&rate=12000000",
                24_000_000,
                12e6,
                None,
            )
        }),
        case("aria_cd", &["--console-log-level=warn", "-d", LORAS, CD])
            .patch(|c| file(c, CD, 3_000_000, 3.03e6, Some("add_detail.safetensors"))),
        case("aria_exists", &["-d", LORAS, CD])
            .patch(|c| file(c, CD, 3_000_000, 3.03e6, Some("add_detail.safetensors")))
            .setup(|i| {
                sized(
                    i,
                    "/workspace/ComfyUI/models/loras/add_detail.safetensors",
                    3_000_000,
                )
            }),
        case("aria_404", &["S/404/x.bin"]).patch(|c| status(c, "S/404/x.bin", 404)),
        case("aria_401", &["S/401/x.bin"]).patch(|c| status(c, "S/401/x.bin", 401)),
        case("aria_dns", &["https://civitai.invalid/x.bin"]),
        case("aria_refused", &["http://127.0.0.1:1/x.bin"]),
    ]
}
