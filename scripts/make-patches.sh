#!/usr/bin/env bash
# Write the upstreamable patch series (with cover letter) against QEMU
# 10.0.x to DIR, then prove it applies with `git am` to the pristine tree.
set -euo pipefail
out=$(realpath -m "${1:-out/patches}")
repo=$(cd "$(dirname "$0")/.." && pwd)
tree="$repo/build/qemu-tree"
[ -d "$tree/.git" ] || { echo "make-patches: no QEMU tree; run 'make qemu' first" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
version=$(git -C "$tree" log -1 --format=%s ocp-nvme-pristine | sed "s/^QEMU //")
git -C "$tree" format-patch -q --cover-letter --subject-prefix="PATCH" \
    -o "$out" ocp-nvme-base..ocp-nvme
cover="$out/0000-cover-letter.patch"
python3 - "$cover" "$version" "$(git -C "$repo" rev-parse --short HEAD)" <<'PY'
import sys
path, version, rev = sys.argv[1:]
text = open(path).read()
text = text.replace("*** SUBJECT HERE ***",
                    "Add ocp-nvme, an OCP Datacenter NVMe SSD device in Rust")
text = text.replace("*** BLURB HERE ***", f"""\
This series adds ocp-nvme, an emulated NVMe SSD that follows the Open
Compute Project Datacenter NVMe SSD specification, written in Rust on top
of qemu_api.  The NVMe controller itself is a pure Rust crate with no QEMU
types (tested with cargo test); the QOM device only plugs it into PCI,
DMA, BlockBackend AIO and MSI-X.

The first patches add what qemu_api lacks for a PCI block device: PCI
device classes with interfaces, BARs, capabilities, MSI-X, DMA through the
bus-master address space, scatter-gather block I/O and bottom halves.

Based on QEMU {version}.
Generated from ocp-nvme {rev}.""")
open(path, "w").write(text)
PY

# Prove the series applies to the pristine source.
check=$(mktemp -d)
trap 'git -C "$tree" worktree remove --force "$check" >/dev/null 2>&1 || true; rm -rf "$check"' EXIT
git -C "$tree" worktree add -q --detach "$check" ocp-nvme-pristine
ls "$out"/0*.patch | grep -v 0000-cover-letter | \
  xargs git -C "$check" -c user.name=check -c user.email=check@invalid am -q
n=$(ls "$out"/0*.patch | grep -vc 0000-cover-letter)
echo "make-patches: $n patches in $out apply to the pristine QEMU tree"
