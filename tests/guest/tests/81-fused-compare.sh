# Compare and fused commands (OCP NVMe-IO-8/9): FUSES bit 0; `nvme compare`
# succeeds on equal data and fails with Compare Failure on different data,
# which is no media error. The fused pair itself is covered by the engine
# tests: the guest kernel refuses FUSE bits in passthrough commands
# (`nvme io-passthru --flags=1` fails with EINVAL) and could not put both
# halves behind one doorbell write anyway.
must nvme id-ctrl "$CTRL" -o json || exit 1
eq "$(jnum fuses)" 1 "FUSES: Compare and Write"
must nvme smart-log "$CTRL" -o json || exit 1
media0=$(jnum media_errors)
dd if=/dev/urandom of=/tmp/c bs=512 count=8 2>/dev/null
must nvme write "$DISK" --start-block=200 --block-count=7 --data-size=4096 --data=/tmp/c
must nvme compare "$DISK" --start-block=200 --block-count=7 --data-size=4096 --data=/tmp/c
dd if=/dev/urandom of=/tmp/d bs=512 count=8 2>/dev/null
run nvme compare "$DISK" --start-block=200 --block-count=7 --data-size=4096 --data=/tmp/d
[ "$_rc" -ne 0 ] || fail "compare of different data succeeded"
expect_i 'compare' "compare of different data"
must nvme smart-log "$CTRL" -o json || exit 1
eq "$(jnum media_errors)" "$media0" "media errors after a compare failure"
