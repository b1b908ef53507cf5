# Error Information log: the requested number of entries (at most ELPE+1),
# consistent with the SMART error count.
# devices: ocp-nvme nvme
must nvme id-ctrl "$CTRL" -o json || exit 1
n=$(( $(jnum elpe) + 1 )); [ "$n" -le 4 ] || n=4
must nvme error-log "$CTRL" -e 4 || exit 1
expect "Error Log Entries for device:${CTRL#/dev/} entries:$n" "error-log"
eq "$(grep -c 'Entry\[' "$OUT")" "$n" "entries printed"
top=$(sed -n 's/^error_count[[:space:]]*: *//p' "$OUT" | sort -n | tail -n1)
must nvme smart-log "$CTRL" -o json
eq "$top" "$(jnum num_err_log_entries)" "highest error_count vs SMART num_err_log_entries"
