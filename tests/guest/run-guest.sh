#!/usr/bin/env bash
# Boot the test guest once under TCG and run one guest shell script in it.
#
# usage: run-guest.sh [options] SCRIPT [-- QEMU-DEVICE-ARGS...]
#   SCRIPT            shell script run by the guest's busybox sh (as root)
#   QEMU-DEVICE-ARGS  the disk, e.g.
#     -drive if=none,id=d0,file=IMG,format=raw -device ocp-nvme,drive=d0,serial=OCP0001
# options:
#   --log FILE        write the console output there (default: a temp file,
#                     removed afterwards); the output is also shown on stdout
#                     unless --quiet
#   --quiet           do not copy the console to stdout
#   --timeout SEC     kill QEMU after SEC seconds (default $GUEST_TIMEOUT or 600)
# environment:
#   QEMU              QEMU binary (default <repo>/build/qemu-system-x86_64)
#   OCP_NVME_CACHE    where build-guest.sh keeps the guest (it is built if needed)
#   GUEST_SMP, GUEST_MEM  default 2 and 1G
#   GUEST_APPEND      extra kernel command line
# The exit status is the script's (from the GUEST-EXIT=<n> line the guest
# prints last); 124 when the timeout hit, 125 when the guest died without
# printing it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
QEMU=${QEMU:-$REPO/build/qemu-system-x86_64}
GUEST=${OCP_NVME_CACHE:-$HOME/.cache/ocp-nvme}/guest
LOG= QUIET=0 TIMEOUT=${GUEST_TIMEOUT:-600}
while [ $# -gt 0 ]; do
  case $1 in
    --log) LOG=$2; shift 2 ;;
    --quiet) QUIET=1; shift ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "run-guest.sh: unknown option $1" >&2; exit 2 ;;
    *) if [ -z "${SCRIPT:-}" ]; then SCRIPT=$1; shift; else break; fi ;;
  esac
done
[ -n "${SCRIPT:-}" ] && [ -r "$SCRIPT" ] || { echo "usage: run-guest.sh [options] SCRIPT [-- DEVICE-ARGS...]" >&2; exit 2; }
[ "${1:-}" = "--" ] && shift
[ -x "$QEMU" ] || { echo "run-guest.sh: no QEMU at $QEMU (set QEMU=)" >&2; exit 2; }
"$HERE/build-guest.sh" --quiet

TMPLOG=0
if [ -z "$LOG" ]; then LOG=$(mktemp /tmp/ocp-guest.XXXXXX.log); TMPLOG=1; fi
cleanup() { [ "$TMPLOG" = 1 ] && rm -f "$LOG"; return 0; }
trap cleanup EXIT

set +e
if [ "$QUIET" = 1 ]; then
  timeout -k 10 "$TIMEOUT" "$QEMU" -M q35 -accel tcg -smp "${GUEST_SMP:-2}" -m "${GUEST_MEM:-1G}" \
    -nographic -no-reboot -nodefaults -serial stdio -monitor none \
    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initramfs.cpio.gz" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off ${GUEST_APPEND:-}" \
    -fw_cfg "name=opt/ocp/script,file=$SCRIPT" \
    "$@" </dev/null >"$LOG" 2>&1
  qrc=$?
else
  timeout -k 10 "$TIMEOUT" "$QEMU" -M q35 -accel tcg -smp "${GUEST_SMP:-2}" -m "${GUEST_MEM:-1G}" \
    -nographic -no-reboot -nodefaults -serial stdio -monitor none \
    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initramfs.cpio.gz" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off ${GUEST_APPEND:-}" \
    -fw_cfg "name=opt/ocp/script,file=$SCRIPT" \
    "$@" </dev/null 2>&1 | tee "$LOG"
  qrc=${PIPESTATUS[0]}
fi
set -e
rc=$(tr -d '\r' <"$LOG" | sed -n 's/^GUEST-EXIT=\([0-9][0-9]*\)$/\1/p' | tail -n1)
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
  echo "run-guest.sh: timeout after ${TIMEOUT}s" >&2; exit 124
fi
if [ -z "$rc" ]; then
  echo "run-guest.sh: the guest ended without GUEST-EXIT (QEMU status $qrc); last lines:" >&2
  tr -d '\r' <"$LOG" | tail -n 15 | sed 's/^/  | /' >&2
  exit 125
fi
exit "$rc"
