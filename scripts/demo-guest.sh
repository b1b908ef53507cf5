# The demo's guest side: runs in the test guest (busybox sh) with the
# ocp-nvme drive at /dev/nvme0n1.
set -e
show() { echo; echo "### guest\$ $*"; "$@"; }
show nvme list
show nvme id-ctrl /dev/nvme0 -H | grep -E '^(vid|ssvid|sn|mn|fr|ver|mdts|lpa|oaes) '
show nvme ocp set-latency-monitor-feature /dev/nvme0 -t 2016 -a 5 -b 19 -c 30 -d 46 -f 4095 -w 10 -e 1
show fio --name=demo --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio \
  --rw=randrw --bs=4k --iodepth=8 --size=64M --time_based --runtime=5 \
  --group_reporting --output-format=normal | grep -E 'IOPS|lat \(usec\): min'
show nvme smart-log /dev/nvme0
show nvme ocp smart-add-log /dev/nvme0
show nvme ocp latency-monitor-log /dev/nvme0
