# Format NVM to the 4096-byte LBA format, check Identify and the kernel,
# write+verify, and format back to 512 bytes.  (Second boot, after the
# persistence check: formatting erases the namespace.)
# devices: ocp-nvme nvme
# boot: 2
# timeout: 300
lbaf_of() { sed -n "s/^lbaf *\([0-9]*\) *: *ms:0 *lbads:$1 .*/\1/p" "$OUT" | head -n1; }
blk=/sys/block/${DISK#/dev/}
wait_lbs() {  # the kernel revalidates the namespace after a format
  i=0; while [ "$(cat $blk/queue/logical_block_size)" != "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  eq "$(cat $blk/queue/logical_block_size)" "$1" "kernel logical block size after the format"
}
check_ns() {  # LBADS
  must nvme id-ns "$DISK" || return 1
  expect "^lbaf +[0-9]+ : ms:0 +lbads:$1 .*in use" "id-ns after the format"
  eq "$(( $(field nsze) ))" "$(( IMG_BYTES >> $1 ))" "NSZE after the format"
}
must nvme id-ns "$DISK" || exit 1
i4k=$(lbaf_of 12) i512=$(lbaf_of 9)
[ -n "$i4k" ] && [ -n "$i512" ] || { fail "no 512/4096-byte LBA formats"; exit 1; }
must nvme format "$DISK" --lbaf="$i4k" --force || exit 1
expect 'Success formatting namespace' "nvme format"
wait_lbs 4096
check_ns 12
fio_run --name=fmt4k --rw=randwrite --bsrange=4k-64k --size=8M --iodepth=8 --verify=crc32c --do_verify=1
must nvme format "$DISK" --lbaf="$i512" --force || exit 1
expect 'Success formatting namespace' "nvme format"
wait_lbs 512
check_ns 9
fio_run --name=fmt512 --rw=randwrite --bsrange=512-64k --size=8M --iodepth=8 --verify=crc32c --do_verify=1
