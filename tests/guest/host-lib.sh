# Host-side helpers of the guest test scripts that boot QEMU themselves
# (migrate-tests.sh, state-tests.sh): results in the "ok"/"not ok" format of
# run-tests.sh and the guest's exit status.  Sourced with bash.

PASS=0 FAILS=0
FAILMSG=()

# failed MESSAGE: the current test fails with this line (reported by report).
failed() { FAILMSG+=("$*"); }

# report NAME LOGS...: "ok - NAME", or "not ok - NAME" with the failure lines
# and the interesting last lines of each log; then the next test starts clean.
report() {
  local name=$1; shift
  if [ ${#FAILMSG[@]} = 0 ]; then
    PASS=$((PASS + 1)); echo "ok - $name"
  else
    FAILS=$((FAILS + 1)); echo "not ok - $name"
    for m in "${FAILMSG[@]}"; do echo "#   $m"; done
    for l in "$@"; do
      [ -e "$l" ] || continue
      echo "#   $l (last lines):"
      tr -d '\r' <"$l" | grep -aE 'FAIL|err=|ocp-nvme|rror|@@' | tail -n 12 | sed 's/^/#     | /'
    done
  fi
  FAILMSG=()
}

# summary: the one "N passed, M failed" line; the exit status for the script.
summary() {
  echo "$PASS passed, $FAILS failed"
  [ "$FAILS" = 0 ]
}

# guest_exit LOG: the GUEST-EXIT status the guest printed, empty if none.
guest_exit() { tr -d '\r' <"$1" | sed -n 's/^GUEST-EXIT=\([0-9][0-9]*\)$/\1/p' | tail -n1; }
