//! The embedded endpoint's HTTP/2 side driven by a raw `h2` client (h2c prior knowledge), so
//! stream ids, GOAWAY last-stream-ids and reset reasons are seen exactly: each HTTP/2 fault
//! does what its doc says and the ledger agrees.

mod support;

use std::time::Duration;

use bytes::Bytes;
use h2::Reason;
use lambda_vpce::local::{
    AbruptGoaway, LocalEndpoint, RefuseStreams, StreamOutcome, DEFAULT_H2_MAX_CONCURRENT_STREAMS,
    H2_ENHANCE_YOUR_CALM,
};
use support::h2raw::{Answer, H2Conn, Seen, INITIAL_WINDOW_SIZE, MAX_CONCURRENT_STREAMS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Longest a test waits on something a real socket does.
const WAIT: Duration = Duration::from_secs(10);

async fn h2c_endpoint() -> LocalEndpoint {
    LocalEndpoint::builder()
        .plain_http(true)
        .verify_signatures(false)
        .start()
        .await
        .expect("endpoint starts")
}

#[tokio::test]
async fn alpn_picks_h2_by_default_and_http1_only_offers_http1_alone() {
    let ep = LocalEndpoint::start().await.expect("starts");
    assert_eq!(
        support::tls::negotiated_alpn(&ep, &[b"h2", b"http/1.1"])
            .await
            .as_deref(),
        Some(&b"h2"[..])
    );
    assert_eq!(
        support::tls::negotiated_alpn(&ep, &[b"http/1.1"])
            .await
            .as_deref(),
        Some(&b"http/1.1"[..])
    );
    let http1 = LocalEndpoint::builder()
        .http2(false)
        .start()
        .await
        .expect("starts");
    assert_eq!(
        support::tls::negotiated_alpn(&http1, &[b"h2", b"http/1.1"])
            .await
            .as_deref(),
        Some(&b"http/1.1"[..])
    );
}

#[tokio::test]
async fn an_h2c_connection_advertises_128_streams_and_large_windows_and_answers() {
    let ep = h2c_endpoint().await;
    let mut conn = H2Conn::open(&ep).await;
    let answer = conn.invoke("echo", "call-1", r#"{"a":1}"#).await;
    assert!(
        matches!(&answer, Answer::Full(200, body) if body == r#"{"a":1}"#),
        "{answer:?}"
    );
    assert_eq!(
        conn.tap.setting(MAX_CONCURRENT_STREAMS),
        Some(DEFAULT_H2_MAX_CONCURRENT_STREAMS)
    );
    assert_eq!(
        conn.tap.setting(INITIAL_WINDOW_SIZE),
        Some(8 << 20),
        "8 MiB per stream, as `LocalEndpointBuilder`'s docs say: more than a 6 MB payload"
    );
    assert_eq!(ep.ledger().executions("call-1"), 1);
    let records = ep.ledger().streams_of("call-1");
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].stream_id, records[0].outcome),
        (1, StreamOutcome::Answered)
    );
    let stats = ep.stats();
    assert_eq!((stats.http2_connections, stats.h2_streams), (1, 1));
}

#[tokio::test]
async fn a_six_megabyte_payload_round_trips_over_h2c() {
    let ep = h2c_endpoint().await;
    let mut conn = H2Conn::open(&ep).await;
    let payload = Bytes::from(format!("\"{}\"", "x".repeat(6_000_000 - 2)));
    let (_, answer) = conn
        .start_invoke("echo", "big", payload.clone())
        .await
        .expect("sent");
    let answer = tokio::time::timeout(WAIT, answer).await.expect("answered");
    assert!(matches!(&answer, Answer::Full(200, body) if *body == payload));
}

#[tokio::test]
async fn a_refused_stream_ran_zero_times_and_its_resend_runs_once() {
    let ep = h2c_endpoint().await;
    ep.faults().h2_refuse(RefuseStreams::FirstPerConnection(1));
    let mut conn = H2Conn::open(&ep).await;
    let first = conn.invoke("echo", "call-r", "{}").await;
    assert_eq!(first.reason(), Some(Reason::REFUSED_STREAM), "{first:?}");
    assert!(conn.tap.seen().contains(&Seen::Reset {
        stream_id: 1,
        code: 0x7
    }));
    assert_eq!(ep.ledger().executions("call-r"), 0);
    assert_eq!(ep.ledger().refusals("call-r"), 1);
    let again = conn.invoke("echo", "call-r", "{}").await;
    assert_eq!(again.status(), Some(200), "{again:?}");
    assert_eq!(ep.ledger().executions("call-r"), 1);
    let outcomes: Vec<_> = ep
        .ledger()
        .streams_of("call-r")
        .iter()
        .map(|r| (r.stream_id, r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        vec![(1, StreamOutcome::Refused), (3, StreamOutcome::Answered)]
    );
    assert_eq!(ep.stats().h2_streams_refused, 1);
}

#[tokio::test]
async fn every_kth_stream_is_refused_and_never_runs() {
    let ep = h2c_endpoint().await;
    ep.faults().h2_refuse(RefuseStreams::EveryNth(2));
    let mut conn = H2Conn::open(&ep).await;
    for i in 1..=4 {
        let id = format!("k-{i}");
        let answer = conn.invoke("echo", &id, "{}").await;
        let refused = i % 2 == 0;
        assert_eq!(
            answer.reason() == Some(Reason::REFUSED_STREAM),
            refused,
            "{i}: {answer:?}"
        );
        assert_eq!(ep.ledger().executions(&id), u32::from(!refused));
    }
}

#[tokio::test]
async fn goaway_after_n_streams_answers_every_stream_at_or_below_last_stream_id() {
    let ep = h2c_endpoint().await;
    ep.faults().h2_goaway_after_streams(2);
    let mut conn = H2Conn::open(&ep).await;
    let mut answers = Vec::new();
    for i in 0..3 {
        let (id, answer) = conn
            .start_invoke(
                "sleep",
                &format!("g-{i}"),
                Bytes::from_static(br#"{"ms":20}"#),
            )
            .await
            .expect("sent before any GOAWAY");
        answers.push((id, i, tokio::spawn(answer)));
    }
    let driver = tokio::time::timeout(WAIT, &mut conn.driver)
        .await
        .expect("closes");
    assert!(matches!(driver, Ok(Ok(()))), "a graceful close: {driver:?}");
    let goaways = conn.tap.goaways();
    assert_eq!(
        goaways.first(),
        Some(&(0x7fff_ffff, 0)),
        "GOAWAY(2^31-1) first: {goaways:?}"
    );
    let &(last, code) = goaways.last().expect("a final GOAWAY");
    assert_eq!(code, 0);
    assert!(last >= 3, "stream 2 was accepted: {goaways:?}");
    for (id, i, answer) in answers {
        let answer = answer.await.expect("joined");
        let runs = ep.ledger().executions(&format!("g-{i}"));
        if id <= last {
            assert_eq!(answer.status(), Some(200), "stream {id}: {answer:?}");
            assert_eq!(runs, 1, "stream {id}");
        } else {
            assert!(answer.status().is_none(), "stream {id}: {answer:?}");
            assert_eq!(runs, 0, "stream {id} above last-stream-id {last}");
        }
    }
    assert_eq!(ep.stats().h2_goaways_sent, 1);
    // No new stream on a connection that got GOAWAY; a new connection works.
    assert!(conn
        .start_invoke("echo", "late", Bytes::new())
        .await
        .is_err());
    let mut fresh = H2Conn::open(&ep).await;
    assert_eq!(
        fresh.invoke("echo", "fresh", "{}").await.status(),
        Some(200)
    );
}

#[tokio::test(start_paused = true)]
async fn goaway_on_idle_comes_after_the_idle_time_with_the_last_answered_stream() {
    let ep = h2c_endpoint().await;
    let idle = Duration::from_secs(30);
    ep.faults().h2_goaway_on_idle(idle);
    let mut conn = H2Conn::open(&ep).await;
    assert_eq!(conn.invoke("echo", "i-1", "{}").await.status(), Some(200));
    let answered = tokio::time::Instant::now();
    let driver = tokio::time::timeout(idle * 4, &mut conn.driver)
        .await
        .expect("closes");
    assert!(matches!(driver, Ok(Ok(()))), "{driver:?}");
    assert!(
        answered.elapsed() >= idle,
        "not before the idle time: {:?}",
        answered.elapsed()
    );
    // GOAWAY(2^31-1) first; an idle client may close before the final GOAWAY(1) arrives.
    let goaways = conn.tap.goaways();
    assert_eq!(goaways.first(), Some(&(0x7fff_ffff, 0)), "{goaways:?}");
    assert!(goaways[1..].iter().all(|g| *g == (1, 0)), "{goaways:?}");
    assert_eq!(ep.ledger().executions("i-1"), 1);
}

#[tokio::test]
async fn an_abrupt_goaway_carries_its_code_and_leaves_its_streams_unanswered() {
    let ep = h2c_endpoint().await;
    ep.faults().stall(true);
    ep.faults()
        .h2_abrupt_goaway(AbruptGoaway::new(2, H2_ENHANCE_YOUR_CALM));
    let mut conn = H2Conn::open(&ep).await;
    let (_, a) = conn
        .start_invoke("echo", "a-1", Bytes::from_static(b"{}"))
        .await
        .expect("sent");
    let (_, b) = conn
        .start_invoke("echo", "a-2", Bytes::from_static(b"{}"))
        .await
        .expect("sent");
    let driver = tokio::time::timeout(WAIT, &mut conn.driver)
        .await
        .expect("closes");
    let err = driver.expect("joined").expect_err("an abrupt GOAWAY");
    assert_eq!(err.reason(), Some(Reason::ENHANCE_YOUR_CALM));
    assert_eq!(conn.tap.goaways(), vec![(3, H2_ENHANCE_YOUR_CALM)]);
    for answer in [a.await, b.await] {
        assert!(answer.status().is_none(), "{answer:?}");
    }
    assert!(ep.ledger().executions("a-1") <= 1 && ep.ledger().executions("a-2") <= 1);
    support::wait_until("ep.ledger().streams().len() == 2", WAIT, || {
        ep.ledger().streams().len() == 2
    })
    .await;
    assert!(ep
        .ledger()
        .streams()
        .iter()
        .all(|r| r.outcome == StreamOutcome::Unanswered));
    assert_eq!(ep.stats().h2_abrupt_goaways, 1);
}

#[tokio::test]
async fn a_black_holed_connection_answers_no_ping_until_switched_off() {
    let ep = h2c_endpoint().await;
    let mut conn = H2Conn::open(&ep).await;
    assert_eq!(conn.invoke("echo", "b-1", "{}").await.status(), Some(200));
    ep.faults().h2_black_hole(true);
    support::wait_until("ep.stats().h2_black_holes == 1", WAIT, || {
        ep.stats().h2_black_holes == 1
    })
    .await;
    {
        let ping = conn.ping.ping(h2::Ping::opaque());
        tokio::pin!(ping);
        // The server is alive (a full exchange on another connection), yet no PONG.
        assert!(
            http1_list(&ep).await.starts_with(b"HTTP/1.1 200"),
            "HTTP/1.1 is served"
        );
        assert!(
            futures_poll_once(ping.as_mut()).await.is_none(),
            "a black hole answers no PING"
        );
        ep.faults().h2_black_hole(false);
        tokio::time::timeout(WAIT, ping)
            .await
            .expect("answered once switched off")
            .expect("pong");
    }
    assert_eq!(
        conn.invoke("echo", "b-2", "{}").await.status(),
        Some(200),
        "TCP stayed up"
    );
}

/// One ListFunctions over a fresh HTTP/1.1 connection: the response's first bytes.
async fn http1_list(ep: &LocalEndpoint) -> [u8; 12] {
    let mut http1 = tokio::net::TcpStream::connect(ep.addr())
        .await
        .expect("TCP");
    http1
        .write_all(b"GET /2015-03-31/functions/ HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .expect("written");
    let mut head = [0u8; 12];
    http1.read_exact(&mut head).await.expect("answered");
    head
}

/// Polls a future once: its output if it was ready.
async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
    let mut f = f;
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

#[tokio::test]
async fn a_reset_mid_response_sends_headers_and_part_of_the_body_then_internal_error() {
    let ep = h2c_endpoint().await;
    ep.faults().h2_reset_mid_response(true);
    let mut conn = H2Conn::open(&ep).await;
    let payload = Bytes::from(format!("\"{}\"", "y".repeat(4094)));
    let (id, answer) = conn
        .start_invoke("echo", "m-1", payload.clone())
        .await
        .expect("sent");
    match answer.await {
        Answer::Cut(200, got, e) => {
            assert_eq!(e.reason(), Some(Reason::INTERNAL_ERROR));
            assert!(
                !got.is_empty() && got.len() < payload.len(),
                "{} bytes",
                got.len()
            );
            assert_eq!(got, payload.slice(..got.len()));
        }
        other => panic!("expected headers, part of the body, then a reset: {other:?}"),
    }
    assert!(conn.tap.seen().contains(&Seen::Reset {
        stream_id: id,
        code: 0x2
    }));
    assert_eq!(ep.ledger().executions("m-1"), 1, "the function ran");
    assert_eq!(
        ep.ledger().streams_of("m-1")[0].outcome,
        StreamOutcome::ResetMidResponse
    );
}

#[tokio::test]
async fn a_stream_limit_changed_at_run_time_applies_to_new_connections() {
    let ep = LocalEndpoint::builder()
        .plain_http(true)
        .verify_signatures(false)
        .h2_max_concurrent_streams(5)
        .start()
        .await
        .expect("starts");
    let mut before = H2Conn::open(&ep).await;
    // An answer proves the server read its settings for this connection.
    assert_eq!(before.invoke("echo", "k", "{}").await.status(), Some(200));
    ep.faults().h2_max_concurrent_streams(2);
    let mut after = H2Conn::open(&ep).await;
    assert_eq!(after.invoke("echo", "l", "{}").await.status(), Some(200));
    assert_eq!(before.tap.setting(MAX_CONCURRENT_STREAMS), Some(5));
    assert_eq!(after.tap.setting(MAX_CONCURRENT_STREAMS), Some(2));
}

#[tokio::test]
async fn drain_connections_answers_every_stream_at_or_below_last_stream_id_and_keeps_accepting() {
    const STREAMS: usize = 10;
    let ep = h2c_endpoint().await;
    let mut conn = H2Conn::open(&ep).await;
    let mut answers = Vec::new();
    for i in 0..STREAMS {
        let (id, answer) = conn
            .start_invoke(
                "sleep",
                &format!("d-{i}"),
                Bytes::from_static(br#"{"ms":50}"#),
            )
            .await
            .expect("sent");
        answers.push((id, i, tokio::spawn(answer)));
    }
    // An idle HTTP/1.1 keep-alive connection alongside.
    let mut http1 = tokio::net::TcpStream::connect(ep.addr())
        .await
        .expect("TCP");
    http1
        .write_all(b"GET /2015-03-31/functions/ HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .expect("written");
    let mut head = [0u8; 12];
    http1.read_exact(&mut head).await.expect("answered");
    support::wait_until("ep.stats().h2_streams == STREAMS as u64", WAIT, || {
        ep.stats().h2_streams == STREAMS as u64
    })
    .await;
    ep.drain_connections();
    let driver = tokio::time::timeout(WAIT, &mut conn.driver)
        .await
        .expect("closes");
    assert!(matches!(driver, Ok(Ok(()))), "{driver:?}");
    let &(last, code) = conn.tap.goaways().last().expect("GOAWAY");
    assert_eq!(code, 0);
    for (id, i, answer) in answers {
        assert!(id <= last, "every stream was received before the drain");
        assert_eq!(
            answer.await.expect("joined").status(),
            Some(200),
            "stream {id}"
        );
        assert_eq!(ep.ledger().executions(&format!("d-{i}")), 1);
    }
    // The idle HTTP/1.1 connection was closed; the listener still accepts.
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, http1.read_to_end(&mut rest))
        .await
        .expect("closed")
        .expect("EOF");
    let mut fresh = H2Conn::open(&ep).await;
    assert_eq!(
        fresh.invoke("echo", "after", "{}").await.status(),
        Some(200)
    );
    let stats = ep.stats();
    assert_eq!((stats.drains, stats.h2_goaways_sent), (1, 1));
}

#[tokio::test]
async fn drain_connections_ends_an_http1_exchange_in_flight_with_connection_close() {
    let ep = h2c_endpoint().await;
    let mut http1 = tokio::net::TcpStream::connect(ep.addr())
        .await
        .expect("TCP");
    let body = r#"{"ms":100}"#;
    let request = format!(
        "POST /2015-03-31/functions/sleep/invocations HTTP/1.1\r\nhost: 127.0.0.1\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    http1.write_all(request.as_bytes()).await.expect("written");
    support::wait_until("ep.ledger().total() == 1", WAIT, || {
        ep.ledger().total() == 1
    })
    .await;
    ep.drain_connections();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, http1.read_to_end(&mut response))
        .await
        .expect("answered, then closed")
        .expect("EOF");
    let response = String::from_utf8_lossy(&response).to_ascii_lowercase();
    assert!(response.starts_with("http/1.1 200"), "{response}");
    assert!(response.contains("connection: close"), "{response}");
}

#[tokio::test]
async fn close_after_n_streams_serves_n_refuses_the_rest_then_sends_one_goaway() {
    let ep = h2c_endpoint().await;
    ep.faults().h2_close_after_streams(2);
    let mut conn = H2Conn::open(&ep).await;
    let mut answers = Vec::new();
    for i in 0..3 {
        let (id, answer) = conn
            .start_invoke(
                "sleep",
                &format!("c-{i}"),
                Bytes::from_static(br#"{"ms":20}"#),
            )
            .await
            .expect("sent before the GOAWAY");
        answers.push((id, i, tokio::spawn(answer)));
    }
    let driver = tokio::time::timeout(WAIT, &mut conn.driver)
        .await
        .expect("closes");
    assert!(driver.is_ok(), "{driver:?}");
    for (id, i, answer) in answers {
        let answer = answer.await.expect("joined");
        let runs = ep.ledger().executions(&format!("c-{i}"));
        if i < 2 {
            assert_eq!(
                (answer.status(), runs),
                (Some(200), 1),
                "stream {id}: {answer:?}"
            );
        } else {
            assert_eq!(
                answer.reason(),
                Some(Reason::REFUSED_STREAM),
                "stream {id}: {answer:?}"
            );
            assert_eq!(runs, 0, "stream {id}");
        }
    }
    assert_eq!(
        conn.tap.goaways(),
        vec![(5, 0)],
        "one GOAWAY, no 2^31-1 first"
    );
    assert_eq!(ep.stats().h2_streams_refused, 1);
}
