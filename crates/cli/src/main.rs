//! `lambda-vpce`: benchmark, serve, soak, invoke, doctor and policy for Lambda through
//! interface VPC endpoints. Every command is a thin shell over the `lambda_vpce` library.

// The binary may choose its allocator; the library never does. mimalloc removes the glibc
// malloc arena contention that dominates the SDK's per-call CPU at high concurrency. The
// global allocator, with the live-bytes counter `soak` uses, is in `heap`.

/// The global allocator this binary was built with, as the bench reports it.
pub(crate) const ALLOCATOR: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else {
    "system"
};

mod bench;
mod common;
mod doctor;
mod heap;
mod invoke;
mod policy;
mod serve;
mod soak;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Lambda through interface VPC endpoints: measure, serve, soak, invoke, diagnose.
#[derive(Debug, Parser)]
#[command(name = "lambda-vpce", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure invoke latency and throughput of several clients, interleaved, against the
    /// embedded endpoint (default) or any endpoint.
    Bench(Box<bench::BenchArgs>),
    /// Run the embedded Lambda-compatible endpoint alone and print its URL and CA path.
    Serve(serve::ServeArgs),
    /// Chaos soak: many calls while the embedded endpoint closes, resets, stalls and kills
    /// connections; reconcile every call with the endpoint's execution ledger.
    Soak(soak::SoakArgs),
    /// Invoke a function and print its response payload to stdout.
    Invoke(invoke::InvokeArgs),
    /// Check an endpoint: DNS privacy, handshakes, certificate names, connection reuse, zone.
    Doctor(doctor::DoctorArgs),
    /// Print a VPC endpoint policy allowing principals to invoke functions.
    Policy(policy::PolicyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    common::init_tracing();
    if let Command::Bench(a) = &cli.command {
        // Threads inherit the CPUs of the thread that starts them: pin before the runtime.
        if let Err(e) = bench::before_runtime(a) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Bench(a) => bench::run(*a).await,
            Command::Serve(a) => serve::run(a).await,
            Command::Soak(a) => soak::run(a).await,
            Command::Invoke(a) => invoke::run(a).await,
            Command::Doctor(a) => doctor::run(a).await,
            Command::Policy(a) => policy::run(a).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::from(2)
        }
    }
}
