//! One SSH channel as the soak's clients use it: an exec read to its close,
//! the first sign of output, and an SFTP session's byte pump.

use std::time::Duration;

use anyhow::bail;
use russh::client::{Handle, Msg};
use russh::{Channel, ChannelMsg};
use tokio::io::AsyncWriteExt;

use crate::bench::AnyHost;

/// Bytes of one command's output a client keeps (the rest is counted only).
const KEEP_OUTPUT: usize = 64 * 1024;

/// What one channel returned.
#[derive(Debug, Default)]
pub(super) struct Ran {
    /// None: the channel ended without an exit status (a disconnect).
    pub(super) status: Option<u32>,
    pub(super) out: Vec<u8>,
    pub(super) out_bytes: usize,
}

impl Ran {
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }

    /// The command ran to an exit status that is not "command not found".
    pub(super) fn exited(&self, what: &str) -> anyhow::Result<u32> {
        match self.status {
            None => bail!("{what}: no exit status"),
            Some(127) => bail!("{what}: exit 127 ({})", self.text().trim()),
            Some(s) => Ok(s),
        }
    }

    pub(super) fn expect(&self, what: &str, status: u32, out: &str) -> anyhow::Result<()> {
        let got = self.exited(what)?;
        if got != status || self.text() != out {
            bail!(
                "{what}: expected {status} {out:?}, got {got} {:?}",
                self.text()
            );
        }
        Ok(())
    }
}

/// Reads a channel until it closes (or the connection goes).
pub(super) async fn read_to_close(channel: &mut Channel<Msg>) -> Ran {
    let mut ran = Ran::default();
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                ran.out_bytes += data.len();
                let room = KEEP_OUTPUT.saturating_sub(ran.out.len());
                ran.out.extend_from_slice(&data[..data.len().min(room)]);
            }
            ChannelMsg::ExitStatus { exit_status } => ran.status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    ran
}

/// One exec on a fresh channel, stdout and stderr together.
pub(super) async fn exec(handle: &Handle<AnyHost>, command: &str) -> anyhow::Result<Ran> {
    let mut channel = handle.channel_open_session().await?;
    channel.exec(true, command).await?;
    channel.eof().await?;
    Ok(read_to_close(&mut channel).await)
}

/// Waits for the first message, at most `within`; true when one came.
pub(super) async fn anything_within(channel: &mut Channel<Msg>, within: Duration) -> bool {
    loop {
        match tokio::time::timeout(within, channel.wait()).await {
            Err(_) => return false,
            Ok(None) => return true,
            // Window adjustments and request replies are not output.
            Ok(Some(ChannelMsg::Success | ChannelMsg::WindowAdjusted { .. })) => {}
            Ok(Some(_)) => return true,
        }
    }
}

/// Carries an SFTP client's bytes over `channel` until the server closes
/// it. Unlike russh's `into_stream`, it never closes the channel first:
/// russh keeps a channel its own side closed first in the connection's
/// table until the connection ends, which would grow this process.
pub(super) async fn sftp_pump(channel: Channel<Msg>, stream: tokio::io::DuplexStream) {
    use tokio::io::AsyncReadExt;
    let (mut from_sftp, mut to_sftp) = tokio::io::split(stream);
    let (mut rx, tx) = channel.split();
    let mut buf = vec![0u8; 64 * 1024];
    let mut input_open = true;
    loop {
        tokio::select! {
            n = from_sftp.read(&mut buf), if input_open => match n {
                Ok(0) | Err(_) => {
                    input_open = false;
                    let _ = tx.eof().await;
                }
                Ok(n) => {
                    if tx.data(&buf[..n]).await.is_err() {
                        input_open = false;
                    }
                }
            },
            msg = rx.wait() => match msg {
                Some(ChannelMsg::Data { data }) => {
                    // A client that stopped reading only loses the replies.
                    let _ = to_sftp.write_all(&data).await;
                }
                Some(ChannelMsg::Close) | None => break,
                Some(_) => {}
            },
        }
    }
}
