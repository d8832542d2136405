//! `/ws?clientId=`: ComfyUI's websocket. A client first gets `status`
//! with its session id, then every message sent to it or to everyone,
//! as JSON text frames, until it closes.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::ComfyUi;

#[derive(Deserialize)]
pub(super) struct WsQuery {
    #[serde(rename = "clientId")]
    client_id: Option<String>,
}

/// Upgrades to the websocket.
pub(super) async fn handler(
    State(c): State<Arc<ComfyUi>>,
    Query(q): Query<WsQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let sid = q
        .client_id
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| c.uuid().simple().to_string());
    upgrade.on_upgrade(move |socket| session(c, sid, socket))
}

async fn session(c: Arc<ComfyUi>, sid: String, mut socket: WebSocket) {
    let mut events = c.events.subscribe();
    let remaining = c.queue().remaining();
    let hello = json!({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": remaining}}, "sid": sid}});
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok((to, msg)) => {
                    if to.as_deref().is_some_and(|t| t != sid) {
                        continue;
                    }
                    if socket.send(Message::Text(msg.to_string().into())).await.is_err() {
                        return;
                    }
                }
                // A slow reader misses messages, as a real one would.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
