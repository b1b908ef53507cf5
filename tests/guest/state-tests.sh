#!/usr/bin/env bash
# The state store (-device ocp-nvme,state=NODE): what the drive keeps
# across QEMU restarts (power cycles) and crashes.
#
# usage: state-tests.sh
#   restart   boot 1 writes, saves a feature (SV=1), logs an error and
#             commits firmware, then powers off; boot 2 finds SMART data
#             units and host commands kept, one more power cycle, no
#             unsafe shutdown, the saved feature current, the error log
#             and the firmware slot and activation history kept
#   sigkill   QEMU killed with SIGKILL at random moments while the guest
#             writes (3 rounds, state-interval=1): every restart loads the
#             last complete record, counts one more power cycle and one
#             more unsafe shutdown, and the counters never go back
#   damaged   a damaged or foreign image stops QEMU at startup with a clear
#             message; state-reset=on starts over with a warning instead;
#             an image without a record starts a new drive
# Prints "ok - NAME" / "not ok - NAME" (with "#" lines), then one line
# "N passed, M failed"; non-zero exit status when anything failed.
# environment: QEMU, OCP_NVME_CACHE, GUEST_TEST_OUT (logs, default
#   <repo>/out/guest-tests/state)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/host-lib.sh"
host_setup state
IMG=$WORK/disk.raw STATE=$WORK/state.img
truncate -s 1G "$IMG"

# guest SCRIPT-BODY-FILE LOG [--kill-after-io SEC] DEVICE-OPTIONS: boot the
# guest with the body, the drive and the state store (start_guest); the
# console in LOG.  --kill-after-io: SIGKILL SEC seconds after the guest
# printed @@IO-STARTS and two state records were written since.  Returns
# QEMU's exit status.
guest() {
  local body=$1 log=$2 kill_after=; shift 2
  if [ "$1" = --kill-after-io ]; then kill_after=$2; shift 2; fi
  start_guest "$body" "$log" "" "serial=OCPSTATE01$1"
  if [ -n "$kill_after" ]; then
    for _ in $(seq 1200); do
      tr -d '\r' <"$log" | grep -aq "@@IO-STARTS" && break
      kill -0 "$GUEST_PID" 2>/dev/null || break
      sleep 0.1
    done
    # Two state records written during the I/O first: the second holds
    # progress however slowly the loaded host runs the guest.
    local m m0 records=0
    m0=$(stat -c %y "$STATE")
    for _ in $(seq 2400); do
      m=$(stat -c %y "$STATE")
      [ "$m" != "$m0" ] && { records=$((records + 1)); m0=$m; }
      [ $records -ge 2 ] && break
      kill -0 "$GUEST_PID" 2>/dev/null || break
      sleep 0.05
    done
    sleep "$kill_after"
    kill -KILL "$GUEST_PID" 2>/dev/null
  fi
  wait_guest
}

# What every boot prints first: the counters as the drive reports them.
cat >"$WORK/counters.sh" <<'EOF'
must nvme smart-log $CTRL -o json || exit 1
for k in data_units_written host_write_commands power_cycles unsafe_shutdowns num_err_log_entries; do
  echo "@@$k=$(jnum $k)"
done
must nvme get-feature $CTRL -f 1 -s 0
echo "@@arbitration=$(sed -n 's/.*Current value: *\(0x\)\{0,1\}\([0-9a-fA-F]*\).*/\2/p' "$OUT" | head -n1)"
must nvme fw-log $CTRL
echo "@@frs2=$(sed -n 's/^frs2 *: .*(\(.*\)).*/\1/p' "$OUT" | sed 's/ *$//')"
echo "@@afi=$(( $(field afi) & 7 ))"
must nvme ocp fw-activate-history $CTRL
echo "@@fw_history=$(grep -c 'new firmware: *OCPFW777' "$OUT")"
EOF

# ---- restart ------------------------------------------------------------------
rm -f "$STATE"; truncate -s 512K "$STATE"
LOG1=$OUTDIR/restart-1.log LOG2=$OUTDIR/restart-2.log
{
  cat "$WORK/counters.sh"
  cat <<'EOF'
fio_run --name=w --rw=write --bs=128k --size=32M --offset=0 --iodepth=4 || exit 1
must nvme set-feature $CTRL --feature-id=1 --value=3 --save
run nvme admin-passthru $CTRL --opcode=0xee
{ printf '%s' OCPFW777; head -c 32760 /dev/urandom; } >/tmp/fw.bin
must nvme fw-download $CTRL --fw=/tmp/fw.bin --xfer=4096
must nvme fw-commit $CTRL --slot=2 --action=3
EOF
  cat "$WORK/counters.sh"
  echo 'exit $FAILED'
} >"$WORK/boot1.sh"
guest "$WORK/boot1.sh" "$LOG1" "" || failed "boot 1: QEMU exit status $?"
[ "$(guest_exit "$LOG1")" = 0 ] || failed "boot 1: GUEST-EXIT=$(guest_exit "$LOG1")"
{ cat "$WORK/counters.sh"; echo 'exit $FAILED'; } >"$WORK/boot2.sh"
guest "$WORK/boot2.sh" "$LOG2" "" || failed "boot 2: QEMU exit status $?"
check() {  # KEY WANT WHAT
  [ "$(value "$LOG2" "$1")" = "$2" ] || failed "$3: '$(value "$LOG2" "$1")' after the restart, expected '$2'"
}
check data_units_written "$(value "$LOG1" data_units_written)" "SMART data units written"
check host_write_commands "$(value "$LOG1" host_write_commands)" "SMART host write commands"
check power_cycles "$(( $(value "$LOG1" power_cycles) + 1 ))" "power cycles"
check unsafe_shutdowns "$(value "$LOG1" unsafe_shutdowns)" "unsafe shutdowns (clean power-off)"
check num_err_log_entries "$(value "$LOG1" num_err_log_entries)" "error log entries"
check arbitration 00000003 "Arbitration (saved with SV=1) current after power-on"
check frs2 OCPFW777 "firmware slot 2"
check afi 2 "active firmware slot"
check fw_history 1 "OCP firmware activation history entries"
[ "$(value "$LOG1" data_units_written)" -gt 0 ] 2>/dev/null || failed "boot 1 wrote nothing?"
[ "$(value "$LOG1" num_err_log_entries)" -gt 0 ] 2>/dev/null || failed "boot 1 logged no error?"
report restart "$LOG1" "$LOG2"

# ---- SIGKILL during writes ----------------------------------------------------
cat >"$WORK/kill.sh" <<'EOF'
echo "@@IO-STARTS"
while :; do
  fio --filename=$DISK --ioengine=libaio --direct=1 --name=k --rw=randwrite --bs=4k \
    --size=64M --iodepth=8 --runtime=5 --time_based >/dev/null 2>&1
done
EOF
{ cat "$WORK/counters.sh"; cat "$WORK/kill.sh"; } >"$WORK/killboot.sh"
prev_pc=$(value "$LOG2" power_cycles) prev_us=$(value "$LOG2" unsafe_shutdowns)
prev_wc=$(value "$LOG2" host_write_commands)
# state-interval=1: a record at least every second of guest time.
for round in 1 2 3; do
  log=$OUTDIR/kill-$round.log
  delay=$(( RANDOM % 2 )).$(( RANDOM % 10 ))
  guest "$WORK/killboot.sh" "$log" --kill-after-io "$delay" ",state-interval=1"
  echo "# sigkill round $round: killed ${delay}s after two state records during I/O" >&2
  pc=$(value "$log" power_cycles) us=$(value "$log" unsafe_shutdowns) wc=$(value "$log" host_write_commands)
  if [ "$round" -gt 1 ]; then
    [ "$pc" = $((prev_pc + 1)) ] || failed "round $round: power cycles $pc after $prev_pc"
    [ "$us" = $((prev_us + 1)) ] || failed "round $round: unsafe shutdowns $us after $prev_us"
    [ "$wc" -gt "$prev_wc" ] 2>/dev/null || failed "round $round: host write commands $wc after $prev_wc (no progress kept)"
  else
    [ "$pc" = $((prev_pc + 1)) ] || failed "round 1: power cycles $pc after $prev_pc"
    [ "$us" = "$prev_us" ] || failed "round 1: unsafe shutdowns $us after a clean power-off ($prev_us)"
  fi
  prev_pc=$pc prev_us=$us prev_wc=$wc
done
log=$OUTDIR/kill-final.log
{ cat "$WORK/counters.sh"; echo 'exit $FAILED'; } >"$WORK/final.sh"
guest "$WORK/final.sh" "$log" "" || failed "final boot: QEMU exit status $?"
[ "$(value "$log" power_cycles)" = $((prev_pc + 1)) ] || failed "final boot: power cycles $(value "$log" power_cycles) after $prev_pc"
[ "$(value "$log" unsafe_shutdowns)" = $((prev_us + 1)) ] || failed "final boot: unsafe shutdowns $(value "$log" unsafe_shutdowns) after $prev_us"
[ "$(value "$log" host_write_commands)" -gt "$prev_wc" ] 2>/dev/null || failed "final boot: host write commands of round 3 not kept"
[ "$(value "$log" frs2)" = OCPFW777 ] || failed "final boot: firmware slot 2 lost"
report sigkill "$OUTDIR"/kill-*.log

# ---- damaged and foreign images -------------------------------------------------
# start DEVICE-OPTIONS: QEMU until realize is done (-S, quit at once);
# stderr in $WORK/start.err, exit status returned.
start() {
  echo quit | timeout 30 "$QEMU" -M q35 -S -display none -nodefaults -monitor stdio \
    -drive "if=none,id=d0,file=$IMG,format=raw" \
    -blockdev "driver=file,filename=$STATE,node-name=st" \
    -device "ocp-nvme,drive=d0,serial=OCPSTATE01,state=st$1" >/dev/null 2>"$WORK/start.err"
}
cp "$STATE" "$WORK/good.img"
# A flipped byte in both copies: damaged.
python3 - "$STATE" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
for off in (100, 256 * 1024 + 100):
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x40]))
PY
start "" && failed "a damaged image was accepted"
grep -q "state image: damaged or foreign state image: copy 0: checksum mismatch" "$WORK/start.err" ||
  failed "damaged image message: $(head -c 300 "$WORK/start.err")"
sed 's/^/# damaged: /' "$WORK/start.err" | head -n 2 >&2
start ",state-reset=on" || failed "state-reset=on did not start: $(head -c 300 "$WORK/start.err")"
grep -q "warning: state image: damaged or foreign state image.*starting with a blank drive state" "$WORK/start.err" ||
  failed "state-reset warning: $(head -c 300 "$WORK/start.err")"
# A foreign image (random bytes).
head -c 524288 /dev/urandom >"$STATE"
start "" && failed "a foreign image was accepted"
grep -q "damaged or foreign state image: copy 0: not an ocp-nvme state copy" "$WORK/start.err" ||
  failed "foreign image message: $(head -c 300 "$WORK/start.err")"
# Another drive's state.
cp "$WORK/good.img" "$STATE"
echo quit | timeout 30 "$QEMU" -M q35 -S -display none -nodefaults -monitor stdio \
  -drive "if=none,id=d0,file=$IMG,format=raw" \
  -blockdev "driver=file,filename=$STATE,node-name=st" \
  -device "ocp-nvme,drive=d0,serial=OTHERDRIVE,state=st" >/dev/null 2>"$WORK/start.err" &&
  failed "another drive's state was accepted"
grep -q "the state belongs to another drive: serial is OCPSTATE01 in the state, OTHERDRIVE here" "$WORK/start.err" ||
  failed "other drive message: $(head -c 300 "$WORK/start.err")"
# Too small.
truncate -s 4K "$WORK/small.img"; cp "$WORK/small.img" "$STATE"
start "" && failed "a 4 KiB image was accepted"
grep -q "state image of 4096 bytes, at least 524288 needed" "$WORK/start.err" ||
  failed "small image message: $(head -c 300 "$WORK/start.err")"
# Blank: a new drive, initialised.
rm -f "$STATE"; truncate -s 512K "$STATE"
start "" || failed "a blank image did not start: $(head -c 300 "$WORK/start.err")"
grep -aq OCPSTORE "$STATE" || failed "a blank image was not initialised"
report damaged

summary
