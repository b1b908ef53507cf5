#!/usr/bin/env bash
# The main job: build what is missing, start QEMU with -device ocp-nvme on a
# scratch image and show the drive.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
qemu="$repo/build/qemu-system-x86_64"

python3 scripts/qemu-tree.py
tests/guest/build-guest.sh
mkdir -p out
img=out/demo-disk.img
[ -f "$img" ] || truncate -s 1G "$img"

echo
echo "== QEMU with -device ocp-nvme: info pci"
printf 'info pci\nquit\n' | "$qemu" -M q35 -accel tcg -display none -nodefaults \
    -monitor stdio \
    -drive if=none,id=d0,file="$img",format=raw \
    -device ocp-nvme,drive=d0,serial=OCPDEMO0001 2>&1 |
  grep -B1 -A4 "NVM Express controller"

echo
echo "== A Linux guest (TCG) on that drive: nvme-cli and fio"
QEMU="$qemu" tests/guest/run-guest.sh --timeout 300 scripts/demo-guest.sh -- \
    -drive if=none,id=d0,file="$img",format=raw \
    -device ocp-nvme,drive=d0,serial=OCPDEMO0001,model="ocp-nvme demo drive"
