//! Bad flags to the `lambda-vpce` binary: a non-zero exit with a message, never a panic.
//! (The library's own bad-input tests are in the root's `tests/bad_input.rs`.)

#[path = "../../../tests/support/mod.rs"]
mod support;

fn run_cli(args: &[&str]) -> std::process::Output {
    support::cli::bin()
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the binary runs")
}

#[test]
fn bad_cli_flags_exit_non_zero_with_a_message_and_no_panic() {
    for args in [
        &[][..],
        &["no-such-command"],
        &["soak", "--no-such-flag"],
        &["soak", "--duration"],
        &["soak", "--duration", "-5s"],
        &["soak", "--concurrency", "lots"],
        &["soak", "--concurrency", "99999999999"],
        &["soak", "--seed", "-1"],
        &["soak", "--chaos-probability", "NaN"],
        &["soak", "--duration", "\u{1F600}"],
        &["bench", "--payload-bytes", "18446744073709551615"],
        &["bench", "--payload-bytes", "6291457"],
        &["bench", "--concurrency", "0"],
        &["bench", "--requests", "0"],
        &["bench", "--baseline", "/nonexistent-baseline.json"],
        &["bench", "merge", "/nonexistent-only-one.json"],
        &[
            "bench",
            "merge",
            "/nonexistent-a.json",
            "/nonexistent-b.json",
        ],
        &["bench", "merge", "a.json", "b.json", "--concurrency", "4"],
        &["bench", "--concurrency", "100000"],
        &["bench", "--min-idle", "600"],
        &["bench", "--h2-connections", "0"],
        &["bench", "--rate", "1e-20"],
        &["bench", "--rate", "10", "--think-time", "5"],
        &["bench", "--rate", "0.001", "--requests", "1000000"],
        &["bench", "--think-time", "9..3"],
        // Flags that would be silently ignored: the bench would measure the embedded endpoint.
        &["bench", "--az", "us-east-1a"],
        &["bench", "--ca-cert", "/nonexistent.pem"],
        &["bench", "--vpce-dns-suffix", "abcdefgh"],
        &["bench", "--connect-only"],
        &[
            "bench",
            "--endpoint-url",
            "https://127.0.0.1:9",
            "--vpce-name",
            "x",
        ],
    ] {
        let out = run_cli(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("error") || stderr.contains("Usage"),
            "{args:?} gave no message: {stderr}"
        );
    }
}
