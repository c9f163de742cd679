//! The wgpu backend gives the same hidden states as the CPU within 1e-3. Runs wherever
//! a wgpu adapter exists (software Vulkan included) in a build with the `wgpu` feature;
//! skipped, saying so, elsewhere (and in builds without the feature).

use std::path::Path;

use tatra_encoder::Encoder;
use tatra_encoder::device::{DeviceChoice, select};

#[test]
fn gpu_equals_cpu() {
    let gpu = match select(DeviceChoice::Gpu) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("SKIP: {e}");
            return;
        }
    };
    let cpu = select(DeviceChoice::Cpu).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("tests/fixtures/tiny-xlm-roberta"), root.join("tests/fixtures/tiny-bert")];
    let e5 = root.join("../../models/encoder/multilingual-e5-small");
    if e5.is_dir() {
        dirs.push(e5);
    }
    for dir in dirs {
        let a = Encoder::load(&dir, &cpu).unwrap();
        let b = Encoder::load(&dir, &gpu).unwrap();
        let worst = tatra_encoder::bench::compare_devices(&a, &b, &[5, 17, 33]);
        eprintln!("{}: max |cpu - gpu| = {worst:.2e}", dir.display());
        assert!(worst < 1e-3, "{}: {worst}", dir.display());
    }
}
