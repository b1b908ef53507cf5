#!/usr/bin/env bash
# Namespaces across a QEMU restart with a state store (-device
# ocp-nvme,state=NODE): boot 1 replaces the factory namespace by two
# (512-byte and 4 KiB blocks), writes a crc32c-verifiable pattern on each
# with fio, marks two blocks uncorrectable and powers off; boot 2 finds both
# namespaces allocated and attached with the same sizes and NUSE, every
# pattern block intact, and the marked blocks still unreadable.
# Prints "ok - NAME" / "not ok - NAME" (with "#" lines), then one line
# "N passed, M failed"; non-zero exit status when anything failed.
# environment: QEMU, OCP_NVME_CACHE, GUEST_TEST_OUT (logs, default
#   <repo>/out/guest-tests/ns-state)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/host-lib.sh"
host_setup ns-state
IMG=$WORK/disk.raw STATE=$WORK/state.img
truncate -s 1G "$IMG"
truncate -s 512K "$STATE"

# Both boots print what they see.
cat >"$WORK/show.sh" <<'EOF'
must nvme list-ns "$CTRL" --all
echo "@@allocated=$(grep -c '0x[12]$' "$OUT")"
must nvme list-ns "$CTRL"
echo "@@active=$(grep -c '0x[12]$' "$OUT")"
for n in 1 2; do
  must nvme id-ns "$CTRL" -n $n
  echo "@@nsze$n=$(( $(field nsze) ))"
  echo "@@nuse$n=$(( $(field nuse) ))"
done
EOF

cat >"$WORK/boot1.sh" <<'EOF'
must nvme detach-ns "$CTRL" --namespace-id=1 --controllers=0 || exit 1
must nvme ns-rescan "$CTRL"
ns_gone 1 || exit 1
must nvme delete-ns "$CTRL" --namespace-id=1 || exit 1
must nvme create-ns "$CTRL" --nsze=524288 --ncap=524288 --flbas=0 || exit 1
must nvme create-ns "$CTRL" --nsze=32768 --ncap=32768 --flbas=1 || exit 1
must nvme attach-ns "$CTRL" --namespace-id=1 --controllers=0
must nvme attach-ns "$CTRL" --namespace-id=2 --controllers=0
must nvme ns-rescan "$CTRL"
a=$(ns_dev 1) && b=$(ns_dev 2) || { fail "namespaces without block devices"; exit 1; }
DISK=$a fio_run --name=pa --rw=write --bs=64k --offset=64M --size=16M --iodepth=8 \
  --verify=crc32c --do_verify=0 --fsync_on_close=1
DISK=$b fio_run --name=pb --rw=write --bs=64k --offset=32M --size=16M --iodepth=8 \
  --verify=crc32c --do_verify=0 --fsync_on_close=1
must nvme write-uncor "$a" --start-block=100 --block-count=1
EOF
{ cat "$WORK/boot1.sh" "$WORK/show.sh"; echo 'exit $FAILED'; } >"$WORK/b1.sh"

cat >"$WORK/boot2.sh" <<'EOF'
a=$(ns_dev 1) && b=$(ns_dev 2) || { fail "namespaces without block devices after the restart"; exit 1; }
eq "$(cat /sys/block/${b#/dev/}/queue/logical_block_size)" 4096 "logical block size of NSID 2"
DISK=$a fio_run --name=pa --rw=write --bs=64k --offset=64M --size=16M --iodepth=8 \
  --verify=crc32c --verify_only=1 --verify_fatal=1
DISK=$b fio_run --name=pb --rw=write --bs=64k --offset=32M --size=16M --iodepth=8 \
  --verify=crc32c --verify_only=1 --verify_fatal=1
run nvme read "$a" --start-block=101 --block-count=0 --data-size=512 --data=/tmp/r
[ "$_rc" != 0 ] || fail "a block marked uncorrectable reads after the restart"
must nvme read "$a" --start-block=102 --block-count=0 --data-size=512 --data=/tmp/r
EOF
{ cat "$WORK/boot2.sh" "$WORK/show.sh"; echo 'exit $FAILED'; } >"$WORK/b2.sh"

LOG1=$OUTDIR/boot-1.log LOG2=$OUTDIR/boot-2.log
boot_guest "$WORK/b1.sh" "$LOG1" "" serial=OCPNSSTATE1 || failed "boot 1: QEMU exit status $?"
[ "$(guest_exit "$LOG1")" = 0 ] || failed "boot 1: GUEST-EXIT=$(guest_exit "$LOG1")"
boot_guest "$WORK/b2.sh" "$LOG2" "" serial=OCPNSSTATE1 || failed "boot 2: QEMU exit status $?"
[ "$(guest_exit "$LOG2")" = 0 ] || failed "boot 2: GUEST-EXIT=$(guest_exit "$LOG2")"
for k in allocated active nsze1 nsze2 nuse1 nuse2; do
  [ -n "$(value "$LOG1" $k)" ] && [ "$(value "$LOG1" $k)" = "$(value "$LOG2" $k)" ] ||
    failed "$k: '$(value "$LOG1" $k)' before the restart, '$(value "$LOG2" $k)' after"
done
[ "$(value "$LOG1" allocated)" = 2 ] || failed "boot 1: $(value "$LOG1" allocated) namespaces allocated, expected 2"
[ "$(value "$LOG1" nuse2)" = 4096 ] || failed "boot 1: NUSE of NSID 2 $(value "$LOG1" nuse2), expected 4096"
report namespaces-across-restart "$LOG1" "$LOG2"
summary
