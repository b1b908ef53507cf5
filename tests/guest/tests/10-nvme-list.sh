# `nvme list` shows the namespace with the configured serial number.
# devices: ocp-nvme nvme
must nvme list
expect "^$DISK[[:space:]]" "nvme list"
expect "[[:space:]]$SERIAL[[:space:]]" "nvme list"
must nvme list -o json
eq "$(jstr SerialNumber)" "$SERIAL" "nvme list -o json: SerialNumber"
eq "$(jstr DevicePath)" "$DISK" "nvme list -o json: DevicePath"
