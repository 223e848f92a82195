//! The embedded endpoint in a process of its own, for the benches that measure the client's
//! side alone (its memory, its allocations): the bench binary runs itself again as the
//! server ([`serve_child`] at the top of its `main`), so the library's benches need no
//! other binary.
// Each bench uses part of it (lean_alloc: plain HTTP only).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use lambda_vpce::local::LocalEndpoint;

/// Set in the child's environment: `plain` or `tls`.
const SERVE_ENV: &str = "LAMBDA_VPCE_BENCH_SERVE";

/// The endpoint in a child process, killed on drop.
pub struct Server {
    child: Child,
    /// Its base URL.
    pub url: String,
    /// Its CA (PEM) when it serves TLS.
    pub ca: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts this bench binary again as an embedded endpoint (plain HTTP or TLS, signatures not
/// checked) and waits until it serves.
pub fn serve(plain: bool) -> Server {
    let mut child = Command::new(std::env::current_exe().expect("the bench binary's path"))
        .env(SERVE_ENV, if plain { "plain" } else { "tls" })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server process starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut url = String::new();
    let mut ca = None;
    let mut ca_lines = None::<String>;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(pem) = ca_lines.as_mut() {
            if line == "end-ca" {
                ca = ca_lines.take();
            } else {
                pem.push_str(&line);
                pem.push('\n');
            }
            continue;
        }
        if let Some(u) = line.strip_prefix("url: ") {
            url = u.to_owned();
        } else if line == "ca:" {
            ca_lines = Some(String::new());
        } else if line == "serving" {
            break;
        }
    }
    assert!(!url.is_empty(), "the server printed its URL");
    Server { child, url, ca }
}

/// In the child [`serve`] started: serves until its stdin closes (the parent ended) and
/// returns true. In the bench itself: returns false at once.
pub fn serve_child() -> bool {
    let plain = match std::env::var(SERVE_ENV).as_deref() {
        Ok("plain") => true,
        Ok("tls") => false,
        _ => return false,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let ep = LocalEndpoint::builder()
            .plain_http(plain)
            .verify_signatures(false)
            .start()
            .await
            .expect("the endpoint starts");
        println!("url: {}", ep.url());
        if !plain {
            println!("ca:\n{}\nend-ca", ep.ca_pem().trim_end());
        }
        println!("serving");
        // Until the parent closes our stdin (or kills us).
        let _ = tokio::task::spawn_blocking(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        })
        .await;
        ep.shutdown().await;
    });
    true
}
