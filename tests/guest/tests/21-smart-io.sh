# SMART Data Units / host commands move by what fio did: 32 MiB written and
# read in 128 KiB commands = 65.536 data units (1000 x 512 bytes), 256 commands.
# devices: ocp-nvme nvme
# timeout: 300
must nvme smart-log "$CTRL" -o json || exit 1
w0=$(jnum data_units_written) r0=$(jnum data_units_read)
wc0=$(jnum host_write_commands) rc0=$(jnum host_read_commands)
fio_run --name=w --rw=write --bs=128k --size=32M --offset=128M --iodepth=4 || exit 1
fio_run --name=r --rw=read --bs=128k --size=32M --offset=128M --iodepth=4 || exit 1
must nvme smart-log "$CTRL" -o json || exit 1
between "$(( $(jnum data_units_written) - w0 ))" 65 67 "data units written delta"
between "$(( $(jnum data_units_read) - r0 ))" 65 67 "data units read delta"
between "$(( $(jnum host_write_commands) - wc0 ))" 256 266 "host write commands delta"
between "$(( $(jnum host_read_commands) - rc0 ))" 256 266 "host read commands delta"
