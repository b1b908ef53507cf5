# Firmware Image Download + Firmware Commit into slot 2; the new revision
# shows in the Firmware Slot log, Identify FR and the OCP firmware
# activation history (C2h).
# devices: ocp-nvme
# boot: 2
REV=OCPFW002
must nvme id-ctrl "$CTRL" -o json || exit 1
frmw=$(jnum frmw)
between "$(( (frmw >> 1) & 7 ))" 2 7 "firmware slots (FRMW)"
noreset=$(( (frmw >> 4) & 1 ))
{ printf '%s' "$REV"; head -c 32760 /dev/urandom; } >/tmp/fw.bin
must nvme fw-download "$CTRL" --fw=/tmp/fw.bin --xfer=4096 || exit 1
expect 'Firmware download success' "fw-download"
if [ "$noreset" = 1 ]; then action=3; else action=1; fi
must nvme fw-commit "$CTRL" --slot=2 --action=$action || exit 1
expect 'Success' "fw-commit"
if [ "$action" = 1 ]; then must nvme reset "$CTRL"; sleep 1; fi
must nvme fw-log "$CTRL" || exit 1
eq "$(( $(field afi) & 7 ))" 2 "active slot after the commit (AFI)"
eq "$(sed -n 's/^frs2 *: .*(\(.*\)).*/\1/p' "$OUT")" "$REV" "slot 2 revision"
must nvme id-ctrl "$CTRL" -o json
eq "$(jstr fr)" "$REV" "Identify FR after activation"
must nvme ocp fw-activate-history "$CTRL"
expect "new firmware: +$REV" "ocp fw-activate-history"
expect "slot number: +2" "ocp fw-activate-history"
