# Deep queues: fio 4 KiB random reads and verified random writes at queue
# depth 32 finish with no I/O timing out.  A doorbell the controller misses
# (a shadow doorbell EventIdx race, ioeventfd=on) leaves commands in the SQ
# until the kernel's I/O timeout aborts them and resets the controller.
# devices: ocp-nvme nvme virtio
_before=$(dmesg | wc -l)
fio_run --name=qd32r --rw=randread --bs=4k --size=64M --offset=64M --iodepth=32 \
  --number_ios=20000 || exit 1
fio_run --name=qd32w --rw=randwrite --bs=4k --size=16M --offset=64M --iodepth=32 \
  --verify=crc32c --do_verify=1 || exit 1
run sh -c "dmesg | tail -n +$((_before + 1))"
expect_not 'timeout|[Aa]bort|reset' "the kernel log"
