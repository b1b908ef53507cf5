# Firmware Image Download + Firmware Commit into slot 2: the new revision
# shows in the Firmware Slot log and Identify FR (subcase 94-firmware-commit)
# and in the OCP Firmware Activation History, C2h (94-firmware-ocp-history).
# devices: ocp-nvme
# boot: 2
REV=OCPFW002
commit() {
  must nvme id-ctrl "$CTRL" -o json || return 1
  frmw=$(jnum frmw)
  between "$(( (frmw >> 1) & 7 ))" 2 7 "firmware slots (FRMW)"
  noreset=$(( (frmw >> 4) & 1 ))
  { printf '%s' "$REV"; head -c 32760 /dev/urandom; } >/tmp/fw.bin
  must nvme fw-download "$CTRL" --fw=/tmp/fw.bin --xfer=4096 || return 1
  expect 'Firmware download success' "fw-download"
  if [ "$noreset" = 1 ]; then action=3; else action=1; fi
  must nvme fw-commit "$CTRL" --slot=2 --action=$action || return 1
  expect 'Success' "fw-commit"
  if [ "$action" = 1 ]; then must nvme reset "$CTRL"; sleep 1; fi
  must nvme fw-log "$CTRL" || return 1
  eq "$(( $(field afi) & 7 ))" 2 "active slot after the commit (AFI)"
  eq "$(sed -n 's/^frs2 *: .*(\(.*\)).*/\1/p' "$OUT")" "$REV" "slot 2 revision"
  must nvme id-ctrl "$CTRL" -o json
  eq "$(jstr fr)" "$REV" "Identify FR after activation"
}
history() {
  must nvme ocp fw-activate-history "$CTRL" || return 1
  expect "new firmware: +$REV" "ocp fw-activate-history"
  expect "slot number: +2" "ocp fw-activate-history"
  expect "valid entries: +[1-9]" "ocp fw-activate-history"
}
subcase 94-firmware-commit commit
subcase 94-firmware-ocp-history history
