#!/usr/bin/env bash
# The GPU check, run on the lent GPU machine from the repository root (see
# docs/performance.md): wgpu outputs equal to the CPU's, and encoder throughput on GPU
# and on that machine's CPU. Expects the wgpu build of tatra at .gpu/tatra and the
# Vulkan loader packages in .gl/ (both carried; see scripts/gpu/README.md).
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
nproc | tee -a "$OUT/gpu.txt"
T=.gpu/tatra
chmod +x $T
python3 scripts/gpu/random_e5.py /tmp/e5rand 2>&1 | tail -1
{
  for m in crates/tatra-encoder/tests/fixtures/tiny-xlm-roberta crates/tatra-encoder/tests/fixtures/tiny-bert /tmp/e5rand; do
    timeout 120 $T bench devices --encoder $m
  done
} 2>&1 | tee "$OUT/equality.txt"
timeout 200 $T bench encoder --encoder /tmp/e5rand --device gpu --budget 2 2>&1 | tee "$OUT/bench-gpu.txt"
timeout 100 $T bench encoder --encoder /tmp/e5rand --device cpu --budget 1 --batch 1,8,32 --seq 16,64 2>&1 | tee "$OUT/bench-cpu16.txt"
