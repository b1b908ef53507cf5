# First boot: write a crc32c-verifiable pattern at 512 MiB and flush it;
# 91-persist-read checks it after QEMU restarted.  Also records SMART
# counters for 92-smart-persist.
# devices: ocp-nvme nvme virtio
fio_run --name=persist --rw=write --bs=64k --offset=512M --size=16M --iodepth=8 \
  --verify=crc32c --do_verify=0 --fsync_on_close=1
# (the SMART values are saved even when the write failed, for 92-smart-persist)
expect 'WRITE: bw=.*io=16\.0MiB' "fio"
if [ -n "$CTRL" ]; then
  must nvme smart-log "$CTRL" -o json || exit 1
  save P_DUW "$(jnum data_units_written)"
  save P_HWC "$(jnum host_write_commands)"
  save P_PC "$(jnum power_cycles)"
fi
