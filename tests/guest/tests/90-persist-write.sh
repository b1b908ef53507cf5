# First boot: write a crc32c-verifiable pattern at 512 MiB and flush it;
# 91-persist-read checks it after QEMU restarted.
# devices: ocp-nvme nvme virtio
fio_run --name=persist --rw=write --bs=64k --offset=512M --size=16M --iodepth=8 \
  --verify=crc32c --do_verify=0 --fsync_on_close=1
expect 'WRITE: bw=.*io=16\.0MiB' "fio"
