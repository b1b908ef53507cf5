# Firmware Slot log: the active slot holds the revision Identify reports.
# devices: ocp-nvme nvme
must nvme fw-log "$CTRL" || exit 1
expect '^afi +: 0x[0-9a-f]+' "fw-log"
slot=$(( $(field afi) & 7 ))
between "$slot" 1 7 "active firmware slot (AFI)"
rev=$(sed -n "s/^frs$slot *: .*(\(.*\)).*/\1/p" "$OUT" | sed 's/\.*$//')
must nvme id-ctrl "$CTRL" -o json
eq "$rev" "$(jstr fr)" "revision in active slot $slot vs Identify FR"
