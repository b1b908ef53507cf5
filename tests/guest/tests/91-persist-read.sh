# Second boot (QEMU restarted on the same image): the pattern written by
# 90-persist-write is still there (fio verify_only checks every block's
# crc32c header, so zeroes or stale data fail).
# devices: ocp-nvme nvme virtio
# boot: 2
fio_run --name=persist --rw=write --bs=64k --offset=512M --size=16M --iodepth=8 \
  --verify=crc32c --verify_only=1 --verify_fatal=1 || exit 1
expect 'READ: bw=.*io=16\.0MiB' "fio verify_only"
