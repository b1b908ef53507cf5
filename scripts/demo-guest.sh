# The demo's guest side: runs in the test guest (busybox sh) with the
# ocp-nvme drive at /dev/nvme0n1.
set -e
say() { echo; echo "### guest\$ $*"; }
show() { say "$@"; "$@"; }
show nvme list
say "nvme id-ctrl /dev/nvme0 | grep -E '^(vid|ssvid|sn|mn|fr|ver|mdts|oacs|lpa) '"
nvme id-ctrl /dev/nvme0 | grep -E '^(vid|ssvid|sn|mn|fr|ver|mdts|oacs|lpa) '
show nvme ocp set-latency-monitor-feature /dev/nvme0 -t 2016 -a 5 -b 19 -c 30 -d 46 -f 4095 -w 10 -e 1
say "fio --name=demo --rw=randrw --bs=4k --iodepth=8 --runtime=5 ... | grep -E 'IOPS|clat'"
fio --name=demo --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio \
  --rw=randrw --bs=4k --iodepth=8 --size=64M --time_based --runtime=5 \
  --group_reporting | grep -E 'IOPS=| clat \('
show nvme smart-log /dev/nvme0
show nvme ocp smart-add-log /dev/nvme0
show nvme ocp latency-monitor-log /dev/nvme0
