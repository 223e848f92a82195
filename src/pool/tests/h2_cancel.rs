//! The HTTP/2 cancellation matrix: a caller dropped at each point of a call — waiting for a
//! stream slot, sending its request body, awaiting the response, reading the response body —
//! leaves no waiter behind, resets its stream (the server sees it end), frees its slot at once,
//! and costs the shared connection nothing: the next call runs on it.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body::Frame;

use super::fake::{call_named, named_request, run_spawned_tasks};
use super::h2::h2_pool;
use crate::pool::{OriginStats, Pool};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The pool's one origin.
fn origin(pool: &Pool) -> OriginStats {
    pool.stats().origins()[0].clone()
}

/// A request body that sends one chunk and then never ends.
#[derive(Default)]
struct Unending {
    sent: bool,
}

impl http_body::Body for Unending {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.sent {
            return Poll::Pending;
        }
        self.sent = true;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"{\"part\":")))))
    }
}

#[tokio::test(start_paused = true)]
async fn a_caller_dropped_while_waiting_for_a_stream_slot_leaves_no_waiter_and_sends_nothing() {
    let (pool, server) = h2_pool(|b| b.max_connections_per_host(1));
    server.h2s.set(|b| {
        b.max_streams = Some(1);
        b.delay = secs(1);
    });
    let a = tokio::spawn({
        let pool = pool.clone();
        async move { call_named(&pool, "a").await }
    });
    server.h2s.wait_started(1).await;
    let b = tokio::spawn({
        let pool = pool.clone();
        async move { call_named(&pool, "b").await }
    });
    run_spawned_tasks().await;
    assert_eq!(origin(&pool).waiters(), 1, "b waits for a's slot");
    b.abort();
    run_spawned_tasks().await;
    assert_eq!(origin(&pool).waiters(), 0, "b's place is gone");
    a.await.unwrap().expect("a is unaffected");
    call_named(&pool, "c")
        .await
        .expect("the slot serves the next caller");
    assert_eq!(server.h2s.ran("b"), 0, "b never reached the server");
    assert_eq!(server.dials.load(SeqCst), 1, "one connection throughout");
    assert_eq!(origin(&pool).h2_open_streams(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_caller_dropped_while_sending_its_request_body_resets_the_stream_and_frees_its_slot() {
    let (pool, server) = h2_pool(|b| b.max_connections_per_host(1));
    server.h2s.set(|b| b.max_streams = Some(1));
    let mut request = named_request("a");
    *request.body_mut() = SdkBody::from_body_1_x(Unending::default());
    let a = tokio::spawn({
        let pool = pool.clone();
        async move { pool.send(request).await.map(drop) }
    });
    server.h2s.wait_started(1).await;
    run_spawned_tasks().await;
    assert_eq!(origin(&pool).h2_open_streams(), 1, "a's body is under way");
    a.abort();
    run_spawned_tasks().await;
    assert_eq!(
        origin(&pool).h2_open_streams(),
        0,
        "its slot is freed at once"
    );
    assert_eq!(
        server.h2s.reset_by_client.load(SeqCst),
        1,
        "the server saw the stream reset mid-body"
    );
    call_named(&pool, "b")
        .await
        .expect("the connection still serves");
    assert_eq!(server.dials.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_caller_dropped_while_awaiting_the_response_resets_the_stream_and_frees_its_slot() {
    let (pool, server) = h2_pool(|b| b.max_connections_per_host(1));
    server.h2s.set(|b| {
        b.max_streams = Some(1);
        b.delay = secs(10);
    });
    let a = tokio::spawn({
        let pool = pool.clone();
        async move { call_named(&pool, "a").await }
    });
    server.h2s.wait_started(1).await;
    run_spawned_tasks().await;
    a.abort();
    run_spawned_tasks().await;
    assert_eq!(
        origin(&pool).h2_open_streams(),
        0,
        "its slot is freed at once, not when the server answers"
    );
    call_named(&pool, "b")
        .await
        .expect("the connection still serves");
    assert_eq!(
        server.h2s.reset_by_client.load(SeqCst),
        1,
        "a's answer found its stream reset"
    );
    assert_eq!(server.dials.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_response_body_dropped_before_its_end_resets_the_stream_and_frees_its_slot() {
    let (pool, server) = h2_pool(|b| b.max_connections_per_host(1));
    server.h2s.set(|b| {
        b.max_streams = Some(1);
        b.body_after = secs(10);
    });
    let response = pool
        .send(named_request("a"))
        .await
        .expect("the headers arrive at once");
    assert_eq!(
        origin(&pool).h2_open_streams(),
        1,
        "a's body is still to come"
    );
    drop(response);
    run_spawned_tasks().await;
    assert_eq!(
        origin(&pool).h2_open_streams(),
        0,
        "its slot is freed at once"
    );
    call_named(&pool, "b")
        .await
        .expect("the connection still serves");
    assert_eq!(
        server.h2s.reset_by_client.load(SeqCst),
        1,
        "a's body found its stream reset"
    );
    assert_eq!(server.dials.load(SeqCst), 1);
}
