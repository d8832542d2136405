//! The one way async code touches the job files.
//!
//! [`JsonStore`](super::store::JsonStore) takes an `flock` and reads,
//! writes and renames files: on a runtime thread, a lock held by another
//! process (or a slow disk) would stall every task sharing that thread.

/// Runs `work` (store calls, and whatever else it does with their records)
/// on tokio's blocking pool and waits for it. A panic or cancellation of the
/// task comes back as the error type's `From<JoinError>`
/// ([`Error::Task`](super::Error::Task) for the job files' own).
pub async fn blocking<R, E>(work: impl FnOnce() -> Result<R, E> + Send + 'static) -> Result<R, E>
where
    R: Send + 'static,
    E: From<tokio::task::JoinError> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await?
}
