//! Choosing where tensors live: `cpu` (burn's flex backend), `gpu` (wgpu, when tatra is
//! built with the `wgpu` feature) or `auto` (a GPU when one is usable, else the CPU).

use std::sync::Once;

use burn::tensor::Device;

use crate::error::{EncoderError, Result};

/// The device a user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    Cpu,
    Gpu,
    Auto,
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(DeviceChoice::Cpu),
            "gpu" | "wgpu" => Ok(DeviceChoice::Gpu),
            "auto" => Ok(DeviceChoice::Auto),
            other => Err(format!("unknown device '{other}': use cpu, gpu or auto")),
        }
    }
}

impl DeviceChoice {
    /// From `TATRA_DEVICE`, defaulting to `cpu`.
    pub fn from_env() -> Result<Self> {
        match std::env::var("TATRA_DEVICE") {
            Ok(v) if !v.is_empty() => v.parse().map_err(|e| EncoderError::Device(format!("TATRA_DEVICE: {e}"))),
            _ => Ok(DeviceChoice::Cpu),
        }
    }
}

static FALLBACK_NOTE: Once = Once::new();

/// Whether this build can use a GPU at all.
pub const GPU_COMPILED: bool = cfg!(feature = "wgpu");

/// The burn device for a choice.
pub fn select(choice: DeviceChoice) -> Result<Device> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::flex()),
        DeviceChoice::Gpu => gpu().ok_or_else(|| {
            EncoderError::Device(if GPU_COMPILED {
                "no GPU adapter found (wgpu); use --device cpu".into()
            } else {
                "this tatra was built without GPU support; rebuild with `--features wgpu` or use --device cpu".into()
            })
        }),
        DeviceChoice::Auto => Ok(gpu().unwrap_or_else(|| {
            FALLBACK_NOTE.call_once(|| eprintln!("tatra: no usable GPU, running on the CPU"));
            Device::flex()
        })),
    }
}

#[cfg(feature = "wgpu")]
fn gpu() -> Option<Device> {
    use burn::tensor::DeviceKind;
    // Probe: create a tiny tensor and read it back; wgpu panics when no adapter exists.
    let probe = std::panic::catch_unwind(|| {
        let d = Device::wgpu(DeviceKind::DefaultDevice);
        let t = burn::tensor::Tensor::<1>::from_floats([1.0f32, 2.0], &d);
        let ok = crate::to_vec(t + 1.0) == vec![2.0, 3.0];
        ok.then_some(d)
    });
    probe.ok().flatten()
}

#[cfg(not(feature = "wgpu"))]
fn gpu() -> Option<Device> {
    None
}
