# OCP 2.7 error injection types that act on Sanitize, Format NVM and the
# Persistent Event log, with `nvme ocp set-error-injection` (ERRI-5):
# 17h fails the next Sanitize command (EVTDEF-24), 1Dh fails the next
# sanitize operation while its command succeeds (EVTDEF-30), 1Ch empties the
# Persistent Event log until the host exits event injection (EVTDEF-29,
# SERRI-14), 19h is performed by the next Format NVM (EVTDEF-26).  Under
# OCP 2.5 and 2.6 these types are refused.
# timeout: 400
V=${OCP_VERSION:-2.7}

inject() {  # TYPE (decimal): armed; sets UUIDX from nvme-cli's report
  must nvme ocp set-error-injection "$CTRL" -n 1 -t "$1" || return 1
  UUIDX=$(sed -n 's/.*uuid: \([0-9][0-9]*\).*/\1/p' "$OUT" | head -n1)
}
armed() {  # entries still armed (Get Features C0h, Dword 0)
  nvme get-feature "$CTRL" --feature-id=0xc0 --uuid-index="$UUIDX" --data-len=4064 >"$OUT" 2>&1 ||
    { echo "get-feature failed"; return 1; }
  # nvme-cli prints the value with %#x: "0x1", but "00000000" for zero
  _v=$(sed -n 's/.*Current value: *\(0x\)\{0,1\}\([0-9a-fA-F]*\).*/\2/p' "$OUT" | head -n1)
  [ -n "$_v" ] || { echo "no value"; return 1; }
  echo $(( 0x$_v & 0x7f ))
}
sstat() {  # SSTAT bits 2:0 of the Sanitize Status log
  nvme sanitize-log "$CTRL" >"$OUT" 2>&1 || { echo "sanitize-log failed"; return 1; }
  echo $(( $(field 'Sanitize Status *(SSTAT)') & 7 ))
}
wait_done() {
  i=0
  while [ $i -lt 600 ]; do
    [ "$(sstat)" != 2 ] && return 0
    sleep 0.2; i=$((i + 1))
  done
  fail "sanitize still in progress after 120 s"
}
pel_events() {  # Total Number of Events in a fresh reporting context
  nvme persistent-event-log "$CTRL" --action=1 >/dev/null 2>&1
  nvme persistent-event-log "$CTRL" --action=0 >"$OUT" 2>&1 || { echo "pel failed"; return 1; }
  _n=$(sed -n 's/^Total Number of Events: *//p' "$OUT")
  nvme persistent-event-log "$CTRL" --action=2 >/dev/null 2>&1
  echo "${_n:-none}"
}

if [ "$V" != 2.7 ]; then
  for t in 23 25 28 29; do
    run nvme ocp set-error-injection "$CTRL" -n 1 -t $t && fail "type $t accepted under OCP $V"
    expect 'Invalid Field' "type $t under OCP $V"
  done
  exit 0
fi

# 17h (23): the next Sanitize command fails; nothing starts.
inject 23 || exit 1
eq "$(armed)" 1 "17h armed"
before=$(sstat)
run nvme sanitize "$CTRL" --sanact=2 && fail "sanitize ran with 17h armed"
expect_i 'SANITIZE_FAILED|Sanitize Failed' "the Sanitize command under 17h"
eq "$(sstat)" "$before" "SSTAT after the refused command"
eq "$(armed)" 0 "17h performed"

# 1Dh (29): the command succeeds, the operation fails (SSTAT 011b); without
# AUSE only a new sanitize leaves the failure.
inject 29 || exit 1
must nvme sanitize "$CTRL" --sanact=2
wait_done
eq "$(sstat)" 3 "SSTAT after the operation under 1Dh"
run nvme sanitize "$CTRL" --sanact=1 && fail "exit failure mode left a restricted failure"
must nvme sanitize "$CTRL" --sanact=2
wait_done
eq "$(sstat)" 1 "SSTAT of the next operation"

# 1Ch (28): the log is emptied and records nothing until the host exits
# event injection (Set Features C0h with no entries).
n=$(pel_events)
ge "$n" 1 "events before 1Ch"
inject 28 || exit 1
eq "$(pel_events)" 0 "events after 1Ch"
must nvme set-feature "$CTRL" --feature-id=4 --value=0x160
eq "$(pel_events)" 0 "a Set Features is not recorded under 1Ch"
must nvme set-feature "$CTRL" --feature-id=0xc0 --value=0 --uuid-index="$UUIDX"
eq "$(armed)" 0 "exited event injection"
must nvme set-feature "$CTRL" --feature-id=4 --value=0x160
ge "$(pel_events)" 1 "events recorded again after the exit"

# 19h (25): performed by the next Format NVM (a User Data Erase here).
inject 25 || exit 1
eq "$(armed)" 1 "19h armed until a Format NVM"
must nvme format "$DISK" --ses=1 --force
eq "$(armed)" 0 "19h performed by the format"
