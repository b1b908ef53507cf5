#!/usr/bin/env bash
# Show the emulated drive from inside a Linux guest: boots the test guest on
# -device ocp-nvme (image IMG, created as a 1 GiB sparse file if missing; a
# temporary one by default) and runs nvme-cli and fio, printing their output.
# For `make demo`.
#
# usage: demo.sh [IMG]      environment: QEMU, OCP_NVME_CACHE, DEMO_DEVICE_OPTS
#   (extra ocp-nvme properties, e.g. "mdts=5,model=My SSD")
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export QEMU=${QEMU:-$REPO/build/qemu-system-x86_64}
IMG=${1:-}
TMP=$(mktemp -d /tmp/ocp-demo.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
if [ -z "$IMG" ]; then IMG=$TMP/disk.raw; fi
[ -e "$IMG" ] || truncate -s 1G "$IMG"
cat >"$TMP/demo.sh" <<'GUEST'
step() { echo; echo "### $*"; "$@"; echo "(exit status $?)"; }
step nvme list
step nvme id-ctrl /dev/nvme0 -H
step nvme id-ns /dev/nvme0n1
step nvme smart-log /dev/nvme0
step fio --name=demo --filename=/dev/nvme0n1 --ioengine=libaio --direct=1 --rw=randrw \
  --bs=4k --iodepth=16 --size=64M --runtime=5 --time_based --verify=crc32c --do_verify=1
step nvme smart-log /dev/nvme0
step nvme id-uuid /dev/nvme0
step nvme ocp smart-add-log /dev/nvme0
step nvme ocp latency-monitor-log /dev/nvme0
step nvme ocp device-capability-log /dev/nvme0
step nvme ocp error-recovery-log /dev/nvme0
step nvme fw-log /dev/nvme0
exit 0
GUEST
"$HERE/run-guest.sh" --timeout 600 "$TMP/demo.sh" -- \
  -drive "if=none,id=d0,file=$IMG,format=raw" \
  -device "ocp-nvme,drive=d0,serial=OCPDEMO0001${DEMO_DEVICE_OPTS:+,$DEMO_DEVICE_OPTS}" | tr -d '\r'
