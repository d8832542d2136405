//! The client's progress parsers on arbitrary tool output.
//!
//! Input: one byte picking the parser (civitdl, wget, curl, hf, git,
//! aria2c, or the auto-detecting one), one byte seeding how the output is
//! cut into chunks, then the output itself.
//!
//! Must hold: no panic; the same events whatever the chunking (a line split
//! across two reads parses as one); every percent is finite and within
//! 0..=100, as `Progress::percent` promises; every event serializes.

#![no_main]

use fakessh::client::progress::{progress_json, Event, ProgressStream, Tool};
use libfuzzer_sys::fuzz_target;

fn stream(mode: u8) -> ProgressStream {
    match Tool::ALL.get(mode as usize % (Tool::ALL.len() + 1)) {
        Some(tool) => ProgressStream::for_tool(*tool),
        None => ProgressStream::for_command(""),
    }
}

fn parse(mode: u8, chunks: impl Iterator<Item = Vec<u8>>) -> Vec<Event> {
    let mut s = stream(mode);
    let mut out = Vec::new();
    for chunk in chunks {
        s.push(&chunk, &mut out);
    }
    s.finish(&mut out);
    out
}

fuzz_target!(|data: &[u8]| {
    let [mode, cut, output @ ..] = data else {
        return;
    };
    let whole = parse(*mode, std::iter::once(output.to_vec()));

    // Chunk sizes from a small generator seeded by `cut`: 1..=17 bytes.
    let mut x = u32::from(*cut) | 1;
    let mut rest = output;
    let mut chunks = Vec::new();
    while !rest.is_empty() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let n = (1 + (x % 17) as usize).min(rest.len());
        chunks.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    let cut_up = parse(*mode, chunks.into_iter());
    // Debug text, not `==`: a NaN would never equal itself.
    assert_eq!(
        format!("{whole:?}"),
        format!("{cut_up:?}"),
        "events depend on how the output was chunked"
    );

    for event in &whole {
        if let Event::Progress(p) = event {
            if let Some(pct) = p.percent {
                assert!(
                    pct.is_finite() && (0.0..=100.0).contains(&pct),
                    "percent {pct} out of 0..=100 in {event:?}"
                );
            }
        }
        serde_json::to_string(event).expect("event serializes");
        let _ = progress_json(event);
    }
});
