//! wget's number formats, shared by the log lines, the bar and the dots:
//! sizes, rates, decimals and times as `progress.c` and `utils.c` print them.

/// wget's `human_readable(n, acc, decimals)`: 1024-based, `K M G T P E`.
pub(super) fn human_readable(n: u64, acc: u64, decimals: usize) -> String {
    if n < 1024 {
        return n.to_string();
    }
    let powers = ['K', 'M', 'G', 'T', 'P', 'E'];
    let mut n = n;
    for (i, p) in powers.iter().enumerate() {
        if n / 1024 < 1024 || i == powers.len() - 1 {
            let val = n as f64 / 1024.0;
            let d = if val < acc as f64 { decimals } else { 0 };
            return format!("{val:.d$}{p}");
        }
        n /= 1024;
    }
    n.to_string()
}

/// `calc_rate`: a rate in bytes/s scaled to B, K, M, G, T (1024-based).
pub(super) fn rate_units(rate: f64) -> (f64, usize) {
    let mut r = rate;
    let mut u = 0;
    while r >= 1024.0 && u < 4 {
        r /= 1024.0;
        u += 1;
    }
    (r, u)
}

/// `bytes` over `secs` as `retr_rate` prints it: the scaled value, its
/// unit index (B, K, M, G, T) and its decimals (2, 1 or 0 as it grows).
/// No time at all counts as a microsecond.
pub(super) fn scaled_rate(bytes: u64, secs: f64) -> (f64, usize, usize) {
    let rate = if secs > 0.0 {
        bytes as f64 / secs
    } else {
        bytes as f64 / 1e-6
    };
    let (v, u) = rate_units(rate);
    let prec = if v >= 99.95 {
        0
    } else if v >= 9.995 {
        1
    } else {
        2
    };
    (v, u, prec)
}

/// `retr_rate`: `977 KB/s`, `1.43 MB/s`.
pub(super) fn retr_rate(bytes: u64, secs: f64) -> String {
    let (v, u, prec) = scaled_rate(bytes, secs);
    format!("{v:.prec$} {}", ["B/s", "KB/s", "MB/s", "GB/s", "TB/s"][u])
}

/// `print_decimal`: `3.0`, `0.05`, `0.007`, `12`.
pub(super) fn print_decimal(x: f64) -> String {
    let n = x.abs();
    if n >= 9.95 {
        format!("{x:.0}")
    } else if n >= 0.95 {
        format!("{x:.1}")
    } else if n >= 0.001 {
        // "%.1g": one significant digit.
        let mut exp = n.log10().floor() as i32;
        let mut digit = (n / 10f64.powi(exp)).round();
        if digit >= 10.0 {
            digit = 1.0;
            exp += 1;
        }
        let v = digit * 10f64.powi(exp);
        let decimals = (-exp).max(0) as usize;
        format!("{v:.decimals$}")
    } else if n >= 0.0005 {
        format!("{x:.3}")
    } else {
        "0".into()
    }
}

/// `eta_to_human_short`: `3s`, `1m 5s` (`1m5s` condensed), `2h 5m`, `3d 4h`.
pub(super) fn eta_short(secs: i64, condensed: bool) -> String {
    let sp = if condensed { "" } else { " " };
    let secs = secs.max(0);
    if secs < 100 {
        format!("{secs}s")
    } else if secs < 100 * 60 {
        format!("{}m{sp}{}s", secs / 60, secs % 60)
    } else if secs < 48 * 3600 {
        format!("{}h{sp}{}m", secs / 3600, (secs / 60) % 60)
    } else if secs < 100 * 86400 {
        format!("{}d{sp}{}h", secs / 86400, (secs / 3600) % 24)
    } else {
        format!("{}d", secs / 86400)
    }
}

/// `secs_to_human_time`: `3.0s`, `2m 5s`, `1h 2m 3s` (the FINISHED summary).
pub(super) fn secs_to_human_time(secs: f64) -> String {
    if secs < 60.0 {
        format!("{}s", print_decimal(secs))
    } else if secs < 3600.0 {
        format!("{}m {}s", secs as i64 / 60, secs as i64 % 60)
    } else {
        let s = secs as i64;
        format!("{}h {}m {}s", s / 3600, (s / 60) % 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_readable_matches_wget() {
        assert_eq!(human_readable(3_000_000, 10, 1), "2.9M");
        assert_eq!(human_readable(12_000_000, 10, 1), "11M");
        assert_eq!(human_readable(200_000, 10, 1), "195K");
        assert_eq!(human_readable(221_184, 1000, 2), "216.00K");
        assert_eq!(human_readable(3_000_000, 1000, 2), "2.86M");
        assert_eq!(human_readable(500, 1000, 2), "500");
    }

    #[test]
    fn decimals_and_etas_match_wget() {
        assert_eq!(print_decimal(3.0), "3.0");
        assert_eq!(print_decimal(0.05), "0.05");
        assert_eq!(print_decimal(0.007), "0.007");
        assert_eq!(print_decimal(0.0), "0");
        assert_eq!(print_decimal(60.2), "60");
        assert_eq!(eta_short(65, true), "65s");
        assert_eq!(eta_short(125, true), "2m5s");
        assert_eq!(eta_short(2830, false), "47m 10s");
        assert_eq!(retr_rate(3_000_000, 3.0), "977 KB/s");
        assert_eq!(retr_rate(12_000_000, 8.0), "1.43 MB/s");
    }
}
