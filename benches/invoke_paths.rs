//! One warm Invoke (RequestResponse, 1 KiB, `echo`) through each path against the in-process
//! embedded endpoint over TLS, signatures verified: the crate's SDK client on its pool, and
//! aws-sdk-lambda on its default HTTP client, and the lean Invoke path (`lambda_vpce::lean`)
//! on the crate client's pool.
//!
//! The endpoint runs in this process, so each number includes the server's work too; compare
//! paths with each other, not with a remote endpoint. `cargo bench --bench invoke_paths`.

use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_lambda::config::Region;
use aws_sdk_lambda::primitives::Blob;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lambda_vpce::local::LocalEndpoint;
use lambda_vpce::{lean::InvokeRequest, LambdaVpce};

const PAYLOAD_BYTES: usize = 1024;

fn payload() -> Vec<u8> {
    let mut p = b"{\"p\":\"".to_vec();
    p.resize(PAYLOAD_BYTES - 2, b'a');
    p.extend_from_slice(b"\"}");
    p
}

async fn invoke(client: &aws_sdk_lambda::Client, payload: &[u8]) {
    let out = client
        .invoke()
        .function_name("echo")
        .payload(Blob::new(payload))
        .send()
        .await
        .expect("invoke succeeds");
    assert!(out.function_error().is_none());
}

fn invoke_paths(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let endpoint = rt
        .block_on(LocalEndpoint::builder().start())
        .expect("endpoint starts");
    let creds = endpoint.credentials();
    let crate_client = rt
        .block_on(
            LambdaVpce::builder()
                .endpoint_url(&endpoint.url())
                .add_ca_pem(endpoint.ca_pem())
                .region(endpoint.region())
                .credentials(creds.clone())
                .build(),
        )
        .expect("crate client builds");
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(TrustStore::empty().with_pem_certificate(endpoint.ca_pem()))
                .build()
                .expect("tls context"),
        )
        .build_https();
    let sdk_default = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::new()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .region(Region::new(endpoint.region().to_owned()))
            .endpoint_url(endpoint.url())
            .http_client(http)
            .build(),
    );
    let lean = crate_client.lean().expect("lean invoker builds");
    let payload = payload();
    let lean_payload = bytes::Bytes::from(payload.clone());
    // Warm both: one connection each.
    rt.block_on(invoke(crate_client.client(), &payload));
    rt.block_on(invoke(&sdk_default, &payload));

    let mut group = c.benchmark_group("invoke");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_millis(500));
    group.throughput(Throughput::Elements(1));
    group.bench_function("lambda-vpce", |b| {
        b.to_async(&rt)
            .iter(|| invoke(crate_client.client(), &payload));
    });
    group.bench_function("sdk-default", |b| {
        b.to_async(&rt).iter(|| invoke(&sdk_default, &payload));
    });
    group.bench_function("lambda-vpce-lean", |b| {
        b.to_async(&rt).iter(|| async {
            let out = lean
                .invoke(InvokeRequest::new("echo", lean_payload.clone()))
                .await
                .expect("lean invoke succeeds");
            assert!(out.function_error.is_none());
        });
    });
    group.finish();
    drop(lean);
    drop(crate_client);
    drop(sdk_default);
    rt.block_on(endpoint.shutdown());
}

criterion_group!(benches, invoke_paths);
criterion_main!(benches);
