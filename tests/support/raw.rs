//! A raw TCP server on 127.0.0.1 (plain HTTP) for faults the local endpoint cannot make:
//! resetting the connection while the client is still writing the request body.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// What the raw server does with each connection.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Read the request head (up to the blank line), then reset (RST) the connection.
    ResetAfterHead,
}

/// A running raw server; stops when dropped.
#[derive(Debug)]
pub struct RawServer {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    /// Binds 127.0.0.1 on an ephemeral port and serves.
    pub async fn start(behaviour: Behaviour) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(AtomicU64::new(0));
        let counted = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let counted = counted.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tcp.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    match behaviour {
                        Behaviour::ResetAfterHead => {
                            let _ = socket2::SockRef::from(&tcp)
                                .set_linger(Some(std::time::Duration::ZERO));
                            drop(tcp);
                        }
                    }
                });
            }
        });
        RawServer {
            addr,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Request heads read so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}
