# Write Uncorrectable (NVM Command Set 1.0, 3.2.5): nvme write-uncor marks
# blocks, reading them fails with Unrecovered Read Error (the neighbours
# read), rewriting heals them, and so does Write Zeroes.
# devices: ocp-nvme
must nvme id-ctrl "$CTRL" || exit 1
eq "$(( $(field oncs) & 2 ))" 2 "ONCS Write Uncorrectable"
lba=204800  # 100 MiB in, away from the persistence pattern at 512 MiB
head -c 4096 /dev/urandom >/tmp/blk
must nvme write "$DISK" --start-block=$lba --block-count=7 --data-size=4096 --data=/tmp/blk || exit 1
must nvme write-uncor "$DISK" --start-block=$((lba + 2)) --block-count=1 || exit 1
run nvme read "$DISK" --start-block=$((lba + 2)) --block-count=0 --data-size=512 --data=/tmp/r
[ "$_rc" != 0 ] || fail "reading a block marked uncorrectable succeeded"
expect_i 'unrecovered read|UNRECOVERED_READ|0x281' "nvme read of an uncorrectable block"
run nvme read "$DISK" --start-block=$((lba + 3)) --block-count=0 --data-size=512 --data=/tmp/r
[ "$_rc" != 0 ] || fail "reading the second uncorrectable block succeeded"
must nvme read "$DISK" --start-block=$((lba + 1)) --block-count=0 --data-size=512 --data=/tmp/r
must nvme read "$DISK" --start-block=$((lba + 4)) --block-count=0 --data-size=512 --data=/tmp/r
# Rewriting block 2 heals it, block 3 still fails, Write Zeroes heals it.
head -c 512 /tmp/blk >/tmp/one
must nvme write "$DISK" --start-block=$((lba + 2)) --block-count=0 --data-size=512 --data=/tmp/one
must nvme read "$DISK" --start-block=$((lba + 2)) --block-count=0 --data-size=512 --data=/tmp/r
cmp -s /tmp/one /tmp/r || fail "rewritten block reads back different data"
run nvme read "$DISK" --start-block=$((lba + 3)) --block-count=0 --data-size=512 --data=/tmp/r
[ "$_rc" != 0 ] || fail "block 3 healed by a write to block 2"
must nvme write-zeroes "$DISK" --start-block=$((lba + 3)) --block-count=0
must nvme read "$DISK" --start-block=$((lba + 3)) --block-count=0 --data-size=512 --data=/tmp/r
