#!/usr/bin/env bash
# Live migration and snapshots of the test guest on -device ocp-nvme.
#
# usage: migrate-tests.sh [--iothread] [--verbose]
#   --iothread     the drive's I/O queues in an IOThread on both sides
#   migration      fio random writes with crc32c verify start on a source
#                  QEMU, which migrates (UNIX socket, same host, shared raw
#                  image) to a destination QEMU while fio writes; fio
#                  finishes on the destination with verify passing, the
#                  guest's timers keep running there (a sleep loop), and
#                  the SMART and OCP counters went on from their values on
#                  the source (no reset, no power cycle, no unsafe shutdown)
#   savevm-loadvm  a qcow2 image: savevm while fio writes, loadvm of that
#                  snapshot later; the guest goes back to the snapshot and
#                  fio (verify included) finishes
# Prints "ok - NAME" / "not ok - NAME" (with "#" lines), then one line
# "N passed, M failed"; non-zero exit status when anything failed.
# environment: QEMU, OCP_NVME_CACHE, GUEST_TEST_OUT (logs, default
#   <repo>/out/guest-tests/migration), MIGRATE_TIMEOUT (per boot, 600 s)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/host-lib.sh"
VERBOSE=0 IOTHREAD=
for arg in "$@"; do
  case $arg in
    --verbose) VERBOSE=1 ;;
    --iothread) IOTHREAD=1 ;;
    *) echo "migrate-tests.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
host_setup migration${IOTHREAD:+-iothread}
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
TIMEOUT=${MIGRATE_TIMEOUT:-600}
DEV="ocp-nvme,drive=d0,serial=OCPMIG0001${IOTHREAD:+,iothread=io0}"
# The IOThread the device names, if any.
OBJ=()
[ -n "$IOTHREAD" ] && OBJ=(-object iothread,id=io0)

# qmp SOCKET COMMAND-JSON...: send each command, print each reply (JSON,
# one line), events skipped.
qmp() {
  python3 - "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())
def cmd(c):
    f.write(json.dumps(c) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" not in r:
            return r
cmd({"execute": "qmp_capabilities"})
for a in sys.argv[2:]:
    print(json.dumps(cmd(json.loads(a))))
PY
}

# start NAME LOG QEMU-ARGS...: a guest QEMU in the background, console to
# LOG, QMP on $WORK/NAME.qmp; its pid in $PID.
start() {
  local name=$1 log=$2; shift 2
  timeout -k 10 "$TIMEOUT" "$QEMU" -M q35 -accel tcg -smp 2 -m 1G \
    -display none -no-reboot -nodefaults -serial "file:$log" -monitor none \
    -qmp "unix:$WORK/$name.qmp,server=on,wait=off" \
    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initramfs.cpio.gz" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off nvme_core.io_timeout=30" \
    -fw_cfg "name=opt/ocp/script,file=$WORK/script.sh" \
    "$@" </dev/null >"$WORK/$name.err" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 100); do [ -S "$WORK/$name.qmp" ] && return 0; sleep 0.1; done
  return 1
}

# wait_for LOG TEXT SECONDS: until the console shows TEXT.
wait_for() {
  local i
  for i in $(seq $(( $3 * 10 ))); do
    tr -d '\r' <"$1" 2>/dev/null | grep -q -- "$2" && return 0
    sleep 0.1
  done
  return 1
}

# The guest side of both tests: counters before, fio writing 128 MiB in
# 4 KiB random writes with crc32c verify, a timer loop, counters after.
{
  cat "$HERE/lib.sh"
  cat <<'EOF'
CTRL=/dev/nvme0 DISK=/dev/nvme0n1
must nvme smart-log $CTRL -o json || exit 1
wc0=$(jnum host_write_commands) du0=$(jnum data_units_written)
pc0=$(jnum power_cycles) us0=$(jnum unsafe_shutdowns)
pmw() { sed -n 's/.*Physical media units written -[[:space:]]*[0-9]* \([0-9]*\).*/\1/p' "$OUT"; }
must nvme ocp smart-add-log $CTRL || exit 1
pm0=$(pmw)
echo "@@IO-STARTS"
fio_run --name=mig --rw=randwrite --bs=4k --size=128M --offset=0 --iodepth=16 \
  --verify=crc32c --do_verify=1 --verify_fatal=1 || exit 1
expect 'WRITE: bw=.*io=128MiB' "fio (write phase)"
expect 'READ: bw=.*io=128MiB' "fio (verify phase)"
i=0
while [ $i -lt 10 ]; do sleep 0.2; i=$((i + 1)); done
echo "@@TIMERS-RUN"
must nvme smart-log $CTRL -o json || exit 1
echo "@@COUNTERS host_write_commands $wc0 -> $(jnum host_write_commands), power_cycles $pc0 -> $(jnum power_cycles)"
ge "$(( $(jnum host_write_commands) - wc0 ))" 32768 "host write commands since before fio (before: $wc0)"
ge "$(( $(jnum data_units_written) - du0 ))" 262 "data units written since before fio (before: $du0)"
eq "$(jnum power_cycles)" "$pc0" "power cycles"
eq "$(jnum unsafe_shutdowns)" "$us0" "unsafe shutdowns"
must nvme ocp smart-add-log $CTRL || exit 1
ge "$(( $(pmw) - ${pm0:-0} ))" $((128 << 20)) "OCP physical media units written since before fio (before: ${pm0:-?})"
exit $FAILED
EOF
} >"$WORK/script.sh"

# ---- live migration ---------------------------------------------------------
IMG=$WORK/disk.raw
truncate -s 1G "$IMG"
DRIVE="if=none,id=d0,file=$IMG,format=raw,cache=writeback"
SRC=$OUTDIR/source.log DST=$OUTDIR/destination.log
: >"$SRC"; : >"$DST"
t0=$(date +%s)
start src "$SRC" "${OBJ[@]}" -drive "$DRIVE" -device "$DEV" || failed "source QEMU did not start"
SRC_PID=$PID
start dst "$DST" "${OBJ[@]}" -drive "$DRIVE" -device "$DEV" -incoming "unix:$WORK/mig.sock" ||
  failed "destination QEMU did not start"
DST_PID=$PID
if wait_for "$SRC" "@@IO-STARTS" 120; then
  # fio is writing: migrate now.
  sleep 1
  qmp "$WORK/src.qmp" "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"unix:$WORK/mig.sock\"}}" \
    >"$OUTDIR/migrate.json"
  status=
  for _ in $(seq 1200); do
    r=$(qmp "$WORK/src.qmp" '{"execute": "query-migrate"}')
    status=$(echo "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["return"].get("status",""))')
    case $status in completed|failed|cancelled) break ;; esac
    sleep 0.25
  done
  echo "$r" >>"$OUTDIR/migrate.json"
  [ "$status" = completed ] || failed "migration status '$status'"
  timing=$(echo "$r" | python3 -c 'import json,sys; r=json.load(sys.stdin)["return"]; print("total %s ms, downtime %s ms, %s MiB transferred" % (r.get("total-time"), r.get("downtime"), r.get("ram",{}).get("transferred",0)>>20))' 2>/dev/null)
  echo "# migration: $timing" >&2
  # The source wrote some of fio's 32768 writes, not all: the switchover
  # happened while fio was writing.
  wr=$(qmp "$WORK/src.qmp" '{"execute": "query-blockstats"}' | python3 -c '
import json, sys
r = json.load(sys.stdin)["return"]
print(sum(d["stats"]["wr_operations"] for d in r if d.get("device") == "d0"))')
  echo "# migration: the source completed $wr writes" >&2
  { [ "${wr:-0}" -gt 0 ] && [ "$wr" -lt 32768 ]; } ||
    failed "source writes at switchover: ${wr:-?} (expected some of fio's 32768, not all)"
  qmp "$WORK/src.qmp" '{"execute": "quit"}' >/dev/null
  wait "$SRC_PID" 2>/dev/null
  wait "$DST_PID"; rc=$?
  [ "$rc" = 0 ] || failed "destination QEMU exit status $rc"
  [ "$(guest_exit "$DST")" = 0 ] || failed "guest script on the destination: GUEST-EXIT=$(guest_exit "$DST")"
  grep -q "@@TIMERS-RUN" "$DST" || failed "the guest's timer loop did not finish on the destination"
  grep -q "WRITE: bw" "$DST" || failed "fio did not finish on the destination"
  ! grep -q "WRITE: bw" "$SRC" || failed "fio finished before the migration"
  grep -h "FAIL" "$DST" | head -n 5 | while read -r l; do echo "#   $l"; done
  ! grep -q "^FAIL" "$DST" || failed "assertions failed in the guest"
else
  failed "the guest did not start I/O on the source"
fi
echo "# migration test: $(( $(date +%s) - t0 )) s" >&2
report migration "$SRC" "$DST"

# ---- savevm / loadvm on qcow2 ------------------------------------------------
QCOW=$WORK/disk.qcow2
qemu-img create -q -f qcow2 "$QCOW" 1G
LOG=$OUTDIR/snapshot.log
: >"$LOG"
t0=$(date +%s)
start snap "$LOG" "${OBJ[@]}" -drive "if=none,id=d0,file=$QCOW,format=qcow2,cache=writeback" -device "$DEV" ||
  failed "QEMU did not start"
SNAP_PID=$PID
hmp() { qmp "$WORK/snap.qmp" "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"$1\"}}"; }
if wait_for "$LOG" "@@IO-STARTS" 120; then
  sleep 2
  out=$(hmp "savevm s1"); echo "$out" >"$OUTDIR/savevm.json"
  case $out in *'"return": ""'*) ;; *) failed "savevm: $out" ;; esac
  sleep 3
  out=$(hmp "loadvm s1"); echo "$out" >>"$OUTDIR/savevm.json"
  case $out in *'"return": ""'*) ;; *) failed "loadvm: $out" ;; esac
  wait "$SNAP_PID"; rc=$?
  [ "$rc" = 0 ] || failed "QEMU exit status $rc"
  [ "$(guest_exit "$LOG")" = 0 ] || failed "guest script: GUEST-EXIT=$(guest_exit "$LOG")"
  grep -q "@@TIMERS-RUN" "$LOG" || failed "the guest's timer loop did not finish"
  ! grep -q "^FAIL" "$LOG" || failed "assertions failed in the guest"
else
  failed "the guest did not start I/O"
fi
echo "# savevm/loadvm test: $(( $(date +%s) - t0 )) s" >&2
report savevm-loadvm "$LOG"

summary
