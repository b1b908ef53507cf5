/*
 * QTest for the ocp-nvme device: PCI identity, BAR0 registers, the
 * controller enable handshake, MSI-X and startup errors.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci-pc.h"
#include "standard-headers/linux/pci_regs.h"

#define OCP_NVME_DEVFN      QPCI_DEVFN(4, 0)
#define DRIVE_ARGS \
    "-drive if=none,id=d0,driver=null-co,read-zeroes=on,size=67108864 "

/* NVMe 2.0 Base Specification, 3.1.4: controller registers. */
#define NVME_REG_CAP        0x00
#define NVME_REG_VS         0x08
#define NVME_REG_CC         0x14
#define NVME_REG_CSTS       0x1c
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

static void fixture_start(Fixture *f, const char *extra)
{
    f->qts = qtest_initf("-M q35 " DRIVE_ARGS
                         "-device ocp-nvme,addr=04.0,drive=d0,serial=OCPTEST01%s",
                         extra ? extra : "");
    f->bus = qpci_new_pc(f->qts, NULL);
    f->dev = qpci_device_find(f->bus, OCP_NVME_DEVFN);
    g_assert_nonnull(f->dev);
    qpci_device_enable(f->dev);
    f->bar0 = qpci_iomap(f->dev, 0, &f->bar0_size);
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
    g_assert_cmphex(qpci_config_readl(f.dev, cap + PCI_MSIX_TABLE), ==, 0x2000);
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

    g_assert_cmpint(run_qemu("ocp-nvme,drive=d0,serial=X,msix_qsize=0", &err),
                    !=, 0);
    g_assert_nonnull(strstr(err, "'msix_qsize'"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/ocp-nvme/pci-identity", test_pci_identity);
    qtest_add_func("/ocp-nvme/msix-table", test_msix_table_size);
    qtest_add_func("/ocp-nvme/registers", test_registers);
    qtest_add_func("/ocp-nvme/enable-handshake", test_enable_handshake);
    qtest_add_func("/ocp-nvme/startup/missing-drive", test_missing_drive);
    qtest_add_func("/ocp-nvme/startup/missing-serial", test_missing_serial);
    qtest_add_func("/ocp-nvme/startup/bad-property", test_bad_property);

    return g_test_run();
}
