# fio random writes of 4 KiB..1 MiB (beyond MDTS: split by the kernel),
# then reads everything back and checks crc32c.
# devices: ocp-nvme nvme virtio
# timeout: 400
fio_run --name=verify --rw=randwrite --bsrange=4k-1m --size=64M --offset=0 \
  --iodepth=16 --verify=crc32c --do_verify=1 --verify_fatal=1 || exit 1
expect 'WRITE: bw=.*io=64\.0MiB' "fio (write phase)"
expect 'READ: bw=.*io=64\.0MiB' "fio (verify phase)"
