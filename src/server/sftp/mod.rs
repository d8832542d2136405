//! The `sftp` subsystem (what `sftp` and OpenSSH 9's `scp` speak), served
//! over the instance's sandbox. Every request goes through the sandbox's
//! confined file operations ([`crate::instance::sandbox::Fs`]): paths are
//! resolved by the kernel inside the root at the moment of the operation,
//! so no host path is ever opened, and a directory swapped for a symlink
//! by another session cannot lead out.

mod listing;
mod session;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use russh::server::Msg;
use russh::{Channel, ChannelMsg};
use tokio::io::AsyncWriteExt;

use super::context::{close_with_status, ActiveGuard, ChannelContext};
use crate::instance::home_dir;
use crate::journal::{now_rfc3339, EntryKind, JournalEntry};
use session::SftpSession;

/// Each direction of the pipe to the SFTP server.
const PIPE_BUFFER: usize = 512 * 1024;

/// Serves the sftp subsystem on this channel until the client is done,
/// then sends exit-status 0, eof and close (OpenSSH's `scp` fails without
/// the exit status). The SFTP server runs in its own task on one end of a
/// pipe; this task pumps the channel's data through the other end.
pub(super) async fn serve(channel: Channel<Msg>, cx: ChannelContext, guard: ActiveGuard) {
    let cwd = home_dir(&cx.user);
    tracing::info!(user = %cx.user, peer = ?cx.peer, "sftp session");
    let started = Instant::now();
    let time = now_rfc3339();
    let sent = Arc::new(AtomicU64::new(0));
    let session = SftpSession::new(cx.instance.clone(), cwd, sent.clone());
    let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
    russh_sftp::server::run(theirs, session).await;
    let (mut from_sftp, mut to_sftp) = tokio::io::split(ours);
    let (mut rx, tx) = channel.split();
    let mut to_client = tx.make_writer();
    // Both directions at once: a blocked request must not stall a reply.
    let inbound = async move {
        while let Some(msg) = rx.wait().await {
            match msg {
                ChannelMsg::Data { data } => {
                    let written = to_sftp.write_all(&data).await;
                    if written.is_err() {
                        break;
                    }
                }
                ChannelMsg::Eof | ChannelMsg::Close => break,
                _ => {}
            }
        }
        // The SFTP server ends when its input does.
        let _ = to_sftp.shutdown().await;
    };
    let outbound = async {
        let copied = tokio::io::copy(&mut from_sftp, &mut to_client).await;
        let _ = to_client.flush().await;
        copied
    };
    let ((), copied) = tokio::join!(inbound, outbound);
    if let Err(e) = copied {
        tracing::debug!(error = %e, "sftp: client went away");
    }
    cx.instance.journal.record(JournalEntry {
        time,
        exit_code: Some(0),
        stdout_bytes: sent.load(Ordering::Relaxed),
        duration_ms: started.elapsed().as_millis() as u64,
        ..cx.journal_entry(EntryKind::Sftp, "sftp".into())
    });
    close_with_status(&tx, 0).await;
    drop(guard);
}
