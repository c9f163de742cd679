//! `tatra bench encoder`: encoder throughput beside the backend's matmul peak.

use std::process::ExitCode;

use tatra_encoder::bench;
use tatra_encoder::device::DeviceChoice;

/// Measure speed
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Encoder forward throughput (tokens/s, GFLOP/s) for batch 1, 8, 32 × sequence
    /// length 16, 64, 256, and the GFLOP/s of one large matmul on the same device
    Encoder {
        /// cpu, gpu or auto (default: $TATRA_DEVICE, else cpu).
        #[arg(long)]
        device: Option<DeviceChoice>,
        /// Encoder package or HuggingFace model folder (default: the embedded e5-small).
        #[arg(long)]
        encoder: Option<std::path::PathBuf>,
        /// Batch sizes to run.
        #[arg(long, value_delimiter = ',', default_values_t = vec![1, 8, 32])]
        batch: Vec<usize>,
        /// Sequence lengths to run.
        #[arg(long, value_delimiter = ',', default_values_t = vec![16, 64, 256])]
        seq: Vec<usize>,
        /// Seconds to spend on each configuration (best run is reported).
        #[arg(long, default_value_t = 3.0)]
        budget: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check that the GPU gives the CPU's hidden states (max absolute difference)
    Devices {
        /// Encoder package or HuggingFace model folder (default: the embedded e5-small).
        #[arg(long)]
        encoder: Option<std::path::PathBuf>,
    },
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match a.what {
        What::Encoder { device, encoder, batch, seq, budget, json } => {
            let choice = match device {
                Some(d) => d,
                None => DeviceChoice::from_env()?,
            };
            let dev = tatra_encoder::device::select(choice)?;
            let dir = encoder.unwrap_or_else(crate::cmd::default_encoder_dir);
            let enc = tatra_encoder::Encoder::load(&dir, &dev)?;
            let matmul = bench::matmul_gflops(&dev, 2048, 5);
            if !json {
                println!("device: {dev:?}; encoder: {}", dir.display());
                println!("matmul 2048³ f32: {matmul:.1} GFLOP/s");
                println!("{:>5} {:>5} {:>10} {:>12} {:>8} {:>8}", "batch", "seq", "ms", "tokens/s", "GFLOP/s", "% peak");
            }
            let mut runs = Vec::new();
            for &b in &batch {
                for &s in &seq {
                    let r = bench::time_forward(&enc, b, s, budget);
                    if !json {
                        println!(
                            "{:>5} {:>5} {:>10.1} {:>12.0} {:>8.1} {:>7.0}%",
                            r.batch,
                            r.seq,
                            r.seconds * 1e3,
                            r.tokens_per_s,
                            r.gflops,
                            100.0 * r.gflops / matmul
                        );
                    }
                    runs.push(r);
                }
            }
            if json {
                let report = bench::Report { device: format!("{dev:?}"), matmul_gflops: matmul, runs };
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        What::Devices { encoder } => {
            let dir = encoder.unwrap_or_else(crate::cmd::default_encoder_dir);
            let gpu = tatra_encoder::device::select(DeviceChoice::Gpu)?;
            let a = tatra_encoder::Encoder::load(&dir, &tatra_encoder::device::select(DeviceChoice::Cpu)?)?;
            let b = tatra_encoder::Encoder::load(&dir, &gpu)?;
            let worst = bench::compare_devices(&a, &b, &[5, 17, 64, 200]);
            println!("{}: max |cpu - gpu| = {worst:.3e} ({gpu:?})", dir.display());
            Ok(if worst < 1e-3 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}
