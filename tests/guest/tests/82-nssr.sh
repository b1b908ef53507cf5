# NVM Subsystem Reset (OCP NVMeR-1): `nvme subsystem-reset` (the kernel
# writes NSSR because CAP.NSSRS is set, else it refuses with ENOTTY)
# resets the drive. A real drive's PCIe link goes down with it; here the
# guest resets the controller (`nvme reset`, what the driver's error
# recovery does) and the drive works again, data intact. The registers
# (CAP.NSSRS, CSTS.NSSRO, CC and AQA cleared) are checked by the qtest:
# the guest cannot map BAR0 while the driver owns it, and the driver
# clears NSSRO when it enables the controller again.
# timeout: 300
dd if=/dev/urandom of=/tmp/n bs=512 count=8 2>/dev/null
must nvme write "$DISK" --start-block=400 --block-count=7 --data-size=4096 --data=/tmp/n
must nvme flush "$DISK"
must nvme subsystem-reset "$CTRL"
run nvme reset "$CTRL"
i=0
while [ $i -lt 30 ]; do
	run nvme id-ctrl "$CTRL" && break
	sleep 1
	i=$((i + 1))
done
must nvme id-ctrl "$CTRL" -o json
eq "$(jstr sn)" "$SERIAL" "serial after the subsystem reset"
must nvme read "$DISK" --start-block=400 --block-count=7 --data-size=4096 --data=/tmp/n2
cmp /tmp/n /tmp/n2 || fail "data changed across the subsystem reset"
fio_run --name=after-nssr --rw=randwrite --bs=4k --size=4M --offset=64M --verify=crc32c || exit 1
