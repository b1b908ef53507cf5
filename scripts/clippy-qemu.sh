#!/usr/bin/env bash
# clippy, with QEMU's workspace lints and clippy.toml, over the crates this
# project adds or extends inside QEMU's tree (needs a configured build).
set -euo pipefail
cd "$(dirname "$0")/../build/qemu-tree/build"
exec ./pyvenv/bin/meson devenv -w ../rust \
  cargo clippy --quiet -p qemu_api -p hw-ocp-nvme -p ocp-nvme-engine -- -D warnings
