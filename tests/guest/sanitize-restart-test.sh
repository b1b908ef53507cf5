#!/usr/bin/env bash
# An interrupted sanitize completes after a QEMU restart (NVMe 2.0 Base,
# 8.21: a sanitize operation continues after a power cycle), with the state
# store (-device ocp-nvme,state=NODE) keeping its progress.
#
# usage: sanitize-restart-test.sh
#   boot 1 writes data, starts a 16-pass overwrite with No-Deallocate over
#          the whole (64 MiB) drive, throttled to 100 MiB/s
#          of writes so that the 1 GiB of passes takes about 10 s, sees it in progress and powers off
#   boot 2 waits for it to finish: 16 passes, success, the drive reads
#          the pattern at its start and end, and the Persistent Event log
#          shows one sanitize start (boot 1's, before the power-on events of
#          boot 2) and its completion after those power-on events, so the
#          operation was resumed by the drive, not started again
# (That the resumption continues from the saved progress rather than from
# the start is shown by the engine test sanitize_resumes_after_power_cycle.)
# Prints "ok - NAME" / "not ok - NAME" (with "#" lines), then one line
# "N passed, M failed"; non-zero exit status when anything failed.
# environment: QEMU, OCP_NVME_CACHE, GUEST_TEST_OUT (logs, default
#   <repo>/out/guest-tests/sanitize-restart)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/host-lib.sh"
host_setup sanitize-restart
IMG=$WORK/disk.raw STATE=$WORK/state.img
truncate -s 64M "$IMG"
truncate -s 512K "$STATE"

# guest BODY LOG: boot the guest on the drive (writes throttled to 100 MiB/s)
# with the state store.
guest() { boot_guest "$1" "$2" ",throttling.bps-write=104857600" serial=OCPSANIT01; }

# The Sanitize Status log as @@SSTAT and @@SPROG lines.
cat >"$WORK/status.sh" <<'EOF'
status() {
  nvme sanitize-log "$CTRL" >"$OUT" 2>&1 || { fail "nvme sanitize-log failed"; return 1; }
  echo "@@SSTAT=$(( $(field 'Sanitize Status *(SSTAT)') ))"
  echo "@@SPROG=$(field 'Sanitize Progress *(SPROG)')"
}
EOF

LOG1=$OUTDIR/boot-1.log LOG2=$OUTDIR/boot-2.log
{
  cat "$WORK/status.sh"
  cat <<'EOF'
head -c 4096 /dev/urandom >/tmp/w.bin
must nvme write "$DISK" --start-block=0 --block-count=7 --data-size=4096 --data=/tmp/w.bin
must nvme sanitize "$CTRL" --sanact=start-overwrite --owpass=0 --ovrpat=0xc0ffee00 --no-dealloc || exit 1
status
exit $FAILED
EOF
} >"$WORK/boot1.sh"
guest "$WORK/boot1.sh" "$LOG1" || failed "boot 1: QEMU exit status $?"
[ "$(guest_exit "$LOG1")" = 0 ] || failed "boot 1: GUEST-EXIT=$(guest_exit "$LOG1")"
s1=$(value "$LOG1" SSTAT) p1=$(value "$LOG1" SPROG)
[ "$(( ${s1:-0} & 7 ))" = 2 ] ||
  failed "boot 1: SSTAT '$s1', expected the sanitize in progress at power-off"

{
  cat "$WORK/status.sh"
  cat <<'EOF'
status
i=0
while [ $i -lt 1500 ]; do
  v=$(nvme sanitize-log "$CTRL" 2>/dev/null | sed -n 's/^Sanitize Status *(SSTAT) *: *//p')
  [ -n "$v" ] && [ $(( v & 7 )) -ne 2 ] && break
  sleep 0.2; i=$((i + 1))
done
echo "@@FINAL=$(( v ))"
for lba in 0 $(( 64 * 2048 - 8 )); do
  must nvme read "$DISK" --start-block=$lba --block-count=7 --data-size=4096 --data=/tmp/r.bin
  echo "@@WORDS$lba=$(od -An -tx4 -v /tmp/r.bin | tr -s ' ' '\n' | grep . | sort -u | tr '\n' ' ' | sed 's/ $//')"
done
must nvme persistent-event-log "$CTRL" --action=1
must nvme persistent-event-log "$CTRL" --action=0
echo "@@EVENTS=$(sed -n 's/^Event Type: .*(0x\([0-9a-f]*\))$/\1/p' "$OUT" | tr '\n' ' ')"
exit $FAILED
EOF
} >"$WORK/boot2.sh"
guest "$WORK/boot2.sh" "$LOG2" || failed "boot 2: QEMU exit status $?"
[ "$(guest_exit "$LOG2")" = 0 ] || failed "boot 2: GUEST-EXIT=$(guest_exit "$LOG2")"
# Newest first: the completion (a), then the SMART / Health snapshot (1)
# the drive records with its power-on event at a power cycle (boot 2's),
# then the one start (9) of boot 1.
ev=$(value "$LOG2" EVENTS)
pos() { echo "$ev" | tr ' ' '\n' | grep -n "^$1\$" | head -n1 | cut -d: -f1; }
[ "$(echo "$ev" | tr ' ' '\n' | grep -c '^9$')" = 1 ] ||
  failed "boot 2: persistent events '$ev', expected exactly one sanitize start"
[ -n "$(pos a)" ] && [ -n "$(pos 1)" ] && [ -n "$(pos 9)" ] &&
  [ "$(pos a)" -lt "$(pos 1)" ] && [ "$(pos 1)" -lt "$(pos 9)" ] ||
  failed "boot 2: persistent events '$ev' (newest first), expected the completion (a) after boot 2's power-on snapshot (1) after the start (9)"
for lba in 0 $(( 64 * 2048 - 8 )); do
  [ "$(value "$LOG2" WORDS$lba)" = c0ffee00 ] ||
    failed "boot 2: LBA $lba reads '$(value "$LOG2" WORDS$lba)', expected the pattern c0ffee00"
done

echo "# sanitize-restart: SPROG $p1 of 65536 at power-off"
report sanitize-restart "$LOG1" "$LOG2"
summary
