# Arbitration (OCP NVMe-CFG-1): the Arbitration feature (FID 01h) keeps
# AB, LPW, MPW and HPW as set, and I/O runs under the round robin Linux
# selects. Weighted round robin itself (CAP.AMS, CC.AMS 001b) is covered by
# the engine tests and the qtest: the guest kernel never selects it.
must nvme get-feature "$CTRL" --feature-id=1 || exit 1
expect '0x0*3$|0x00000003' "default Arbitration value"
must nvme set-feature "$CTRL" --feature-id=1 --value=0x30201005
must nvme get-feature "$CTRL" --feature-id=1 -H
expect '0x30201005' "Arbitration after Set Features"
# nvme-cli shows the 0's based weights plus one.
expect 'High Priority Weight +\(HPW\): 49$' "HPW"
expect 'Medium Priority Weight \(MPW\): 33$' "MPW"
expect 'Low Priority Weight +\(LPW\): 17$' "LPW"
expect 'Arbitration Burst +\(AB\): 32$' "AB"
must nvme set-feature "$CTRL" --feature-id=1 --value=3
fio_run --name=arb --rw=randread --bs=4k --size=4M --offset=32M --iodepth=8 || exit 1
