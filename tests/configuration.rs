//! The user's AWS configuration decides where calls go, as it does for aws-sdk-lambda: each
//! setting read from the environment, the profile and its `services` section through
//! aws-config's own loader (fake environment and files, no process state), with its source; and
//! the matrix of partitions × FIPS × dual-stack × where the endpoint URL is set, in which the
//! crate's endpoint equals the SDK client's or the refusal is the documented one.

mod support;

use lambda_vpce::{CaBundleSource, SettingSource};
use support::aws_settings::{crate_client, crate_origin, load, sdk_origin};

const URL: &str = "https://lambda.proxy.example";
const URL_LAMBDA: &str = "https://lambda-only.proxy.example";

#[tokio::test]
async fn the_profiles_endpoint_url_is_used_as_the_sdk_uses_it() {
    let cfg = load(
        &[],
        "[default]\nregion = eu-west-1\nendpoint_url = https://lambda.proxy.example\n",
    )
    .await;
    let vpce = crate_client(&cfg).unwrap();
    assert_eq!(vpce.endpoint().url(), URL);
    let url = vpce.settings().endpoint_url().unwrap();
    assert_eq!(url.source(), SettingSource::Profile);
    assert_eq!(sdk_origin(&cfg, None).await.unwrap(), URL);
}

#[tokio::test]
async fn a_services_section_for_lambda_wins_over_the_profiles_endpoint_url() {
    let file = "[default]\nregion = eu-west-1\nendpoint_url = https://lambda.proxy.example\n\
        services = mine\n[services mine]\nlambda =\n  endpoint_url = https://lambda-only.proxy.example\n";
    let cfg = load(&[], file).await;
    let vpce = crate_client(&cfg).unwrap();
    assert_eq!(vpce.endpoint().url(), URL_LAMBDA);
    assert_eq!(
        vpce.settings().endpoint_url().unwrap().source(),
        SettingSource::ServicesSection
    );
    assert_eq!(sdk_origin(&cfg, None).await.unwrap(), URL_LAMBDA);
}

#[tokio::test]
async fn the_lambda_variable_wins_over_the_global_one_which_wins_over_the_profile() {
    let file = "[default]\nregion = eu-west-1\nendpoint_url = https://profile.example\n";
    let both = load(
        &[
            ("AWS_ENDPOINT_URL", URL),
            ("AWS_ENDPOINT_URL_LAMBDA", URL_LAMBDA),
        ],
        file,
    )
    .await;
    let vpce = crate_client(&both).unwrap();
    assert_eq!(vpce.endpoint().url(), URL_LAMBDA);
    assert_eq!(
        vpce.settings().endpoint_url().unwrap().source(),
        SettingSource::ServiceEnvironment
    );
    let global = load(&[("AWS_ENDPOINT_URL", URL)], file).await;
    let vpce = crate_client(&global).unwrap();
    assert_eq!(vpce.endpoint().url(), URL);
    assert_eq!(
        vpce.settings().endpoint_url().unwrap().source(),
        SettingSource::Environment
    );
    assert_eq!(sdk_origin(&global, None).await.unwrap(), URL);
}

#[tokio::test]
async fn ignore_configured_endpoint_urls_in_the_environment_or_the_profile_is_honoured() {
    let file = "[default]\nregion = eu-west-1\nendpoint_url = https://profile.example\n";
    let by_env = load(
        &[
            ("AWS_ENDPOINT_URL_LAMBDA", URL_LAMBDA),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ],
        file,
    )
    .await;
    let by_profile = load(
        &[("AWS_ENDPOINT_URL", URL)],
        "[default]\nregion = eu-west-1\nignore_configured_endpoint_urls = true\n",
    )
    .await;
    for cfg in [by_env, by_profile] {
        let vpce = crate_client(&cfg).unwrap();
        assert!(vpce.settings().endpoint_url().is_none());
        assert_eq!(
            vpce.endpoint().url(),
            "https://lambda.eu-west-1.amazonaws.com"
        );
        assert_eq!(sdk_origin(&cfg, None).await.unwrap(), vpce.endpoint().url());
    }
}

#[tokio::test]
async fn fips_from_the_environment_or_the_profile_picks_the_fips_endpoint() {
    let by_env = load(
        &[("AWS_USE_FIPS_ENDPOINT", "true")],
        "[default]\nregion = us-gov-west-1\n",
    )
    .await;
    let vpce = crate_client(&by_env).unwrap();
    assert_eq!(
        vpce.endpoint().url(),
        "https://lambda-fips.us-gov-west-1.amazonaws.com"
    );
    assert!(*vpce.settings().use_fips().value());
    assert_eq!(
        vpce.settings().use_fips().source(),
        SettingSource::Environment
    );
    assert_eq!(
        sdk_origin(&by_env, None).await.unwrap(),
        vpce.endpoint().url()
    );

    let by_profile = load(
        &[],
        "[default]\nregion = us-east-1\nuse_fips_endpoint = true\n",
    )
    .await;
    let vpce = crate_client(&by_profile).unwrap();
    assert_eq!(
        vpce.endpoint().url(),
        "https://lambda-fips.us-east-1.amazonaws.com"
    );
    assert_eq!(vpce.settings().use_fips().source(), SettingSource::Profile);
}

#[tokio::test]
async fn dual_stack_from_the_profile_picks_the_dual_stack_endpoint() {
    let cfg = load(
        &[],
        "[default]\nregion = eu-west-1\nuse_dualstack_endpoint = true\n",
    )
    .await;
    let vpce = crate_client(&cfg).unwrap();
    assert_eq!(vpce.endpoint().url(), "https://lambda.eu-west-1.api.aws");
    assert_eq!(
        vpce.settings().use_dual_stack().source(),
        SettingSource::Profile
    );
    assert_eq!(sdk_origin(&cfg, None).await.unwrap(), vpce.endpoint().url());
}

#[tokio::test]
async fn an_explicit_builder_setting_wins_over_the_configuration() {
    let cfg = load(
        &[("AWS_USE_FIPS_ENDPOINT", "true"), ("AWS_ENDPOINT_URL", URL)],
        "[default]\nregion = us-east-1\n",
    )
    .await;
    let vpce = lambda_vpce::LambdaVpce::builder()
        .sdk_config(&cfg)
        .use_fips(false)
        .endpoint_url("https://explicit.example")
        .build_sync()
        .unwrap();
    assert_eq!(vpce.endpoint().url(), "https://explicit.example");
    assert_eq!(vpce.settings().use_fips().source(), SettingSource::Builder);
    assert!(!*vpce.settings().use_fips().value());
}

#[tokio::test]
async fn fips_with_a_vpc_endpoint_name_is_refused_saying_why() {
    let cfg = load(
        &[("AWS_USE_FIPS_ENDPOINT", "true")],
        "[default]\nregion = us-east-1\n",
    )
    .await;
    let e = lambda_vpce::LambdaVpce::builder()
        .sdk_config(&cfg)
        .endpoint(
            lambda_vpce::endpoint::Endpoint::vpce_name(
                "vpce-0123456789abcdef0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com",
            )
            .unwrap(),
        )
        .build_sync()
        .unwrap_err();
    assert_eq!(e.field(), "use_fips");
    assert!(e.got().contains("environment"), "{e}");
    assert!(e.expected().contains("no FIPS form"), "{e}");
    let ds = lambda_vpce::LambdaVpce::builder()
        .sdk_config(&load(&[], "[default]\nregion = us-east-1\n").await)
        .use_dual_stack(true)
        .endpoint_url("https://vpce-0123456789abcdef0-1a2b3c4d.lambda.us-east-1.vpce.amazonaws.com")
        .build_sync()
        .unwrap_err();
    assert_eq!(ds.field(), "use_dual_stack");
    assert!(ds.got().contains("builder"), "{ds}");
}

#[tokio::test]
async fn the_profiles_ca_bundle_is_read_with_its_source_and_the_variable_wins() {
    let dir = std::env::temp_dir().join(format!("lvpce-cfg-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let local = lambda_vpce::local::LocalEndpoint::start().await.unwrap();
    std::fs::write(dir.join("profile.pem"), local.ca_pem()).unwrap();
    std::fs::write(dir.join("env.pem"), local.ca_pem()).unwrap();
    let file = format!(
        "[default]\nregion = us-east-1\nca_bundle = {}\n",
        dir.join("profile.pem").display()
    );
    let vpce = crate_client(&load(&[], &file).await).unwrap();
    let bundle = vpce.settings().ca_bundle().unwrap();
    assert_eq!(bundle.source(), CaBundleSource::Profile);
    assert_eq!(bundle.path(), dir.join("profile.pem"));
    let env_path = dir.join("env.pem");
    let vpce =
        crate_client(&load(&[("AWS_CA_BUNDLE", env_path.to_str().unwrap())], &file).await).unwrap();
    let bundle = vpce.settings().ca_bundle().unwrap();
    assert_eq!(bundle.source(), CaBundleSource::Env);
    assert_eq!(bundle.path(), env_path);
    let missing = crate_client(
        &load(
            &[],
            "[default]\nregion = us-east-1\nca_bundle = /no/such.pem\n",
        )
        .await,
    )
    .unwrap_err();
    assert_eq!(missing.field(), "ca_bundle");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Where the endpoint URL is set in a matrix case.
#[derive(Debug, Clone, Copy)]
enum UrlFrom {
    Builder,
    Environment,
    LambdaEnvironment,
    Profile,
    ServicesSection,
    Nowhere,
}

#[tokio::test]
async fn for_every_partition_fips_dual_stack_and_url_source_the_crate_goes_where_the_sdk_goes() {
    // Every partition the resolver knows, read from its own table (a new one joins the matrix
    // by itself), by its implicit global region.
    let partitions = support::aws_settings::sdk_partitions();
    let ids: Vec<&str> = partitions.iter().map(|(id, _)| id.as_str()).collect();
    for named in ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"] {
        assert!(
            ids.contains(&named),
            "{named} not in the resolver's table: {ids:?}"
        );
    }
    let mut cases = 0;
    for (partition, region) in &partitions {
        for fips in [false, true] {
            for dual_stack in [false, true] {
                for from in [
                    UrlFrom::Builder,
                    UrlFrom::Environment,
                    UrlFrom::LambdaEnvironment,
                    UrlFrom::Profile,
                    UrlFrom::ServicesSection,
                    UrlFrom::Nowhere,
                ] {
                    let fips_s = fips.to_string();
                    let ds_s = dual_stack.to_string();
                    let mut env = vec![
                        ("AWS_USE_FIPS_ENDPOINT", fips_s.as_str()),
                        ("AWS_USE_DUALSTACK_ENDPOINT", ds_s.as_str()),
                    ];
                    let mut file = format!("[default]\nregion = {region}\n");
                    match from {
                        UrlFrom::Environment => env.push(("AWS_ENDPOINT_URL", URL)),
                        UrlFrom::LambdaEnvironment => env.push(("AWS_ENDPOINT_URL_LAMBDA", URL)),
                        UrlFrom::Profile => file.push_str(&format!("endpoint_url = {URL}\n")),
                        UrlFrom::ServicesSection => file.push_str(&format!(
                            "services = s\n[services s]\nlambda =\n  endpoint_url = {URL}\n"
                        )),
                        UrlFrom::Builder | UrlFrom::Nowhere => {}
                    }
                    let cfg = load(&env, &file).await;
                    let given = matches!(from, UrlFrom::Builder).then_some(URL);
                    let sdk = sdk_origin(&cfg, given).await;
                    let ours = crate_origin(&cfg, given);
                    let case = format!("{partition} {region} fips={fips} dual_stack={dual_stack} url from {from:?}");
                    match (&sdk, &ours) {
                        (Ok(sdk), Ok(ours)) => assert_eq!(sdk, ours, "{case}"),
                        (Err(sdk), Err(ours)) => {
                            // The documented refusal: a URL with FIPS or dual-stack, refused by
                            // both, naming the setting.
                            let expect = if fips { "use_fips" } else { "use_dual_stack" };
                            assert_eq!(ours.field(), expect, "{case}: {ours}");
                            assert!(
                                sdk.contains("custom endpoint are not supported"),
                                "{case}: {sdk}"
                            );
                        }
                        _ => panic!("{case}: the SDK says {sdk:?}, the crate {ours:?}"),
                    }
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, partitions.len() * 2 * 2 * 6);
}

/// With FIPS on, calls through the crate's SDK client reach the pool and go to the FIPS name
/// (they used to fail in the SDK's resolver, "FIPS and custom endpoint are not supported").
#[tokio::test]
async fn with_fips_on_sdk_calls_reach_the_pool_at_the_fips_name() {
    use std::sync::{Arc, Mutex};
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let asked = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = asked.clone();
    let resolver = lambda_vpce::FnResolver(move |host: &str, _port: u16| {
        seen.lock().unwrap().push(host.to_owned());
        Ok(vec![addr])
    });
    let cfg = load(
        &[("AWS_USE_FIPS_ENDPOINT", "true")],
        "[default]\nregion = us-east-1\n",
    )
    .await;
    let vpce = lambda_vpce::LambdaVpce::builder()
        .sdk_config(&cfg)
        .pool(lambda_vpce::pool::PoolBuilder::new().resolver(resolver))
        .max_attempts(1)
        .build_sync()
        .unwrap();
    let err = vpce
        .client()
        .invoke()
        .function_name("f")
        .send()
        .await
        .expect_err("nothing listens");
    let ours = lambda_vpce::Error::find_in(&err).expect("the pool's error");
    assert!(ours.is_connect() && ours.is_not_sent(), "{ours:?}");
    assert_eq!(
        asked.lock().unwrap().first().map(String::as_str),
        Some("lambda-fips.us-east-1.amazonaws.com")
    );
}
