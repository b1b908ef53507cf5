# All 25 `nvme ocp` subcommands of nvme-cli 2.13 (`nvme`, subcases ocp-*) and
# all 28 of nvme-cli 2.16 (`nvme-2.16`, subcases ocp216-*: also
# get-latency-monitor, get-clear-pcie-correctable-errors and
# get-telemetry-profile; internal-log with data area 4 needs a kernel that
# lets user space set Host Behavior Support, see the end), without
# --no-uuid (the drive's Identify UUID List must carry the OCP UUID), each a
# subcase that checks the output fields and, where a command has an effect,
# that the effect shows (set -> get/log values, C0h media bytes after a write,
# an injected die-offline error in C0h).  Subcases run in this order; the
# get/log ones after the matching set.  OCP_VERSION (run-tests.sh
# --ocp-version, default 2.7) selects the page versions expected.
# devices: ocp-nvme
# timeout: 600
D=$CTRL
V=${OCP_VERSION:-2.7}
NVME=nvme
ocp() {
  must $NVME ocp "$@" || return 1
  # nvme-cli prints "NVMe Status:Successful Completion..." on some successes
  if grep -v 'Successful Completion' "$OUT" | grep -Eq 'No OCP UUID index found|Could not get feature|NVMe [Ss]tatus|ERROR :|^Fail :|Unknown GUID'; then
    fail "error reported by nvme ocp $1: $(grep -v 'Successful Completion' "$OUT" | grep -E 'No OCP UUID|Could not|NVMe [Ss]tatus|ERROR :|^Fail :|Unknown GUID' | head -n1)"
  fi
}
feat_value() { sed -n "s/.*get-feature:$1 $2 value: *\(0x[0-9a-fA-F]*\).*/\1/p" "$OUT" | head -n1; }

pmw() { sed -n 's/.*Physical media units written -[[:space:]]*[0-9]* \([0-9]*\).*/\1/p' "$OUT"; }
smart_add_log() {
  ocp smart-add-log $D || return
  expect 'SMART Cloud Attributes' ; expect 'Physical media units written'
  expect 'Log page version'; expect 'Dssd firmware revision'; expect 'Lowest Permitted Firmware Revision'
  expect_guid AFD514C97C6F4F9CA4F2BFEA2810AFC5
  # log page version 4, 5, 6 for OCP 2.5, 2.6, 2.7 (SMART-27)
  case $V in 2.5) lpv=4 ;; 2.6) lpv=5 ;; *) lpv=6 ;; esac
  expect "Log page version[[:space:]]+$lpv\$" "smart-add-log (OCP $V)"
  # the media counter (bytes, low 64 bits) follows what the host writes
  w0=$(pmw)
  fio_run --name=c0 --rw=write --bs=128k --size=8M --offset=256M --iodepth=4 || return
  ocp smart-add-log $D || return
  ge "$(( $(pmw) - ${w0:-0} ))" $((8 << 20)) "physical media units written after writing 8 MiB (before: ${w0:-?})"
}
set_latency_monitor_feature() {
  # thresholds other than nvme-cli's defaults, so the log shows they arrived
  ocp set-latency-monitor-feature $D -t 2016 -a 1 -b 3 -c 7 -d 15 -f 4095 -w 10 -e 1 || return
  expect 'NVME_FEAT_OCP_LATENCY_MONITOR: 0xc5'; expect 'latency monitor feature enable: 0x1'
  expect 'active threshold a: 0x1$'
}
latency_monitor_log() {
  ocp latency-monitor-log $D || return
  expect 'Latency Monitor/C3 Log Page Data'; expect 'Active Threshold A'
  expect 'Active Bucket Counter: Bucket 0'; expect 'Static Measured Latency: Bucket 3'
  # set-latency-monitor-feature above: (threshold + 1) x 5 ms
  expect 'Active Threshold A +10 ms'; expect 'Active Threshold D +80 ms'
  expect_guid 85D45E58D4E643709C6C84D08CC07A92
}
internal_log() {
  mkdir -p /tmp/il && cd /tmp/il || return
  # long option names: 2.13 and 2.16 swapped -f and -o
  ocp internal-log $D --data-area=1 --telemetry-type=host --output-format=normal || return
  expect 'telemetry.bin generated'; expect 'string.bin generated'
  expect 'ocp internal-log command completed'; expect_not 'Status:\('
  f=$(ls *telemetry.bin 2>/dev/null | head -n1)
  [ -n "$f" ] && [ -s "$f" ] || fail "no telemetry.bin written"
}
clear_fw_activate_history() {
  ocp clear-fw-activate-history $D || return
  expect '^Success :'
}
eol_plp_failure_mode() {
  ocp eol-plp-failure-mode $D -m 3 || return
  expect 'Successfully set mode \(feature: 0xc2\)'
  ocp eol-plp-failure-mode $D || return
  expect 'End of Life Behavior \(feature: 0xc2\): 0x0*3 '
}
clear_pcie_correctable_errors() {
  ocp clear-pcie-correctable-errors $D || return
  expect '^Success :'
}
fw_activate_history() {
  ocp fw-activate-history $D || return
  expect 'Firmware History Log:'; expect 'valid entries:'; expect 'log page guid:'
  expect_guid D11CF3AC8AB24DE2A3F6DAB4769A796D
}
unsupported_reqs_log() {
  ocp unsupported-reqs-log $D || return
  expect 'Number Unsupported Req IDs'; expect 'Unsupported Requirement List 0'
  expect_guid C7BB98B7D0324863BB2C23990E9C722F
  # real requirement IDs; 2.7's new ones only under 2.7
  expect 'NVMe-AD-7'
  if [ "$V" = 2.7 ]; then expect 'NVMe-OPT-18'; else expect_not 'NVMe-OPT-18'; fi
}
error_recovery_log() {
  ocp error-recovery-log $D || return
  expect 'Panic Reset Wait Time'; expect 'Panic Count'; expect 'Previous Panic IDs'
  expect_guid 5A1983BA3DFD4DABAE3430FE2131D944
}
device_capability_log() {
  ocp device-capability-log $D || return
  expect 'PCI Express Ports'; expect 'DSSD Power State Descriptors'
  expect_guid B7053C914B58495D98C9E1D10D054297
}
get_dssd_power_state_feature() {
  ocp get-dssd-power-state-feature $D -a || return
  expect 'get-feature:0xC7 Current value: 0x'; expect 'get-feature:0xC7 Default value: 0x'
  expect 'get-feature:0xC7 Saved value: 0x'
}
set_dssd_power_state_feature() {
  # a valid power state: the current one (25 W, power state 0, when it cannot be read)
  $NVME ocp get-dssd-power-state-feature $D --sel=0 >"$OUT" 2>&1
  w=$(feat_value 0xC7 Current); w=$(( ${w:-25} & 0x7f )); [ "$w" -gt 0 ] || w=25
  ocp set-dssd-power-state-feature $D -p $w || return
  expect 'Successfully set DSSD Power State'; expect "DSSD Power State: 0x$(printf %x $w)"
}
set_plp_health_check_interval() {
  ocp set-plp-health-check-interval $D -p 10 || return
  expect 'Successfully set the PLP Health Check Interval'
}
get_plp_health_check_interval() {
  ocp get-plp-health-check-interval $D || return
  expect 'get-feature:0xC6 Current value: 0x'
  v=$(feat_value 0xC6 Current); eq "$(( (${v:-0} >> 16) & 0xffff ))" 10 "PLP health check interval (bits 31:16) after setting 10"
}
telemetry_string_log() {
  mkdir -p /tmp/tsl && cd /tmp/tsl || return
  ocp telemetry-string-log $D || return
  expect 'Log Page Version'; expect 'Telemetry String Log Size'
  expect 'Statistics Identifier String Table Size'
  expect_guid B13A83691A8F408B9EA495940057AA44
}
set_telemetry_profile() {
  ocp set-telemetry-profile $D -t 1 || return
  expect 'Successfully Set Telemetry Profile \(feature: 0xC8\)'; expect 'Telemetry Profile Select: 0x1'
}
set_dssd_async_event_config() {
  ocp set-dssd-async-event-config $D -e || return
  expect 'Successfully set the DSSD Asynchronous Event Configuration'; expect 'Enable Panic Notices bit Value: 0x1'
}
get_dssd_async_event_config() {
  ocp get-dssd-async-event-config $D || return
  expect 'get-feature:0xC9 Current value: 0x'
  v=$(feat_value 0xC9 Current); eq "$(( ${v:-0} & 1 ))" 1 "panic notices bit after enabling it"
}
tcg_configuration_log() {
  ocp tcg-configuration-log $D || return
  expect 'TCG Configuration C7 Log Page Data'; expect 'Locking SP Activation Count'
  expect_guid 54E02A9DFA5447C083E6E07EBD244006
}
set_error_injection() {
  if [ "$V" = 2.5 ]; then
    # OCP 2.5 defines types 1-0Bh only (ERRI-5): 22 (die offline, 2.6) is
    # refused; 11 (incomplete shutdown) does no harm to the rest of the run
    run $NVME ocp set-error-injection $D -n 1 -t 22 && fail "type 22 accepted under OCP 2.5"
    expect 'Invalid Field' "type 22 under OCP 2.5"
    $NVME ocp smart-add-log $D >"$OUT" 2>&1
    s0=$(sed -n 's/^ *Incomplete shutdowns[[:space:]]*\([0-9]*\).*/\1/p' "$OUT")
    ocp set-error-injection $D -n 1 -t 11 || return
    expect 'set-error-injection, data: .*number: 1, uuid: [1-9][0-9]*, type: 11'
    dd if=$DISK of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null
    ocp smart-add-log $D || return
    s1=$(sed -n 's/^ *Incomplete shutdowns[[:space:]]*\([0-9]*\).*/\1/p' "$OUT")
    eq "$s1" "$(( ${s0:-0} + 1 ))" "C0h incomplete shutdowns after injecting type 11 (before: ${s0:-?})"
    return
  fi
  # type 22 (die offline) does no harm to the rest of the run
  $NVME ocp smart-add-log $D >"$OUT" 2>&1
  d0=$(sed -n 's/^ *Media dies offline[[:space:]]*\([0-9]*\).*/\1/p' "$OUT")
  ocp set-error-injection $D -n 1 -t 22 || return
  expect 'set-error-injection, data: .*number: 1, uuid: [1-9][0-9]*, type: 22'
  # the injection fires on the next command: C0h counts one more die offline
  dd if=$DISK of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null
  ocp smart-add-log $D || return
  d1=$(sed -n 's/^ *Media dies offline[[:space:]]*\([0-9]*\).*/\1/p' "$OUT")
  eq "$d1" "$(( ${d0:-0} + 1 ))" "C0h media dies offline after injecting type 22 (before: ${d0:-?})"
}
get_error_injection() {
  ocp get-error-injection $D || return
  # nvme-cli 2.16 fixed the spelling of 2.13's "Injecttions"
  expect 'Number of Error Inject+ions \(feature: 0xc0\)'
}
hardware_component_log() {
  ocp hardware-component-log $D || return
  expect 'Log Identifier: 0xc6h'; expect 'Hardware Component Log Size'; expect 'Component Descriptions'
  expect '^ *Component 1: '
  # version 1 (size in dwords) under 2.5, 2 (bytes, with its GUID) later
  if [ "$V" = 2.5 ]; then expect 'Log Page Version: 0x1$'
  else expect 'Log Page Version: 0x2$'; expect_guid BCB6821F30CD4ED0B76B31B99F0F57DC; fi
}
get_latency_monitor() {
  ocp get-latency-monitor $D || return
  expect 'get-feature:0xC5 Current value: 0'
}
get_clear_pcie_correctable_errors() {
  ocp get-clear-pcie-correctable-errors $D || return
  expect_i 'feature: 0xc3|0xC3'
}
get_telemetry_profile() {
  ocp get-telemetry-profile $D || return
  expect 'get-feature:0xC8 Current value: 0x0*1'
}
internal_log_da4() {
  # nvme-cli sets Host Behavior Support ETDAS (Set Features 16h) for data
  # area 4. Linux 6.12 refuses that feature from user space before it
  # reaches the drive (EACCES, also through admin-passthru) while Get
  # Features 16h passes; then only that refusal is checked. A kernel that
  # lets it through runs the whole data area 4 case.
  dd if=/dev/zero of=/tmp/hb bs=512 count=1 2>/dev/null
  if ! run nvme admin-passthru $D --opcode=0x09 --cdw10=0x16 --data-len=512 --input-file=/tmp/hb --write; then
    expect 'Permission denied' "Set Features 16h refused by the kernel"
    must nvme admin-passthru $D --opcode=0x0a --cdw10=0x16 --data-len=512 --read || return
    echo "# data area 4 not reachable: the guest kernel refuses Set Features 16h"
    return
  fi
  mkdir -p /tmp/il4 && cd /tmp/il4 || return
  ocp internal-log $D --data-area=4 --telemetry-type=host --output-format=normal || return
  expect 'telemetry.bin generated'; expect_not 'not supported by device'
  expect_not 'Status:\('
  f=$(ls *telemetry.bin 2>/dev/null | head -n1)
  [ -n "$f" ] && [ -s "$f" ] || fail "no telemetry.bin written"
}
get_enable_ieee1667_silo() {
  ocp get-enable-ieee1667-silo $D || return
  expect 'IEEE1667 Sifo Enabled \(feature: 0xc4\)'
}
set_enable_ieee1667_silo() {
  ocp set-enable-ieee1667-silo $D -e || return
  expect 'Successfully set enable \(feature: 0xc4\)'
}

ALL="smart-add-log set-latency-monitor-feature latency-monitor-log internal-log
     clear-fw-activate-history eol-plp-failure-mode clear-pcie-correctable-errors
     fw-activate-history unsupported-reqs-log error-recovery-log device-capability-log
     get-dssd-power-state-feature set-dssd-power-state-feature
     set-plp-health-check-interval get-plp-health-check-interval telemetry-string-log
     set-telemetry-profile set-dssd-async-event-config get-dssd-async-event-config
     tcg-configuration-log set-error-injection get-error-injection
     hardware-component-log get-enable-ieee1667-silo set-enable-ieee1667-silo"
for c in $ALL; do
  subcase "ocp-$c" "$(echo "$c" | tr - _)"
done
# nvme-cli 2.16 (Debian unstable): the same 25 and the three new get
# commands, and internal-log with telemetry data area 4.
NVME=nvme-2.16
for c in $ALL get-latency-monitor get-clear-pcie-correctable-errors get-telemetry-profile internal-log-da4; do
  subcase "ocp216-$c" "$(echo "$c" | tr - _)"
done
