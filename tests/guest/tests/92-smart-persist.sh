# Second boot: SMART counters survive the power cycle (as on a real drive)
# and Power Cycles went up.
# devices: ocp-nvme
# boot: 2
[ -n "${P_DUW:-}" ] || { fail "no SMART values saved by 90-persist-write in the first boot"; exit 1; }
must nvme smart-log "$CTRL" -o json || exit 1
ge "$(jnum data_units_written)" "$P_DUW" "data units written after restart (first boot ended at $P_DUW)"
ge "$(jnum host_write_commands)" "$P_HWC" "host write commands after restart (first boot ended at $P_HWC)"
ge "$(jnum power_cycles)" "$((P_PC + 1))" "power cycles after restart (first boot: $P_PC)"
