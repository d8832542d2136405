//! HTTP surfaces over the library: the original app's downloads API (backed
//! by the queue and status files, so a handler can run in another process),
//! an admin API for the fake instances in this process (faults, journal,
//! reset), server-sent events for live status, and a dashboard.
//!
//! The router is a function of its state, so tests drive it without a
//! socket:
//!
//! ```
//! use axum::body::Body;
//! use axum::http::Request;
//! use fakessh::api::{router, AppConfig, AppState};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let dir = tempfile::tempdir().unwrap();
//! let state = AppState::new(AppConfig::new(
//!     dir.path().join("download_queue.json"),
//!     dir.path().join("download_status.json"),
//! ));
//! let req = Request::get("/downloads/status").body(Body::empty()).unwrap();
//! let res = router(state).oneshot(req).await.unwrap();
//! assert_eq!(res.status(), 200);
//! # }
//! ```
//!
//! Errors are `{"success": false, "message": ..., "status": N}` with the
//! matching HTTP status (see [`ApiError`]).

mod auth;
mod dashboard;
mod downloads;
mod error;
mod events;
mod faults;
mod guard;
pub mod health;
mod instances;
mod journal;
pub mod resources;
mod server;

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::Router;

pub use error::{ApiError, BODY_LIMIT};
pub use server::{start, HttpLimits, RunningApi};

use crate::instance::Instance;
use crate::jobs::queue::Queue;
use crate::jobs::status::StatusFile;

/// What the API serves: the queue and status files, the resources
/// directory, the fake instances of this process and the admin token.
#[derive(Clone)]
pub struct AppConfig {
    /// `download_queue.json`.
    pub queue: PathBuf,
    /// `download_status.json`.
    pub status: PathBuf,
    /// Where `POST /downloads/queue` finds its Markdown resources; without
    /// it only the direct `commands` form is accepted.
    pub resources: Option<PathBuf>,
    /// When set, the admin API wants `Authorization: Bearer TOKEN` from any
    /// peer; when not, it answers loopback peers only.
    pub admin_token: Option<String>,
    /// The fake instances the admin API manages (possibly none).
    pub instances: Vec<Arc<Instance>>,
    /// Timeouts and the connection cap of [`start`].
    pub limits: HttpLimits,
}

impl AppConfig {
    /// The two files, no resources directory, no token, no instances,
    /// default limits.
    pub fn new(queue: impl Into<PathBuf>, status: impl Into<PathBuf>) -> Self {
        AppConfig {
            queue: queue.into(),
            status: status.into(),
            resources: None,
            admin_token: None,
            instances: Vec::new(),
            limits: HttpLimits::default(),
        }
    }
}

/// The router's shared state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Queue,
    status: StatusFile,
    resources: Option<PathBuf>,
    admin_token: Option<String>,
    instances: Vec<Arc<Instance>>,
    limits: HttpLimits,
    /// Serialises this process's changes that touch both files (queue,
    /// retry, delete), so a retry racing a delete of the same job has one
    /// clear outcome. The files' own locks keep other processes safe.
    jobs: std::sync::Mutex<()>,
    hub: events::EventHub,
}

impl AppState {
    /// State for `config`; nothing is read until a request comes.
    pub fn new(config: AppConfig) -> Self {
        AppState {
            inner: Arc::new(Inner {
                queue: Queue::new(config.queue),
                status: StatusFile::new(config.status),
                resources: config.resources,
                admin_token: config.admin_token.filter(|t| !t.is_empty()),
                instances: config.instances,
                limits: config.limits,
                jobs: std::sync::Mutex::new(()),
                hub: events::EventHub::new(),
            }),
        }
    }

    /// Ends every open event stream (for a graceful shutdown: an SSE
    /// connection would otherwise keep the server alive).
    pub fn close_event_streams(&self) {
        self.inner.hub.close();
    }

    fn instance(&self, id: &str) -> Result<&Arc<Instance>, ApiError> {
        self.inner
            .instances
            .iter()
            .find(|i| i.config.id == id)
            .ok_or_else(|| ApiError::NotFound(format!("no fake instance {id:?} in this process")))
    }

    /// The instances a request names: the one asked for, else all.
    fn instances_for(&self, id: Option<&str>) -> Result<Vec<Arc<Instance>>, ApiError> {
        match id {
            Some(id) => Ok(vec![self.instance(id)?.clone()]),
            None => Ok(self.inner.instances.clone()),
        }
    }

    fn lock_jobs(&self) -> std::sync::MutexGuard<'_, ()> {
        self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every route: `/` (dashboard), `/downloads/*` (the original API plus
/// `/downloads/events`), `/__admin/*` (for admins only, except `health`);
/// all of them behind the browser guard (see `guard.rs`: `Host`, `Origin`,
/// `Sec-Fetch-Site` and JSON-only changes).
pub fn router(state: AppState) -> Router {
    let admin = Router::new()
        .route("/__admin/instances", get(instances::list))
        .route(
            "/__admin/faults",
            get(faults::list).post(faults::arm).delete(faults::clear),
        )
        .route("/__admin/faults/{id}", delete(faults::disarm))
        .route(
            "/__admin/journal",
            get(journal::query).delete(journal::reset),
        )
        .route("/__admin/reset", post(instances::reset))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin,
        ));
    Router::new()
        .route("/", get(dashboard::page))
        .route("/dashboard.js", get(dashboard::script))
        .route("/dashboard.css", get(dashboard::style))
        .route("/downloads/queue", post(downloads::queue))
        .route("/downloads/status", get(downloads::status))
        .route("/downloads/retry", post(downloads::retry))
        .route("/downloads/job/{id}", delete(downloads::delete))
        .route("/downloads/events", get(events::stream))
        .route("/__admin/health", get(instances::health))
        .merge(admin)
        // Only on routes that exist: a 404 or 405 tells nothing.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::protect,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
