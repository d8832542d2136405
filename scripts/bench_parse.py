#!/usr/bin/env python3
"""The original Python handler's progress parsing, for `fakessh bench --client` only.

Not a parser to use: a small, faithful stand-in for what the original app
(see shared/reference/ORIGINAL.md) does with a command's merged output, so
the bench can put a Python figure next to fakessh's on the same log:

- the output is read as text lines where \\r, \\n and \\r\\n all end a line
  (Python's universal newlines, as a `subprocess.Popen(text=True)` pipe
  reads it), invalid UTF-8 replaced;
- ANSI colour codes are dropped;
- only civitdl and wget are known: civitdl's `Now downloading "NAME"` and
  its tqdm `Images` / `Model` bars, wget's `Length:`, `Saving to:`, bar and
  dot rows; each readout becomes the UI's `progress` object (`percent`,
  `speed`, `downloaded`, `total`, `eta`, `stage`, `name`, `filename`);
- failure lines are not parsed (the original never does).

Each progress object is written as one JSON line to stdout, as
`fakessh parse` writes its events.

Usage: bench_parse.py < LOG > /dev/null
"""

import io
import json
import re
import sys

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*(?:\x07|\x1b\\)|\x1b[@-_]")
NOW = re.compile(r'Now downloading "(.*)"')
TQDM = re.compile(
    r"(Images|Model):\s*(\d+)%\|[^|]*\|\s*([\d.]+\w*)/([\d.]+\w*)\s*"
    r"\[([\d:]+)<([\d:?]+),\s*([^\],]*)"
)
LENGTH = re.compile(r"^Length: (\d+)(?: \(([^)]*)\))?")
SAVING = re.compile(r"^Saving to: ['‘`]?(.*?)['’]?$")
WGET_BAR = re.compile(
    r"(\d{1,3})%\[[=> ]*\]\s+([\d.]+[KMGT]?)\s+([\d.]+ ?[KMGT]?B/s)(?:\s+eta (.+?))?\s*$"
)
WGET_DOTS = re.compile(r"^\s*(\d+)K [., ]+\s(\d{1,3})%\s+([\d.]+[KMG]?)(?:[ =](\S+))?\s*$")


def main():
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline=None)
    out = sys.stdout
    name = None
    filename = None
    total = None
    for line in stdin:
        line = ANSI.sub("", line.rstrip("\n")).strip()
        if not line:
            continue
        progress = None
        m = NOW.search(line)
        if m:
            name = m.group(1)
            continue
        m = TQDM.search(line)
        if m:
            progress = {
                "percent": int(m.group(2)),
                "downloaded": m.group(3),
                "total": m.group(4),
                "eta": m.group(6),
                "speed": m.group(7).strip(),
                "stage": "images" if m.group(1) == "Images" else "model",
            }
            if name:
                progress["name"] = name
        else:
            m = LENGTH.search(line)
            if m:
                total = m.group(2) or m.group(1)
                continue
            m = SAVING.search(line)
            if m:
                filename = m.group(1)
                continue
            m = WGET_BAR.search(line)
            if m:
                progress = {
                    "percent": int(m.group(1)),
                    "downloaded": m.group(2),
                    "speed": m.group(3),
                    "stage": "download",
                }
                if m.group(4):
                    progress["eta"] = m.group(4)
            else:
                m = WGET_DOTS.search(line)
                if m:
                    progress = {
                        "percent": int(m.group(2)),
                        "downloaded": m.group(1) + "K",
                        "speed": m.group(3) + "B/s",
                        "stage": "download",
                    }
                    if m.group(4):
                        progress["eta"] = m.group(4)
            if progress is not None:
                if total:
                    progress["total"] = total
                if filename:
                    progress["filename"] = filename
        if progress is not None:
            out.write(json.dumps(progress))
            out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
