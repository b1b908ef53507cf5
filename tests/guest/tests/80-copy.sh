# Copy (OCP NVMe-OPT-16): ONCS bit 8, OCFS format 0h and the Identify
# Namespace limits; `nvme copy` of two source ranges, read back and
# compared; FUA; a range beyond MSSRL fails with Command Size Limit
# Exceeded and writes nothing.
must nvme id-ctrl "$CTRL" -o json || exit 1
oncs=$(jnum oncs)
ge "$oncs" 0 "ONCS"
[ $(( oncs >> 8 & 1 )) -eq 1 ] || fail "ONCS bit 8 (Copy) clear: $oncs"
eq "$(jnum ocfs)" 1 "OCFS: descriptor format 0h"
must nvme id-ns "$DISK" -o json || exit 1
mssrl=$(jnum mssrl)
mcl=$(jnum mcl)
eq "$(jnum msrc)" 127 "MSRC (0's based)"
# mdts=6: 256 KiB = 512 blocks of 512 bytes.
eq "$mssrl" 512 "MSSRL"
eq "$mcl" 512 "MCL"
# Two source ranges of 8 blocks, at 100 and 300, to 5000.
dd if=/dev/urandom of=/tmp/a bs=512 count=8 2>/dev/null
dd if=/dev/urandom of=/tmp/b bs=512 count=8 2>/dev/null
must nvme write "$DISK" --start-block=100 --block-count=7 --data-size=4096 --data=/tmp/a
must nvme write "$DISK" --start-block=300 --block-count=7 --data-size=4096 --data=/tmp/b
must nvme copy "$DISK" --sdlba=5000 --slbs=300,100 --blocks=7,7
must nvme read "$DISK" --start-block=5000 --block-count=15 --data-size=8192 --data=/tmp/out
cat /tmp/b /tmp/a > /tmp/want
cmp /tmp/want /tmp/out || fail "the copied blocks differ from the sources"
# FUA, one range onto another place.
must nvme copy "$DISK" --sdlba=7000 --slbs=100 --blocks=7 --force-unit-access
must nvme read "$DISK" --start-block=7000 --block-count=7 --data-size=4096 --data=/tmp/out2
cmp /tmp/a /tmp/out2 || fail "the FUA copy differs from its source"
# One range longer than MSSRL: refused, the destination untouched.
must nvme write-zeroes "$DISK" --start-block=9000 --block-count=7
run nvme copy "$DISK" --sdlba=9000 --slbs=0 --blocks="$mssrl"
[ "$_rc" -ne 0 ] || fail "a copy of MSSRL + 1 blocks succeeded"
expect_i 'size limit|0x183|0x4183' "copy beyond MSSRL"
must nvme read "$DISK" --start-block=9000 --block-count=7 --data-size=4096 --data=/tmp/out3
dd if=/dev/zero of=/tmp/zero bs=512 count=8 2>/dev/null
cmp /tmp/zero /tmp/out3 || fail "the refused copy wrote its destination"
