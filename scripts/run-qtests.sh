#!/usr/bin/env bash
# Run the ocp-nvme qtests and the Rust unit tests of the crates that the
# series adds to or extends (hwcore, system, util, block) plus QEMU's Rust
# integration tests, in the built tree.
set -euo pipefail
cd "$(dirname "$0")/../build/qemu-tree/build"
# meson's test runner prints TAP results and a summary line per suite.
./pyvenv/bin/meson test --no-rebuild --print-errorlogs \
  qtest-x86_64/ocp-nvme-test \
  rust-hwcore-tests rust-system-tests rust-block-tests rust-util-tests \
  rust-hwcore-rs-integration rust-integration
