# SMART counters survive a controller reset (CC.EN 1 -> 0 -> 1), as on a
# real drive, and the drive works afterwards.  (A QEMU restart starts from
# the health properties instead: counters are not stored across runs.)
# devices: ocp-nvme
must nvme smart-log "$CTRL" -o json || exit 1
duw=$(jnum data_units_written) hwc=$(jnum host_write_commands)
ge "$hwc" 1 "host write commands before the reset"
must nvme reset "$CTRL" || exit 1
must nvme smart-log "$CTRL" -o json || exit 1
ge "$(jnum data_units_written)" "$duw" "data units written after a controller reset (before: $duw)"
ge "$(jnum host_write_commands)" "$hwc" "host write commands after a controller reset (before: $hwc)"
must dd if="$DISK" of=/dev/null bs=4096 count=16 || exit 1
