//! The HTTP/JSON API (axum): the endpoints of the contract, plus `POST /v1/txs` (a batch of
//! txs in one request, for load generators), bound to loopback.
//!
//! Every error is `{"error": S}` with status 400 (malformed JSON, hex, tx or path), 404 (not
//! committed / never set / unknown route), 413 (body over [`MAX_BODY`]) or 503 (mempool full).
//! Bad requests change nothing.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::app::{tx_hash, Block, MAX_TX};
use crate::consensus::Shared;
use crate::epochs::{check_form, TxKind};
use crate::NodeError;

/// Largest request body: a maximal tx, hex-encoded, in its JSON object.
pub const MAX_BODY: usize = 2 * MAX_TX + 64;
/// Most txs in one `POST /v1/txs`.
pub const MAX_BATCH: usize = 1024;
/// Largest `POST /v1/txs` body: [`MAX_BATCH`] maximal txs, hex-encoded and quoted.
pub const MAX_BATCH_BODY: usize = MAX_BATCH * (2 * MAX_TX + 3) + 64;

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

/// What the API takes: `KEY=VALUE`, and on a chain with epochs committee transactions and node
/// joins that the current registry accepts (a refused one would change nothing: 400 with the reason).
/// Resharing messages and epoch markers are the nodes' own.
fn check_api_tx(s: &Shared, tx: &[u8]) -> Result<(), String> {
    match check_form(tx, s.epochs_enabled()).map_err(|e| e.to_string())? {
        TxKind::Kv => Ok(()),
        TxKind::Committee | TxKind::Join => {
            match &*s.epochs.read().unwrap_or_else(|e| e.into_inner()) {
                Some(view) => crate::epochs::check_submitted(
                    s.genesis.chain_id.as_bytes(),
                    &view.registry,
                    &view.taken_peers,
                    tx,
                ),
                None => Err("the node has not finished its DKG yet".into()),
            }
        }
        TxKind::Dkg | TxKind::Marker => {
            Err("resharing messages and epoch markers are posted by the nodes".into())
        }
    }
}

/// A request body as JSON, or the error response: 413 over the route's limit, 400 otherwise.
fn json_body(body: Result<Bytes, BytesRejection>) -> Result<serde_json::Value, Box<Response>> {
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(Box::new(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            )))
        }
        Err(e) => return Err(Box::new(error(StatusCode::BAD_REQUEST, e.body_text()))),
    };
    serde_json::from_slice(&body)
        .map_err(|_| Box::new(error(StatusCode::BAD_REQUEST, "malformed JSON")))
}

/// Over-limit bodies up to this size are read (and discarded) before the 413 goes out.
pub const DRAIN_MAX: usize = 4 << 20;

/// Refuse (413) a request whose declared `Content-Length` is over `limit` without parsing
/// it. A body of at most [`DRAIN_MAX`] is read and discarded first (for at most 5 s), so the
/// client, still uploading, gets the answer instead of a connection reset under its upload;
/// a larger one is answered at once from the headers. Bodies without a declared length are
/// still cut at `limit` by [`DefaultBodyLimit`].
async fn declared_limit(limit: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 => {
            if len <= DRAIN_MAX as u64 {
                let drain = axum::body::to_bytes(req.into_body(), DRAIN_MAX);
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
            }
            error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
        }
        _ => next.run(req).await,
    }
}

/// The router over the shared node state.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route(
            "/v1/tx",
            post(submit).layer(middleware::from_fn(|r: Request, n: Next| {
                declared_limit(MAX_BODY, r, n)
            })),
        )
        .route(
            "/v1/txs",
            post(submit_batch)
                .layer(DefaultBodyLimit::max(MAX_BATCH_BODY))
                .layer(middleware::from_fn(|r: Request, n: Next| {
                    declared_limit(MAX_BATCH_BODY, r, n)
                })),
        )
        .route("/v1/tx/{hash}", get(tx))
        .route("/v1/block/{height}", get(block))
        .route("/v1/kv/{key}", get(kv))
        .route("/v1/epoch", get(epoch))
        .route("/metrics", get(metrics))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

/// Serve the API on `addr` (must be a loopback address) until `shutdown` resolves.
pub async fn serve(
    addr: String,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| NodeError::Config(format!("invalid api address {addr:?}")))?;
    if !addr.ip().is_loopback() {
        return Err(NodeError::Config(format!(
            "the API binds to loopback only, not {addr}"
        )));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| NodeError::Net(format!("cannot bind the API to {addr}: {e}")))?;
    axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| NodeError::Net(format!("API: {e}")))
}

async fn status(State(s): State<Arc<Shared>>) -> Response {
    let gpk = s
        .group_public_key
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Json(json!({
        "node": s.me,
        "height": s.tip.borrow().height,
        "group_public_key": gpk,
        "variant": s.genesis.variant,
        "dst": s.genesis.dst,
        "peers": s.net.peers(),
        "epoch": s.genesis.epoch_of(s.tip.borrow().height + 1),
    }))
    .into_response()
}

/// `GET /v1/epoch`: the current epoch, its committee and the history of epochs (404 on a chain
/// without epochs, 503 before the DKG finished).
async fn epoch(State(s): State<Arc<Shared>>) -> Response {
    if !s.epochs_enabled() {
        return error(StatusCode::NOT_FOUND, "this chain has no epochs");
    }
    match &*s.epochs.read().unwrap_or_else(|e| e.into_inner()) {
        Some(v) => Json(v.view.clone()).into_response(),
        None => error(StatusCode::SERVICE_UNAVAILABLE, "the DKG has not finished"),
    }
}

async fn submit(State(s): State<Arc<Shared>>, body: Result<Bytes, BytesRejection>) -> Response {
    let v = match json_body(body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(hex_tx) = v.get("tx").and_then(|t| t.as_str()) else {
        return error(StatusCode::BAD_REQUEST, "expected {\"tx\": HEX}");
    };
    let hex_tx = hex_tx.strip_prefix("0x").unwrap_or(hex_tx);
    let Ok(tx) = hex::decode(hex_tx) else {
        return error(StatusCode::BAD_REQUEST, "tx is not hex");
    };
    if tx.len() > MAX_TX {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "tx too large");
    }
    if let Err(e) = check_api_tx(&s, &tx) {
        return error(StatusCode::BAD_REQUEST, e);
    }
    let hash = hex::encode(tx_hash(&tx));
    match s.submit(tx, true) {
        Ok(_) => Json(json!({ "hash": hash })).into_response(),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "mempool full"),
    }
}

/// `POST /v1/txs {"txs":[HEX,...]}` (an addition to the contract's endpoints, for loaders):
/// up to [`MAX_BATCH`] txs checked like `POST /v1/tx`, all of them before any is taken, so a
/// batch with one bad tx changes nothing (400 naming its index). `200 {"hashes":[HEX,...]}`
/// in order; `503 {"error","accepted":K}` if the mempool filled up after the first K.
async fn submit_batch(
    State(s): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let v = match json_body(body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(list) = v.get("txs").and_then(|t| t.as_array()) else {
        return error(StatusCode::BAD_REQUEST, "expected {\"txs\": [HEX, ...]}");
    };
    if list.is_empty() || list.len() > MAX_BATCH {
        return error(
            StatusCode::BAD_REQUEST,
            format!("a batch holds 1..={MAX_BATCH} txs, not {}", list.len()),
        );
    }
    let mut txs = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let Some(h) = t.as_str() else {
            return error(StatusCode::BAD_REQUEST, format!("tx {i} is not a string"));
        };
        let Ok(tx) = hex::decode(h.strip_prefix("0x").unwrap_or(h)) else {
            return error(StatusCode::BAD_REQUEST, format!("tx {i} is not hex"));
        };
        if tx.len() > MAX_TX {
            return error(StatusCode::PAYLOAD_TOO_LARGE, format!("tx {i} too large"));
        }
        if let Err(e) = check_api_tx(&s, &tx) {
            return error(StatusCode::BAD_REQUEST, format!("tx {i}: {e}"));
        }
        txs.push(tx);
    }
    let mut hashes = Vec::with_capacity(txs.len());
    for (i, tx) in txs.into_iter().enumerate() {
        let hash = hex::encode(tx_hash(&tx));
        if s.submit(tx, true).is_err() {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "mempool full", "accepted": i })),
            )
                .into_response();
        }
        hashes.push(hash);
    }
    Json(json!({ "hashes": hashes })).into_response()
}

fn parse_hash(h: &str) -> Option<[u8; 32]> {
    let h = h.strip_prefix("0x").unwrap_or(h);
    hex::decode(h).ok()?.try_into().ok()
}

async fn tx(State(s): State<Arc<Shared>>, Path(hash): Path<String>) -> Response {
    let Some(hash) = parse_hash(&hash) else {
        return error(StatusCode::BAD_REQUEST, "hash must be 32 bytes of hex");
    };
    match s.store.tx_height(&hash) {
        Ok(Some(h)) => Json(json!({ "height": h })).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not committed"),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn block(State(s): State<Arc<Shared>>, Path(height): Path<String>) -> Response {
    let Ok(height) = height.parse::<u64>() else {
        return error(StatusCode::BAD_REQUEST, "height must be a number");
    };
    let d = match s.store.decided(height) {
        Ok(Some(d)) => d,
        Ok(None) => return error(StatusCode::NOT_FOUND, "not committed"),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let Ok(b) = Block::decode(&d.value) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "corrupt block");
    };
    Json(json!({
        "height": b.height,
        "hash": hex::encode(d.certificate.value_id.0),
        "parent": hex::encode(b.parent),
        "txs": b.txs.iter().map(hex::encode).collect::<Vec<_>>(),
        "app_hash": hex::encode(b.app_hash),
        "certificate": {
            "message": hex::encode(d.certificate.message()),
            "signature": hex::encode(&d.certificate.signature),
            "period": d.certificate.period.0,
            "epoch": d.certificate.epoch.0,
            "beacon": hex::encode(&d.certificate.beacon),
        },
    }))
    .into_response()
}

async fn kv(State(s): State<Arc<Shared>>, Path(key): Path<String>) -> Response {
    match s.store.kv(&key) {
        Ok(Some((value, height))) => {
            Json(json!({ "key": key, "value": value, "height": height })).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "never set"),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.encode(),
    )
        .into_response()
}
