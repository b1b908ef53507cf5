# Identify UUID List (CNS 17h) carries the OCP UUID, so nvme-cli's OCP
# commands find their UUID index without --no-uuid.
# devices: ocp-nvme
must nvme id-uuid "$CTRL" || exit 1
expect_i 'UUID +: c194d55b-e094-4794-a21d-29998f56be6f' "nvme id-uuid"
