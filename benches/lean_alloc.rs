//! Allocations per signed `Invoke` request built by the lean path, counted by a global
//! allocator wrapper in this bench binary (the library itself imposes no allocator).
//!
//! Run: `cargo bench --bench lean_alloc`. It prints allocations and bytes per request, for the
//! lean path (`LeanInvoker::signed_request`: validation, cached credentials, payload SHA-256,
//! invocation id, SigV4 with the cached signing key, URI and headers) and, for comparison, for
//! the same request built as an `http::Request` and signed with `aws_sigv4::http_request::sign()`
//! (what the SDK's signer runs per attempt). Then whole calls: a warm `Invoke` through the lean
//! path and through the crate's SDK client (with its default lean signer, then with
//! `Signer::Sdk`), all on the crate's pool, against the embedded
//! endpoint (plain HTTP) in a process of its own, this binary run again (`common::serve`), so
//! only the client's allocations are counted: the
//! request, the pool's send, hyper's connection task and reading the response. Times are
//! printed for information only.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use lambda_vpce::lean::{InvokeRequest, LeanInvoker};
use lambda_vpce::wire::{header, InvocationType};
use lambda_vpce::{endpoint::Endpoint, pool::Pool};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counters
// are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ITERATIONS: u64 = 100_000;
/// Whole calls counted per client (each a loopback round trip).
const CALLS: u64 = 20_000;
const PAYLOAD_BYTES: usize = 1024;
const REGION: &str = "us-east-1";

fn counted(label: &str, f: impl FnMut()) {
    counted_n(label, ITERATIONS, f);
}

fn counted_n(label: &str, iterations: u64, mut f: impl FnMut()) {
    f(); // warm: credentials loaded, signing key derived, lazy statics set
    let (a0, b0) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let elapsed = start.elapsed();
    let allocs = ALLOCS.load(Ordering::Relaxed) - a0;
    let bytes = BYTES.load(Ordering::Relaxed) - b0;
    println!(
        "{label:<44} {:>6.2} allocations/request {:>8.0} bytes/request {:>8.2} µs/request",
        allocs as f64 / iterations as f64,
        bytes as f64 / iterations as f64,
        elapsed.as_secs_f64() * 1e6 / iterations as f64,
    );
}

fn main() {
    if common::serve_child() {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let credentials = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("IQoJb3JpZ2luX2VjEXAMPLETOKEN".repeat(20)),
        None,
        "bench",
    );
    let endpoint = Endpoint::private_dns(REGION).expect("endpoint");
    let pool = Pool::builder().endpoint(&endpoint).build().expect("pool");
    let lean = LeanInvoker::builder(pool, &endpoint)
        .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
        .build()
        .expect("invoker");
    let payload = Bytes::from(vec![b'x'; PAYLOAD_BYTES]);
    let function = "arn:aws:lambda:us-east-1:123456789012:function:bench-fn";

    println!("{ITERATIONS} iterations, {PAYLOAD_BYTES} B payload, session token, function ARN");
    for (label, req) in [
        (
            "lean signed_request (RequestResponse)",
            InvokeRequest::new(function, payload.clone()),
        ),
        (
            "lean signed_request (+Qualifier, LogType)",
            InvokeRequest::new(function, payload.clone())
                .qualifier("prod")
                .log_tail(true),
        ),
        (
            "lean signed_request (plain function name)",
            InvokeRequest::new("bench-fn", payload.clone()),
        ),
        (
            "lean signed_request (Event)",
            InvokeRequest::new(function, payload.clone()).invocation_type(InvocationType::Event),
        ),
    ] {
        counted(label, || {
            let built = rt.block_on(lean.signed_request(&req)).expect("signed");
            std::hint::black_box(built);
        });
    }

    counted("of which validate::function_name(ARN)", || {
        std::hint::black_box(lambda_vpce::validate::function_name(function)).ok();
    });
    counted("of which validate::function_name(name)", || {
        std::hint::black_box(lambda_vpce::validate::function_name("bench-fn")).ok();
    });

    // The same request through aws-sigv4's `sign()`, as the SDK signs each attempt.
    let uri = "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Abench-fn/invocations";
    let identity = credentials.into();
    counted("aws_sigv4::sign() of the same request", || {
        let mut request = http::Request::builder()
            .method("POST")
            .uri(uri)
            .header("content-type", "application/octet-stream")
            .header("content-length", PAYLOAD_BYTES.to_string())
            .header(header::INVOCATION_TYPE, "RequestResponse")
            .header(header::SDK_INVOCATION_ID, uuid::Uuid::new_v4().to_string())
            .body(payload.clone())
            .expect("request");
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name("lambda")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let signable = SignableRequest::new(
            "POST",
            uri,
            request
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or_default())),
            SignableBody::Bytes(request.body()),
        )
        .expect("signable");
        let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
        instructions.apply_to_request_http1x(&mut request);
        std::hint::black_box(request);
    });

    whole_calls(&rt, &payload);
}

/// Allocations per warm `Invoke`, client side only, against the endpoint in its own process.
fn whole_calls(rt: &tokio::runtime::Runtime, payload: &Bytes) {
    let server = common::serve(true);
    let url = server.url.clone();
    let client = rt
        .block_on(
            lambda_vpce::LambdaVpce::builder()
                .endpoint_url(&url)
                .region(REGION)
                .credentials(Credentials::new("AKID", "secret", None, None, "bench"))
                .build(),
        )
        .expect("client");
    let sdk_signer = rt
        .block_on(
            lambda_vpce::LambdaVpce::builder()
                .endpoint_url(&url)
                .region(REGION)
                .credentials(Credentials::new("AKID", "secret", None, None, "bench"))
                .signer(lambda_vpce::Signer::Sdk)
                .build(),
        )
        .expect("client");
    let lean = client.lean().expect("lean");
    println!("{CALLS} warm invokes of `echo`, {PAYLOAD_BYTES} B, client side (server in its own process)");
    counted_n("lean invoke (request, send, response)", CALLS, || {
        let out = rt
            .block_on(lean.invoke(InvokeRequest::new("echo", payload.clone())))
            .expect("invoke");
        std::hint::black_box(out);
    });
    counted_n("SDK client invoke on the same pool", CALLS, || {
        let out = rt
            .block_on(
                client
                    .client()
                    .invoke()
                    .function_name("echo")
                    .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_vec()))
                    .send(),
            )
            .expect("invoke");
        std::hint::black_box(out);
    });
    counted_n(
        "SDK client invoke, the SDK's own signer (Signer::Sdk)",
        CALLS,
        || {
            let out = rt
                .block_on(
                    sdk_signer
                        .client()
                        .invoke()
                        .function_name("echo")
                        .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_vec()))
                        .send(),
                )
                .expect("invoke");
            std::hint::black_box(out);
        },
    );
    drop(server);
}
