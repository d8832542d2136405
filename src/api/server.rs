//! The API on a socket: an accept loop over hyper's HTTP/1 connections,
//! bounded so that no client can hold the server's resources for long.
//!
//! - A request's head must arrive within [`HttpLimits::header_timeout`]
//!   (hyper's `header_read_timeout`; it also ends idle keep-alive
//!   connections), and its body within [`HttpLimits::body_timeout`] of the
//!   head, in total, however slowly it drips (else 408). Responses have no
//!   deadline: an event stream is a long answer, not a slow request.
//! - At most [`HttpLimits::max_connections`] connections are served at
//!   once; past that the loop stops accepting and the kernel's backlog
//!   holds the rest.
//! - When accepting fails for want of resources (`EMFILE`, `ENFILE`,
//!   `ENOBUFS`), the loop waits 100 ms, doubling up to 1 s, instead of
//!   spinning on an error that only time can clear.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Sleep;
use tower::Service;

use super::{router, AppState};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a client may take to send a request, and how many may be
/// connected at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// From the first byte of a request (or the end of the previous
    /// answer, on a kept-alive connection) to the end of its head.
    pub header_timeout: Duration,
    /// From the end of the head to the end of the body.
    pub body_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl HttpLimits {
    /// The default [`HttpLimits::header_timeout`] (10 s).
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default [`HttpLimits::body_timeout`] (30 s).
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default [`HttpLimits::max_connections`] (512).
    pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Self::DEFAULT_HEADER_TIMEOUT,
            body_timeout: Self::DEFAULT_BODY_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The API served on a socket.
pub struct RunningApi {
    addr: SocketAddr,
    state: AppState,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningApi {
    /// The address served (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, ends the event streams, and waits for open requests.
    pub async fn shutdown(self) -> io::Result<()> {
        self.state.close_event_streams();
        let _ = self.stop.send(true);
        self.task.await.map_err(io::Error::other)
    }
}

/// Binds `listen` (port 0 picks one) and serves [`router`] there within
/// the state's [`HttpLimits`], with the peer address available to the
/// admin guard.
pub async fn start(state: AppState, listen: SocketAddr) -> io::Result<RunningApi> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let limits = state.inner.limits;
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        let listener = &listener;
        accept_loop(move || listener.accept(), app, limits, stopped).await;
    });
    Ok(RunningApi {
        addr,
        state,
        stop,
        task,
    })
}

/// Accepts until `stop` says so (or its sender is gone), then lets every
/// connection finish its request and waits for them.
async fn accept_loop<F, Fut>(
    mut accept: F,
    app: Router,
    limits: HttpLimits,
    mut stop: watch::Receiver<bool>,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = io::Result<(TcpStream, SocketAddr)>>,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut connections = JoinSet::new();
    let mut backoff = Backoff::new();
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = stopped(&mut stop) => break,
        };
        let (stream, peer) = tokio::select! {
            conn = accept_next(&mut accept, &mut backoff) => conn,
            _ = stopped(&mut stop) => break,
        };
        connections.spawn(serve_connection(
            stream,
            peer,
            app.clone(),
            limits,
            stop.clone(),
            slot,
        ));
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// Resolves once `stop` says stop, or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The next connection; a failure that is the peer's (it hung up before
/// we took it) is skipped, any other waits out the [`Backoff`].
async fn accept_next<S, F, Fut>(accept: &mut F, backoff: &mut Backoff) -> (S, SocketAddr)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = io::Result<(S, SocketAddr)>>,
{
    loop {
        match accept().await {
            Ok(conn) => {
                backoff.reset();
                return conn;
            }
            Err(e) if is_peer_error(&e) => tracing::debug!("http: accept: {e}"),
            Err(e) => {
                let delay = backoff.next_delay();
                tracing::warn!("http: accepting a connection failed ({e}); retrying in {delay:?}");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

fn is_peer_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// Waits between failed accepts: 100 ms, doubling up to 1 s, and from
/// 100 ms again after a success.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(1);

    fn new() -> Self {
        Backoff { next: Self::FIRST }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        delay
    }
}

/// One connection: HTTP/1 with the header timeout, each request given its
/// peer address and a body deadline. Holds its `slot` until it ends.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: HttpLimits,
    mut stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        handle(&app, req, peer, limits.body_timeout)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, "http connection: {e}");
    }
}

fn handle(
    app: &Router,
    mut req: Request<Incoming>,
    peer: SocketAddr,
    body_timeout: Duration,
) -> impl Future<Output = Result<Response, Infallible>> {
    req.extensions_mut().insert(ConnectInfo(peer));
    let req = req.map(|body| DeadlineBody::new(body, body_timeout));
    app.clone().call(req)
}

/// Why a request body ended early: it was still arriving when its
/// deadline passed (a 408).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {after:?}")]
pub(super) struct BodyTimeout {
    /// The body timeout in force.
    pub(super) after: Duration,
}

/// A request body that fails with [`BodyTimeout`] once `after` has passed
/// since the request arrived, however steadily it trickles.
struct DeadlineBody<B> {
    inner: B,
    /// `None` for a body that is already complete (no timer needed).
    deadline: Option<Pin<Box<Sleep>>>,
    after: Duration,
    expired: bool,
}

impl<B: HttpBody> DeadlineBody<B> {
    fn new(inner: B, after: Duration) -> Self {
        let deadline = (!inner.is_end_stream()).then(|| Box::pin(tokio::time::sleep(after)));
        DeadlineBody {
            inner,
            deadline,
            after,
            expired: false,
        }
    }
}

impl<B> HttpBody for DeadlineBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if !this.expired {
            if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
                return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
            }
            let due = match &mut this.deadline {
                Some(deadline) => deadline.as_mut().poll(cx).is_ready(),
                None => false,
            };
            if !due {
                return Poll::Pending;
            }
            this.expired = true;
        }
        Poll::Ready(Some(Err(Box::new(BodyTimeout { after: this.after }))))
    }

    fn is_end_stream(&self) -> bool {
        !self.expired && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn emfile() -> io::Error {
        io::Error::from_raw_os_error(24) // EMFILE: too many open files
    }

    #[test]
    fn backoff_doubles_from_100_ms_to_1_s_and_resets() {
        let mut b = Backoff::new();
        let ms: Vec<u128> = (0..6).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn accept_failing_with_emfile_backs_off_instead_of_spinning() {
        // Arrange: an accept that always fails for want of descriptors
        let calls = AtomicUsize::new(0);
        let mut accept = || {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Err::<((), SocketAddr), _>(emfile()))
        };
        let mut backoff = Backoff::new();
        // Act: three (simulated) seconds of it
        let got = tokio::time::timeout(
            Duration::from_secs(3),
            accept_next(&mut accept, &mut backoff),
        )
        .await;
        // Assert: tries at 0, 0.1, 0.3, 0.7, 1.5 and 2.5 s, no more
        assert!(got.is_err(), "never accepted");
        assert_eq!(calls.load(Ordering::SeqCst), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_hung_up_is_skipped_without_waiting() {
        let mut left = 3;
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut accept = || {
            left -= 1;
            std::future::ready(if left > 0 {
                Err(io::Error::from(io::ErrorKind::ConnectionAborted))
            } else {
                Ok(((), addr))
            })
        };
        let start = tokio::time::Instant::now();
        let ((), peer) = accept_next(&mut accept, &mut Backoff::new()).await;
        assert_eq!((peer, start.elapsed()), (addr, Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_still_arriving_at_its_deadline_fails_with_body_timeout() {
        use futures::StreamExt;
        use http_body_util::BodyExt;
        // a body that sends one frame, then nothing
        let frames = futures::stream::iter([Ok::<_, Infallible>(Frame::data(Bytes::from("{")))])
            .chain(futures::stream::pending());
        let body = http_body_util::StreamBody::new(frames);
        let mut body = DeadlineBody::new(body, Duration::from_secs(2));
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "{");
        let err = body.frame().await.unwrap().unwrap_err();
        let timeout = err.downcast_ref::<BodyTimeout>().expect("a BodyTimeout");
        assert_eq!(timeout.after, Duration::from_secs(2));
    }
}
