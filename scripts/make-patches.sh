#!/usr/bin/env bash
# Write the upstreamable patch series (with cover letter) against QEMU
# 10.2.x to DIR, prove it applies with `git am` to the pristine tree, run
# checkpatch on every patch, and build every patch of the series alone
# (OCP_NVME_PATCH_BUILDS=0 skips the builds).
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
of QEMU's Rust crates.  The NVMe controller itself is a pure Rust crate
with no QEMU types (tested with cargo test); the QOM device only plugs it
into PCI, DMA, BlockBackend AIO and MSI-X.

The first patches add what the crates lack for a PCI block device, each
in the crate where it belongs: QOM interfaces and run-time properties in
qom, bottom halves in util, DMA through an AddressSpace in system, PCI
devices (class, BARs, capabilities, INTx, MSI-X), property types and run
state handlers in hwcore, and a new block crate for BlockBackend AIO,
accounting and the drive's BlockConf.

Based on QEMU {version}.
Generated from ocp-nvme {rev}.""")
open(path, "w").write(text)
PY
patches=$(ls "$out"/0*.patch | grep -v 0000-cover-letter)
n=$(echo "$patches" | wc -l)

# Prove the series applies to the pristine source.
check=$(mktemp -d)
trap 'git -C "$tree" worktree remove --force "$check" >/dev/null 2>&1 || true; rm -rf "$check"' EXIT
git -C "$tree" worktree add -q --detach "$check" ocp-nvme-pristine
echo "$patches" | xargs git -C "$check" -c user.name=check -c user.email=check@invalid am -q
echo "make-patches: $n patches in $out apply to the pristine QEMU tree"

# checkpatch: errors fail, warnings are listed (new files always warn
# about MAINTAINERS, which the build patch updates).
errors=0
for p in $patches; do
  if ! res=$(cd "$tree" && ./scripts/checkpatch.pl --no-color "$p" 2>&1); then
    echo "$res" | grep -E "^(ERROR|total)" | sed "s|^|  $(basename "$p"): |"
    errors=$((errors + 1))
  fi
done
[ "$errors" -eq 0 ] || { echo "make-patches: checkpatch errors in $errors patch(es)" >&2; exit 1; }
echo "make-patches: checkpatch reports no error"

# Every patch builds alone: check each commit out in turn in the QEMU tree
# and rebuild incrementally (ninja rebuilds what the patch changed; ccache
# serves C objects built before).  The last commit is the series' head,
# so the tree ends as it started.
if [ "${OCP_NVME_PATCH_BUILDS:-1}" != 0 ]; then
  [ -f "$tree/build/build.ninja" ] || { echo "make-patches: QEMU tree not configured; run 'make qemu'" >&2; exit 1; }
  [ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] || {
    echo "make-patches: the QEMU tree has uncommitted changes" >&2; exit 1; }
  start=$(date +%s)
  i=0
  for commit in $(git -C "$tree" rev-list --reverse ocp-nvme-base..ocp-nvme); do
    i=$((i + 1))
    t0=$(date +%s)
    git -C "$tree" checkout -q --detach "$commit"
    if ! ninja -C "$tree/build" qemu-system-x86_64 > "$out/build-$i.log" 2>&1; then
      git -C "$tree" checkout -q ocp-nvme
      echo "make-patches: patch $i ($(git -C "$tree" log -1 --format=%s "$commit")) does not build; see $out/build-$i.log" >&2
      tail -20 "$out/build-$i.log" >&2
      exit 1
    fi
    echo "make-patches: patch $i/$n builds ($(( $(date +%s) - t0 )) s): $(git -C "$tree" log -1 --format=%s "$commit")"
  done
  git -C "$tree" checkout -q ocp-nvme
  echo "make-patches: every patch builds alone ($(( $(date +%s) - start )) s in all)"
fi
