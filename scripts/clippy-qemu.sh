#!/usr/bin/env bash
# clippy, with QEMU's workspace lints, over the crates this project adds or
# extends inside QEMU's tree (needs a configured build).  cargo resolves the
# path dependencies offline from rust/Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/../build/qemu-tree/build"
#
# Lints that clippy added after QEMU 10.2 and that fire only on QEMU's own
# code (hw/core/src/qdev.rs) are allowed by name; new ones stop the check.
upstream_only=(-A clippy::manual_checked_ops)
exec ./pyvenv/bin/meson devenv -w ../rust \
  cargo clippy --quiet --offline \
  -p hwcore -p system -p util -p qom -p block -p hw-ocp-nvme -p ocp-nvme-engine \
  -- -D warnings "${upstream_only[@]}"
