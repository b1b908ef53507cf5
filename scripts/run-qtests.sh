#!/usr/bin/env bash
# Run the ocp-nvme qtests (and QEMU's Rust unit tests) in the built tree.
set -euo pipefail
cd "$(dirname "$0")/../build/qemu-tree/build"
# meson's test runner prints TAP results and a summary line per suite.
./pyvenv/bin/meson test --no-rebuild --print-errorlogs \
  qtest-x86_64/ocp-nvme-test rust-qemu-api-tests rust-qemu-api-integration
