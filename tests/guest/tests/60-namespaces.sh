# Namespace Management and Attachment with nvme-cli (OCP NVMe-AD-3/4,
# NSM-4/7): NN and TNVMCAP/UNVMCAP, the factory namespace deleted, two
# namespaces (512-byte and 4 KiB blocks) created, attached, listed and used
# with fio, NUSE following writes and deallocation, detach and delete, then
# the factory layout (one namespace of the whole capacity, NSID 1) back for
# the cases after this one.
# devices: ocp-nvme
# timeout: 300
must nvme id-ctrl "$CTRL" || exit 1
ge "$(( $(field nn) ))" 16 "NN (OCP NSM-4)"
eq "$(( $(field oacs) & 8 ))" 8 "OACS Namespace Management"
total=$(( $(field tnvmcap) ))
eq "$total" "$IMG_BYTES" "TNVMCAP (OCP NSM-7)"
eq "$(( $(field unvmcap) ))" 0 "UNVMCAP with the factory namespace"

# The factory namespace goes.
must nvme detach-ns "$CTRL" --namespace-id=1 --controllers=0 || exit 1
must nvme ns-rescan "$CTRL"
ns_gone 1 || exit 1
must nvme delete-ns "$CTRL" --namespace-id=1 || exit 1
must nvme id-ctrl "$CTRL"
eq "$(( $(field unvmcap) ))" "$IMG_BYTES" "UNVMCAP with no namespace"
must nvme list-ns "$CTRL" --all
expect_not '0x1' "list-ns --all with no namespace"

# Two namespaces: 64 MiB of 512-byte blocks, 64 MiB of 4 KiB blocks.
must nvme create-ns "$CTRL" --nsze=131072 --ncap=131072 --flbas=0 || exit 1
expect 'create-ns: Success, created nsid:1' "create-ns"
must nvme create-ns "$CTRL" --nsze=16384 --ncap=16384 --flbas=1 || exit 1
expect 'created nsid:2' "create-ns"
must nvme list-ns "$CTRL" --all
expect '0x2' "list-ns --all (allocated)"
must nvme list-ns "$CTRL"
expect_not '0x2' "list-ns (active) before attach-ns"
must nvme attach-ns "$CTRL" --namespace-id=1 --controllers=0
must nvme attach-ns "$CTRL" --namespace-id=2 --controllers=0
run nvme attach-ns "$CTRL" --namespace-id=2 --controllers=0
expect_i 'already attached|NS_ALREADY_ATTACHED|0x2118|0x118' "attach-ns twice"
must nvme ns-rescan "$CTRL"
a=$(ns_dev 1) || { fail "no block device for NSID 1"; exit 1; }
b=$(ns_dev 2) || { fail "no block device for NSID 2"; exit 1; }
must nvme list
expect "${a#/dev/}" "nvme list"
expect "${b#/dev/}" "nvme list"
eq "$(cat /sys/block/${b#/dev/}/queue/logical_block_size)" 4096 "logical block size of NSID 2"
eq "$(( $(cat /sys/block/${b#/dev/}/size) * 512 ))" $((64 << 20)) "size of NSID 2"
must nvme id-ctrl "$CTRL"
eq "$(( $(field unvmcap) ))" "$(( IMG_BYTES - (128 << 20) ))" "UNVMCAP with two 64 MiB namespaces"

# NUSE: nothing written yet, then 8 MiB, then 1 MiB deallocated.
eq "$(nuse 1)" 0 "NUSE of a new namespace"
DISK=$a fio_run --name=nsa --rw=write --bs=128k --size=8M --iodepth=4 --verify=crc32c --do_verify=1
eq "$(nuse 1)" 16384 "NUSE after writing 8 MiB"
must nvme dsm "$a" --namespace-id=1 --slbs=0 --blocks=2048 --ad
eq "$(nuse 1)" 14336 "NUSE after deallocating 1 MiB"
DISK=$b fio_run --name=nsb --rw=randwrite --bsrange=4k-64k --size=16M --iodepth=8 --verify=crc32c --do_verify=1
ge "$(nuse 2)" 1 "NUSE of NSID 2 after writes"

# Detach and delete; the kernel drops the block devices.
must nvme detach-ns "$CTRL" --namespace-id=2 --controllers=0
run nvme detach-ns "$CTRL" --namespace-id=2 --controllers=0
expect_i 'not attached|NS_NOT_ATTACHED|0x211a|0x11a' "detach-ns twice"
must nvme detach-ns "$CTRL" --namespace-id=1 --controllers=0
must nvme ns-rescan "$CTRL"
ns_gone 1; ns_gone 2
must nvme delete-ns "$CTRL" --namespace-id=0xffffffff
must nvme list-ns "$CTRL" --all
expect_not '0x[12]' "list-ns --all after delete-ns of every namespace"

# The factory layout back: one namespace of the whole capacity.
must nvme create-ns "$CTRL" --nsze=$((total / 512)) --ncap=$((total / 512)) --flbas=0 || exit 1
expect 'created nsid:1' "create-ns of the whole capacity"
must nvme attach-ns "$CTRL" --namespace-id=1 --controllers=0
must nvme ns-rescan "$CTRL"
d=$(ns_dev 1) || { fail "no block device for NSID 1"; exit 1; }
eq "$d" "$DISK" "block device of the restored namespace"
