# Identify Controller: VID/SSVID match PCI config space, serial, model,
# firmware revision as configured, version >= 1.4, MDTS as configured (and
# the kernel's transfer limit follows it).
# devices: ocp-nvme nvme
must nvme id-ctrl "$CTRL" -o json || exit 1
pdev=/sys/class/nvme/${CTRL#/dev/}/device
eq "$(jnum vid)" "$(( $(cat $pdev/vendor) ))" "VID vs the PCI vendor ID"
eq "$(jnum ssvid)" "$(( $(cat $pdev/subsystem_vendor) ))" "SSVID vs the PCI subsystem vendor ID"
eq "$(jstr sn)" "$SERIAL" "serial number (SN)"
[ -n "$(jstr mn)" ] || fail "empty model number (MN)"
[ -z "$MODEL" ] || eq "$(jstr mn)" "$MODEL" "model number (MN)"
[ -n "$(jstr fr)" ] || fail "empty firmware revision (FR)"
[ -z "$FWREV" ] || eq "$(jstr fr)" "$FWREV" "firmware revision (FR)"
ge "$(jnum ver)" $((0x10400)) "version (VER; 0x10400 is NVMe 1.4)"
eq "$(jnum mdts)" "$MDTS" "MDTS"
must nvme id-ctrl "$CTRL"
expect '^ver +: 0x[0-9a-f]+' "nvme id-ctrl"
# MDTS is in units of the minimum page size (4 KiB here)
eq "$(cat /sys/block/${DISK#/dev/}/queue/max_hw_sectors_kb)" "$(( 4 << MDTS ))" "kernel max_hw_sectors_kb for MDTS $MDTS"
