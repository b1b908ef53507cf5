# Command and Feature Lockdown (NVMe-AD-14..16, STD-LOG-14): OACS bit 10,
# `nvme lockdown` prohibits Set Features of a feature and an admin command,
# log 14h lists them, allowing them again restores the commands.
must nvme id-ctrl "$CTRL" || exit 1
eq $(( ($(field oacs) >> 10) & 1 )) 1 "OACS Command and Feature Lockdown"

# Set Features Temperature Threshold (04h).
must nvme lockdown "$CTRL" --scp=2 --prhbt=1 --ifc=0 --ofi=4
run nvme set-feature "$CTRL" --feature-id=4 --value=0x160
expect_i 'PROHIBITED|Prohibited' "a prohibited Set Features"
must nvme get-feature "$CTRL" --feature-id=4
# Log 14h, features scope, prohibited list: CFILA 12h, one identifier 04h.
must sh -c "nvme get-log $CTRL --log-id=0x14 --log-len=16 --lsp=0x12 --raw-binary | od -An -tx1 | head -n1"
expect '^ *12 00 00 01 04 00' "lockdown log: features prohibited"
must nvme lockdown "$CTRL" --scp=2 --prhbt=0 --ifc=0 --ofi=4
must nvme set-feature "$CTRL" --feature-id=4 --value=0x160

# Device Self-test (14h) as an admin command.
must nvme lockdown "$CTRL" --scp=0 --prhbt=1 --ifc=1 --ofi=0x14
run nvme device-self-test "$CTRL" --self-test-code=1
expect_i 'PROHIBITED|Prohibited' "a prohibited Device Self-test"
must sh -c "nvme get-log $CTRL --log-id=0x14 --log-len=16 --lsp=0x10 --raw-binary | od -An -tx1 | head -n1"
expect '^ *10 00 00 01 14 00' "lockdown log: admin commands prohibited"
must nvme lockdown "$CTRL" --scp=0 --prhbt=0 --ifc=1 --ofi=0x14
must sh -c "nvme get-log $CTRL --log-id=0x14 --log-len=16 --lsp=0x10 --raw-binary | od -An -tx1 | head -n1"
expect '^ *10 00 00 00 00 00' "lockdown log: nothing prohibited"
must nvme device-self-test "$CTRL" --self-test-code=0xf

# The management-interface-only interface and unknown scopes are refused.
run nvme lockdown "$CTRL" --scp=0 --prhbt=1 --ifc=2 --ofi=0x14
expect_i 'INVALID_FIELD|Invalid Field' "lockdown of the management interface"
run nvme lockdown "$CTRL" --scp=3 --prhbt=1 --ifc=0 --ofi=1
expect_i 'INVALID_FIELD|Invalid Field' "lockdown of the MI command set"
