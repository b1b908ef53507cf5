# Host-side helpers of the guest test scripts that boot QEMU themselves
# (migrate-tests.sh, state-tests.sh, ns-state-tests.sh,
# sanitize-restart-test.sh): their set-up, results in the "ok"/"not ok"
# format of run-tests.sh and the guest's exit status.  Sourced with bash
# right after HERE and REPO are set.

# host_setup NAME: QEMU and GUEST (the test guest, built if needed), OUTDIR
# (<out>/guest-tests/NAME, emptied) and WORK (a temporary directory, removed
# at exit unless the script sets its own EXIT trap that does it).
host_setup() {
  QEMU=${QEMU:-$REPO/build/qemu-system-x86_64}
  GUEST=${OCP_NVME_CACHE:-$HOME/.cache/ocp-nvme}/guest
  "$HERE/build-guest.sh" --quiet || { echo "0 passed, 1 failed"; exit 1; }
  OUTDIR=${GUEST_TEST_OUT:-$REPO/out/guest-tests}/$1
  mkdir -p "$OUTDIR"
  rm -f "$OUTDIR"/*
  WORK=$(mktemp -d "/tmp/ocp-$1.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
}

PASS=0 FAILS=0
FAILMSG=()

# failed MESSAGE: the current test fails with this line (reported by report).
failed() { FAILMSG+=("$*"); }

# report NAME LOGS...: "ok - NAME", or "not ok - NAME" with the failure lines
# and the interesting last lines of each log; then the next test starts clean.
report() {
  local name=$1; shift
  if [ ${#FAILMSG[@]} = 0 ]; then
    PASS=$((PASS + 1)); echo "ok - $name"
  else
    FAILS=$((FAILS + 1)); echo "not ok - $name"
    for m in "${FAILMSG[@]}"; do echo "#   $m"; done
    for l in "$@"; do
      [ -e "$l" ] || continue
      echo "#   $l (last lines):"
      tr -d '\r' <"$l" | grep -aE 'FAIL|err=|ocp-nvme|rror|@@' | tail -n 12 | sed 's/^/#     | /'
    done
  fi
  FAILMSG=()
}

# summary: the one "N passed, M failed" line; the exit status for the script.
summary() {
  echo "$PASS passed, $FAILS failed"
  [ "$FAILS" = 0 ]
}

# guest_exit LOG: the GUEST-EXIT status the guest printed, empty if none.
guest_exit() { tr -d '\r' <"$1" | sed -n 's/^GUEST-EXIT=\([0-9][0-9]*\)$/\1/p' | tail -n1; }

# start_guest BODY LOG DRIVE-OPTIONS DEVICE-OPTIONS: boot the test guest in
# the background (TCG): lib.sh then BODY (CTRL and DISK set), the raw drive
# $IMG (writeback cache, DRIVE-OPTIONS appended: ",throttling...") and the
# state store $STATE behind -device ocp-nvme,drive=d0,state=st,DEVICE-OPTIONS.
# The console goes to LOG, QEMU's own output to LOG.err, its pid to
# GUEST_PID.  Needs HERE, QEMU, GUEST and WORK.
start_guest() {
  local body=$1 log=$2 drive=$3 dev=$4
  { cat "$HERE/lib.sh"; echo 'CTRL=/dev/nvme0 DISK=/dev/nvme0n1'; cat "$body"; } >"$WORK/script.sh"
  : >"$log"
  "$QEMU" -M q35 -accel tcg -smp 2 -m 1G \
    -display none -no-reboot -nodefaults -serial "file:$log" -monitor none \
    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initramfs.cpio.gz" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off nvme_core.io_timeout=30" \
    -fw_cfg "name=opt/ocp/script,file=$WORK/script.sh" \
    -drive "if=none,id=d0,file=$IMG,format=raw,cache=writeback$drive" \
    -blockdev "driver=file,filename=$STATE,node-name=st" \
    -device "ocp-nvme,drive=d0,state=st,$dev" </dev/null >"$log.err" 2>&1 &
  GUEST_PID=$!
}

# wait_guest: until the guest of start_guest ends, 600 s at most (then it is
# killed: a hung guest fails its test instead of hanging it); QEMU's exit
# status.
wait_guest() {
  local i
  for i in $(seq 6000); do kill -0 "$GUEST_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$GUEST_PID" 2>/dev/null
  { wait "$GUEST_PID"; } 2>/dev/null
}

# boot_guest BODY LOG DRIVE-OPTIONS DEVICE-OPTIONS: start_guest, wait_guest.
boot_guest() {
  start_guest "$@"
  wait_guest
}

# value LOG KEY: the last "@@KEY=value" line the guest printed.
value() { tr -d '\r' <"$1" | sed -n "s/^@@$2=//p" | tail -n1; }
