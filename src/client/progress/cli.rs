//! `fakessh parse`: a log in, one JSON event per line out.

use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use super::{parser_for_command, AutoParser, Parser, ProgressStream, Tool};
use crate::client::{Error, Result};

/// The parser `--tool` and `--command` ask for: a named tool wins; `auto`
/// picks from the command when there is one, else from the output itself.
pub fn choose_parser(tool: &str, command: Option<&str>) -> Result<Box<dyn Parser>> {
    match (tool, command) {
        ("auto", Some(cmd)) => Ok(parser_for_command(cmd)),
        ("auto", None) => Ok(Box::new(AutoParser::default())),
        (name, _) => Ok(name.parse::<Tool>()?.parser()),
    }
}

/// The read size: large, so a big log takes few reads.
const READ_BUF: usize = 1 << 20;

/// Reads `input` to its end, writes each event as a JSON line to `output`
/// (buffered here: callers may pass an unbuffered or line-buffered writer),
/// and returns how many events there were.
pub fn run(
    tool: &str,
    command: Option<&str>,
    mut input: impl Read,
    output: impl Write,
) -> Result<usize> {
    let mut output = BufWriter::with_capacity(256 * 1024, output);
    let io = |action, source| Error::Io {
        action,
        path: PathBuf::from("-"),
        source,
    };
    let mut stream = ProgressStream::new(choose_parser(tool, command)?);
    let mut buf = vec![0u8; READ_BUF];
    let mut events = Vec::new();
    let mut count = 0;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io("reading", e)),
        };
        stream.push(&buf[..n], &mut events);
        count += write_events(&mut events, &mut output).map_err(|e| io("writing", e))?;
    }
    stream.finish(&mut events);
    count += write_events(&mut events, &mut output).map_err(|e| io("writing", e))?;
    output.flush().map_err(|e| io("writing", e))?;
    Ok(count)
}

/// Writes the events as JSON lines straight to `out` (no string per
/// event) and empties `events`, keeping its capacity.
fn write_events(events: &mut Vec<super::Event>, out: &mut impl Write) -> std::io::Result<usize> {
    let n = events.len();
    for e in events.iter() {
        serde_json::to_writer(&mut *out, e)?;
        out.write_all(b"\n")?;
    }
    events.clear();
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_one_json_event_per_line() {
        let log = b"HTTP request sent, awaiting response... 404 Not Found\n2026-11-26 09:47:36 ERROR 404: Not Found.\n";
        let mut out = Vec::new();
        let n = run("auto", Some("wget -P /x https://h/f"), &log[..], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            text.lines().nth(1).unwrap(),
            r#"{"event":"error","kind":"http","code":404,"message":"wget: ERROR 404: Not Found"}"#
        );
        assert!(matches!(
            run("nope", None, &b""[..], Vec::new()),
            Err(Error::UnknownTool(_))
        ));
    }
}
