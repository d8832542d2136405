//! The curl_* captures and how to reproduce them. The capture server's
//! files these runs fetch are pinned here (rates chosen so the simulated
//! transfer crosses the same wall-clock seconds the real one did).

use super::cases::{case, Case};
use crate::net::catalog::FileEntry;
use crate::net::response::FailKind;
use crate::net::Catalog;

const S: &str = "http://localhost:8765";

/// A pinned file of the capture server.
fn file<'a>(c: &'a mut Catalog, path: &str, size: u64, rate: f64) -> &'a mut FileEntry {
    c.files.entry(format!("{S}/{path}")).or_insert(FileEntry {
        size: Some(size),
        rate_bytes_per_s: Some(rate),
        ..FileEntry::default()
    })
}

/// The capture server's files the curl captures fetched.
fn origin(c: &mut Catalog) {
    file(
        c,
        "file.bin?size=12000000&rate=3000000",
        12_000_000,
        2_900_000.0,
    );
    file(
        c,
        "file.bin?size=3000000&rate=3000000",
        3_000_000,
        2_720_000.0,
    );
    file(
        c,
        "nolen.bin?size=3000000&rate=3000000",
        3_000_000,
        2_700_000.0,
    )
    .send_length = Some(false);
    for kind in ["drop", "stall"] {
        let e = file(
            c,
            &format!("{kind}/z.bin?size=3000000&rate=3000000&at=1000000"),
            3_000_000,
            2_000_000.0,
        );
        e.fail_at = Some(1_015_808);
        e.fail = Some(if kind == "drop" {
            FailKind::Drop
        } else {
            FailKind::Stall
        });
    }
    let e = file(c, "redirect?size=300000&rate=3000000", 0, 3_000_000.0);
    e.status = Some(307);
    e.location = Some("http://127.0.0.1:8765/file.bin?size=300000&rate=3000000".into());
    c.files.insert(
        "http://127.0.0.1:8765/file.bin?size=300000&rate=3000000".into(),
        FileEntry {
            size: Some(300_000),
            rate_bytes_per_s: Some(3_000_000.0),
            ..FileEntry::default()
        },
    );
    file(
        c,
        "cd/download?size=300000&rate=3000000",
        300_000,
        3_000_000.0,
    )
    .filename = Some("add_detail.safetensors".into());
}

/// Every curl_* capture.
pub fn cases() -> Vec<Case> {
    let meter = "S/file.bin?size=12000000&rate=3000000";
    let three = "S/file.bin?size=3000000&rate=3000000";
    let bar = "S/file.bin?size=3000000&rate=1500000";
    let missing = "S/404/model.safetensors";
    vec![
        case("curl_meter_notty", &["-o", "big.bin", meter]).patch(origin),
        case("curl_meter_tty", &["-o", "big.bin", meter])
            .patch(origin)
            .tty(80),
        case("curl_bar_notty", &["-#", "-o", "bar.bin", bar]).patch(origin),
        case("curl_bar_tty", &["-#", "-o", "bar.bin", bar])
            .patch(origin)
            .tty(80),
        case("curl_pipe", &["-o", "/dev/null", three]).patch(origin),
        case(
            "curl_nolen",
            &["-o", "nolen.bin", "S/nolen.bin?size=3000000&rate=3000000"],
        )
        .patch(origin),
        case("curl_404", &["-o", "404.html", missing]).patch(origin),
        case("curl_404_f", &["-f", "-o", "404.html", missing]).patch(origin),
        case("curl_404_fsSL", &["-fsSL", missing]).patch(origin),
        case(
            "curl_dns",
            &[
                "-o",
                "x.bin",
                "https://civitai.invalid/api/download/models/1",
            ],
        )
        .patch(origin),
        case(
            "curl_refused",
            &["-o", "x.bin", "http://127.0.0.1:1/file.bin"],
        )
        .patch(origin),
        case("curl_refused_sS", &["-sS", "http://127.0.0.1:1/file.bin"]).patch(origin),
        case(
            "curl_timeout",
            &[
                "-m",
                "2",
                "-o",
                "stall.bin",
                "S/stall/z.bin?size=3000000&rate=3000000&at=1000000",
            ],
        )
        .patch(origin),
        case(
            "curl_partial",
            &[
                "-o",
                "drop.bin",
                "S/drop/z.bin?size=3000000&rate=3000000&at=1000000",
            ],
        )
        .patch(origin),
        case("curl_LOJ", &["-LOJ", "S/redirect?size=300000&rate=3000000"]).patch(origin),
        case(
            "curl_OJ_cd",
            &["-OJ", "S/cd/download?size=300000&rate=3000000"],
        )
        .patch(origin),
        case("curl_tty_stdout", &[missing]).patch(origin).tty(80),
        case("curl_tty_bin", &[bar]).patch(origin).tty(80),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_curl_capture_has_a_case() {
        let dir = super::super::cases::fixtures().join("captures");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let n = e.ok()?.file_name().to_string_lossy().into_owned();
                n.starts_with("curl_")
                    .then(|| n.split('.').next().unwrap_or("").to_string())
            })
            .collect();
        names.sort();
        names.dedup();
        let have: Vec<&str> = cases().iter().map(|c| c.name).collect();
        for n in &names {
            assert!(have.contains(&n.as_str()), "no case for {n}");
        }
    }
}
