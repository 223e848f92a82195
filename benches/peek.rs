//! What the socket peek before reusing a TLS connection costs: the pool's check that the
//! server has not closed a connection before a request is written on it
//! (`SharedTcp::peer_state`: one `recv(MSG_PEEK)` that finds nothing and would block).
//!
//! `peek/idle_connection`: that call, as the pool makes it (`socket2::SockRef::peek`, one byte,
//! non-blocking), on an idle loopback TCP connection. `cargo bench --bench peek`.

use std::mem::MaybeUninit;
use std::net::{TcpListener, TcpStream};

use criterion::{criterion_group, criterion_main, Criterion};
use socket2::SockRef;

fn peek(c: &mut Criterion) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connects");
    let (_server, _) = listener.accept().expect("accepts");
    client.set_nonblocking(true).unwrap();
    let sock = SockRef::from(&client);
    let mut byte = [MaybeUninit::<u8>::uninit(); 1];
    c.bench_function("peek/idle_connection", |b| {
        b.iter(|| {
            let r = sock.peek(&mut byte);
            assert!(
                matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
                "an idle connection has nothing to read: {r:?}"
            );
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = peek
}
criterion_main!(benches);
