/*
 * QTest for the ocp-nvme device: PCI identity, BAR0 registers, the
 * controller enable handshake, MSI-X and startup errors.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci-pc.h"
#include "standard-headers/linux/pci_regs.h"

#define OCP_NVME_DEVFN      QPCI_DEVFN(4, 0)
#define DISK_SIZE           (64 * 1024 * 1024)
#define DRIVE_ARGS \
    "-drive if=none,id=d0,driver=null-co,read-zeroes=on,size=67108864 "

/* A raw image file, so that data written can be read back. */
static char *disk_path;

/* NVMe 2.0 Base Specification, 3.1.4: controller registers. */
#define NVME_REG_CAP        0x00
#define NVME_REG_VS         0x08
#define NVME_REG_CC         0x14
#define NVME_REG_CSTS       0x1c
#define NVME_REG_NSSR       0x20
#define NVME_REG_AQA        0x24
#define NVME_REG_ASQ        0x28
#define NVME_REG_ACQ        0x30

typedef struct {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar0;
    uint64_t bar0_size;
} Fixture;

/* @extra: device options; @drive_extra: options of the raw drive. */
static void fixture_start_drive(Fixture *f, const char *extra,
                                const char *drive_extra)
{
    f->qts = qtest_initf("-M q35 -drive if=none,id=d0,file=%s,format=raw%s "
                         "-device ocp-nvme,addr=04.0,drive=d0,serial=OCPTEST01%s",
                         disk_path, drive_extra, extra ? extra : "");
    f->bus = qpci_new_pc(f->qts, NULL);
    f->dev = qpci_device_find(f->bus, OCP_NVME_DEVFN);
    g_assert_nonnull(f->dev);
    qpci_device_enable(f->dev);
    f->bar0 = qpci_iomap(f->dev, 0, &f->bar0_size);
}

static void fixture_start(Fixture *f, const char *extra)
{
    fixture_start_drive(f, extra, "");
}

static void fixture_stop(Fixture *f)
{
    g_free(f->dev);
    qpci_free_pc(f->bus);
    qtest_quit(f->qts);
}

static uint32_t reg_read(Fixture *f, uint64_t off)
{
    return qpci_io_readl(f->dev, f->bar0, off);
}

static void reg_write(Fixture *f, uint64_t off, uint32_t val)
{
    qpci_io_writel(f->dev, f->bar0, off, val);
}

/* Poll CSTS.RDY until it equals @ready; CAP.TO bounds the wait. */
static bool wait_ready(Fixture *f, bool ready)
{
    for (int i = 0; i < 1000; i++) {
        if (!!(reg_read(f, NVME_REG_CSTS) & 1) == ready) {
            return true;
        }
        qtest_clock_step(f->qts, 1000 * 1000);
    }
    return false;
}

static void test_pci_identity(void)
{
    Fixture f;

    fixture_start(&f, NULL);
    g_assert_cmphex(qpci_config_readw(f.dev, PCI_VENDOR_ID), ==, 0x1b36);
    g_assert_cmphex(qpci_config_readw(f.dev, PCI_DEVICE_ID), ==, 0x0015);
    /* Class code 010802h: mass storage, NVM, NVM Express. */
    g_assert_cmphex(qpci_config_readw(f.dev, PCI_CLASS_DEVICE), ==, 0x0108);
    g_assert_cmphex(qpci_config_readb(f.dev, PCI_CLASS_PROG), ==, 0x02);
    g_assert_cmphex(qpci_config_readw(f.dev, PCI_SUBSYSTEM_VENDOR_ID), ==, 0x1b36);
    g_assert_cmphex(qpci_config_readb(f.dev, PCI_INTERRUPT_PIN), ==, 1);
    /* BAR0: 64-bit memory BAR of 64 KiB. */
    g_assert_cmphex(qpci_config_readl(f.dev, PCI_BASE_ADDRESS_0) &
                    PCI_BASE_ADDRESS_MEM_TYPE_MASK, ==,
                    PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert_cmpuint(f.bar0_size, ==, 0x10000);
    /* Capabilities: PCI Express endpoint, power management, MSI-X. */
    g_assert_cmpuint(qpci_find_capability(f.dev, PCI_CAP_ID_EXP, 0), !=, 0);
    g_assert_cmpuint(qpci_find_capability(f.dev, PCI_CAP_ID_PM, 0), !=, 0);
    g_assert_cmpuint(qpci_find_capability(f.dev, PCI_CAP_ID_MSIX, 0), !=, 0);
    fixture_stop(&f);
}

static void test_msix_table_size(void)
{
    Fixture f;
    uint8_t cap;

    fixture_start(&f, ",msix_qsize=17");
    cap = qpci_find_capability(f.dev, PCI_CAP_ID_MSIX, 0);
    g_assert_cmpuint(cap, !=, 0);
    /* Table Size is N - 1 (PCI 3.0, 6.8.2.3). */
    g_assert_cmpuint(qpci_config_readw(f.dev, cap + PCI_MSIX_FLAGS) &
                     PCI_MSIX_FLAGS_QSIZE, ==, 16);
    /* Table and PBA in BAR0, after the registers. */
    g_assert_cmphex(qpci_config_readl(f.dev, cap + PCI_MSIX_TABLE), ==, 0x4000);
    g_assert_cmphex(qpci_config_readl(f.dev, cap + PCI_MSIX_PBA), ==, 0xc000);
    qpci_msix_enable(f.dev);
    g_assert_true(f.dev->msix_enabled);
    fixture_stop(&f);
}

static void test_registers(void)
{
    Fixture f;
    uint64_t cap;

    fixture_start(&f, NULL);
    cap = qpci_io_readq(f.dev, f.bar0, NVME_REG_CAP);
    /* MQES is 0's based; the default mqes property is 0x7ff. */
    g_assert_cmphex(cap & 0xffff, ==, 0x7ff);
    /* CQR: physically contiguous queues required. */
    g_assert_cmpuint((cap >> 16) & 1, ==, 1);
    /* CSS bit 0: NVM command set. */
    g_assert_cmpuint((cap >> 37) & 1, ==, 1);
    /* TO is in 500 ms units and must not be 0. */
    g_assert_cmpuint((cap >> 24) & 0xff, !=, 0);
    /* VS: at least NVMe 1.4. */
    g_assert_cmphex(reg_read(&f, NVME_REG_VS), >=, 0x00010400);
    g_assert_cmphex(reg_read(&f, NVME_REG_CC), ==, 0);
    g_assert_cmphex(reg_read(&f, NVME_REG_CSTS) & 1, ==, 0);
    fixture_stop(&f);
}

static void test_enable_handshake(void)
{
    Fixture f;
    uint64_t asq = 0x100000, acq = 0x200000;

    fixture_start(&f, NULL);
    reg_write(&f, NVME_REG_AQA, (31 << 16) | 31);
    qpci_io_writeq(f.dev, f.bar0, NVME_REG_ASQ, asq);
    qpci_io_writeq(f.dev, f.bar0, NVME_REG_ACQ, acq);
    g_assert_cmphex(qpci_io_readq(f.dev, f.bar0, NVME_REG_ASQ), ==, asq);
    g_assert_cmphex(qpci_io_readq(f.dev, f.bar0, NVME_REG_ACQ), ==, acq);
    /* CC: EN, IOSQES = 6 (64 bytes), IOCQES = 4 (16 bytes), MPS = 0. */
    reg_write(&f, NVME_REG_CC, (4 << 20) | (6 << 16) | 1);
    g_assert_true(wait_ready(&f, true));
    g_assert_cmphex(reg_read(&f, NVME_REG_CSTS) & 2, ==, 0); /* no CFS */
    reg_write(&f, NVME_REG_CC, 0);
    g_assert_true(wait_ready(&f, false));
    /* A second enable works after the reset. */
    reg_write(&f, NVME_REG_CC, (4 << 20) | (6 << 16) | 1);
    g_assert_true(wait_ready(&f, true));
    fixture_stop(&f);
}


/*
 * A minimal NVMe host driver on fixed guest-physical memory: admin queue,
 * one I/O queue pair, polling for completions (NVMe 2.0 Base, 3.3).
 */
#define QDEPTH          32
#define ASQ_ADDR        0x100000
#define ACQ_ADDR        0x110000
#define IOSQ_ADDR       0x120000
#define IOCQ_ADDR       0x130000
#define DATA_ADDR       0x200000
#define DATA2_ADDR      0x300000

typedef struct {
    Fixture f;
    uint16_t asq_tail, acq_head, iosq_tail, iocq_head;
    bool acq_phase, iocq_phase;
    uint16_t cid;
} Nvme;

typedef struct {
    uint32_t dw0;
    uint16_t cid;
    uint16_t status;    /* SCT << 8 | SC, without the phase bit */
} Cqe;

/* Set up the admin queue and enable a disabled controller. */
static void nvme_enable(Nvme *n)
{
    n->asq_tail = n->acq_head = n->iosq_tail = n->iocq_head = 0;
    n->acq_phase = n->iocq_phase = true;
    reg_write(&n->f, NVME_REG_AQA, ((QDEPTH - 1) << 16) | (QDEPTH - 1));
    qpci_io_writeq(n->f.dev, n->f.bar0, NVME_REG_ASQ, ASQ_ADDR);
    qpci_io_writeq(n->f.dev, n->f.bar0, NVME_REG_ACQ, ACQ_ADDR);
    qtest_memset(n->f.qts, ACQ_ADDR, 0, QDEPTH * 16);
    qtest_memset(n->f.qts, IOCQ_ADDR, 0, QDEPTH * 16);
    reg_write(&n->f, NVME_REG_CC, (4 << 20) | (6 << 16) | 1);
    g_assert_true(wait_ready(&n->f, true));
}

static void nvme_start_drive(Nvme *n, const char *extra, const char *drive)
{
    memset(n, 0, sizeof(*n));
    fixture_start_drive(&n->f, extra, drive);
    nvme_enable(n);
}

static void nvme_start(Nvme *n, const char *extra)
{
    nvme_start_drive(n, extra, "");
}

/* Doorbell offsets with CAP.DSTRD = 0. */
static uint64_t sq_doorbell(int qid) { return 0x1000 + 8 * qid; }
static uint64_t cq_doorbell(int qid) { return 0x1000 + 8 * qid + 4; }

static Cqe nvme_wait(Nvme *n, uint64_t cq, uint16_t *head, bool *phase, int qid)
{
    Cqe cqe = { 0 };

    for (int i = 0; i < 100000; i++) {
        uint16_t st = qtest_readw(n->f.qts, cq + *head * 16 + 14);
        if ((st & 1) == *phase) {
            cqe.dw0 = qtest_readl(n->f.qts, cq + *head * 16);
            cqe.cid = qtest_readw(n->f.qts, cq + *head * 16 + 12);
            cqe.status = (st >> 1) & 0x7ff;
            *head = (*head + 1) % QDEPTH;
            if (*head == 0) {
                *phase = !*phase;
            }
            reg_write(&n->f, cq_doorbell(qid), *head);
            return cqe;
        }
        qtest_clock_step(n->f.qts, 10000);
    }
    g_assert_not_reached();
}

/* Submit a 64-byte command to queue @qid and wait for its completion. */
static Cqe nvme_cmd(Nvme *n, int qid, uint32_t *cmd)
{
    uint64_t sq = qid ? IOSQ_ADDR : ASQ_ADDR;
    uint16_t *tail = qid ? &n->iosq_tail : &n->asq_tail;
    uint16_t cid = ++n->cid;
    Cqe cqe;

    cmd[0] = (cmd[0] & 0xffff) | (uint32_t)cid << 16;
    qtest_memwrite(n->f.qts, sq + *tail * 64, cmd, 64);
    *tail = (*tail + 1) % QDEPTH;
    reg_write(&n->f, sq_doorbell(qid), *tail);
    if (qid) {
        cqe = nvme_wait(n, IOCQ_ADDR, &n->iocq_head, &n->iocq_phase, qid);
    } else {
        cqe = nvme_wait(n, ACQ_ADDR, &n->acq_head, &n->acq_phase, 0);
    }
    g_assert_cmphex(cqe.cid, ==, cid);
    return cqe;
}

static Cqe nvme_admin(Nvme *n, uint8_t opc, uint32_t nsid, uint64_t prp1,
                      uint32_t cdw10, uint32_t cdw11, uint32_t cdw14)
{
    uint32_t cmd[16] = { opc, nsid };

    cmd[6] = prp1;
    cmd[7] = prp1 >> 32;
    cmd[10] = cdw10;
    cmd[11] = cdw11;
    cmd[14] = cdw14;
    return nvme_cmd(n, 0, cmd);
}

static void nvme_create_io_queues(Nvme *n)
{
    /* Create I/O CQ 1 (PC=1, IEN=0) then SQ 1 bound to it. */
    g_assert_cmphex(nvme_admin(n, 0x05, 0, IOCQ_ADDR,
                               ((QDEPTH - 1) << 16) | 1, 1, 0).status, ==, 0);
    g_assert_cmphex(nvme_admin(n, 0x01, 0, IOSQ_ADDR,
                               ((QDEPTH - 1) << 16) | 1, (1 << 16) | 1, 0).status,
                    ==, 0);
}

/* As nvme_create_io_queues(), with CQ 1's interrupts on vector @iv. */
static void nvme_create_io_queues_irq(Nvme *n, uint16_t iv)
{
    g_assert_cmphex(nvme_admin(n, 0x05, 0, IOCQ_ADDR,
                               ((QDEPTH - 1) << 16) | 1, (uint32_t)iv << 16 | 3,
                               0).status, ==, 0);
    g_assert_cmphex(nvme_admin(n, 0x01, 0, IOSQ_ADDR,
                               ((QDEPTH - 1) << 16) | 1, (1 << 16) | 1,
                               0).status, ==, 0);
}

/* Point MSI-X vector 1 (MSI-X enabled) at @addr with @data, unmasked. */
static void msix_vector1(Nvme *n, uint64_t addr, uint32_t data)
{
    qpci_io_writel(n->f.dev, n->f.bar0, 0x4010 + PCI_MSIX_ENTRY_LOWER_ADDR,
                   addr);
    qpci_io_writel(n->f.dev, n->f.bar0, 0x4010 + PCI_MSIX_ENTRY_UPPER_ADDR,
                   addr >> 32);
    qpci_io_writel(n->f.dev, n->f.bar0, 0x4010 + PCI_MSIX_ENTRY_DATA, data);
    qpci_io_writel(n->f.dev, n->f.bar0, 0x4010 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

static Cqe nvme_rw(Nvme *n, uint8_t opc, uint64_t slba, uint16_t nlb0,
                   uint64_t prp1)
{
    uint32_t cmd[16] = { opc, 1 };

    cmd[6] = prp1;
    cmd[7] = prp1 >> 32;
    cmd[10] = slba;
    cmd[11] = slba >> 32;
    cmd[12] = nlb0;
    return nvme_cmd(n, 1, cmd);
}

/* I/O is counted in the drive's block accounting (info blockstats). */
static void assert_blockstats(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-blockstats'}");
    QList *list = qdict_get_qlist(rsp, "return");
    QListEntry *e;
    bool found = false;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *dev = qobject_to(QDict, qlist_entry_obj(e));
        QDict *stats = qdict_get_qdict(dev, "stats");

        if (!strcmp(qdict_get_try_str(dev, "device") ?: "", "d0")) {
            g_assert_cmpint(qdict_get_int(stats, "rd_operations"), >=, 1);
            g_assert_cmpint(qdict_get_int(stats, "wr_operations"), >=, 1);
            g_assert_cmpint(qdict_get_int(stats, "flush_operations"), >=, 1);
            g_assert_cmpint(qdict_get_int(stats, "rd_bytes"), >=, 4096);
            found = true;
        }
    }
    g_assert_true(found);
    qobject_unref(rsp);
}

typedef Cqe (*RwFn)(Nvme *n, uint8_t opc, uint64_t slba, uint16_t nlb0,
                    uint64_t prp1);

/*
 * Through @rw: write 8 blocks of a pattern (byte i is i * @mul + 1) at
 * @slba, flush, read them back elsewhere and compare.
 */
static void write_flush_read_back(Nvme *n, RwFn rw, uint64_t slba,
                                  uint8_t mul)
{
    uint8_t out[4096], in[4096];

    for (int i = 0; i < sizeof(out); i++) {
        out[i] = i * mul + 1;
    }
    qtest_memwrite(n->f.qts, DATA_ADDR, out, sizeof(out));
    g_assert_cmphex(rw(n, 0x01, slba, 7, DATA_ADDR).status, ==, 0);
    g_assert_cmphex(rw(n, 0x00, 0, 0, 0).status, ==, 0);
    g_assert_cmphex(rw(n, 0x02, slba, 7, DATA2_ADDR).status, ==, 0);
    qtest_memread(n->f.qts, DATA2_ADDR, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
}

static void test_identify(void)
{
    Nvme n;
    char sn[21] = { 0 };

    nvme_start(&n, NULL);
    /* Identify Controller: CNS 01h. */
    g_assert_cmphex(nvme_admin(&n, 0x06, 0, DATA_ADDR, 1, 0, 0).status, ==, 0);
    g_assert_cmphex(qtest_readw(n.f.qts, DATA_ADDR), ==, 0x1b36);   /* VID */
    qtest_memread(n.f.qts, DATA_ADDR + 4, sn, 20);
    g_assert_true(g_str_has_prefix(sn, "OCPTEST01"));
    /* Identify Namespace 1: NSZE = 64 MiB / 512. */
    g_assert_cmphex(nvme_admin(&n, 0x06, 1, DATA_ADDR, 0, 0, 0).status, ==, 0);
    g_assert_cmphex(qtest_readq(n.f.qts, DATA_ADDR), ==, DISK_SIZE / 512);
    /*
     * Identify UUID List (CNS 17h): 32 reserved bytes, then the entry of
     * UUID index 1, whose UUID (bytes 16-31) is the OCP UUID.
     */
    g_assert_cmphex(nvme_admin(&n, 0x06, 0, DATA_ADDR, 0x17, 0, 0).status, ==, 0);
    g_assert_cmphex(qtest_readb(n.f.qts, DATA_ADDR + 48), ==, 0xc1);
    g_assert_cmphex(qtest_readb(n.f.qts, DATA_ADDR + 63), ==, 0x6f);
    fixture_stop(&n.f);
}

static void test_io(void)
{
    Nvme n;

    nvme_start(&n, NULL);
    nvme_create_io_queues(&n);
    write_flush_read_back(&n, nvme_rw, 100, 7);
    /* Past the end of the namespace: LBA Out of Range (80h). */
    g_assert_cmphex(nvme_rw(&n, 0x02, DISK_SIZE / 512, 0, DATA2_ADDR).status, ==, 0x80);
    /* Unknown I/O opcode: Invalid Command Opcode (01h). */
    g_assert_cmphex(nvme_rw(&n, 0x7e, 0, 0, DATA2_ADDR).status, ==, 0x01);
    /*
     * PRP1 may have an offset, but a PRP2 entry with an offset is
     * Invalid PRP Offset (13h).
     */
    {
        uint32_t cmd[16] = { 0x02, 1 };
        uint64_t prp2 = DATA2_ADDR + 4;

        cmd[6] = DATA_ADDR;
        cmd[8] = prp2;
        cmd[12] = 15;   /* 16 blocks: needs PRP2 */
        g_assert_cmphex(nvme_cmd(&n, 1, cmd).status, ==, 0x13);
    }
    /* The controller still works. */
    g_assert_cmphex(nvme_rw(&n, 0x02, 100, 7, DATA2_ADDR).status, ==, 0);
    assert_blockstats(n.f.qts);
    fixture_stop(&n.f);
}

static void test_ocp_logs(void)
{
    /*
     * Log id, size, and the first and last bytes of its GUID as stored
     * (least significant byte first) in the last 16 bytes of the page.
     */
    static const struct { uint8_t lid; uint32_t size; uint8_t first, last; } logs[] = {
        { 0xc0, 512, 0xc5, 0xaf }, { 0xc1, 512, 0x44, 0x5a },
        { 0xc2, 4096, 0x6d, 0xd1 }, { 0xc3, 512, 0x92, 0x85 },
        { 0xc4, 4096, 0x97, 0xb7 }, { 0xc5, 4096, 0x2f, 0xc7 },
        { 0xc7, 512, 0x06, 0x54 },
    };
    Nvme n;

    nvme_start(&n, NULL);
    for (int i = 0; i < ARRAY_SIZE(logs); i++) {
        uint32_t numd = logs[i].size / 4 - 1;
        uint64_t guid = DATA_ADDR + logs[i].size - 16;

        for (int uuid = 0; uuid <= 1; uuid++) {
            /* Get Log Page, NSID FFFFFFFFh, UUID index 0 and 1 (OCP). */
            Cqe c = nvme_admin(&n, 0x02, 0xffffffff, DATA_ADDR,
                               (numd << 16) | logs[i].lid, 0, uuid);
            g_assert_cmphex(c.status, ==, 0);
            g_assert_cmphex(qtest_readb(n.f.qts, guid), ==, logs[i].first);
            g_assert_cmphex(qtest_readb(n.f.qts, guid + 15), ==, logs[i].last);
        }
    }
    /* UUID index 5 is not in the UUID list: Invalid Field (02h). */
    g_assert_cmphex(nvme_admin(&n, 0x02, 0xffffffff, DATA_ADDR,
                               (127 << 16) | 0xc0, 0, 5).status, ==, 0x02);
    fixture_stop(&n.f);
}

static void test_msix_delivery(void)
{
    Nvme n;
    uint8_t cap;

    nvme_start(&n, NULL);
    qpci_msix_enable(n.f.dev);
    /* qpci_msix_enable maps BAR0 again, at a new address. */
    n.f.bar0 = n.f.dev->msix_table_bar;
    cap = qpci_find_capability(n.f.dev, PCI_CAP_ID_MSIX, 0);
    g_assert_cmpuint(cap, !=, 0);
    /* Mask vector 0: a completion on the admin CQ sets its pending bit. */
    qpci_io_writel(n.f.dev, n.f.bar0, 0x4000 + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   PCI_MSIX_ENTRY_CTRL_MASKBIT);
    g_assert_false(qpci_msix_pending(n.f.dev, 0));
    g_assert_cmphex(nvme_admin(&n, 0x06, 0, DATA_ADDR, 1, 0, 0).status, ==, 0);
    g_assert_true(qpci_msix_pending(n.f.dev, 0));
    fixture_stop(&n.f);
}

/* After each bad input, QEMU is up and a valid command still works. */
static void assert_alive(Nvme *n)
{
    g_assert_cmphex(reg_read(&n->f, NVME_REG_CSTS) & 3, ==, 1); /* RDY, no CFS */
    g_assert_cmphex(nvme_admin(n, 0x06, 0, DATA_ADDR, 1, 0, 0).status, ==, 0);
}

static void test_malformed(void)
{
    Nvme n;
    uint32_t cmd[16];

    nvme_start(&n, NULL);
    nvme_create_io_queues(&n);

    /* Doorbells of queues that do not exist, and out-of-range values. */
    reg_write(&n.f, sq_doorbell(9), 1);
    reg_write(&n.f, cq_doorbell(9), 1);
    reg_write(&n.f, 0x1ff8, 0xffffffff);
    reg_write(&n.f, sq_doorbell(1), 0xffff);
    assert_alive(&n);

    /* Queue creation with invalid identifiers and sizes. */
    g_assert_cmphex(nvme_admin(&n, 0x05, 0, IOCQ_ADDR, (1 << 16) | 0, 1, 0).status,
                    ==, 0x101);                     /* CQ id 0 */
    g_assert_cmphex(nvme_admin(&n, 0x05, 0, IOCQ_ADDR, (1 << 16) | 1, 1, 0).status,
                    ==, 0x101);                     /* CQ 1 exists */
    g_assert_cmphex(nvme_admin(&n, 0x05, 0, 0x400000, (0xffff << 16) | 2, 1, 0).status,
                    ==, 0x102);                     /* larger than MQES */
    g_assert_cmphex(nvme_admin(&n, 0x01, 0, 0x400000, (7 << 16) | 2,
                               (7 << 16) | 1, 0).status,
                    ==, 0x100);                     /* SQ on a missing CQ */
    g_assert_cmphex(nvme_admin(&n, 0x05, 0, 0x400000, (7 << 16) | 2, 0, 0).status,
                    ==, 0x02);                      /* PC=0: not contiguous */
    assert_alive(&n);

    /* DMA to an address with nothing behind it: Data Transfer Error. */
    g_assert_cmphex(nvme_admin(&n, 0x06, 0, 0xfff0000000000ull, 1, 0, 0).status,
                    ==, 0x04);
    /* Transfer larger than MDTS (512 KiB): Invalid Field. */
    g_assert_cmphex(nvme_rw(&n, 0x02, 0, 4095, DATA2_ADDR).status, ==, 0x02);
    /* SGL with a reserved descriptor type: SGL Descriptor Type Invalid. */
    memset(cmd, 0, sizeof(cmd));
    cmd[0] = 0x02 | (1 << 14);                      /* Read, PSDT = 01b */
    cmd[1] = 1;
    cmd[6] = DATA2_ADDR;
    cmd[8] = 512;                                   /* length */
    cmd[9] = 0xe0u << 24;                           /* type Eh */
    g_assert_cmphex(nvme_cmd(&n, 1, cmd).status, ==, 0x11);
    /* A PRP list entry with an offset: Invalid PRP Offset. */
    qtest_writeq(n.f.qts, 0x500000, DATA2_ADDR + 8);
    memset(cmd, 0, sizeof(cmd));
    cmd[0] = 0x02;
    cmd[1] = 1;
    cmd[6] = DATA_ADDR;
    cmd[8] = 0x500000;                              /* PRP2: list */
    cmd[12] = 23;                                   /* 12 KiB */
    g_assert_cmphex(nvme_cmd(&n, 1, cmd).status, ==, 0x13);
    assert_alive(&n);

    /*
     * A CQ of 2 entries holds one completion at a time: three commands
     * complete one by one as the host frees CQ slots, none overwritten.
     */
    {
        uint64_t cq2 = 0x600000, sq2 = 0x610000;
        uint16_t head = 0;
        bool phase = true;
        uint32_t flush[16] = { 0x00, 1 };
        uint16_t seen = 0;

        qtest_memset(n.f.qts, cq2, 0, 64);
        g_assert_cmphex(nvme_admin(&n, 0x05, 0, cq2, (1 << 16) | 2, 1, 0).status, ==, 0);
        g_assert_cmphex(nvme_admin(&n, 0x01, 0, sq2, (7 << 16) | 2,
                                   (2 << 16) | 1, 0).status, ==, 0);
        for (int i = 0; i < 3; i++) {
            flush[0] = (uint32_t)(0x100 + i) << 16;
            qtest_memwrite(n.f.qts, sq2 + i * 64, flush, 64);
        }
        reg_write(&n.f, sq_doorbell(2), 3);
        for (int i = 0; i < 3; i++) {
            for (int t = 0; t < 100000; t++) {
                uint16_t st = qtest_readw(n.f.qts, cq2 + head * 16 + 14);
                if ((st & 1) == phase) {
                    seen |= 1 << (qtest_readw(n.f.qts, cq2 + head * 16 + 12) - 0x100);
                    g_assert_cmphex((st >> 1) & 0x7ff, ==, 0);
                    head = (head + 1) % 2;
                    phase = head ? phase : !phase;
                    reg_write(&n.f, cq_doorbell(2), head);
                    break;
                }
                qtest_clock_step(n.f.qts, 10000);
            }
        }
        g_assert_cmphex(seen, ==, 7);
    }
    assert_alive(&n);

    /* Admin queue registers written while enabled are ignored. */
    qpci_io_writeq(n.f.dev, n.f.bar0, NVME_REG_ASQ, 0xdead000);
    assert_alive(&n);

    /*
     * Enabling with an unsupported memory page size (CC.MPS = 15) fails
     * with CSTS.CFS; a reset and a correct enable bring it back.
     */
    reg_write(&n.f, NVME_REG_CC, 0);
    g_assert_true(wait_ready(&n.f, false));
    reg_write(&n.f, NVME_REG_CC, (4 << 20) | (6 << 16) | (15 << 7) | 1);
    qtest_clock_step(n.f.qts, 1000000);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 1, ==, 0);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 2, ==, 2);
    reg_write(&n.f, NVME_REG_CC, 0);
    g_assert_true(wait_ready(&n.f, false));
    nvme_enable(&n);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * Queue 8 writes of 8 blocks each (LBAs 0-63, command identifiers from
 * @cid) in I/O SQ 1 and ring its doorbell once, without waiting for them.
 */
static void post_eight_writes(Nvme *n, uint16_t cid)
{
    uint32_t cmd[16];

    for (int i = 0; i < 8; i++) {
        memset(cmd, 0, sizeof(cmd));
        cmd[0] = 0x01 | (uint32_t)(cid + i) << 16;
        cmd[1] = 1;
        cmd[6] = DATA_ADDR;
        cmd[10] = i * 8;
        cmd[12] = 7;
        qtest_memwrite(n->f.qts, IOSQ_ADDR + n->iosq_tail * 64, cmd, 64);
        n->iosq_tail++;
    }
    reg_write(&n->f, sq_doorbell(1), n->iosq_tail);
}

/*
 * Reset the controller (CC.EN = 0) and then the whole function (system
 * reset) while writes are in flight: they are drained, nothing completes
 * into the reset controller, and it comes back.
 */
static void test_reset_inflight(void)
{
    Nvme n;
    QDict *rsp;

    nvme_start(&n, ",id=ocp0");
    nvme_create_io_queues(&n);
    post_eight_writes(&n, 0x200);
    reg_write(&n.f, NVME_REG_CC, 0);
    g_assert_true(wait_ready(&n.f, false));

    nvme_enable(&n);
    assert_alive(&n);

    nvme_create_io_queues(&n);
    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(nvme_rw(&n, 0x02, i * 8, 7, DATA2_ADDR).status, ==, 0);
    }
    rsp = qtest_qmp(n.f.qts, "{'execute': 'system_reset'}");
    qobject_unref(rsp);
    qtest_qmp_eventwait(n.f.qts, "RESET");
    /* The reset cleared the BARs: map BAR0 again. */
    qpci_device_enable(n.f.dev);
    n.f.bar0 = qpci_iomap(n.f.dev, 0, &n.f.bar0_size);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CC), ==, 0);
    nvme_enable(&n);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/* Put a command on queue @qid and ring the doorbell without waiting. */
static uint16_t nvme_post(Nvme *n, int qid, uint32_t *cmd)
{
    uint64_t sq = qid ? IOSQ_ADDR : ASQ_ADDR;
    uint16_t *tail = qid ? &n->iosq_tail : &n->asq_tail;
    uint16_t cid = ++n->cid;

    cmd[0] = (cmd[0] & 0xffff) | (uint32_t)cid << 16;
    qtest_memwrite(n->f.qts, sq + *tail * 64, cmd, 64);
    *tail = (*tail + 1) % QDEPTH;
    reg_write(&n->f, sq_doorbell(qid), *tail);
    return cid;
}

/* QMP still answers, and promptly: the main loop is not stuck. */
static void assert_qmp_responsive(QTestState *qts)
{
    gint64 start = g_get_monotonic_time();
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-status'}");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
}

/*
 * The hostile guest of the timer re-fire hang: Keep Alive Timer set, a
 * fatal controller status injected through OCP feature C0h (error
 * injection type 1, CPU/controller hang), then time past KATO. The old
 * device re-armed a deadline in the past for ever, holding the BQL.
 */
static void test_keep_alive_after_fatal(void)
{
    Nvme n;
    uint8_t entry[32] = { 3, 0, 1, 0 };   /* enabled, single; type 1 */
    uint32_t cmd[16] = { 0x06 };

    /*
     * OCP 2.6: a panic sets CSTS.CFS (2.7 reports it with an AEN unless
     * FID C9h bit 0 is cleared).
     */
    nvme_start(&n, ",ocp-version=2.6");
    /* Set Features Keep Alive Timer (0Fh): 1 s. */
    g_assert_cmphex(nvme_admin(&n, 0x09, 0, 0, 0x0f, 1000, 0).status, ==, 0);
    /* Set Features C0h, one entry, UUID index 1 (the OCP UUID). */
    qtest_memwrite(n.f.qts, DATA_ADDR, entry, sizeof(entry));
    g_assert_cmphex(nvme_admin(&n, 0x09, 0, DATA_ADDR, 0xc0, 1, 1).status,
                    ==, 0);
    /* The next admin command panics the drive and never completes. */
    cmd[6] = DATA_ADDR;
    cmd[10] = 1;
    nvme_post(&n, 0, cmd);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 2, ==, 2);
    for (int i = 0; i < 5; i++) {
        qtest_clock_step(n.f.qts, 1000 * 1000 * 1000);
        assert_qmp_responsive(n.f.qts);
    }
    /* A controller reset brings it back. */
    reg_write(&n.f, NVME_REG_CC, 0);
    g_assert_true(wait_ready(&n.f, false));
    nvme_enable(&n);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * A function level reset that arrives while the device is busy: the guest
 * points Get Features Timestamp at the device's own PCI Express Device
 * Control register through the MMCONFIG window, with the timestamp chosen
 * so that the data sets Initiate Function Level Reset. The reset reaches
 * the device from inside its own command; it must be carried out once the
 * command is done (not dropped, which left the controller enabled under a
 * reset PCI function).
 */
static void test_reentrant_flr(void)
{
    Nvme n;
    QPCIDevice *mch;
    uint8_t exp;
    uint64_t ts = 0x8000;       /* bit 15: PCI_EXP_DEVCTL_BCR_FLR */
    uint64_t mmcfg = 0xb0000000;

    nvme_start(&n, NULL);
    /* Enable MMCONFIG (the firmware's job, absent under qtest). */
    mch = qpci_device_find(n.f.bus, 0);
    qpci_config_writel(mch, 0x64, 0);
    qpci_config_writel(mch, 0x60, mmcfg | 1);
    g_free(mch);
    exp = qpci_find_capability(n.f.dev, PCI_CAP_ID_EXP, 0);
    /* Set Features Timestamp (0Eh). */
    qtest_memwrite(n.f.qts, DATA_ADDR, &ts, sizeof(ts));
    g_assert_cmphex(nvme_admin(&n, 0x09, 0, DATA_ADDR, 0x0e, 0, 0).status,
                    ==, 0);
    /* Get Features Timestamp into Device Control of bus 0, slot 4. */
    nvme_admin(&n, 0x0a, 0, mmcfg + (4 << 15) + exp + PCI_EXP_DEVCTL,
               0x0e, 0, 0);
    /* The function was reset, and so was the controller. */
    qpci_device_enable(n.f.dev);
    n.f.bar0 = qpci_iomap(n.f.dev, 0, &n.f.bar0_size);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CC), ==, 0);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 1, ==, 0);
    assert_qmp_responsive(n.f.qts);
    nvme_enable(&n);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * A storage read whose buffer is the device's own Device Control register
 * seen through MMCONFIG: the block layer reads into a bounce buffer and
 * writes it there when the request completes, before the device's
 * completion callback runs.  The data sets the FLR bit, so the function
 * resets from inside that request's completion.  The reset must not wait
 * for the request it is running in (the old device drained the block
 * backend there and hung, holding the BQL).
 */
static void test_flr_from_storage_read(void)
{
    Nvme n;
    QPCIDevice *mch;
    uint8_t exp;
    uint16_t flr = 0x8000;      /* PCI_EXP_DEVCTL_BCR_FLR */
    uint64_t mmcfg = 0xb0000000;
    uint32_t cmd[16] = { 0x02, 1 };
    uint64_t devctl;

    nvme_start(&n, NULL);
    mch = qpci_device_find(n.f.bus, 0);
    qpci_config_writel(mch, 0x64, 0);
    qpci_config_writel(mch, 0x60, mmcfg | 1);
    g_free(mch);
    exp = qpci_find_capability(n.f.dev, PCI_CAP_ID_EXP, 0);
    devctl = mmcfg + (4 << 15) + exp + PCI_EXP_DEVCTL;
    nvme_create_io_queues(&n);
    /* LBA 7 starts with the FLR bit, the rest zero. */
    qtest_memset(n.f.qts, DATA_ADDR, 0, 512);
    qtest_memwrite(n.f.qts, DATA_ADDR, &flr, sizeof(flr));
    g_assert_cmphex(nvme_rw(&n, 0x01, 7, 0, DATA_ADDR).status, ==, 0);
    /* Read 8 bytes' worth of LBA 7 into Device Control: one 512-byte block. */
    cmd[6] = devctl;
    cmd[7] = devctl >> 32;
    cmd[10] = 7;
    nvme_post(&n, 1, cmd);
    /* The function was reset, and the device answers. */
    assert_qmp_responsive(n.f.qts);
    qpci_device_enable(n.f.dev);
    n.f.bar0 = qpci_iomap(n.f.dev, 0, &n.f.bar0_size);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CC), ==, 0);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 1, ==, 0);
    nvme_enable(&n);
    assert_alive(&n);
    fixture_stop(&n.f);
}

static uint16_t post_deallocate(Nvme *n, int nr, uint64_t list);

/* Wait until the outgoing migration of @qts has completed. */
static void wait_migration(QTestState *qts)
{
    for (int i = 0; i < 3000; i++) {
        QDict *rsp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
        const char *st = qdict_get_try_str(qdict_get_qdict(rsp, "return"),
                                           "status");
        g_autofree char *status = g_strdup(st ?: "");

        qobject_unref(rsp);
        if (!strcmp(status, "completed")) {
            return;
        }
        g_assert_cmpstr(status, !=, "failed");
        g_usleep(10 * 1000);
    }
    g_assert_not_reached();
}

/*
 * Live-migrate @n's QEMU to a new one whose device has @props too, and go
 * on with the destination's device (same memory, same BAR).
 */
static void migrate_to_new_qemu(Nvme *n, const char *props)
{
    g_autofree char *uri = g_strdup_printf("unix:%s/ocp-nvme-mig-%d.sock",
                                           g_get_tmp_dir(), getpid());
    uint64_t bar_addr;
    QTestState *dst;

    dst = qtest_initf("-M q35 -drive if=none,id=d0,file=%s,format=raw "
                      "-device ocp-nvme,addr=04.0,drive=d0,serial=OCPTEST01%s "
                      "-incoming %s", disk_path, props, uri);
    qtest_qmp_assert_success(n->f.qts, "{'execute': 'migrate', 'arguments': "
                             "{'uri': %s}}", uri);
    wait_migration(n->f.qts);
    qtest_qmp_eventwait(dst, "RESUME");
    bar_addr = qpci_config_readl(n->f.dev, PCI_BASE_ADDRESS_0) & ~0xfu;
    fixture_stop(&n->f);
    n->f.qts = dst;
    n->f.bus = qpci_new_pc(dst, NULL);
    n->f.dev = qpci_device_find(n->f.bus, OCP_NVME_DEVFN);
    g_assert_nonnull(n->f.dev);
    g_assert_cmphex(qpci_config_readl(n->f.dev, PCI_BASE_ADDRESS_0) & ~0xfu,
                    ==, bar_addr);
    n->f.bar0 = qpci_iomap(n->f.dev, 0, &n->f.bar0_size);
}

/* Host Write Commands (low 64 bits) and Power Cycles of the SMART log. */
static void smart_counters(Nvme *n, uint64_t *writes, uint64_t *cycles)
{
    g_assert_cmphex(nvme_admin(n, 0x02, 0xffffffff, DATA2_ADDR,
                               (127 << 16) | 0x02, 0, 0).status, ==, 0);
    *writes = qtest_readq(n->f.qts, DATA2_ADDR + 80);
    *cycles = qtest_readq(n->f.qts, DATA2_ADDR + 112);
}

/*
 * Live migration with I/O queues created and commands outstanding: the
 * completion queue is about to wrap when seven commands (Compare, Verify,
 * a 64-range deallocate issued in windows, writes with FUA) are posted and
 * the migration starts at once.  On the destination every one of them
 * completes exactly once, in the same CQ with the phase flipping where the
 * queue wraps, later commands continue on the same queues, the data is
 * there and the SMART counters went on (no reset, no extra power cycle).
 */
static void test_migration(void)
{
    Nvme n;
    uint32_t cmd[16];
    uint8_t pattern[4096], back[4096];
    uint64_t writes0, cycles0, writes1, cycles1;
    bool seen[8] = { false };
    uint16_t first_cid;
    int posted = 0;

    nvme_start(&n, NULL);
    nvme_create_io_queues(&n);
    memset(pattern, 0xa5, sizeof(pattern));
    qtest_memwrite(n.f.qts, DATA_ADDR, pattern, sizeof(pattern));
    g_assert_cmphex(nvme_rw(&n, 0x01, 2048, 7, DATA_ADDR).status, ==, 0);
    /* Bring the I/O CQ head close to its end: it wraps mid-flight. */
    while (n.iocq_head != QDEPTH - 3) {
        g_assert_cmphex(nvme_rw(&n, 0x02, 0, 7, DATA2_ADDR).status, ==, 0);
    }
    g_assert_true(n.iocq_phase);
    smart_counters(&n, &writes0, &cycles0);

    memset(pattern, 0x5a, sizeof(pattern));
    qtest_memwrite(n.f.qts, DATA_ADDR, pattern, sizeof(pattern));
    first_cid = n.cid + 1;
    memset(cmd, 0, sizeof(cmd));
    cmd[0] = 0x05; cmd[1] = 1; cmd[6] = DATA2_ADDR + 0x10000;
    cmd[10] = 2048; cmd[12] = 7;
    memset(back, 0xa5, sizeof(back));
    qtest_memwrite(n.f.qts, DATA2_ADDR + 0x10000, back, sizeof(back));
    nvme_post(&n, 1, cmd);
    memset(cmd, 0, sizeof(cmd));
    cmd[0] = 0x0c; cmd[1] = 1; cmd[10] = 0; cmd[12] = 127;
    nvme_post(&n, 1, cmd);
    post_deallocate(&n, 64, DATA2_ADDR + 0x20000);
    for (int i = 0; i < 4; i++) {
        memset(cmd, 0, sizeof(cmd));
        cmd[0] = 0x01; cmd[1] = 1; cmd[6] = DATA_ADDR;
        cmd[10] = 4096 + i * 8; cmd[12] = 7 | 1u << 30;
        nvme_post(&n, 1, cmd);
    }
    posted = 7;

    /* The guest now runs on the destination. */
    migrate_to_new_qemu(&n, "");
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 3, ==, 1);

    for (int i = 0; i < posted; i++) {
        Cqe cqe = nvme_wait(&n, IOCQ_ADDR, &n.iocq_head, &n.iocq_phase, 1);
        int k = (uint16_t)(cqe.cid - first_cid);

        g_assert_cmpint(k, <, posted);
        g_assert_false(seen[k]);
        seen[k] = true;
        g_assert_cmphex(cqe.status, ==, 0);
    }
    /* The CQ wrapped on the destination: the phase flipped there. */
    g_assert_false(n.iocq_phase);
    /* Nothing more: each command completed exactly once. */
    g_usleep(50 * 1000);
    g_assert_cmpint(qtest_readw(n.f.qts, IOCQ_ADDR + n.iocq_head * 16 + 14) & 1,
                    !=, n.iocq_phase);

    /* The queues go on; the data written before and during is there. */
    g_assert_cmphex(nvme_rw(&n, 0x02, 4096 + 24, 7, DATA2_ADDR).status, ==, 0);
    qtest_memread(n.f.qts, DATA2_ADDR, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    g_assert_cmphex(nvme_rw(&n, 0x02, 2048, 7, DATA2_ADDR).status, ==, 0);
    qtest_memread(n.f.qts, DATA2_ADDR, back, 16);
    g_assert_cmphex(back[0], ==, 0xa5);
    smart_counters(&n, &writes1, &cycles1);
    g_assert_cmpuint(writes1, ==, writes0 + 4);
    g_assert_cmpuint(cycles1, ==, cycles0);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * ioeventfd=on: while shadow doorbells are in use (Doorbell Buffer Config,
 * NVMe 2.0 Base, 5.8), the SQ tail doorbell of each I/O SQ is an
 * ioeventfd; the value written there is lost and the tail comes from the
 * shadow buffer.
 */
#define SHADOW_ADDR     0x140000
#define EVTIDX_ADDR     0x150000
/* What the tests write to an ioeventfd doorbell: not a valid tail. */
#define BOGUS_TAIL      0xffff

static void nvme_dbbuf(Nvme *n)
{
    uint32_t cmd[16] = { 0x7c };

    qtest_memset(n->f.qts, SHADOW_ADDR, 0, 4096);
    qtest_memset(n->f.qts, EVTIDX_ADDR, 0, 4096);
    cmd[6] = SHADOW_ADDR;
    cmd[8] = EVTIDX_ADDR;
    g_assert_cmphex(nvme_cmd(n, 0, cmd).status, ==, 0);
}

/* Queue @cmd on I/O SQ 1 and move the shadow tail, without ringing. */
static uint16_t nvme_queue_shadow(Nvme *n, uint32_t *cmd)
{
    uint16_t cid = ++n->cid;

    cmd[0] = (cmd[0] & 0xffff) | (uint32_t)cid << 16;
    qtest_memwrite(n->f.qts, IOSQ_ADDR + n->iosq_tail * 64, cmd, 64);
    n->iosq_tail = (n->iosq_tail + 1) % QDEPTH;
    qtest_writel(n->f.qts, SHADOW_ADDR + 8, n->iosq_tail);
    return cid;
}

/*
 * A read or write through the shadow tail, ringing the doorbell with a
 * value the MMIO path would refuse: it completes only by the ioeventfd.
 */
static Cqe nvme_rw_shadow(Nvme *n, uint8_t opc, uint64_t slba, uint16_t nlb0,
                          uint64_t prp1)
{
    uint32_t cmd[16] = { opc, 1 };
    uint16_t cid;
    Cqe cqe;

    cmd[6] = prp1;
    cmd[7] = prp1 >> 32;
    cmd[10] = slba;
    cmd[11] = slba >> 32;
    cmd[12] = nlb0;
    cid = nvme_queue_shadow(n, cmd);
    reg_write(&n->f, sq_doorbell(1), BOGUS_TAIL);
    cqe = nvme_wait(n, IOCQ_ADDR, &n->iocq_head, &n->iocq_phase, 1);
    g_assert_cmphex(cqe.cid, ==, cid);
    /* The tail taken is published as the SQ EventIdx. */
    g_assert_cmphex(qtest_readl(n->f.qts, EVTIDX_ADDR + 8), ==, n->iosq_tail);
    return cqe;
}

/* Eight writes queued by shadow tail and one doorbell, not waited for. */
static void post_eight_writes_shadow(Nvme *n)
{
    uint32_t cmd[16];

    for (int i = 0; i < 8; i++) {
        memset(cmd, 0, sizeof(cmd));
        cmd[0] = 0x01;
        cmd[1] = 1;
        cmd[6] = DATA_ADDR;
        cmd[10] = i * 8;
        cmd[12] = 7;
        nvme_queue_shadow(n, cmd);
    }
    reg_write(&n->f, sq_doorbell(1), BOGUS_TAIL);
}

/*
 * Eight writes queued by shadow tail, then a controller reset (CC.EN 0)
 * or, with @flr, a function level reset while they are in flight; then the
 * controller enabled again with I/O queue pair 1 (no shadow doorbells).
 */
static void reset_with_writes_in_flight(Nvme *n, bool flr)
{
    post_eight_writes_shadow(n);
    if (flr) {
        uint8_t exp = qpci_find_capability(n->f.dev, PCI_CAP_ID_EXP, 0);

        qpci_config_writew(n->f.dev, exp + PCI_EXP_DEVCTL,
                           qpci_config_readw(n->f.dev, exp + PCI_EXP_DEVCTL) |
                           PCI_EXP_DEVCTL_BCR_FLR);
        qpci_device_enable(n->f.dev);
        n->f.bar0 = qpci_iomap(n->f.dev, 0, &n->f.bar0_size);
        g_assert_cmphex(reg_read(&n->f, NVME_REG_CC), ==, 0);
    } else {
        reg_write(&n->f, NVME_REG_CC, 0);
        g_assert_true(wait_ready(&n->f, false));
    }
    nvme_enable(n);
    nvme_create_io_queues(n);
}

static void test_ioeventfd(void)
{
    Nvme n;
    uint32_t aer[16] = { 0x0c };
    uint16_t aer_cid;
    Cqe c;

    nvme_start(&n, ",ioeventfd=on");
    nvme_create_io_queues(&n);
    /* No shadow doorbells yet: the doorbell is MMIO. */
    g_assert_cmphex(nvme_rw(&n, 0x02, 0, 7, DATA2_ADDR).status, ==, 0);
    nvme_dbbuf(&n);
    write_flush_read_back(&n, nvme_rw_shadow, 300, 5);

    /*
     * Delete I/O SQ 1: its doorbell is MMIO again, so a write there is an
     * invalid doorbell write (nonexistent queue), reported by an Error
     * event (NVMe 2.0 Base, 3.3.1.2).
     */
    aer_cid = nvme_post(&n, 0, aer);
    g_assert_cmphex(nvme_admin(&n, 0x00, 0, 0, 1, 0, 0).status, ==, 0);
    reg_write(&n.f, sq_doorbell(1), 1);
    c = nvme_wait(&n, ACQ_ADDR, &n.acq_head, &n.acq_phase, 0);
    g_assert_cmphex(c.cid, ==, aer_cid);
    g_assert_cmphex(c.dw0, ==, 0x00010000);
    /* Created again, it gets an ioeventfd again. */
    g_assert_cmphex(nvme_admin(&n, 0x01, 0, IOSQ_ADDR,
                               ((QDEPTH - 1) << 16) | 1, (1 << 16) | 1, 0).status,
                    ==, 0);
    n.iosq_tail = 0;
    qtest_writel(n.f.qts, SHADOW_ADDR + 8, 0);
    g_assert_cmphex(nvme_rw_shadow(&n, 0x02, 300, 7, DATA2_ADDR).status, ==, 0);

    /*
     * Controller reset with writes in flight and the ioeventfd on: after
     * it, without shadow doorbells, the doorbell is MMIO.
     */
    reset_with_writes_in_flight(&n, false);
    g_assert_cmphex(nvme_rw(&n, 0x02, 0, 7, DATA2_ADDR).status, ==, 0);

    /* The same after a function level reset. */
    nvme_dbbuf(&n);
    g_assert_cmphex(nvme_rw_shadow(&n, 0x02, 300, 7, DATA2_ADDR).status, ==, 0);
    reset_with_writes_in_flight(&n, true);
    g_assert_cmphex(nvme_rw(&n, 0x02, 0, 7, DATA2_ADDR).status, ==, 0);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * The destination of a migration sets up the ioeventfds of the queues it
 * loads: I/O goes on through the shadow tail there.
 */
static void test_ioeventfd_migration(void)
{
    Nvme n;

    nvme_start(&n, ",ioeventfd=on");
    nvme_create_io_queues(&n);
    nvme_dbbuf(&n);
    g_assert_cmphex(nvme_rw_shadow(&n, 0x02, 0, 7, DATA2_ADDR).status, ==, 0);
    migrate_to_new_qemu(&n, ",ioeventfd=on");
    for (int i = 0; i < 3; i++) {
        g_assert_cmphex(nvme_rw_shadow(&n, 0x02, i * 8, 7, DATA2_ADDR).status,
                        ==, 0);
    }
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * Hot-plugged with its ioeventfds on, or with @iothread its I/O queues in
 * IOThread io0, and unplugged with writes in flight by shadow doorbell.
 */
static void unplug_with_writes_in_flight(Nvme *n, bool iothread)
{
    memset(n, 0, sizeof(*n));
    n->f.qts = qtest_initf("-M pc -object iothread,id=io0 "
                           "-drive if=none,id=d0,file=%s,format=raw", disk_path);
    if (iothread) {
        qtest_qmp_device_add(n->f.qts, "ocp-nvme", "ocp0",
                             "{'addr': '0x06', 'drive': 'd0', 'serial': 'UNPLUG4',"
                             " 'iothread': 'io0'}");
    } else {
        qtest_qmp_device_add(n->f.qts, "ocp-nvme", "ocp0",
                             "{'addr': '0x06', 'drive': 'd0', 'serial': 'UNPLUG3',"
                             " 'ioeventfd': true}");
    }
    n->f.bus = qpci_new_pc(n->f.qts, NULL);
    n->f.dev = qpci_device_find(n->f.bus, QPCI_DEVFN(6, 0));
    g_assert_nonnull(n->f.dev);
    qpci_device_enable(n->f.dev);
    n->f.bar0 = qpci_iomap(n->f.dev, 0, &n->f.bar0_size);
    nvme_enable(n);
    nvme_create_io_queues(n);
    nvme_dbbuf(n);
    g_assert_cmphex(nvme_rw_shadow(n, 0x02, 0, 7, DATA2_ADDR).status, ==, 0);
    post_eight_writes_shadow(n);
    qpci_unplug_acpi_device_test(n->f.qts, "ocp0", 0x06);
}

static void test_ioeventfd_unplug(void)
{
    Nvme n;

    unplug_with_writes_in_flight(&n, false);
    assert_qmp_responsive(n.f.qts);
    fixture_stop(&n.f);
}

/*
 * iothread: the I/O SQ tail doorbells are ioeventfds handled in an
 * IOThread, which fetches, submits and completes without the BQL; the
 * main loop sends the interrupts.
 */
#define IOTHREAD_ARGS   ",iothread=io0 -object iothread,id=io0"
/* The HPET's registers on q35: MMIO, not guest RAM. */
#define MMIO_ADDR       0xfed00000ULL
/* Where vector 1's messages go. */
#define MSG_ADDR        0x160000

/* Wait for the MSI-X message of vector 1 (sent from the main loop). */
static bool msg_arrived(Nvme *n)
{
    for (int i = 0; i < 100000; i++) {
        if (qtest_readl(n->f.qts, MSG_ADDR) == 0x1234) {
            return true;
        }
        qtest_clock_step(n->f.qts, 10000);
    }
    return false;
}

static void test_iothread(void)
{
    Nvme n;
    uint32_t cmd[16] = { 0x02, 1 };

    nvme_start(&n, IOTHREAD_ARGS);
    qpci_msix_enable(n.f.dev);
    n.f.bar0 = n.f.dev->msix_table_bar;
    msix_vector1(&n, MSG_ADDR, 0x1234);
    nvme_create_io_queues_irq(&n, 1);
    /* Without shadow doorbells the doorbell is MMIO (the vCPU's thread). */
    write_flush_read_back(&n, nvme_rw, 100, 7);
    /* With them, the IOThread takes the doorbells and completes. */
    nvme_dbbuf(&n);
    write_flush_read_back(&n, nvme_rw_shadow, 300, 5);
    qtest_writel(n.f.qts, MSG_ADDR, 0);
    g_assert_cmphex(nvme_rw_shadow(&n, 0x02, 0, 0, DATA_ADDR).status, ==, 0);
    g_assert_true(msg_arrived(&n));

    /*
     * The IOThread never waits for the BQL, so it moves data only to and
     * from guest RAM: a buffer or a PRP list in MMIO is a Data Transfer
     * Error (04h).
     */
    g_assert_cmphex(nvme_rw_shadow(&n, 0x02, 0, 0, MMIO_ADDR).status, ==, 0x04);
    g_assert_cmphex(nvme_rw_shadow(&n, 0x01, 0, 0, MMIO_ADDR).status, ==, 0x04);
    cmd[6] = DATA2_ADDR;
    cmd[8] = MMIO_ADDR;
    cmd[12] = 23;                       /* 12 KiB: PRP2 is a PRP list */
    nvme_queue_shadow(&n, cmd);
    reg_write(&n.f, sq_doorbell(1), BOGUS_TAIL);
    g_assert_cmphex(nvme_wait(&n, IOCQ_ADDR, &n.iocq_head, &n.iocq_phase,
                              1).status, ==, 0x04);
    assert_alive(&n);

    /* Controller reset with writes in flight in the IOThread. */
    reset_with_writes_in_flight(&n, false);
    nvme_dbbuf(&n);
    g_assert_cmphex(nvme_rw_shadow(&n, 0x02, 300, 7, DATA2_ADDR).status, ==, 0);

    /* The same with a function level reset. */
    reset_with_writes_in_flight(&n, true);
    nvme_dbbuf(&n);
    write_flush_read_back(&n, nvme_rw_shadow, 500, 3);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * With MSI-X off, a completion posted by the IOThread raises INTx from
 * the main loop; consuming it (a CQ head doorbell, with the BQL) lowers it.
 */
static void test_iothread_intx(void)
{
    Nvme n;
    uint32_t cmd[16] = { 0x02, 1 };
    bool raised = false;
    uint16_t st = 0;

    nvme_start(&n, IOTHREAD_ARGS);
    nvme_create_io_queues_irq(&n, 0);
    nvme_dbbuf(&n);
    g_assert_false(qpci_config_readw(n.f.dev, PCI_STATUS) &
                   PCI_STATUS_INTERRUPT);
    cmd[6] = DATA_ADDR;
    nvme_queue_shadow(&n, cmd);
    reg_write(&n.f, sq_doorbell(1), BOGUS_TAIL);
    for (int i = 0; i < 100000 && !raised; i++) {
        st = qtest_readw(n.f.qts, IOCQ_ADDR + 14);
        raised = (st & 1) && (qpci_config_readw(n.f.dev, PCI_STATUS) &
                              PCI_STATUS_INTERRUPT);
        qtest_clock_step(n.f.qts, 10000);
    }
    g_assert_true(raised);
    g_assert_cmphex((st >> 1) & 0x7ff, ==, 0);
    reg_write(&n.f, cq_doorbell(1), 1);
    g_assert_false(qpci_config_readw(n.f.dev, PCI_STATUS) &
                   PCI_STATUS_INTERRUPT);
    fixture_stop(&n.f);
}

/* Migration between two IOThread devices, I/O going on after it. */
static void test_iothread_migration(void)
{
    Nvme n;

    nvme_start(&n, IOTHREAD_ARGS);
    nvme_create_io_queues(&n);
    nvme_dbbuf(&n);
    g_assert_cmphex(nvme_rw_shadow(&n, 0x02, 0, 7, DATA2_ADDR).status, ==, 0);
    post_eight_writes_shadow(&n);
    migrate_to_new_qemu(&n, IOTHREAD_ARGS);
    /* The eight writes completed on the source, before it stopped. */
    for (int i = 0; i < 8; i++) {
        Cqe c = nvme_wait(&n, IOCQ_ADDR, &n.iocq_head, &n.iocq_phase, 1);
        g_assert_cmphex(c.status, ==, 0);
    }
    write_flush_read_back(&n, nvme_rw_shadow, 700, 9);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/* Unplugged with writes in flight in its IOThread; the IOThread goes too. */
static void test_iothread_unplug(void)
{
    Nvme n;

    unplug_with_writes_in_flight(&n, true);
    qtest_qmp_assert_success(n.f.qts, "{'execute': 'object-del', "
                             "'arguments': {'id': 'io0'}}");
    assert_qmp_responsive(n.f.qts);
    fixture_stop(&n.f);
}

/*
 * A destination whose configuration differs refuses the state and says
 * what differs (here the number of I/O queue pairs).
 */
static void test_migration_incompatible(void)
{
    Nvme n;
    g_autofree char *path = g_strdup_printf("%s/ocp-nvme-mig-%d.state",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    g_autofree char *cmd = NULL;
    g_autofree char *err = NULL;
    g_auto(GStrv) argv = NULL;
    int status = 0;

    nvme_start(&n, NULL);
    nvme_create_io_queues(&n);
    qtest_qmp_assert_success(n.f.qts, "{'execute': 'migrate', 'arguments': "
                             "{'uri': %s}}", uri);
    wait_migration(n.f.qts);
    fixture_stop(&n.f);

    cmd = g_strdup_printf("%s -M q35 -display none -audio none -accel qtest "
                          "-drive if=none,id=d0,file=%s,format=raw "
                          "-device ocp-nvme,addr=04.0,drive=d0,serial=OCPTEST01,"
                          "max_ioqpairs=8 -incoming %s",
                          g_getenv("QTEST_QEMU_BINARY"), disk_path, uri);
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, &err, &status, NULL));
    unlink(path);
    g_assert_cmpint(status, !=, 0);
    g_assert_nonnull(strstr(err, "incompatible configuration: I/O queue pairs "
                                 "is 1023 in the saved state, 8 here"));
}

/*
 * DMA aimed at the device's own BAR0 (registers, doorbells, MSI-X table)
 * is refused: data pointers fail with Data Transfer Error before anything
 * is transferred, and a completion queue placed there is a fatal status.
 * Nothing reaches the registers (CVE-2021-3929 in QEMU's C nvme).
 */
static void test_dma_to_own_bar(void)
{
    Nvme n;
    uint64_t bar;
    uint32_t cc;
    uint32_t cmd[16] = { 0 };

    nvme_start(&n, NULL);
    bar = n.f.bar0.addr;
    nvme_create_io_queues(&n);
    cc = reg_read(&n.f, NVME_REG_CC);
    /* A read into CC (a disable) and a write from the MSI-X table. */
    g_assert_cmphex(nvme_rw(&n, 0x02, 0, 0, bar + NVME_REG_CC).status, ==, 0x004);
    g_assert_cmphex(nvme_rw(&n, 0x01, 0, 0, bar + 0x4000).status, ==, 0x004);
    /* Admin data (Identify) into the doorbells. */
    g_assert_cmphex(nvme_admin(&n, 0x06, 0, bar + 0x1000, 1, 0, 0).status,
                    ==, 0x004);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CC), ==, cc);
    assert_alive(&n);

    /* I/O CQ 2 at BAR0, SQ 2 in memory: posting the completion fails. */
    g_assert_cmphex(nvme_admin(&n, 0x05, 0, bar, (1 << 16) | 2, 1, 0).status,
                    ==, 0);
    g_assert_cmphex(nvme_admin(&n, 0x01, 0, DATA2_ADDR, (1 << 16) | 2,
                               (2 << 16) | 1, 0).status, ==, 0);
    cmd[0] = 0x00 | 0x77 << 16;   /* Flush */
    cmd[1] = 1;
    qtest_memwrite(n.f.qts, DATA2_ADDR, cmd, 64);
    reg_write(&n.f, sq_doorbell(2), 1);
    qtest_clock_step(n.f.qts, 1000 * 1000);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 2, ==, 2);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CC), ==, cc);
    reg_write(&n.f, NVME_REG_CC, 0);
    g_assert_true(wait_ready(&n.f, false));
    nvme_enable(&n);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * An MSI-X message whose address is the device's own Controller
 * Configuration register, data 0.  A reset started by it would wait for the
 * storage requests in flight from inside the completion that sent it (QEMU
 * aborted: bql_unlock_blocked); the device's reentrancy guard refuses the
 * message, as it does for messages sent from its MMIO handlers and bottom
 * halves.  The read completes and the controller stays enabled.
 */
static void test_msix_to_own_registers(void)
{
    Nvme n;
    uint64_t bar;
    uint32_t cmd[16] = { 0x02, 1 };
    uint16_t cid;
    Cqe cqe;

    nvme_start(&n, NULL);
    qpci_msix_enable(n.f.dev);
    n.f.bar0 = n.f.dev->msix_table_bar;
    bar = n.f.bar0.addr;
    /* Vector 1: address CC, data 0. */
    msix_vector1(&n, bar + NVME_REG_CC, 0);
    nvme_create_io_queues_irq(&n, 1);
    cmd[6] = DATA_ADDR;
    cid = nvme_post(&n, 1, cmd);
    cqe = nvme_wait(&n, IOCQ_ADDR, &n.iocq_head, &n.iocq_phase, 1);
    g_assert_cmphex(cqe.cid, ==, cid);
    g_assert_cmphex(cqe.status, ==, 0);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CC) & 1, ==, 1);
    assert_qmp_responsive(n.f.qts);
    assert_alive(&n);
    /* Pointed at memory, vector 1 delivers the next completion's message. */
    qtest_writel(n.f.qts, DATA2_ADDR, 0);
    msix_vector1(&n, DATA2_ADDR, 0x1234);
    g_assert_cmphex(nvme_rw(&n, 0x02, 0, 0, DATA_ADDR).status, ==, 0);
    g_assert_cmphex(qtest_readl(n.f.qts, DATA2_ADDR), ==, 0x1234);
    fixture_stop(&n.f);
}

/* A Dataset Management deallocate of @nr ranges of 8 blocks. */
static uint16_t post_deallocate(Nvme *n, int nr, uint64_t list)
{
    uint32_t cmd[16] = { 0x09, 1 };

    for (int i = 0; i < nr; i++) {
        uint32_t range[4] = { 0, 8, i * 16, 0 };
        qtest_memwrite(n->f.qts, list + i * 16, range, sizeof(range));
    }
    cmd[6] = list;
    cmd[10] = nr - 1;
    cmd[11] = 1 << 2;
    return nvme_post(n, 1, cmd);
}

/*
 * The machine stops with I/O in flight (Compare, Verify, a deallocate
 * issued in windows, writes with FUA): the drain ends with nothing new
 * started, commands queued while stopped wait, and everything completes
 * after cont.
 */
static void test_stop_cont(void)
{
    Nvme n;
    uint32_t cmd[16];
    uint8_t pattern[4096];
    QDict *rsp;
    int done = 0, posted = 0;

    nvme_start(&n, NULL);
    nvme_create_io_queues(&n);
    memset(pattern, 0xa5, sizeof(pattern));
    qtest_memwrite(n.f.qts, DATA_ADDR, pattern, sizeof(pattern));
    g_assert_cmphex(nvme_rw(&n, 0x01, 2048, 7, DATA_ADDR).status, ==, 0);

    /* Compare (equal), Verify, deallocate of 64 ranges (LBAs below 1024),
     * FUA writes. */
    memset(cmd, 0, sizeof(cmd));
    cmd[0] = 0x05; cmd[1] = 1; cmd[6] = DATA_ADDR; cmd[10] = 2048; cmd[12] = 7;
    nvme_post(&n, 1, cmd);
    memset(cmd, 0, sizeof(cmd));
    cmd[0] = 0x0c; cmd[1] = 1; cmd[10] = 0; cmd[12] = 127;
    nvme_post(&n, 1, cmd);
    post_deallocate(&n, 64, DATA2_ADDR);
    for (int i = 0; i < 4; i++) {
        memset(cmd, 0, sizeof(cmd));
        cmd[0] = 0x01; cmd[1] = 1; cmd[6] = DATA_ADDR;
        cmd[10] = 1024 + i * 8; cmd[12] = 7 | 1u << 30;
        nvme_post(&n, 1, cmd);
    }
    posted = 7;
    rsp = qtest_qmp(n.f.qts, "{'execute': 'stop'}");
    qobject_unref(rsp);
    assert_qmp_responsive(n.f.qts);

    /* Stopped: a command queued now is not fetched. */
    memset(cmd, 0, sizeof(cmd));
    cmd[0] = 0x05; cmd[1] = 1; cmd[6] = DATA_ADDR; cmd[10] = 2048; cmd[12] = 7;
    nvme_post(&n, 1, cmd);
    posted++;
    g_usleep(100 * 1000);
    for (int i = 0; i < posted; i++) {
        uint64_t cqe = IOCQ_ADDR + ((n.iocq_head + i) % QDEPTH) * 16;
        uint16_t st = qtest_readw(n.f.qts, cqe + 14);
        if ((st & 1) == n.iocq_phase) {
            done++;
        }
    }
    g_assert_cmpint(done, <, posted);

    rsp = qtest_qmp(n.f.qts, "{'execute': 'cont'}");
    qobject_unref(rsp);
    for (int i = 0; i < posted; i++) {
        Cqe cqe = nvme_wait(&n, IOCQ_ADDR, &n.iocq_head, &n.iocq_phase, 1);
        g_assert_cmphex(cqe.status, ==, 0);
    }
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * Hot-unplug with deep-queue writes and a windowed deallocate in flight:
 * nothing starts once unrealize begins (the block layer would run it after
 * the device is gone), QEMU stays up and the drive can be used again.
 */
static void test_unplug_inflight(void)
{
    Nvme n;
    uint32_t cmd[16];

    memset(&n, 0, sizeof(n));
    n.f.qts = qtest_initf("-M pc -drive if=none,id=d0,file=%s,format=raw",
                          disk_path);
    qtest_qmp_device_add(n.f.qts, "ocp-nvme", "ocp0",
                         "{'addr': '0x06', 'drive': 'd0', 'serial': 'UNPLUG1'}");
    n.f.bus = qpci_new_pc(n.f.qts, NULL);
    n.f.dev = qpci_device_find(n.f.bus, QPCI_DEVFN(6, 0));
    g_assert_nonnull(n.f.dev);
    qpci_device_enable(n.f.dev);
    n.f.bar0 = qpci_iomap(n.f.dev, 0, &n.f.bar0_size);
    nvme_enable(&n);
    nvme_create_io_queues(&n);
    post_deallocate(&n, 256, DATA2_ADDR);
    for (int i = 0; i < QDEPTH - 2; i++) {
        memset(cmd, 0, sizeof(cmd));
        cmd[0] = 0x01; cmd[1] = 1; cmd[6] = DATA_ADDR; cmd[8] = DATA_ADDR + 4096;
        cmd[10] = 4096 + i * 16; cmd[12] = 15 | (i % 2) << 30;
        nvme_post(&n, 1, cmd);
    }
    qpci_unplug_acpi_device_test(n.f.qts, "ocp0", 0x06);
    assert_qmp_responsive(n.f.qts);
    g_free(n.f.dev);
    qpci_free_pc(n.f.bus);

    /* The drive is free and intact: a new device reads it. */
    qtest_qmp_device_add(n.f.qts, "ocp-nvme", "ocp1",
                         "{'addr': '0x06', 'drive': 'd0', 'serial': 'UNPLUG2'}");
    n.f.bus = qpci_new_pc(n.f.qts, NULL);
    n.f.dev = qpci_device_find(n.f.bus, QPCI_DEVFN(6, 0));
    qpci_device_enable(n.f.dev);
    n.f.bar0 = qpci_iomap(n.f.dev, 0, &n.f.bar0_size);
    nvme_enable(&n);
    nvme_create_io_queues(&n);
    g_assert_cmphex(nvme_rw(&n, 0x02, 4096, 15, DATA2_ADDR).status, ==, 0);
    fixture_stop(&n.f);
}

/* The drive's write cache mode, from query-block. */
static bool drive_writeback(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-block'}");
    QList *list = qdict_get_qlist(rsp, "return");
    QListEntry *e;
    int found = -1;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *dev = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(dev, "device"), "d0")) {
            QDict *cache = qdict_get_qdict(qdict_get_qdict(dev, "inserted"),
                                           "cache");
            found = qdict_get_bool(cache, "writeback");
        }
    }
    qobject_unref(rsp);
    g_assert_cmpint(found, >=, 0);
    return found;
}

/* Set Features Volatile Write Cache switches the backend's write cache. */
static void test_write_cache(void)
{
    Nvme n;

    nvme_start(&n, NULL);
    g_assert_true(drive_writeback(n.f.qts));
    /* Set Features, FID 06h, WCE = 0; Get Features reads it back. */
    g_assert_cmphex(nvme_admin(&n, 0x09, 0, 0, 0x06, 0, 0).status, ==, 0);
    g_assert_false(drive_writeback(n.f.qts));
    g_assert_cmphex(nvme_admin(&n, 0x0a, 0, 0, 0x06, 0, 0).dw0, ==, 0);
    g_assert_cmphex(nvme_admin(&n, 0x09, 0, 0, 0x06, 1, 0).status, ==, 0);
    g_assert_true(drive_writeback(n.f.qts));
    fixture_stop(&n.f);
}

/* A read-only drive is a write-protected namespace. */
static void test_read_only(void)
{
    Nvme n;

    nvme_start_drive(&n, NULL, ",readonly=on");
    nvme_create_io_queues(&n);
    g_assert_cmphex(nvme_rw(&n, 0x01, 0, 0, DATA_ADDR).status, ==, 0x20);
    g_assert_cmphex(nvme_rw(&n, 0x02, 0, 0, DATA_ADDR).status, ==, 0);
    fixture_stop(&n.f);
}

/* With MSI-X off, completions raise INTx (PCI status bit 3) until consumed. */
static void test_intx(void)
{
    Nvme n;
    uint32_t cmd[16] = { 0x06 };
    uint16_t st;

    nvme_start(&n, NULL);
    g_assert_false(qpci_config_readw(n.f.dev, PCI_STATUS) & PCI_STATUS_INTERRUPT);
    /* Submit Identify but do not ring the CQ head doorbell yet. */
    cmd[0] |= 0x77 << 16;
    cmd[6] = DATA_ADDR;
    cmd[10] = 1;
    qtest_memwrite(n.f.qts, ASQ_ADDR + n.asq_tail * 64, cmd, 64);
    n.asq_tail++;
    reg_write(&n.f, sq_doorbell(0), n.asq_tail);
    for (int i = 0; i < 1000; i++) {
        st = qtest_readw(n.f.qts, ACQ_ADDR + 14);
        if (st & 1) {
            break;
        }
        qtest_clock_step(n.f.qts, 10000);
    }
    g_assert_cmphex(st & 1, ==, 1);
    g_assert_true(qpci_config_readw(n.f.dev, PCI_STATUS) & PCI_STATUS_INTERRUPT);
    /* INTMS masks it, INTMC unmasks it (vector 0). */
    reg_write(&n.f, 0x0c, 1);
    g_assert_false(qpci_config_readw(n.f.dev, PCI_STATUS) & PCI_STATUS_INTERRUPT);
    reg_write(&n.f, 0x10, 1);
    g_assert_true(qpci_config_readw(n.f.dev, PCI_STATUS) & PCI_STATUS_INTERRUPT);
    /* Consuming the entry lowers the pin. */
    n.acq_head = 1;
    reg_write(&n.f, cq_doorbell(0), 1);
    g_assert_false(qpci_config_readw(n.f.dev, PCI_STATUS) & PCI_STATUS_INTERRUPT);
    fixture_stop(&n.f);
}

/* Function level reset brings the controller back to its power-on state. */
static void test_flr(void)
{
    Nvme n;
    uint8_t exp;

    nvme_start(&n, NULL);
    exp = qpci_find_capability(n.f.dev, PCI_CAP_ID_EXP, 0);
    g_assert_true(qpci_config_readl(n.f.dev, exp + PCI_EXP_DEVCAP) &
                  PCI_EXP_DEVCAP_FLR);
    qpci_config_writew(n.f.dev, exp + PCI_EXP_DEVCTL,
                       qpci_config_readw(n.f.dev, exp + PCI_EXP_DEVCTL) |
                       PCI_EXP_DEVCTL_BCR_FLR);
    /* The reset cleared the command register and BARs: map BAR0 again. */
    qpci_device_enable(n.f.dev);
    n.f.bar0 = qpci_iomap(n.f.dev, 0, &n.f.bar0_size);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CC), ==, 0);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 1, ==, 0);
    nvme_enable(&n);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/*
 * An Asynchronous Event Request completes when the composite temperature
 * crosses its threshold (here pushed with qom-set): SMART / Health Status,
 * Temperature Threshold, log page 02h.
 */
static void test_aer(void)
{
    Nvme n;
    uint32_t cmd[16] = { 0x0c | 0x99 << 16 };
    QDict *rsp;
    Cqe cqe;

    nvme_start(&n, ",id=ocp0");
    qtest_memwrite(n.f.qts, ASQ_ADDR + n.asq_tail * 64, cmd, 64);
    n.asq_tail++;
    reg_write(&n.f, sq_doorbell(0), n.asq_tail);
    /* Nothing to report yet: the request stays outstanding. */
    qtest_clock_step(n.f.qts, 1000000);
    g_assert_cmphex(qtest_readw(n.f.qts, ACQ_ADDR + 14) & 1, ==, 0);
    rsp = qtest_qmp(n.f.qts, "{'execute': 'qom-set', 'arguments': {"
                    "'path': '/machine/peripheral/ocp0',"
                    "'property': 'temperature', 'value': 360}}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    cqe = nvme_wait(&n, ACQ_ADDR, &n.acq_head, &n.acq_phase, 0);
    g_assert_cmphex(cqe.cid, ==, 0x99);
    g_assert_cmphex(cqe.status, ==, 0);
    /* Event type 1 (SMART/health), info 01h (temperature), log 02h. */
    g_assert_cmphex(cqe.dw0, ==, 0x00020101);
    assert_alive(&n);
    fixture_stop(&n.f);
}

/* The health model is QOM properties: set at startup and with qom-set. */
static void test_health_properties(void)
{
    Nvme n;
    QDict *rsp;

    nvme_start(&n, ",id=ocp0,percentage-used=7");
    /* SMART / Health Information (02h): Percentage Used is byte 5. */
    g_assert_cmphex(nvme_admin(&n, 0x02, 0xffffffff, DATA_ADDR,
                               (127 << 16) | 0x02, 0, 0).status, ==, 0);
    g_assert_cmpuint(qtest_readb(n.f.qts, DATA_ADDR + 5), ==, 7);

    rsp = qtest_qmp(n.f.qts, "{'execute': 'qom-set', 'arguments': {"
                    "'path': '/machine/peripheral/ocp0',"
                    "'property': 'percentage-used', 'value': 42}}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    rsp = qtest_qmp(n.f.qts, "{'execute': 'qom-get', 'arguments': {"
                    "'path': '/machine/peripheral/ocp0',"
                    "'property': 'percentage-used'}}");
    g_assert_cmpint(qdict_get_int(rsp, "return"), ==, 42);
    qobject_unref(rsp);
    g_assert_cmphex(nvme_admin(&n, 0x02, 0xffffffff, DATA_ADDR,
                               (127 << 16) | 0x02, 0, 0).status, ==, 0);
    g_assert_cmpuint(qtest_readb(n.f.qts, DATA_ADDR + 5), ==, 42);

    /* An impossible value is refused with a message naming the property. */
    rsp = qtest_qmp(n.f.qts, "{'execute': 'qom-set', 'arguments': {"
                    "'path': '/machine/peripheral/ocp0',"
                    "'property': 'available-spare', 'value': 1000}}");
    g_assert_true(qdict_haskey(rsp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"),
                            "available-spare"));
    qobject_unref(rsp);
    fixture_stop(&n.f);
}

/*
 * Hot-plug the device into a running machine, then unplug it: realize and
 * exit run with the drive attached, and QEMU stays up.
 */
static void test_hotplug(void)
{
    QTestState *qts = qtest_init("-M pc " DRIVE_ARGS);

    qtest_qmp_device_add(qts, "ocp-nvme", "ocp0",
                         "{'addr': '0x06', 'drive': 'd0', 'serial': 'HOTPLUG1'}");
    qpci_unplug_acpi_device_test(qts, "ocp0", 0x06);
    /* The drive is free again: a second device can take it. */
    qtest_qmp_device_add(qts, "ocp-nvme", "ocp1",
                         "{'addr': '0x06', 'drive': 'd0', 'serial': 'HOTPLUG2'}");
    qtest_quit(qts);
}

/* Start QEMU with @device and return its exit status and stderr. */
static int run_qemu(const char *device, char **err)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmd = g_strdup_printf(
        "%s -M q35 -display none -nodefaults " DRIVE_ARGS "-device %s",
        qemu, device);
    g_auto(GStrv) argv = NULL;
    int status = 0;

    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, err, &status, NULL));
    return status;
}

static void test_missing_drive(void)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(run_qemu("ocp-nvme,serial=X", &err), !=, 0);
    g_assert_nonnull(strstr(err, "'drive'"));
    g_assert_null(strchr(strchr(err, '\n') + 1, '\n'));  /* one line */
}

static void test_unknown_iothread(void)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(run_qemu("ocp-nvme,drive=d0,serial=X,iothread=nope", &err),
                    !=, 0);
    g_assert_nonnull(strstr(err, "property 'iothread': no IOThread 'nope'"));
    g_assert_null(strchr(strchr(err, '\n') + 1, '\n'));  /* one line */
}

static void test_missing_serial(void)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(run_qemu("ocp-nvme,drive=d0", &err), !=, 0);
    g_assert_nonnull(strstr(err, "'serial'"));
    g_assert_null(strchr(strchr(err, '\n') + 1, '\n'));
}

static void test_bad_property(void)
{
    g_autofree char *err = NULL;
    g_autofree char *err2 = NULL;

    g_assert_cmpint(run_qemu("ocp-nvme,drive=d0,serial=X,msix_qsize=0", &err),
                    !=, 0);
    g_assert_nonnull(strstr(err, "'msix_qsize'"));
    g_assert_cmpint(run_qemu("ocp-nvme,drive=d0,serial=X,ocp-version=2.8", &err2),
                    !=, 0);
    g_assert_nonnull(strstr(err2, "'ocp-version'"));
}

/*
 * ocp-version selects the OCP log page versions: C0h log page version 4
 * (OCP 2.5), 5 (2.6) or 6 (2.7, the default), at byte 494.
 */
static void test_ocp_version(void)
{
    static const struct { const char *arg; uint8_t lpv; } v[] = {
        { ",ocp-version=2.5", 4 }, { ",ocp-version=2.6", 5 },
        { ",ocp-version=2.7", 6 }, { NULL, 6 },
    };

    for (int i = 0; i < ARRAY_SIZE(v); i++) {
        Nvme n;

        nvme_start(&n, v[i].arg);
        g_assert_cmphex(nvme_admin(&n, 0x02, 0xffffffff, DATA_ADDR,
                                   (127 << 16) | 0xc0, 0, 1).status, ==, 0);
        g_assert_cmpuint(qtest_readb(n.f.qts, DATA_ADDR + 494), ==, v[i].lpv);
        fixture_stop(&n.f);
    }
}

/*
 * NVM Subsystem Reset (OCP NVMeR-1) with writes in flight: CAP.NSSRS;
 * "NVMe" written to NSSR resets the controller and its registers (the
 * writes are drained from inside the register write) and sets CSTS.NSSRO
 * (RW1C); other values do nothing. CAP.AMS reports weighted round robin,
 * which CC.AMS 001b selects (OCP NVMe-CFG-1).
 */
static void test_nssr(void)
{
    Nvme n;

    nvme_start(&n, NULL);
    g_assert_cmphex(qpci_io_readq(n.f.dev, n.f.bar0, NVME_REG_CAP) >> 36 & 1, ==, 1);
    g_assert_cmphex(qpci_io_readq(n.f.dev, n.f.bar0, NVME_REG_CAP) >> 17 & 3, ==, 1);
    nvme_create_io_queues(&n);
    reg_write(&n.f, NVME_REG_NSSR, 0x12345678);
    assert_alive(&n);
    post_eight_writes(&n, 0x300);
    reg_write(&n.f, NVME_REG_NSSR, 0x4e564d65);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 0x11, ==, 0x10);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CC), ==, 0);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_AQA), ==, 0);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_NSSR), ==, 0);
    /* Back up with weighted round robin (CC.AMS 001b). */
    n.asq_tail = n.acq_head = n.iosq_tail = n.iocq_head = 0;
    n.acq_phase = n.iocq_phase = true;
    reg_write(&n.f, NVME_REG_AQA, ((QDEPTH - 1) << 16) | (QDEPTH - 1));
    qpci_io_writeq(n.f.dev, n.f.bar0, NVME_REG_ASQ, ASQ_ADDR);
    qpci_io_writeq(n.f.dev, n.f.bar0, NVME_REG_ACQ, ACQ_ADDR);
    qtest_memset(n.f.qts, ACQ_ADDR, 0, QDEPTH * 16);
    qtest_memset(n.f.qts, IOCQ_ADDR, 0, QDEPTH * 16);
    reg_write(&n.f, NVME_REG_CC, (4 << 20) | (6 << 16) | (1 << 11) | 1);
    g_assert_true(wait_ready(&n.f, true));
    assert_alive(&n);
    nvme_create_io_queues(&n);
    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(nvme_rw(&n, 0x02, i * 8, 7, DATA2_ADDR).status, ==, 0);
    }
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 0x10, ==, 0x10);
    reg_write(&n.f, NVME_REG_CSTS, 0x10);
    g_assert_cmphex(reg_read(&n.f, NVME_REG_CSTS) & 0x13, ==, 1);
    fixture_stop(&n.f);
}

/*
 * Copy (OCP NVMe-OPT-16) through the block backend's buffered reads and
 * writes, and a fused Compare and Write (NVMe-IO-9) posted with one
 * doorbell write: the data lands, a failed compare aborts the write.
 */
static void test_copy_and_fused(void)
{
    Nvme n;
    uint8_t out[4096], in[4096], next[4096];
    uint8_t desc[32] = { 0 };
    uint32_t cmd[16] = { 0x19, 1 };
    Cqe c1, c2;

    nvme_start(&n, NULL);
    nvme_create_io_queues(&n);
    for (int i = 0; i < sizeof(out); i++) {
        out[i] = i * 13 + 1;
        next[i] = i * 5 + 2;
    }
    qtest_memwrite(n.f.qts, DATA_ADDR, out, sizeof(out));
    g_assert_cmphex(nvme_rw(&n, 0x01, 100, 7, DATA_ADDR).status, ==, 0);
    /* One source range (SLBA 100, NLB 8) to LBA 1000, with FUA. */
    desc[8] = 100;
    desc[16] = 7;
    qtest_memwrite(n.f.qts, DATA2_ADDR, desc, sizeof(desc));
    cmd[6] = DATA2_ADDR;
    cmd[10] = 1000;
    cmd[12] = 1u << 30;
    g_assert_cmphex(nvme_cmd(&n, 1, cmd).status, ==, 0);
    qtest_memset(n.f.qts, DATA2_ADDR, 0, sizeof(in));
    g_assert_cmphex(nvme_rw(&n, 0x02, 1000, 7, DATA2_ADDR).status, ==, 0);
    qtest_memread(n.f.qts, DATA2_ADDR, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));

    /* Compare (FUSE 01b) with what LBA 1000 holds, Write (10b) of next. */
    qtest_memwrite(n.f.qts, DATA2_ADDR, next, sizeof(next));
    for (int k = 0; k < 2; k++) {
        uint32_t half[16] = { k ? 0x201 : 0x105, 1 };

        half[0] |= (uint32_t)(0x400 + k) << 16;
        half[6] = k ? DATA2_ADDR : DATA_ADDR;
        half[10] = 1000;
        half[12] = 7;
        qtest_memwrite(n.f.qts, IOSQ_ADDR + n.iosq_tail * 64, half, 64);
        n.iosq_tail++;
    }
    reg_write(&n.f, sq_doorbell(1), n.iosq_tail);
    c1 = nvme_wait(&n, IOCQ_ADDR, &n.iocq_head, &n.iocq_phase, 1);
    c2 = nvme_wait(&n, IOCQ_ADDR, &n.iocq_head, &n.iocq_phase, 1);
    g_assert_cmphex(c1.cid, ==, 0x400);
    g_assert_cmphex(c1.status, ==, 0);
    g_assert_cmphex(c2.cid, ==, 0x401);
    g_assert_cmphex(c2.status, ==, 0);
    g_assert_cmphex(nvme_rw(&n, 0x02, 1000, 7, DATA2_ADDR).status, ==, 0);
    qtest_memread(n.f.qts, DATA2_ADDR, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), next, sizeof(next));

    /* The same pair again: the compare fails now (285h), the write is
     * aborted (Failed Fused Command, 09h) and the blocks keep next. */
    for (int k = 0; k < 2; k++) {
        uint32_t half[16] = { k ? 0x201 : 0x105, 1 };

        half[0] |= (uint32_t)(0x500 + k) << 16;
        half[6] = DATA_ADDR;
        half[10] = 1000;
        half[12] = 7;
        qtest_memwrite(n.f.qts, IOSQ_ADDR + n.iosq_tail * 64, half, 64);
        n.iosq_tail++;
    }
    reg_write(&n.f, sq_doorbell(1), n.iosq_tail);
    c1 = nvme_wait(&n, IOCQ_ADDR, &n.iocq_head, &n.iocq_phase, 1);
    c2 = nvme_wait(&n, IOCQ_ADDR, &n.iocq_head, &n.iocq_phase, 1);
    g_assert_cmphex(c1.status & 0x7ff, ==, 0x285);
    g_assert_cmphex(c2.status & 0x7ff, ==, 0x009);
    g_assert_cmphex(nvme_rw(&n, 0x02, 1000, 7, DATA2_ADDR).status, ==, 0);
    qtest_memread(n.f.qts, DATA2_ADDR, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), next, sizeof(next));
    fixture_stop(&n.f);
}

int main(int argc, char **argv)
{
    int fd, ret;

    g_test_init(&argc, &argv, NULL);
    fd = g_file_open_tmp("ocp-nvme-test-XXXXXX", &disk_path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, DISK_SIZE), ==, 0);
    close(fd);

    qtest_add_func("/ocp-nvme/pci-identity", test_pci_identity);
    qtest_add_func("/ocp-nvme/msix-table", test_msix_table_size);
    qtest_add_func("/ocp-nvme/registers", test_registers);
    qtest_add_func("/ocp-nvme/enable-handshake", test_enable_handshake);
    qtest_add_func("/ocp-nvme/identify", test_identify);
    qtest_add_func("/ocp-nvme/io", test_io);
    qtest_add_func("/ocp-nvme/ocp-logs", test_ocp_logs);
    qtest_add_func("/ocp-nvme/ocp-version", test_ocp_version);
    qtest_add_func("/ocp-nvme/msix-delivery", test_msix_delivery);
    qtest_add_func("/ocp-nvme/malformed", test_malformed);
    qtest_add_func("/ocp-nvme/reset-inflight", test_reset_inflight);
    qtest_add_func("/ocp-nvme/nssr", test_nssr);
    qtest_add_func("/ocp-nvme/copy-and-fused", test_copy_and_fused);
    qtest_add_func("/ocp-nvme/read-only", test_read_only);
    qtest_add_func("/ocp-nvme/write-cache", test_write_cache);
    qtest_add_func("/ocp-nvme/intx", test_intx);
    qtest_add_func("/ocp-nvme/flr", test_flr);
    qtest_add_func("/ocp-nvme/aer", test_aer);
    qtest_add_func("/ocp-nvme/health-properties", test_health_properties);
    qtest_add_func("/ocp-nvme/hotplug", test_hotplug);
    qtest_add_func("/ocp-nvme/hostile/keep-alive-after-fatal",
                   test_keep_alive_after_fatal);
    qtest_add_func("/ocp-nvme/hostile/dma-to-own-bar", test_dma_to_own_bar);
    qtest_add_func("/ocp-nvme/hostile/reentrant-flr", test_reentrant_flr);
    qtest_add_func("/ocp-nvme/hostile/msix-to-own-registers",
                   test_msix_to_own_registers);
    qtest_add_func("/ocp-nvme/hostile/flr-from-storage-read",
                   test_flr_from_storage_read);
    qtest_add_func("/ocp-nvme/migration", test_migration);
    qtest_add_func("/ocp-nvme/migration-incompatible",
                   test_migration_incompatible);
    qtest_add_func("/ocp-nvme/ioeventfd", test_ioeventfd);
    qtest_add_func("/ocp-nvme/ioeventfd-migration", test_ioeventfd_migration);
    qtest_add_func("/ocp-nvme/ioeventfd-unplug", test_ioeventfd_unplug);
    qtest_add_func("/ocp-nvme/iothread", test_iothread);
    qtest_add_func("/ocp-nvme/iothread-intx", test_iothread_intx);
    qtest_add_func("/ocp-nvme/iothread-migration", test_iothread_migration);
    qtest_add_func("/ocp-nvme/iothread-unplug", test_iothread_unplug);
    qtest_add_func("/ocp-nvme/stop-cont", test_stop_cont);
    qtest_add_func("/ocp-nvme/unplug-inflight", test_unplug_inflight);
    qtest_add_func("/ocp-nvme/startup/missing-drive", test_missing_drive);
    qtest_add_func("/ocp-nvme/startup/missing-serial", test_missing_serial);
    qtest_add_func("/ocp-nvme/startup/unknown-iothread", test_unknown_iothread);
    qtest_add_func("/ocp-nvme/startup/bad-property", test_bad_property);

    ret = g_test_run();
    unlink(disk_path);
    g_free(disk_path);
    return ret;
}
