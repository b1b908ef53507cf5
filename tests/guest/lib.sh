# Helpers for guest test cases (sourced by busybox sh inside the guest).
#
# A case passes when it ends with FAILED=0: every assertion below that does
# not hold prints "FAIL: ..." and sets FAILED=1 (and returns 1, so a case can
# stop early with `|| return` / `|| exit 1`).  Variables set by the runner:
#   DEV_KIND  ocp-nvme | nvme | virtio
#   DISK      block device under test (/dev/nvme0n1, /dev/vda)
#   CTRL      NVMe controller character device (/dev/nvme0), empty for virtio
#   SERIAL MODEL FWREV MDTS IMG_BYTES   what the device was configured with
#   BOOT      1 for the first boot on a fresh image, 2 for the restart
# Values saved with `save KEY VALUE` in one boot are variables in the next.
FAILED=0
OUT=/tmp/out.$$

fail() { echo "FAIL: $*"; FAILED=1; return 1; }
note() { echo "# $*"; }

# run CMD...: show and run CMD, output (stdout+stderr) in $OUT and on the
# console; returns CMD's status.
run() {
  echo "\$ $*"
  "$@" >"$OUT" 2>&1
  _rc=$?
  cat "$OUT"
  [ "$_rc" -eq 0 ] || echo "(exit status $_rc)"
  return "$_rc"
}
# must CMD...: like run, and a non-zero exit status is a failure.
must() { run "$@" || fail "'$*' exited with status $_rc"; }

# expect ERE [WHAT]: the last output must match the extended regex.
expect() { grep -Eq -- "$1" "$OUT" || fail "expected /$1/ in the output${2:+ of $2}"; }
expect_i() { grep -Eiq -- "$1" "$OUT" || fail "expected /$1/ (any case) in the output${2:+ of $2}"; }
expect_not() { ! grep -Eq -- "$1" "$OUT" || fail "unexpected /$1/ in the output${2:+ of $2}: $(grep -E -- "$1" "$OUT" | head -n1)"; }
# expect_guid HEX: a log page GUID, printed most significant byte first
# (specification form) or in storage order.
expect_guid() {
  _g=$(echo "$1" | tr 'A-F' 'a-f')
  _r=$(echo "$_g" | sed 's/../& /g' | awk '{ for (i = NF; i > 0; i--) printf "%s", $i; print "" }')
  tr 'A-F' 'a-f' <"$OUT" | tr -d ' ' | grep -Eq "$_g|$_r" || fail "expected log page GUID $1 in the output"
}

# field NAME: value of the first "NAME : value" line of the last output.
field() { sed -n "s/^$1[[:space:]]*:[[:space:]]*//p" "$OUT" | head -n1 | sed 's/[[:space:]]*$//'; }
# jnum KEY: number of the first "KEY":N in the last output (nvme -o json).
jnum() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p" "$OUT" | head -n1; }
jstr() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$OUT" | head -n1 | sed 's/[[:space:]]*$//'; }

# eq GOT WANT WHAT / ge / le / between GOT LO HI WHAT: numeric (eq: string).
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
isnum() { case $1 in ''|*[!0-9]*) return 1 ;; esac; }
ge() { isnum "$1" && [ "$1" -ge "$2" ] || fail "$3: got '$1', expected >= $2"; }
le() { isnum "$1" && [ "$1" -le "$2" ] || fail "$3: got '$1', expected <= $2"; }
between() { isnum "$1" && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || fail "$4: got '$1', expected $2..$3"; }

# save KEY VALUE: make $KEY available to the cases of the next boot.
save() { echo "@@SAVE $1=$2"; }

# subcase NAME FUNCTION [ARGS...]: report FUNCTION as its own test case.
subcase() {
  _n=$1; shift
  echo "@@SUB-BEGIN $_n"
  ( FAILED=0; "$@"; exit $FAILED )
  _r=$?
  echo "@@SUB-END $_n $_r"
  [ $_r -eq 0 ] || SUBFAILED=1
  return 0
}

# fio_run ARGS...: fio with the common options on $DISK; fails on a non-zero
# status or an "err=" other than 0.
fio_run() {
  must fio --filename="$DISK" --ioengine=libaio --direct=1 --group_reporting "$@" || return 1
  expect_not 'err= *[1-9]' fio
  expect_not 'verify: bad|crc32c: verify failed|bad magic' fio
}

# ns_dev NSID: the block device of namespace NSID on $CTRL, waiting up to
# 10 s for the kernel to add it (after attach-ns and ns-rescan); empty if
# it never appears.
ns_dev() {
  _i=0
  while [ $_i -lt 100 ]; do
    for _b in /sys/block/${CTRL#/dev/}n*; do
      [ -e "$_b/nsid" ] && [ "$(cat "$_b/nsid")" = "$1" ] && { echo "/dev/${_b##*/}"; return 0; }
    done
    sleep 0.1; _i=$((_i + 1))
  done
  return 1
}
# ns_gone NSID: wait up to 10 s for the kernel to remove namespace NSID.
ns_gone() {
  _i=0
  while [ $_i -lt 100 ]; do
    _seen=0
    for _b in /sys/block/${CTRL#/dev/}n*; do
      [ -e "$_b/nsid" ] && [ "$(cat "$_b/nsid")" = "$1" ] && _seen=1
    done
    [ $_seen = 0 ] && return 0
    sleep 0.1; _i=$((_i + 1))
  done
  fail "namespace $1 still has a block device"
}
# nuse NSID: Identify Namespace NUSE of NSID, in logical blocks.
nuse() { run nvme id-ns "$CTRL" -n "$1" >/dev/null && echo $(( $(field nuse) )); }
