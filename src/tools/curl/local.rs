//! Requests to the instance's own services (ComfyUI on `localhost:18188`
//! and `8188`, the portal on 8080) are answered in-process by their
//! routers, with real bytes, before the catalog is asked: what `curl -s
//! http://localhost:18188/queue` on a rented instance reaches. A
//! `comfyui_down` fault refuses the connection as if nothing listened.

use tower::ServiceExt;

use super::request::{Answer, Reply, Request};
use crate::faults::{Depth, Fault, Invocation};
use crate::instance::Instance;
use crate::net::response::Response;

/// The most of a service's answer curl takes in (a history or an image).
const MAX_BODY: usize = 32 << 20;

/// The answer of the service listening on the request's loopback port, if
/// one does.
pub(super) async fn answer(
    instance: &Instance,
    req: &Request,
    user: &str,
    date: &str,
) -> Option<Answer> {
    let u = &req.target;
    let service = instance.services.at(&u.host, u.port)?;
    let ip = if u.host_is_ip() {
        u.host.clone()
    } else {
        "127.0.0.1".to_string()
    };
    let target = format!("{}:{}", u.host, u.port);
    let down = instance.faults.decide_where(
        Depth::Service,
        &Invocation {
            tool: Some(service.name),
            command: &target,
            args: &[],
            instance: &instance.config.id,
            user,
        },
        |f| *f == Fault::ComfyuiDown,
    );
    if !down.is_empty() {
        return Some(Answer::Refused { ip });
    }
    let mut builder = axum::http::Request::builder()
        .method(req.method.as_str())
        .uri(u.path.as_str());
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let Ok(request) = builder.body(axum::body::Body::from(req.body.clone())) else {
        // A header curl sent that HTTP cannot carry: the server would close.
        return Some(Answer::Refused { ip });
    };
    let Ok(resp) = service.router.oneshot(request).await;
    let status = resp.status().as_u16();
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let body = axum::body::to_bytes(resp.into_body(), MAX_BODY)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let mut all = vec![("Date".to_string(), date.to_string())];
    all.extend(headers.into_iter().filter(|(k, _)| k != "date"));
    if !all
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        all.push(("content-length".into(), body.len().to_string()));
    }
    let resp = Response {
        status,
        size: body.len() as u64,
        send_length: true,
        content_type,
        filename: None,
        location: None,
        // In-process: the instance's loopback is fast.
        rate: Some(1e9),
        fail: None,
        stall: None,
    };
    Some(Answer::Reply {
        ip,
        reply: Box::new(Reply {
            resp,
            offset: 0,
            content: Some(body),
            headers: all,
        }),
    })
}
