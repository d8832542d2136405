//! `lscpu`: the instance's CPUs as util-linux 2.38 prints them (flat
//! `Name: value` lines when stdout is not a terminal, the indented sections
//! on one), from [`crate::instance::InstanceConfig::cpus`]: an AMD EPYC
//! under KVM, as GPU clouds rent them.

use async_trait::async_trait;

use crate::program::{Ctx, Program};

/// `lscpu` (options other than `-V`/`--version` are refused).
pub struct Lscpu;

const FLAGS: &str = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext invpcid_single ssbd ibrs ibpb stibp vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves clzero xsaveerptr rdpru wbnoinvd arat npt nrip_save umip vaes vpclmulqdq rdpid fsrm";

/// One line: its depth in the terminal view, name and value.
type Line = (usize, &'static str, String);

fn lines(cpus: u32) -> Vec<Line> {
    let threads = if cpus >= 2 && cpus.is_multiple_of(2) {
        2
    } else {
        1
    };
    let cores = (cpus / threads).max(1);
    let list = if cpus == 1 {
        "0".to_string()
    } else {
        format!("0-{}", cpus - 1)
    };
    let kib = |per_core: u32| format_cache(u64::from(per_core) * u64::from(cores), cores);
    vec![
        (0, "Architecture", "x86_64".into()),
        (1, "CPU op-mode(s)", "32-bit, 64-bit".into()),
        (1, "Address sizes", "48 bits physical, 48 bits virtual".into()),
        (1, "Byte Order", "Little Endian".into()),
        (0, "CPU(s)", cpus.to_string()),
        (1, "On-line CPU(s) list", list.clone()),
        (0, "Vendor ID", "AuthenticAMD".into()),
        (1, "Model name", "AMD EPYC 7B13 64-Core Processor".into()),
        (2, "CPU family", "25".into()),
        (2, "Model", "1".into()),
        (2, "Thread(s) per core", threads.to_string()),
        (2, "Core(s) per socket", cores.to_string()),
        (2, "Socket(s)", "1".into()),
        (2, "Stepping", "0".into()),
        (2, "BogoMIPS", "4899.99".into()),
        (2, "Flags", FLAGS.into()),
        (0, "Hypervisor vendor", "KVM".into()),
        (0, "Virtualization type", "full".into()),
        (0, "L1d cache", kib(32)),
        (0, "L1i cache", kib(32)),
        (0, "L2 cache", kib(512)),
        (0, "L3 cache", "32 MiB (1 instance)".into()),
        (0, "NUMA node(s)", "1".into()),
        (0, "NUMA node0 CPU(s)", list),
        (0, "Vulnerability Itlb multihit", "Not affected".into()),
        (0, "Vulnerability L1tf", "Not affected".into()),
        (0, "Vulnerability Mds", "Not affected".into()),
        (0, "Vulnerability Meltdown", "Not affected".into()),
        (0, "Vulnerability Spec store bypass", "Mitigation; Speculative Store Bypass disabled via prctl".into()),
        (0, "Vulnerability Spectre v1", "Mitigation; usercopy/swapgs barriers and __user pointer sanitization".into()),
        (0, "Vulnerability Spectre v2", "Mitigation; Retpolines, IBPB conditional, IBRS_FW, STIBP always-on, RSB filling, PBRSB-eIBRS Not affected".into()),
        (0, "Vulnerability Srbds", "Not affected".into()),
        (0, "Vulnerability Tsx async abort", "Not affected".into()),
    ]
}

/// `256 KiB (8 instances)`: a per-core cache summed over the cores.
fn format_cache(kib: u64, instances: u32) -> String {
    let size = if kib >= 1024 && kib.is_multiple_of(1024) {
        format!("{} MiB", kib / 1024)
    } else {
        format!("{kib} KiB")
    };
    let s = if instances == 1 { "" } else { "s" };
    format!("{size} ({instances} instance{s})")
}

/// The flat form: names padded to one column past the longest.
fn flat(lines: &[Line]) -> String {
    let width = lines.iter().map(|(_, n, _)| n.len() + 1).max().unwrap_or(0) + 1;
    lines
        .iter()
        .map(|(_, n, v)| format!("{:<width$}{v}\n", format!("{n}:")))
        .collect()
}

/// The terminal form: sections indented two spaces per level, the
/// vulnerabilities and caches under headings of their own.
fn tree(lines: &[Line]) -> String {
    let mut rows: Vec<(usize, String, String)> = Vec::new();
    let mut heading = "";
    for (depth, name, value) in lines {
        let (section, short) = if let Some(v) = name.strip_prefix("Vulnerability ") {
            ("Vulnerabilities", v)
        } else if let Some(c) = name.strip_suffix(" cache") {
            ("Caches (sum of all)", c)
        } else if name.starts_with("NUMA") {
            ("NUMA", *name)
        } else if name.starts_with("Hypervisor") || name.starts_with("Virtualization") {
            ("Virtualization features", *name)
        } else {
            ("", *name)
        };
        if section.is_empty() {
            rows.push((*depth, name.to_string(), value.clone()));
            continue;
        }
        if heading != section {
            heading = section;
            rows.push((0, section.to_string(), String::new()));
        }
        rows.push((1, short.to_string(), value.clone()));
    }
    let width = rows
        .iter()
        .map(|(d, n, _)| d * 2 + n.len() + 1)
        .max()
        .unwrap_or(0)
        + 1;
    rows.iter()
        .map(|(d, n, v)| {
            let label = format!("{}{n}:", "  ".repeat(*d));
            format!("{label:<width$}{v}\n")
        })
        .collect()
}

#[async_trait]
impl Program for Lscpu {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        match ctx.args().first().map(String::as_str) {
            None => {}
            Some("-V") | Some("--version") => {
                ctx.out("lscpu from util-linux 2.38.1\n").await;
                return 0;
            }
            Some(other) => {
                ctx.err(format!(
                    "lscpu: unrecognized option '{other}'\nTry 'lscpu --help' for more information.\n"
                ))
                .await;
                return 1;
            }
        }
        let all = lines(ctx.instance.config.cpus.max(1));
        let text = if ctx.stdout.is_tty() {
            tree(&all)
        } else {
            flat(&all)
        };
        ctx.out(text).await;
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};
    use super::*;

    #[tokio::test]
    async fn lscpu_shows_the_instances_cpus_in_util_linux_columns() {
        let i = instance();
        let r = run(&i, "/", &["lscpu"], b"").await;
        assert_eq!(r.0, 0);
        let lines: Vec<&str> = r.1.lines().collect();
        // The longest name is 32 columns with its colon: values start one past it.
        assert_eq!(lines[0], format!("{:<33}x86_64", "Architecture:"));
        assert!(lines.contains(&format!("{:<33}16", "CPU(s):").as_str()));
        assert!(lines.contains(&format!("{:<33}0-15", "On-line CPU(s) list:").as_str()));
        assert!(lines.contains(&format!("{:<33}8", "Core(s) per socket:").as_str()));
        assert!(lines.contains(&format!("{:<33}256 KiB (8 instances)", "L1d cache:").as_str()));
        assert!(lines.contains(&format!("{:<33}4 MiB (8 instances)", "L2 cache:").as_str()));
        let r = run(&i, "/", &["lscpu", "-x"], b"").await;
        assert_eq!(r.0, 1);
    }

    #[test]
    fn the_terminal_form_nests_sections() {
        let text = tree(&lines(4));
        assert!(text.starts_with("Architecture:"));
        assert!(text.contains("\n  CPU op-mode(s):"));
        assert!(text.contains("\n    Thread(s) per core:  "));
        assert!(text.contains("\nCaches (sum of all):"));
        assert!(text.contains("\n  L1d:"));
        assert!(text.contains("\nVulnerabilities:"));
        assert_eq!(format_cache(32, 1), "32 KiB (1 instance)");
    }
}
