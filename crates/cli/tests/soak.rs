//! `lambda-vpce soak` end to end: a short run of the real binary must reconcile every call with
//! the endpoint's ledger (no duplicate, lost or hung call) and write its JSON report. The
//! 30-second run is in `.ci/run`.

#[path = "../../../tests/support/mod.rs"]
mod support;

fn soak(args: &[&str]) -> std::process::Output {
    support::cli::bin()
        .arg("soak")
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("the binary runs")
}

#[test]
fn a_short_chaos_soak_has_no_duplicate_lost_or_hung_call() {
    let dir = support::scratch_dir("soak", "chaos");
    let json = dir.join("soak.json");
    let out = soak(&[
        "--duration",
        "3s",
        "--concurrency",
        "32",
        "--chaos-probability",
        "0.2",
        "--stall-for",
        "400ms",
        "--deadline",
        "2s",
        "--seed",
        "7",
        "--json",
        json.to_str().expect("utf-8 path"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "soak failed: {stderr}");
    let text = std::fs::read_to_string(&json).expect("the JSON report was written");
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let n = |k: &str| {
        report[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {text}"))
    };
    assert_eq!(n("duplicates"), 0);
    assert_eq!(n("lost"), 0);
    assert_eq!(n("hung"), 0);
    assert_eq!(n("mismatched"), 0);
    assert!(n("ok") > 0);
    assert!(
        n("maybe_executed") > 0,
        "chaos made some calls fail: {text}"
    );
    assert_eq!(
        n("calls"),
        n("ok") + n("not_sent") + n("maybe_executed") + n("service_errors") + n("unclassified"),
        "every call is accounted for"
    );
    assert!(n("executions") >= n("ok"));
    for key in ["fds_before", "fds_after", "rss_before_kb", "rss_after_kb"] {
        assert!(report.get(key).is_some(), "{key} reported");
    }
    // The live heap is counted: each round peaks above what it leaves behind.
    let i = |k: &str| {
        report[k]
            .as_i64()
            .unwrap_or_else(|| panic!("{k} in {text}"))
    };
    assert!(i("heap_peak_first_round_bytes") > i("heap_after_first_round_bytes"));
    assert!(i("heap_peak_second_round_bytes") > i("heap_after_bytes"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn soak_refuses_bad_flags_with_a_message_and_no_panic() {
    for args in [
        &["--duration", "soon"][..],
        &["--duration", "0s"],
        &["--concurrency", "0"],
        &["--chaos-probability", "1.5"],
        &["--stall-for", "2s", "--deadline", "1s"],
    ] {
        let out = soak(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
}
