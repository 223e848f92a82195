//! A Prometheus scrape endpoint: `GET /metrics` answers the recorder's text format. Shared
//! by `examples/prometheus.rs` and `tests/metrics_prometheus.rs`.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::PrometheusHandle;

/// Serves `handle`'s metrics on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, handle: PrometheusHandle) {
    while let Ok((stream, _)) = listener.accept().await {
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let handle = handle.clone();
                async move {
                    let mut response = if req.uri().path() == "/metrics" {
                        // Upkeep drains the histograms' pending samples into their summaries.
                        handle.run_upkeep();
                        Response::new(Full::new(Bytes::from(handle.render())))
                    } else {
                        let mut r = Response::new(Full::new(Bytes::from_static(b"try /metrics\n")));
                        *r.status_mut() = StatusCode::NOT_FOUND;
                        r
                    };
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("text/plain; version=0.0.4"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
