//! What aria2 prints about its downloads: the readout
//! (`ConsoleStatCalc::calculateStat`: one download's `printProgress`, the
//! compact form for several), the progress summary, and at the end the
//! `Download Results:` table (`RequestGroupMan::showDownloadResults`), the
//! status legend and the resume hint, with the exit status.

use super::format::{abbrev_size, asctime, colors, secfmt, Colorized};
use super::group::Group;
use super::Run;

/// `printSizeProgress`: `done B/total B(pct%)`.
fn size_progress(g: &Group, c: &mut Colorized) {
    c.text(format!(
        "{}B/{}B",
        abbrev_size(g.done),
        abbrev_size(g.total)
    ));
    if g.total > 0 {
        let pct = u128::from(g.done) * 100 / u128::from(g.total);
        c.color(colors::CYAN)
            .text(format!("({pct}%)"))
            .color(colors::CLEAR);
    }
}

/// `printProgress`: `[#gid done/total(pct%) CN:n DL:speed ETA:t]`.
fn progress(g: &Group, c: &mut Colorized) {
    let eta = if g.total > 0 && g.speed > 0 {
        g.total.saturating_sub(g.done) / g.speed
    } else {
        0
    };
    c.color(colors::MAGENTA)
        .text("[")
        .color(colors::CLEAR)
        .text(format!("#{} ", g.gid6()));
    size_progress(g, c);
    c.text(format!(" CN:{}", g.connections()));
    if !g.finished() {
        c.text(" DL:")
            .color(colors::GREEN)
            .text(format!("{}B", abbrev_size(g.speed)))
            .color(colors::CLEAR);
    }
    if eta > 0 {
        c.text(" ETA:")
            .color(colors::YELLOW)
            .text(secfmt(eta))
            .color(colors::CLEAR);
    }
    c.color(colors::MAGENTA).text("]").color(colors::CLEAR);
}

/// `printProgressCompact`: `[DL:speed][#gid done/total(pct%)]…(+N)`.
fn compact(groups: &[&Group], c: &mut Colorized) {
    if groups.iter().any(|g| !g.finished()) {
        let dl: u64 = groups.iter().map(|g| g.speed).sum();
        c.color(colors::MAGENTA)
            .text("[")
            .color(colors::CLEAR)
            .text("DL:")
            .color(colors::GREEN)
            .text(format!("{}B", abbrev_size(dl)))
            .color(colors::CLEAR)
            .color(colors::MAGENTA)
            .text("]")
            .color(colors::CLEAR);
    }
    for g in groups.iter().take(5) {
        c.color(colors::MAGENTA)
            .text("[")
            .color(colors::CLEAR)
            .text(format!("#{} ", g.gid6()));
        size_progress(g, c);
        c.color(colors::MAGENTA).text("]").color(colors::CLEAR);
    }
    if groups.len() > 5 {
        c.text(format!("(+{})", groups.len() - 5));
    }
}

/// The file a download writes, else its URI (`writeFilePath`).
fn file_path(g: &Group) -> String {
    match &g.path {
        Some(p) => p.clone(),
        None => g.uris.first().cloned().unwrap_or_else(|| "n/a".to_string()),
    }
}

impl Run<'_> {
    /// The readout width: the terminal's columns less one, else 79.
    fn cols(&self) -> usize {
        match self.tool.ctx.stdout.terminal() {
            Some(t) if self.tty => usize::from(t.cols()).saturating_sub(1),
            _ => 79,
        }
    }

    /// One `calculateStat`: the erase on a tty, the summary when due, the readout.
    pub(super) async fn print_stat(&mut self, now: f64) {
        let cols = self.cols();
        if self.tty {
            let blank = " ".repeat(cols);
            self.say(format!("\r{blank}\r")).await;
        }
        let active: Vec<usize> = (0..self.groups.len())
            .filter(|i| self.groups[*i].active())
            .collect();
        let interval = self.o.summary_interval as f64;
        if !active.is_empty() && interval > 0.0 && now - self.last_summary + 0.01 >= interval {
            self.last_summary = now;
            let mut s = format!(
                " *** Download Progress Summary as of {} *** \n{}\n",
                asctime(self.tool.clock.unix()),
                "=".repeat(cols)
            );
            for i in &active {
                let g = &self.groups[*i];
                let mut c = Colorized::default();
                progress(g, &mut c);
                s.push_str(&c.render(false, None));
                s.push_str(&format!("\nFILE: {}\n{}\n", file_path(g), "-".repeat(cols)));
            }
            s.push('\n');
            self.say(s).await;
        }
        if !self.o.readout || active.is_empty() {
            return;
        }
        let mut c = Colorized::default();
        let groups: Vec<&Group> = active.iter().map(|i| &self.groups[*i]).collect();
        match groups.len() {
            0 => {}
            1 => progress(groups[0], &mut c),
            _ => compact(&groups, &mut c),
        }
        let line = if self.tty {
            c.render(self.o.color, Some(cols))
        } else {
            format!("{}\n", c.render(false, None))
        };
        self.say(line).await;
    }

    /// The end of the run: the results, the legend, the hint; the exit status.
    pub(super) async fn finish(&mut self) -> i32 {
        let color = self.tty && self.o.color;
        let mut ok = 0;
        let mut err = 0;
        let mut last_error = 0;
        let mut rows = String::new();
        for i in &self.results {
            let g = &self.groups[*i];
            let status = match (g.result, color) {
                (Some(0), true) => "\x1b[1;32mOK\x1b[0m  ",
                (Some(0), false) => "OK  ",
                (_, true) => "\x1b[1;31mERR\x1b[0m ",
                (_, false) => "ERR ",
            };
            match g.result {
                Some(0) => ok += 1,
                r => {
                    err += 1;
                    last_error = r.unwrap_or(1);
                }
            }
            let ms = ((g.ended - g.started) * 1000.0).floor().max(0.0) as u64;
            let speed = if ms > 0 && !g.already {
                let per_s = u128::from(g.session) * 1000 / u128::from(ms);
                format!(
                    "{:>8}B/s",
                    abbrev_size(per_s.min(u128::from(u64::MAX)) as u64)
                )
            } else {
                format!("{:>11}", "n/a")
            };
            // `--download-result=full`: the share done, `  -` without a length.
            let pct = if !self.o.result_full {
                String::new()
            } else if g.total == 0 || !g.has_length {
                "  -|".to_string()
            } else {
                format!("{:>3}|", u128::from(g.done) * 100 / u128::from(g.total))
            };
            rows.push_str(&format!(
                "{}|{status}|{speed}|{pct}{}\n",
                g.gid6(),
                file_path(g)
            ));
        }
        let inpr = self.groups.iter().filter(|g| g.result.is_none()).count();
        if self.o.quiet {
            return if err > 0 {
                last_error
            } else if inpr > 0 {
                7
            } else {
                0
            };
        }
        let mut s = if self.o.result_full {
            format!(
                "\nDownload Results:\ngid   |stat|avg speed  |  %|path/URI\n======+====+===========+===+{}\n{rows}",
                "=".repeat(51)
            )
        } else {
            format!(
                "\nDownload Results:\ngid   |stat|avg speed  |path/URI\n======+====+===========+{}\n{rows}",
                "=".repeat(55)
            )
        };
        if self.o.result_hide {
            s.clear();
        }
        if ok + err + inpr > 0 && !self.o.result_hide {
            s.push_str("\nStatus Legend:\n");
            if ok > 0 {
                s.push_str("(OK):download completed.");
            }
            if err > 0 {
                s.push_str("(ERR):error occurred.");
            }
            if inpr > 0 {
                s.push_str("(INPR):download in-progress.");
            }
            s.push('\n');
        }
        if err > 0 || inpr > 0 {
            s.push_str("\naria2 will resume download if the transfer is restarted.\nIf there are any errors, then see the log file. See '-l' option in help/man page for details.\n");
        }
        self.say(s).await;
        if err > 0 {
            last_error
        } else if inpr > 0 {
            7
        } else {
            0
        }
    }
}
