//! `fakessh bench --floods`: holds each flood a hostile client can make
//! against one in-process server (connections that never speak, logged-in
//! connections that idle, a connection full of channels, a busy fork bomb,
//! HTTP clients that send half a header) and measures, while it is held,
//! how long a new client waits for `ssh host 'echo ok'` (login included) or
//! for an HTTP answer. One table; the times to compare are the "calm" row's
//! and each flood's, in the same run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use fakessh::instance::{Instance, InstanceConfig};
use fakessh::server::{self, ServerConfig};
use russh::keys::PrivateKey;
use russh::ChannelMsg;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{login, AnyHost, BenchArgs};

/// New clients timed per row; the row shows the median and the worst.
const PROBES: usize = 5;

/// Runs every flood and prints the table.
pub(super) async fn run(args: &BenchArgs, key: &Arc<PrivateKey>) -> anyhow::Result<()> {
    let instance = Instance::create(InstanceConfig {
        time_scale: 0.0,
        ..InstanceConfig::default()
    })?;
    let srv = server::start(instance.clone(), ServerConfig::loopback()).await?;
    let addr = srv.local_addr();
    let files = tempfile::tempdir()?;
    let api_state = fakessh::api::AppState::new(fakessh::api::AppConfig {
        instances: vec![instance.clone()],
        ..fakessh::api::AppConfig::new(
            files.path().join("queue.json"),
            files.path().join("status.json"),
        )
    });
    let http = fakessh::api::start(api_state, "127.0.0.1:0".parse()?).await?;
    let http_addr = http.local_addr();
    let n = args.flood_size;
    println!("fakessh bench --floods: each flood held while {PROBES} new clients are timed");
    println!(
        "{:<44} {:>8} {:>12} {:>12}",
        "flood (held)", "size", "median wait", "worst wait"
    );
    let row = |name: &str, size: usize, waits: &[Duration]| {
        let mut w = waits.to_vec();
        w.sort();
        println!(
            "{:<44} {:>8} {:>12} {:>12}",
            name,
            size,
            format!("{:.1} ms", w[w.len() / 2].as_secs_f64() * 1e3),
            format!("{:.1} ms", w[w.len() - 1].as_secs_f64() * 1e3),
        );
    };

    row("calm (nothing held)", 0, &probe_ssh(addr, key).await?);

    // Connections that never send their version line.
    let mut silent = Vec::new();
    for _ in 0..n {
        silent.push(tokio::net::TcpStream::connect(addr).await?);
    }
    row(
        "unauthenticated: silent TCP connections",
        n,
        &probe_ssh(addr, key).await?,
    );
    drop(silent);

    // Logged-in connections that idle (below max_connections).
    let idle_n = n.min(900);
    let mut idle = Vec::new();
    for _ in 0..idle_n {
        idle.push(login(addr, key).await?);
    }
    row(
        "logged-in idle connections",
        idle_n,
        &probe_ssh(addr, key).await?,
    );
    drop(idle);

    // One connection holding the most channels it may, each running.
    let holder = login(addr, key).await?;
    let mut channels = Vec::new();
    for _ in 0..fakessh::server::MAX_CHANNELS_PER_CONNECTION {
        let ch = holder.channel_open_session().await?;
        // `cat` waits for input that never comes (`sleep` would not: the
        // instance runs at time scale 0).
        ch.exec(true, "cat").await?;
        channels.push(ch);
    }
    let refused = holder.channel_open_session().await.is_err();
    row(
        if refused {
            "channels on one connection (+1 refused)"
        } else {
            "channels on one connection (+1 NOT refused)"
        },
        channels.len(),
        &probe_ssh(addr, key).await?,
    );
    drop(channels);
    drop(holder);

    // Sessions running a fork bomb and a busy loop.
    let mut bombs = Vec::new();
    for _ in 0..4 {
        let h = login(addr, key).await?;
        let ch = h.channel_open_session().await?;
        ch.exec(true, "f(){ f | f & }; f; while :; do :; done")
            .await?;
        bombs.push((h, ch));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    row(
        "sessions running a fork bomb + busy loop",
        bombs.len(),
        &probe_ssh(addr, key).await?,
    );
    drop(bombs);

    // HTTP clients that send half a header (slowloris).
    row("HTTP calm", 0, &probe_http(http_addr).await?);
    let mut lorises = Vec::new();
    for _ in 0..n.min(400) {
        let mut s = tokio::net::TcpStream::connect(http_addr).await?;
        s.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await?;
        lorises.push(s);
    }
    row(
        "HTTP: half-header connections",
        lorises.len(),
        &probe_http(http_addr).await?,
    );
    drop(lorises);

    srv.shutdown().await;
    Ok(())
}

/// Times `PROBES` new clients: connect, log in, `echo ok`, close.
async fn probe_ssh(addr: SocketAddr, key: &Arc<PrivateKey>) -> anyhow::Result<Vec<Duration>> {
    let mut waits = Vec::new();
    for _ in 0..PROBES {
        let started = Instant::now();
        tokio::time::timeout(Duration::from_secs(30), echo(addr, key))
            .await
            .context("a new client waited over 30 s")??;
        waits.push(started.elapsed());
    }
    Ok(waits)
}

async fn echo(addr: SocketAddr, key: &Arc<PrivateKey>) -> anyhow::Result<()> {
    let handle: russh::client::Handle<AnyHost> = login(addr, key).await?;
    let mut ch = handle.channel_open_session().await?;
    ch.exec(true, "echo ok").await?;
    let mut out = Vec::new();
    while let Some(msg) = ch.wait().await {
        match msg {
            ChannelMsg::Data { data } => out.extend_from_slice(&data),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    anyhow::ensure!(out == b"ok\n", "unexpected output {out:?}");
    Ok(())
}

/// Times `PROBES` HTTP health checks on fresh connections.
async fn probe_http(addr: SocketAddr) -> anyhow::Result<Vec<Duration>> {
    let mut waits = Vec::new();
    for _ in 0..PROBES {
        let started = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(30), async {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.write_all(
                b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            )
            .await?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await?;
            anyhow::Ok(buf)
        })
        .await
        .context("an HTTP client waited over 30 s")??;
        anyhow::ensure!(answer.starts_with(b"HTTP/1.1 200"), "health check failed");
        waits.push(started.elapsed());
    }
    Ok(waits)
}
