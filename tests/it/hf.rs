//! `hf download` over real SSH (OpenSSH, no pty): the files it leaves are
//! what `ls -l`, `readlink`, `du -shL` and `cat` show in the same session.

use fakessh::instance::InstanceConfig;
use fakessh::net::ToolConfig;
use fakessh::server::AuthPolicy;

use crate::support::TestInstance;

async fn gpu() -> TestInstance {
    let config = InstanceConfig {
        seed: 7,
        time_scale: 0.0,
        tools: ToolConfig {
            jitter: 0.0,
            ..ToolConfig::default()
        },
        ..InstanceConfig::default()
    };
    TestInstance::start_with(config, AuthPolicy::default()).await
}

#[tokio::test]
async fn hf_download_fills_the_cache_with_snapshot_symlinks_to_blobs() {
    let gpu = gpu().await;
    let repo = "stabilityai/stable-diffusion-xl-base-1.0";
    let store = "/root/.cache/huggingface/hub/models--stabilityai--stable-diffusion-xl-base-1.0";
    let ran = gpu
        .ssh(&format!(
            "p=$(hf download {repo} sd_xl_base_1.0.safetensors) && echo \"PATH=$p\" && ls -l {store}/snapshots/*/ && readlink \"$p\" && du -shL \"$p\" && cat {store}/refs/main && echo && ls {store}/blobs"
        ))
        .await;
    assert_eq!(ran.status, 0, "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    let path = lines[0].strip_prefix("PATH=").expect("the path on stdout");
    assert!(path.starts_with(&format!("{store}/snapshots/")), "{path}");
    assert!(path.ends_with("/sd_xl_base_1.0.safetensors"));
    let commit = path.split('/').nth_back(1).unwrap();
    assert_eq!(commit.len(), 40);
    let listing = lines
        .iter()
        .find(|l| l.contains("sd_xl_base_1.0.safetensors ->"))
        .expect("ls -l shows the link");
    assert!(listing.starts_with('l'), "{listing}");
    let target = lines
        .iter()
        .find(|l| l.starts_with("../../blobs/"))
        .expect("readlink");
    let sha = target.trim_start_matches("../../blobs/");
    assert_eq!(sha.len(), 64);
    let du = lines
        .iter()
        .find(|l| l.ends_with(path) && l.contains('\t'))
        .expect("du -shL");
    assert!(du.split('\t').next().unwrap().ends_with('G'), "{du}");
    assert!(
        lines.contains(&commit),
        "refs/main holds the commit: {lines:?}"
    );
    assert!(lines.contains(&sha), "the blob: {lines:?}");
    // Without a tty: the logger lines, no bar.
    assert!(
        ran.stderr.contains(&format!(
            "Downloading 'sd_xl_base_1.0.safetensors' to '{store}/blobs/{sha}.incomplete'\n"
        )),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains('\r'));

    // Same seed, same bytes; and a second run downloads nothing.
    let again = gpu
        .ssh(&format!("hf download {repo} sd_xl_base_1.0.safetensors"))
        .await;
    assert_eq!(again.stdout, format!("{path}\n"));
    assert_eq!(again.stderr, "");
}

#[tokio::test]
async fn hf_download_to_a_local_dir_leaves_the_file_and_its_metadata() {
    let gpu = gpu().await;
    let dir = "/workspace/ComfyUI/models/vae";
    let ran = gpu
        .ssh(&format!(
            "huggingface-cli download madebyollin/sdxl-vae-fp16-fix sdxl_vae.safetensors --local-dir {dir} && ls -l {dir}/sdxl_vae.safetensors && du -sh --apparent-size {dir}/sdxl_vae.safetensors && cat {dir}/.cache/huggingface/download/sdxl_vae.safetensors.metadata && cat {dir}/.cache/huggingface/.gitignore"
        ))
        .await;
    assert_eq!(ran.status, 0, "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert!(lines[0].contains("'huggingface-cli download' is deprecated"));
    assert_eq!(lines[1], format!("{dir}/sdxl_vae.safetensors"));
    assert!(lines[2].starts_with("-rw"), "{}", lines[2]);
    let meta: Vec<&str> = lines[4..].to_vec();
    assert_eq!(meta[0].len(), 40, "{meta:?}");
    assert_eq!(meta[1].len(), 64, "{meta:?}");
    assert!(meta[2].parse::<f64>().is_ok(), "{meta:?}");
    assert_eq!(meta[3], "*");
    assert!(ran.stderr.contains(&format!(
        "Download complete. Moving file to {dir}/sdxl_vae.safetensors\n"
    )));
}
