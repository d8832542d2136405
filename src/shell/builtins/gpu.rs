//! `nvidia-smi`: the summary table, `-L`, and `--query-gpu` CSV for the
//! instance's GPUs, with driver 550.54.15 and CUDA 12.4.

use async_trait::async_trait;

use super::clock::strftime;
use super::common::now_secs;
use crate::instance::Gpu;
use crate::program::{Ctx, Program};

const DRIVER: &str = "550.54.15";
const CUDA: &str = "12.4";

/// `nvidia-smi [-L] [--query-gpu=FIELDS --format=csv[,noheader][,nounits]]`.
pub struct NvidiaSmi;

fn power_cap_w(name: &str) -> u32 {
    let n = name.to_ascii_uppercase();
    if n.contains("H100") || n.contains("H200") {
        700
    } else if n.contains("4090") {
        450
    } else if n.contains("A100") {
        400
    } else if n.contains("3090") {
        350
    } else if n.contains("A6000") || n.contains("L40") {
        300
    } else {
        250
    }
}

fn bus_id(index: usize) -> String {
    format!("00000000:{:02X}:00.0", (index * 0x20 + 1) % 0x100)
}

fn uuid(seed: u64, index: usize) -> String {
    // A deterministic UUID from the instance seed (splitmix64).
    let mut x = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED;
    let mut next = || {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let (a, b) = (next(), next());
    format!(
        "GPU-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// Idle readings for GPU `i`: (fan %, temperature C, power W, memory used MiB).
fn idle(i: usize) -> (u32, u32, u32, u32) {
    (0, 31 + (i as u32 * 3) % 7, 18 + (i as u32 * 5) % 9, 1)
}

fn table(gpus: &[Gpu], now: i64) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{}       \n",
        strftime("%a %b %e %H:%M:%S %Y", now, 0)
    ));
    let bar = format!("+{}+\n", "-".repeat(89));
    s.push_str(&bar);
    s.push_str(&format!(
        "| NVIDIA-SMI {DRIVER:<22} Driver Version: {DRIVER:<14} CUDA Version: {CUDA:<9}|\n"
    ));
    s.push_str(&format!(
        "|{}+{}+{}+\n",
        "-".repeat(41),
        "-".repeat(24),
        "-".repeat(22)
    ));
    s.push_str("| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |\n");
    s.push_str("| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |\n");
    s.push_str("|                                         |                        |               MIG M. |\n");
    s.push_str(&format!(
        "|{}+{}+{}|\n",
        "=".repeat(41),
        "=".repeat(24),
        "=".repeat(22)
    ));
    for (i, g) in gpus.iter().enumerate() {
        let (fan, temp, pwr, used) = idle(i);
        let name: String = g.name.chars().take(29).collect();
        s.push_str(&format!(
            "|{:>4}  {:<29}{:>4}  |{:>19} Off |{:>21} |\n",
            i,
            name,
            "On",
            bus_id(i),
            "Off"
        ));
        s.push_str(&format!(
            "|{:>3}%  {:>3}C    P8{:>15}W / {:>4}W |{:>8}MiB / {:>6}MiB |{:>7}%      Default |\n",
            fan,
            temp,
            pwr,
            power_cap_w(&g.name),
            used,
            g.memory_mib,
            0
        ));
        s.push_str(&format!(
            "|{}|{}|{:>21} |\n",
            " ".repeat(41),
            " ".repeat(24),
            "N/A"
        ));
        s.push_str(&format!(
            "+{}+{}+{}+\n",
            "-".repeat(41),
            "-".repeat(24),
            "-".repeat(22)
        ));
    }
    s.push_str(&format!("{}\n", " ".repeat(91)));
    s.push_str(&bar);
    s.push_str(&format!("| {:<88}|\n", "Processes:"));
    s.push_str(&format!(
        "| {:<88}|\n",
        " GPU   GI   CI        PID   Type   Process name                              GPU Memory"
    ));
    s.push_str(&format!(
        "| {:<88}|\n",
        "       ID   ID                                                               Usage"
    ));
    s.push_str(&format!("|{}|\n", "=".repeat(89)));
    s.push_str(&format!("| {:<88}|\n", " No running processes found"));
    s.push_str(&bar);
    s
}

fn field(
    name: &str,
    g: &Gpu,
    i: usize,
    seed: u64,
    units: bool,
    count: usize,
) -> Option<(String, String)> {
    let (_, temp, pwr, used) = idle(i);
    let mib = |v: u32| {
        if units {
            format!("{v} MiB")
        } else {
            v.to_string()
        }
    };
    let (header_unit, value) = match name {
        "name" | "gpu_name" => ("", g.name.clone()),
        "index" => ("", i.to_string()),
        "count" => ("", count.to_string()),
        "uuid" | "gpu_uuid" => ("", uuid(seed, i)),
        "driver_version" => ("", DRIVER.to_string()),
        "pci.bus_id" | "gpu_bus_id" => ("", bus_id(i)),
        "memory.total" => (" [MiB]", mib(g.memory_mib)),
        "memory.used" => (" [MiB]", mib(used)),
        "memory.free" => (" [MiB]", mib(g.memory_mib.saturating_sub(used))),
        "temperature.gpu" => ("", temp.to_string()),
        "utilization.gpu" => (" [%]", if units { "0 %".into() } else { "0".into() }),
        "utilization.memory" => (" [%]", if units { "0 %".into() } else { "0".into() }),
        "power.draw" => (
            " [W]",
            if units {
                format!("{pwr}.00 W")
            } else {
                format!("{pwr}.00")
            },
        ),
        "power.limit" => {
            let cap = power_cap_w(&g.name);
            (
                " [W]",
                if units {
                    format!("{cap}.00 W")
                } else {
                    format!("{cap}.00")
                },
            )
        }
        "pstate" => ("", "P8".into()),
        "compute_cap" => ("", "8.9".into()),
        _ => return None,
    };
    let header = if units {
        format!("{name}{header_unit}")
    } else {
        name.to_string()
    };
    Some((header, value))
}

#[async_trait]
impl Program for NvidiaSmi {
    async fn run(&self, ctx: &mut Ctx) -> i32 {
        let gpus = ctx.instance.config.gpus.clone();
        let seed = ctx.instance.config.seed;
        if gpus.is_empty() {
            ctx.out("No devices were found\n").await;
            return 6;
        }
        let args = ctx.args().to_vec();
        let mut query: Option<String> = None;
        let mut format: Option<String> = None;
        let mut list = false;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "-L" || a == "--list-gpus" {
                list = true;
            } else if let Some(q) = a.strip_prefix("--query-gpu=") {
                query = Some(q.to_string());
            } else if a == "--query-gpu" {
                i += 1;
                query = args.get(i).cloned();
            } else if let Some(f) = a.strip_prefix("--format=") {
                format = Some(f.to_string());
            } else if a == "--format" {
                i += 1;
                format = args.get(i).cloned();
            } else if a == "-h" || a == "--help" {
                ctx.out(format!(
                    "NVIDIA System Management Interface -- v{DRIVER}\n\nNVSMI provides monitoring information for Tesla and select Quadro devices.\n"
                ))
                .await;
                return 0;
            } else if a == "--version" {
                ctx.out(format!(
                    "NVIDIA-SMI version  : {DRIVER}\nNVML version        : {DRIVER}\nDRIVER version      : {DRIVER}\nCUDA Version        : {CUDA}\n"
                ))
                .await;
                return 0;
            } else {
                ctx.out("\nInvalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n\n")
                    .await;
                return 2;
            }
            i += 1;
        }
        if list {
            let out: String = gpus
                .iter()
                .enumerate()
                .map(|(i, g)| format!("GPU {i}: {} (UUID: {})\n", g.name, uuid(seed, i)))
                .collect();
            ctx.out(out).await;
            return 0;
        }
        if let Some(q) = query {
            let Some(fmt) = format.filter(|f| f.split(',').next() == Some("csv")) else {
                ctx.out("Format option must be specified. Please run 'nvidia-smi -h' for help.\n")
                    .await;
                return 2;
            };
            let opts: Vec<&str> = fmt.split(',').map(str::trim).collect();
            let header = !opts.contains(&"noheader");
            let units = !opts.contains(&"nounits");
            let names: Vec<&str> = q
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let mut rows: Vec<Vec<(String, String)>> = Vec::new();
            for (i, g) in gpus.iter().enumerate() {
                let mut row = Vec::new();
                for n in &names {
                    match field(n, g, i, seed, units, gpus.len()) {
                        Some(f) => row.push(f),
                        None => {
                            ctx.out(format!("Field \"{n}\" is not a valid field to query.\n\n"))
                                .await;
                            return 2;
                        }
                    }
                }
                rows.push(row);
            }
            let mut out = String::new();
            if header {
                let h: Vec<String> = rows[0].iter().map(|(h, _)| h.clone()).collect();
                out.push_str(&h.join(", "));
                out.push('\n');
            }
            for r in rows {
                let v: Vec<String> = r.into_iter().map(|(_, v)| v).collect();
                out.push_str(&v.join(", "));
                out.push('\n');
            }
            ctx.out(out).await;
            return 0;
        }
        ctx.out(table(&gpus, now_secs())).await;
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{instance, run};
    use super::table;
    use crate::instance::Gpu;

    #[test]
    fn table_has_the_real_layout() {
        let gpus = vec![
            Gpu {
                name: "NVIDIA GeForce RTX 4090".into(),
                memory_mib: 24564,
            },
            Gpu {
                name: "NVIDIA H100 80GB HBM3".into(),
                memory_mib: 81559,
            },
        ];
        let t = table(&gpus, 1_732_618_380);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "Tue Nov 26 10:53:00 2024       ");
        for l in &lines[1..] {
            assert!(
                l.chars().count() == 91,
                "{l:?} is {} wide",
                l.chars().count()
            );
        }
        assert_eq!(
            lines[2],
            "| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |"
        );
        assert_eq!(
            lines[8],
            "|   0  NVIDIA GeForce RTX 4090        On  |   00000000:01:00.0 Off |                  Off |"
        );
        assert_eq!(
            lines[9],
            "|  0%   31C    P8             18W /  450W |       1MiB /  24564MiB |      0%      Default |"
        );
        assert!(t.contains("|  No running processes found"));
    }

    #[tokio::test]
    async fn list_and_query() {
        let i = instance();
        let r = run(&i, "/", &["nvidia-smi", "-L"], b"").await;
        assert!(r
            .1
            .starts_with("GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-"));
        let r = run(
            &i,
            "/",
            &[
                "nvidia-smi",
                "--query-gpu=name,memory.total",
                "--format=csv",
            ],
            b"",
        )
        .await;
        assert_eq!(
            r.1,
            "name, memory.total [MiB]\nNVIDIA GeForce RTX 4090, 24564 MiB\n"
        );
        let r = run(
            &i,
            "/",
            &[
                "nvidia-smi",
                "--query-gpu=name,memory.total",
                "--format=csv,noheader,nounits",
            ],
            b"",
        )
        .await;
        assert_eq!(r.1, "NVIDIA GeForce RTX 4090, 24564\n");
        let r = run(&i, "/", &["nvidia-smi"], b"").await;
        assert_eq!(r.0, 0);
        assert!(r.1.contains("CUDA Version: 12.4"));
    }
}
