# SMART / Health log of a new drive: no critical warning, plausible values.
# devices: ocp-nvme nvme
must nvme smart-log "$CTRL" -o json || exit 1
eq "$(jnum critical_warning)" 0 "critical_warning of a new drive"
between "$(jnum temperature)" 273 357 "composite temperature (kelvin)"
ge "$(jnum avail_spare)" "$(jnum spare_thresh)" "available spare vs threshold"
between "$(jnum percent_used)" 0 100 "percentage used"
ge "$(jnum power_cycles)" 1 "power cycles"
eq "$(jnum media_errors)" 0 "media errors"
must nvme smart-log "$CTRL"
expect '^Data Units Written[[:space:]]*: [0-9]' "smart-log"
expect '^Data Units Read[[:space:]]*: [0-9]' "smart-log"
expect '^critical_warning[[:space:]]*: 0$' "smart-log"
