//! `direct-tcpip` channels (`ssh -L PORT:localhost:PORT`): a forward to a
//! loopback port where one of the instance's services listens is served by
//! that service's router over the channel's byte stream (HTTP/1 with
//! upgrades, as a browser or a WebSocket client speaks it); any other
//! target is refused as a server that forbids it would (OpenSSH prints
//! `open failed: connect failed`). Every forward is journaled (kind
//! `forward`, the target, the bytes each way).

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use russh::server::{ChannelOpenHandle, Msg};
use russh::{Channel, ChannelOpenFailure};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tower::ServiceExt;

use super::context::ChannelContext;
use crate::faults::{Depth, Fault, Invocation};
use crate::instance::services::Service;
use crate::journal::{Ending, EntryKind};

/// Longest a forwarded client may take to send a request's headers.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Accepts a forward to a service, or refuses it; journals either way.
pub(super) async fn open(
    channel: Channel<Msg>,
    reply: ChannelOpenHandle,
    cx: ChannelContext,
    host: &str,
    port: u32,
) {
    let target = format!("{host}:{port}");
    let service = u16::try_from(port)
        .ok()
        .and_then(|p| cx.instance.services.at(host, p));
    // A `comfyui_down` (any service-depth fault of its kind) refuses the
    // connection as if nothing listened.
    let fired = match &service {
        Some(s) => cx.instance.faults.decide_where(
            Depth::Service,
            &Invocation {
                tool: Some(s.name),
                command: &target,
                args: &[],
                instance: &cx.instance.config.id,
                user: &cx.user,
            },
            |f| *f == Fault::ComfyuiDown,
        ),
        None => Vec::new(),
    };
    let down = fired.iter().any(|f| f.fault == Fault::ComfyuiDown);
    let Some(service) = service.filter(|_| !down) else {
        reply.reject(ChannelOpenFailure::ConnectFailed).await;
        cx.instance.journal.record(crate::journal::JournalEntry {
            ended: Ending::Refused,
            faults: fired.iter().map(|f| f.id.clone()).collect(),
            ..cx.journal_entry(EntryKind::Forward, target)
        });
        return;
    };
    // A forward is a channel like any other: it counts against the
    // connection's cap while it is open.
    if cx.open_here.load(Ordering::Relaxed) >= super::MAX_CHANNELS_PER_CONNECTION {
        reply.reject(ChannelOpenFailure::ResourceShortage).await;
        return;
    }
    cx.open_here.fetch_add(1, Ordering::Relaxed);
    cx.active.fetch_add(1, Ordering::Relaxed);
    reply.accept().await;
    tokio::spawn(serve(channel, cx, target, service));
}

/// Serves HTTP over the channel until either side closes it.
async fn serve(channel: Channel<Msg>, cx: ChannelContext, target: String, service: Service) {
    let _guard = cx.active_guard();
    let started = Instant::now();
    let time = crate::journal::now_rfc3339();
    let counted = Counted {
        inner: channel.into_stream(),
        read: Arc::new(AtomicU64::new(0)),
        written: Arc::new(AtomicU64::new(0)),
    };
    let (read, written) = (counted.read.clone(), counted.written.clone());
    let router = service.router;
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let router = router.clone();
        async move {
            let req = req.map(axum::body::Body::new);
            router.oneshot(req).await
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let result = builder
        .serve_connection(TokioIo::new(counted), svc)
        .with_upgrades()
        .await;
    if let Err(e) = &result {
        tracing::debug!(%target, error = %e, "forward ended");
    }
    cx.instance.journal.record(crate::journal::JournalEntry {
        time,
        stdout_bytes: written.load(Ordering::Relaxed),
        received_bytes: Some(read.load(Ordering::Relaxed)),
        duration_ms: started.elapsed().as_millis() as u64,
        ended: Ending::Exit,
        ..cx.journal_entry(EntryKind::Forward, target)
    });
}

/// A byte stream that counts what passes each way.
struct Counted<S> {
    inner: S,
    read: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.written.fetch_add(*n as u64, Ordering::Relaxed);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
