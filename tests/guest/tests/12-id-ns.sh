# Identify Namespace: NSZE/NCAP = image size / LBA size; LBA formats with
# 512- and 4096-byte data (no metadata) are offered.
# devices: ocp-nvme nvme
must nvme id-ns "$DISK" || exit 1
lbads=$(sed -n 's/^lbaf *[0-9]* *: .*lbads:\([0-9]*\) .*in use.*/\1/p' "$OUT" | head -n1)
isnum "$lbads" || { fail "no LBA format marked (in use)"; exit 1; }
lb=$((1 << lbads))
eq "$(( $(field nsze) ))" "$((IMG_BYTES / lb))" "NSZE for a $IMG_BYTES-byte image with $lb-byte LBAs"
eq "$(( $(field ncap) ))" "$((IMG_BYTES / lb))" "NCAP"
expect '^lbaf +[0-9]+ : ms:0 +lbads:9 ' "id-ns (512-byte LBA format)"
expect '^lbaf +[0-9]+ : ms:0 +lbads:12 ' "id-ns (4096-byte LBA format)"
eq "$(( $(cat /sys/block/${DISK#/dev/}/size) * 512 ))" "$IMG_BYTES" "kernel disk size"
eq "$(cat /sys/block/${DISK#/dev/}/queue/logical_block_size)" "$lb" "kernel logical block size"
