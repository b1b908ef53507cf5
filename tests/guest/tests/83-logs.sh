# Endurance Group Information (log 09h, OCP STD-LOG-17) and LBA Status
# Information (log 0Eh, STD-LOG-11): `nvme endurance-log` of group 1
# agrees with `nvme smart-log`; `nvme get-log` of 0Eh is the 16-byte
# header with nothing to report; both are in Supported Log Pages.
must nvme smart-log "$CTRL" -o json || exit 1
spare=$(jnum avail_spare) used=$(jnum percent_used)
duw=$(jnum data_units_written) hwc=$(jnum host_write_commands)
must nvme endurance-log "$CTRL" --group-id=1 -o json || exit 1
eq "$(jnum critical_warning)" 0 "EG critical warning"
eq "$(jnum avl_spare)" "$spare" "EG available spare vs SMART"
eq "$(jnum percent_used)" "$used" "EG percentage used vs SMART"
eq "$(jnum data_units_written)" "$duw" "EG data units written vs SMART"
eq "$(jnum host_write_cmds)" "$hwc" "EG host write commands vs SMART"
eq "$(jnum total_end_grp_cap)" "$IMG_BYTES" "EG total capacity"
ge "$(jnum endurance_estimate)" 1 "EG endurance estimate"
must nvme endurance-log "$CTRL" --group-id=1
expect '^percent_used[[:space:]]*: 0%' "endurance-log"
run nvme endurance-log "$CTRL" --group-id=2
[ "$_rc" -ne 0 ] || fail "endurance-log of group 2 succeeded"
must nvme get-log "$CTRL" --log-id=0x0e --log-len=16
expect '10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00' "log 0Eh header"
must nvme supported-log-pages "$CTRL"
expect_i '0x09|Endurance Group Information' "supported log pages"
expect_i '0x0e|LBA Status Information' "supported log pages"
