#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The device's cost per I/O: instructions QEMU executes for one 4 KiB I/O,
counted with valgrind's callgrind, for ocp-nvme, QEMU's C nvme and
virtio-blk-pci from the same QEMU binary.

No guest CPU runs: QEMU starts with `-accel qtest`, and this script is the
driver.  It sets up the PCI function (BARs, bus mastering, MSI-X pointed
at guest RAM), the queues (NVMe admin and one I/O queue pair; one virtio
split virtqueue with indirect descriptors and event indexes), then issues
a fixed number of 4 KiB reads or writes at a fixed queue depth the way
Linux 6.12 does: NVMe shadow doorbells with event indexes when the
controller reports Doorbell Buffer Config (OACS bit 8), a virtio notify
only when the device's avail event asks for it, one SQ tail doorbell per
batch of submissions, one CQ head doorbell per batch of completions.

Counting: callgrind counts every instruction of the QEMU process; a
`b64write` command marks the start of the measured window (callgrind
`--zero-before=g_base64_decode_inplace`) and a `b64read` its end
(`--dump-before=g_base64_encode`).  Per I/O we report the inclusive
instruction counts of the device's entry points and of the stages inside
them (function-level inclusive costs from callgrind_annotate), the
instructions of the qtest protocol itself excluded, plus the
device-visible events per I/O: doorbell MMIO writes (SQ tail / CQ head
or virtio notify), MSI-X messages, main loop dispatches.

usage: bench-cost.py [--devices "ocp-nvme ocp-nvme-ioeventfd nvme virtio"] [--ios N (500)] [--qd "1 32"]
                     [--rw "read write"] [--backend null|file] [-o OUT.md]
                     [--no-callgrind] [--extra-device-args ARGS]
environment: QEMU (default <repo>/build/qemu-system-x86_64)
"""

import argparse
import base64
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SLOT = 4  # PCI device number on pcie.0
BAR_MEM = 0xC000_0000  # first memory BAR; further BARs follow at 1 MiB steps
MSI_ADDR = 0x0F0_0000  # MSI-X messages land in guest RAM (counted there)
RAM = 256 << 20


class Qtest:
    """The qtest protocol over the QEMU process's stdin/stdout."""

    def __init__(self, argv, stderr):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=stderr, bufsize=0)
        self.out = self.p.stdout
        self.commands = 0

    def cmd(self, line):
        self.commands += 1
        self.p.stdin.write((line + "\n").encode())
        while True:
            resp = self.out.readline().decode()
            if not resp:
                raise RuntimeError("QEMU exited (command %r)" % line)
            if resp.startswith("IRQ"):
                continue
            if not resp.startswith("OK"):
                raise RuntimeError("qtest %r: %s" % (line, resp.strip()))
            return resp[2:].strip()

    def out_(self, size, addr, val):
        self.cmd("out%s 0x%x 0x%x" % (size, addr, val))

    def in_(self, size, addr):
        return int(self.cmd("in%s 0x%x" % (size, addr)), 16)

    def w(self, size, addr, val):
        self.cmd("write%s 0x%x 0x%x" % (size, addr, val))

    def r(self, size, addr):
        return int(self.cmd("read%s 0x%x" % (size, addr)), 16)

    def write(self, addr, data):
        self.cmd("write 0x%x 0x%x 0x%s" % (addr, len(data), data.hex()))

    def read(self, addr, n):
        return bytes.fromhex(self.cmd("read 0x%x 0x%x" % (addr, n))[2:])

    def mark(self, what):
        """b64write (zero the counters) / b64read (dump them): callgrind's
        window markers, harmless without callgrind."""
        if what == "start":
            self.cmd("b64write 0x%x 0x4 %s" % (MSI_ADDR + 0x800, base64.b64encode(b"mark").decode()))
        else:
            self.cmd("b64read 0x%x 0x4" % (MSI_ADDR + 0x800))

    def quit(self):
        # QEMU does not stop at the end of its qtest input: SIGTERM (the
        # callgrind dump at exit is not used).
        self.p.terminate()
        self.p.wait(timeout=600)


class Pci:
    def __init__(self, qt, slot):
        self.qt, self.dev = qt, slot

    def _a(self, reg):
        return 0x8000_0000 | (self.dev << 11) | (reg & 0xFC)

    def cfg_r(self, reg, size):
        self.qt.out_("l", 0xCF8, self._a(reg))
        return self.qt.in_({1: "b", 2: "w", 4: "l"}[size], 0xCFC + (reg & 3))

    def cfg_w(self, reg, size, val):
        self.qt.out_("l", 0xCF8, self._a(reg))
        self.qt.out_({1: "b", 2: "w", 4: "l"}[size], 0xCFC + (reg & 3), val)

    def caps(self):
        p = self.cfg_r(0x34, 1)
        while p:
            yield p, self.cfg_r(p, 1)
            p = self.cfg_r(p + 1, 1)

    def map_bars(self):
        """Map every memory BAR at BAR_MEM + n MiB; returns {bar: address}."""
        addrs, bar, nxt = {}, 0, BAR_MEM
        while bar < 6:
            reg = 0x10 + 4 * bar
            orig = self.cfg_r(reg, 4)
            if orig & 1:  # I/O BAR: unused
                bar += 1
                continue
            self.cfg_w(reg, 4, 0xFFFF_FFFF)
            size_mask = self.cfg_r(reg, 4) & ~0xF
            is64 = (orig >> 1) & 3 == 2
            if size_mask:
                size = (~size_mask & 0xFFFF_FFFF) + 1
                base = (nxt + size - 1) & ~(size - 1)
                self.cfg_w(reg, 4, base)
                if is64:
                    self.cfg_w(reg + 4, 4, 0)
                addrs[bar] = base
                nxt = base + max(size, 1 << 20)
            bar += 2 if is64 else 1
        self.cfg_w(0x04, 2, 0x0006)  # memory space, bus master
        return addrs

    def msix(self, bars, vectors):
        """Enable MSI-X with `vectors` entries writing to guest RAM."""
        for p, cid in self.caps():
            if cid == 0x11:
                table = self.cfg_r(p + 4, 4)
                base = bars[table & 7] + (table & ~7)
                for v in range(vectors):
                    e = base + 16 * v
                    self.qt.w("l", e, MSI_ADDR + 4 * v)
                    self.qt.w("l", e + 4, 0)
                    self.qt.w("l", e + 8, v)
                    self.qt.w("l", e + 12, 0)
                self.cfg_w(p + 2, 2, 0x8000 | (self.cfg_r(p + 2, 2) & 0x7FF))
                return
        raise RuntimeError("no MSI-X capability")


# Guest memory layout (below RAM).
ASQ, ACQ, IOSQ, IOCQ = 0x10_0000, 0x11_0000, 0x12_0000, 0x13_0000
DBS, EIS, IDENT = 0x14_0000, 0x14_1000, 0x15_0000
VQ_DESC, VQ_AVAIL, VQ_USED, VQ_IND, VQ_HDR = 0x20_0000, 0x21_0000, 0x22_0000, 0x23_0000, 0x28_0000
DATA = 0x100_0000
LBAS = 1 << 18  # 1 GiB span of 4 KiB blocks


def sqe(opc, cid, nsid=0, prp1=0, prp2=0, cdw10=0, cdw11=0, cdw12=0):
    return struct.pack("<BBHIQQQQIIIIII", opc, 0, cid, nsid, 0, 0, prp1, prp2,
                       cdw10, cdw11, cdw12, 0, 0, 0)


class Nvme:
    """Linux-like NVMe driver: one I/O queue pair, PRP1 only (4 KiB)."""

    def __init__(self, qt, pci, depth):
        self.qt = qt
        bars = pci.map_bars()
        self.bar = bars[0]
        pci.msix(bars, 2)
        cap = qt.r("q", self.bar)
        self.stride = 4 << ((cap >> 32) & 0xF)
        self.size = depth
        qt.w("l", self.bar + 0x14, 0)
        while qt.r("l", self.bar + 0x1C) & 1:
            pass
        qt.w("l", self.bar + 0x24, (31 << 16) | 31)
        qt.w("q", self.bar + 0x28, ASQ)
        qt.w("q", self.bar + 0x30, ACQ)
        qt.w("l", self.bar + 0x14, 0x0046_0001)
        while not qt.r("l", self.bar + 0x1C) & 1:
            pass
        self.tail = {0: 0, 1: 0}
        self.head = {0: 0, 1: 0}
        self.phase = {0: 1, 1: 1}
        self.qsize = {0: 32, 1: depth}
        self.cid = 0
        self.doorbells = {"sq": 0, "cq": 0}
        self.shadow = False
        ident = self.admin(sqe(0x06, 0, prp1=IDENT, cdw10=1))
        oacs = struct.unpack_from("<H", qt.read(IDENT + 256, 2))[0]
        if oacs & (1 << 8):  # Doorbell Buffer Config, as Linux does
            qt.write(DBS, bytes(4096))
            qt.write(EIS, bytes(4096))
            self.admin(sqe(0x7C, 0, prp1=DBS, prp2=EIS))
            self.shadow = True
        del ident
        # nvme_set_queue_count(): Set Features Number of Queues (one pair here)
        self.admin(sqe(0x09, 0, cdw10=0x07, cdw11=0))
        self.admin(sqe(0x05, 0, prp1=IOCQ, cdw10=((depth - 1) << 16) | 1, cdw11=(1 << 16) | 3))
        self.admin(sqe(0x01, 0, prp1=IOSQ, cdw10=((depth - 1) << 16) | 1, cdw11=(1 << 16) | 1))
        self.doorbells = {"sq": 0, "cq": 0}
        self.inflight = 0

    def _db(self, qid, cq, value):
        off = (2 * qid + (1 if cq else 0)) * self.stride
        if self.shadow and qid:
            # nvme_dbbuf_update_and_check_event()
            old = struct.unpack("<I", self.qt.read(DBS + off, 4))[0]
            self.qt.w("l", DBS + off, value)
            ei = struct.unpack("<I", self.qt.read(EIS + off, 4))[0]
            if not ((value - ei - 1) & 0xFFFF) < ((value - old) & 0xFFFF):
                return
        self.doorbells["cq" if cq else "sq"] += qid != 0
        self.qt.w("l", self.bar + 0x1000 + off, value)

    def _post(self, qid, e):
        base = ASQ if qid == 0 else IOSQ
        self.qt.write(base + 64 * self.tail[qid], e)
        self.tail[qid] = (self.tail[qid] + 1) % self.qsize[qid]

    def _reap(self, qid):
        base = ACQ if qid == 0 else IOCQ
        n = 0
        while True:
            cqe = self.qt.read(base + 16 * self.head[qid], 16)
            st = struct.unpack_from("<H", cqe, 14)[0]
            if (st & 1) != self.phase[qid]:
                break
            if st >> 1:
                raise RuntimeError("command failed: status %#x" % (st >> 1))
            n += 1
            self.head[qid] += 1
            if self.head[qid] == self.qsize[qid]:
                self.head[qid], self.phase[qid] = 0, self.phase[qid] ^ 1
        if n:
            self._db(qid, True, self.head[qid])
        return n

    def admin(self, e):
        self.cid = (self.cid + 1) & 0xFFFF
        e = e[:2] + struct.pack("<H", self.cid) + e[4:]
        self._post(0, e)
        self._db(0, False, self.tail[0])
        for _ in range(100000):
            if self._reap(0):
                return
        raise RuntimeError("admin command timed out")

    def submit(self, writes, lbas):
        for lba in lbas:
            self.cid = (self.cid + 1) & 0xFFFF
            buf = DATA + (self.cid % 256) * 4096
            self._post(1, sqe(0x01 if writes else 0x02, self.cid, nsid=1, prp1=buf,
                              cdw10=(lba * 8) & 0xFFFF_FFFF, cdw11=(lba * 8) >> 32, cdw12=7))
        self._db(1, False, self.tail[1])

    def reap(self):
        return self._reap(1)

    def events(self):
        return {"SQ doorbell": self.doorbells["sq"], "CQ doorbell": self.doorbells["cq"]}


class Virtio:
    """Linux-like virtio-blk (modern) driver: one split virtqueue, indirect
    descriptors (header, data, status), event indexes."""

    F_INDIRECT, F_EVENT_IDX, F_VERSION_1 = 28, 29, 32

    def __init__(self, qt, pci, depth):
        self.qt = qt
        bars = pci.map_bars()
        pci.msix(bars, 2)
        caps = {}
        for p, cid in pci.caps():
            if cid == 0x09:
                typ, bar = pci.cfg_r(p + 3, 1), pci.cfg_r(p + 4, 1)
                off = pci.cfg_r(p + 8, 4)
                if typ in (1, 2) and bar in bars:
                    caps.setdefault(typ, (bars[bar] + off, p))
        self.common = caps[1][0]
        self.notify = caps[2][0]
        mult = pci.cfg_r(caps[2][1] + 16, 4)
        c = self.common
        qt.w("b", c + 0x14, 0)
        qt.w("b", c + 0x14, 1 | 2)
        feats = 0
        for sel in (0, 1):
            qt.w("l", c + 0x00, sel)
            feats |= qt.r("l", c + 0x04) << (32 * sel)
        want = (1 << self.F_INDIRECT) | (1 << self.F_EVENT_IDX) | (1 << self.F_VERSION_1)
        if feats & want != want:
            raise RuntimeError("virtio features %#x lack %#x" % (feats, want))
        for sel in (0, 1):
            qt.w("l", c + 0x08, sel)
            qt.w("l", c + 0x0C, (want >> (32 * sel)) & 0xFFFF_FFFF)
        qt.w("b", c + 0x14, 1 | 2 | 8)
        if not qt.r("b", c + 0x14) & 8:
            raise RuntimeError("FEATURES_OK refused")
        qt.w("w", c + 0x10, 0)  # config vector
        qt.w("w", c + 0x16, 0)
        self.num = qt.r("w", c + 0x18)
        qt.w("w", c + 0x1A, 1)
        qt.w("q", c + 0x20, VQ_DESC)
        qt.w("q", c + 0x28, VQ_AVAIL)
        qt.w("q", c + 0x30, VQ_USED)
        qt.write(VQ_AVAIL, bytes(4 + 2 * self.num + 2))
        qt.write(VQ_USED, bytes(4 + 8 * self.num + 2))
        noff = qt.r("w", c + 0x1E)
        self.notify_addr = self.notify + noff * mult
        qt.w("w", c + 0x1C, 1)
        qt.w("b", c + 0x14, 1 | 2 | 8 | 4)
        self.avail_idx = 0
        self.used_idx = 0
        self.free = list(range(min(depth * 2, self.num)))
        self.kicks = 0
        self.head_of = {}

    def submit(self, writes, lbas):
        old = self.avail_idx
        for lba in lbas:
            d = self.free.pop(0)
            hdr = VQ_HDR + 32 * d
            buf = DATA + (d % 256) * 4096
            ind = VQ_IND + 48 * d
            self.qt.write(hdr, struct.pack("<IIQ", 1 if writes else 0, 0, lba * 8) + b"\xff" * 8)
            # indirect table: header (device-readable), data, status (device-writable)
            table = (struct.pack("<QIHH", hdr, 16, 1, 1)
                     + struct.pack("<QIHH", buf, 4096, 1 | (0 if writes else 2), 2)
                     + struct.pack("<QIHH", hdr + 16, 1, 2, 0))
            self.qt.write(ind, table)
            self.qt.write(VQ_DESC + 16 * d, struct.pack("<QIHH", ind, 48, 4, 0))
            self.qt.w("w", VQ_AVAIL + 4 + 2 * (self.avail_idx % self.num), d)
            self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.qt.w("w", VQ_AVAIL + 2, self.avail_idx)
        # virtqueue_kick_prepare(): vring_need_event(avail_event, new, old)
        ev = self.qt.r("w", VQ_USED + 4 + 8 * self.num)
        if ((self.avail_idx - ev - 1) & 0xFFFF) < ((self.avail_idx - old) & 0xFFFF):
            self.kicks += 1
            self.qt.w("w", self.notify_addr, 0)

    def reap(self):
        idx = self.qt.r("w", VQ_USED + 2)
        n = 0
        while self.used_idx != idx:
            e = self.qt.read(VQ_USED + 4 + 8 * (self.used_idx % self.num), 8)
            d = struct.unpack_from("<I", e)[0]
            st = self.qt.read(VQ_HDR + 32 * d + 16, 1)[0]
            if st != 0:
                raise RuntimeError("virtio-blk request failed: status %d" % st)
            self.free.append(d)
            self.used_idx = (self.used_idx + 1) & 0xFFFF
            n += 1
        if n:
            # virtqueue_enable_cb(): used_event = last seen used index
            self.qt.w("w", VQ_AVAIL + 4 + 2 * self.num, self.used_idx)
        return n

    def events(self):
        return {"SQ doorbell": self.kicks, "CQ doorbell": 0}


def run_io(drv, writes, qd, ios):
    lba = 12345
    def nxt():
        nonlocal lba
        lba = (lba * 1103515245 + 12345) % LBAS
        return lba
    drv.submit(writes, [nxt() for _ in range(qd)])
    done, issued, polls = 0, qd, 0
    while done < ios:
        n = drv.reap()
        polls += 1
        if polls > ios * 10000:
            raise RuntimeError("I/O stalled")
        if not n:
            continue
        done += n
        more = min(n, ios - issued)
        if more > 0:
            drv.submit(writes, [nxt() for _ in range(more)])
            issued += more
    return polls


DEVICES = {
    "ocp-nvme": ("ocp-nvme,drive=d0,serial=COST0001", Nvme),
    # I/O SQ tail doorbells by ioeventfd (the tail from the shadow buffer).
    "ocp-nvme-ioeventfd": ("ocp-nvme,drive=d0,serial=COST0001,ioeventfd=on", Nvme),
    "nvme": ("nvme,drive=d0,serial=COST0001", Nvme),
    "nvme-ioeventfd": ("nvme,drive=d0,serial=COST0001,ioeventfd=on", Nvme),
    "virtio": ("virtio-blk-pci,drive=d0,serial=COST0001", Virtio),
    # Queues and completions in an IOThread (ocp-nvme: I/O SQ doorbells by
    # ioeventfd handled there).
    "ocp-nvme-iothread": ("ocp-nvme,drive=d0,serial=COST0001,iothread=io0", Nvme),
    "virtio-iothread": ("virtio-blk-pci,drive=d0,serial=COST0001,iothread=io0", Virtio),
}


def qemu_argv(qemu, dev, backend, file, extra):
    if backend == "null":
        drive = "if=none,id=d0,driver=null-co,read-zeroes=on,size=4G"
    else:
        drive = "if=none,id=d0,file=%s,format=raw,cache=none,aio=threads" % file
    devarg = DEVICES[dev][0] + ",bus=pcie.0,addr=%d.0" % SLOT
    if extra.get(dev):
        devarg += "," + extra[dev]
    objects = ["-object", "iothread,id=io0"] if dev.endswith("-iothread") else []
    return [qemu, "-machine", "q35", "-accel", "qtest", "-qtest", "stdio", "-qtest-log", "/dev/null", "-nodefaults",
            "-display", "none", "-m", "%dM" % (RAM >> 20)] + objects + ["-drive", drive, "-device", devarg]


def one(qemu, dev, writes, qd, ios, backend, file, extra, callgrind, workdir):
    """One measured run; returns (info dict, the callgrind dump of the measured
    window (the main thread's), the dumps at exit of the other threads)."""
    argv = qemu_argv(qemu, dev, backend, file, extra)
    out = None
    if callgrind:
        tag = "%s-%s-qd%d" % (dev, "write" if writes else "read", qd)
        out = os.path.join(workdir, "callgrind.%s" % tag)
        argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s.%%p" % out,
                "--collect-atstart=yes", "--zero-before=g_base64_decode_inplace",
                "--dump-before=g_base64_encode",
                # With an IOThread, a dump per thread: merged threads garble
                # the call stacks, and the marks zero and dump only the
                # thread that runs them (the main thread).
                "--separate-threads=%s" % ("yes" if dev.endswith("-iothread") else "no"),
                "--compress-strings=no", "--compress-pos=no"] + argv
    err = open(os.path.join(workdir, "stderr.log"), "ab")
    earlier = set(os.listdir(workdir))
    qt = Qtest(argv, err)
    cls = DEVICES[dev][1]
    drv = cls(qt, Pci(qt, SLOT), max(qd * 2, 32))
    run_io(drv, writes, qd, max(qd * 4, 64))  # warm up
    ev0 = dict(drv.events())
    msi0 = qt.read(MSI_ADDR, 8)
    qt.mark("start")
    t = time.time()
    c0 = qt.commands
    polls = run_io(drv, writes, qd, ios)
    qt.mark("end")
    took = time.time() - t
    ev = {k: v - ev0[k] for k, v in drv.events().items()}
    info = {"polls": polls, "commands": qt.commands - c0, "seconds": took, "events": ev}
    qt.quit()
    window, others = None, []
    if callgrind:
        dumps = sorted(f for f in set(os.listdir(workdir)) - earlier
                       if f.startswith(os.path.basename(out) + "."))
        # the window's dump ends in .1 (.1-01: the main thread's, with one
        # file per thread); the dumps at exit have no .1
        cands = [os.path.join(workdir, f) for f in dumps if re.search(r"\.\d+\.1(-01)?$", f)]
        if not cands:
            raise RuntimeError("no callgrind dump for %s (files: %s)" % (out, dumps))
        window = cands[0]
        others = [os.path.join(workdir, f) for f in dumps if re.search(r"\.\d+-(0[2-9]|[1-9]\d)$", f)]
    del msi0
    return info, window, others


def iothread_costs(dumps_n, dumps_2n):
    """The IOThread's (inclusive costs, total) for the I/Os by which two runs
    differ: its thread has no window marks, so the difference of its counts
    at exit after N and after 2N I/Os."""
    def find(dumps):
        for d in dumps:
            incl, total = inclusive(d)
            if IOTHREAD_LOOP in incl:
                return incl, total
        raise RuntimeError("no IOThread among the dumps %s" % dumps)
    (incl1, t1), (incl2, t2) = find(dumps_n), find(dumps_2n)
    return {k: v - incl1.get(k, 0) for k, v in incl2.items()}, t2 - t1


# The stages, from function-level inclusive costs (callgrind_annotate):
#   fetch and parse   = the device's queue processing function, minus the
#                       block submission inside it;
#   block submission  = blk_aio_prwv (BlockBackend AIO, coroutine included);
#   completion        = blk_aio_complete_bh (the block layer's completion
#                       and the device's callback) and the device's own
#                       completion/interrupt bottom half or notifier, minus
#                       the interrupt delivery inside them;
#   interrupt         = msix_notify;
#   doorbell and rest = the device total minus the above: MMIO dispatch and
#                       doorbell decoding, ioeventfd, scheduling.
FETCH = {
    "ocp-nvme": ["ocp_nvme_engine::controller::fetch::<impl ocp_nvme_engine::controller::Controller>::process_pending"],
    "nvme": ["nvme_process_sq"],
    "virtio": ["virtio_blk_handle_vq"],
}
COMPLETION = {
    "ocp-nvme": ["blk_aio_complete_bh", "hw_ocp_nvme::device::OcpNvmeState::send_vectors"],
    "nvme": ["blk_aio_complete_bh", "nvme_post_cqes"],
    "virtio": ["blk_aio_complete_bh", "virtio_queue_guest_notifier_read"],
}
for _dev, _variant in (("ocp-nvme", "ioeventfd"), ("nvme", "ioeventfd"),
                      ("ocp-nvme", "iothread"), ("virtio", "iothread")):
    FETCH[_dev + "-" + _variant] = FETCH[_dev]
    COMPLETION[_dev + "-" + _variant] = COMPLETION[_dev]
STAGE_NAMES = ["doorbell and rest", "fetch and parse", "block submission", "completion",
               "interrupt"]
# Everything the device costs: MMIO dispatch from the driver plus the main
# loop's AioContext (bottom halves, ioeventfd and completion handlers,
# timers).
# With an IOThread, also everything that thread executed.
TOTAL = ["memory_region_dispatch_write", "memory_region_dispatch_read", "aio_ctx_dispatch"]
IOTHREAD_LOOP = "iothread_run"
CALLS = {"MSI-X messages": "msix_notify", "main loop dispatches": "aio_ctx_dispatch"}


def stages(dev, threads):
    """Device total and stages from [(inclusive costs, total)] per dump."""
    def c(names):
        return sum(incl.get(n, 0) for incl, _ in threads for n in names)
    total = sum(t if IOTHREAD_LOOP in incl else sum(incl.get(n, 0) for n in TOTAL)
                for incl, t in threads)
    if len(threads) > 1:
        # Function-level inclusive costs of two threads and two runs do
        # not add up to stages (callgrind splits recursion differently in
        # each): the total only.
        return total, [None] * len(STAGE_NAMES)
    submit = c(["blk_aio_prwv"])
    fetch = c(FETCH[dev]) - submit
    irq = c(["msix_notify"])
    comp = c(COMPLETION[dev]) - irq
    return total, [total - fetch - submit - comp - irq, fetch, submit, comp, irq]


def inclusive(dump):
    """{function: inclusive Ir} and total Ir of a callgrind dump."""
    txt = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                          "--show-percs=no", dump], capture_output=True, text=True,
                         check=True).stdout
    incl, total = {}, 0
    for line in txt.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(?.*?\)?\s*\*?\s*\S*:(.+?)(?: \[.*\])?$", line)
        if "PROGRAM TOTALS" in line:
            total = int(re.match(r"\s*([\d,]+)", line).group(1).replace(",", ""))
            continue
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(?:\*\s+)?(?:[^:\s]*:)?(.+?)(?: \[[^\]]*\])?\s*$", line)
        if m and m.group(2):
            name = m.group(2)
            v = int(m.group(1).replace(",", ""))
            incl[name] = max(incl.get(name, 0), v)
    return incl, total


def call_counts(dump, names):
    """Calls of each function in `names` (summed over callers)."""
    counts = dict.fromkeys(names, 0)
    cfn = None
    with open(dump, errors="replace") as f:
        for line in f:
            if line.startswith("cfn="):
                cfn = line[4:].strip()
                cfn = re.sub(r"^\(\d+\)\s*", "", cfn)
            elif line.startswith("calls=") and cfn in counts:
                counts[cfn] += int(line[6:].split()[0])
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", default="ocp-nvme ocp-nvme-ioeventfd nvme virtio",
                    help="of: " + " ".join(DEVICES))
    ap.add_argument("--ios", type=int, default=500)
    ap.add_argument("--qd", default="1 32")
    ap.add_argument("--rw", default="read write")
    ap.add_argument("--backend", default="null", choices=["null", "file"])
    ap.add_argument("-o", "--output", default=os.path.join(REPO, "out", "bench-cost.md"))
    ap.add_argument("--no-callgrind", action="store_true",
                    help="only count events (fast; no instruction counts)")
    ap.add_argument("--extra", action="append", default=[],
                    help="DEVICE=PROPS appended to that -device (e.g. ocp-nvme=x-doorbell-bh=on)")
    ap.add_argument("--keep", help="keep the callgrind dumps in this directory")
    args = ap.parse_args()
    qemu = os.environ.get("QEMU", os.path.join(REPO, "build", "qemu-system-x86_64"))
    callgrind = not args.no_callgrind
    if callgrind and not (shutil.which("valgrind") and shutil.which("callgrind_annotate")):
        sys.exit("bench-cost: valgrind (callgrind) is not installed: `apt-get install valgrind`, "
                 "or run with --no-callgrind for the event counts only")
    extra = dict(e.split("=", 1) for e in args.extra)
    workdir = args.keep or tempfile.mkdtemp(prefix="ocp-cost.")
    os.makedirs(workdir, exist_ok=True)
    file = None
    if args.backend == "file":
        file = os.path.join(workdir, "disk.raw")
        with open(file, "wb") as f:
            f.truncate(1 << 30)
    rows = []
    t0 = time.time()
    for rw in args.rw.split():
        for qd in [int(q) for q in args.qd.split()]:
            for dev in args.devices.split():
                info, window, others = one(qemu, dev, rw == "write", qd, args.ios, args.backend,
                                           file, extra, callgrind, workdir)
                row = {"dev": dev, "rw": rw, "qd": qd, **info}
                if window:
                    threads = [inclusive(window)]
                    counts = [call_counts(window, list(CALLS.values()))]
                    if dev.endswith("-iothread"):
                        _, _, others2 = one(qemu, dev, rw == "write", qd, 2 * args.ios,
                                            args.backend, file, extra, callgrind, workdir)
                        threads.append(iothread_costs(others, others2))
                    row["total_window"] = sum(t for _, t in threads)
                    row["device_total"], row["stages"] = stages(dev, threads)
                    row["calls"] = {k: sum(cnt[k] for cnt in counts) for k in CALLS.values()}
                rows.append(row)
                print("# %s %s qd%d: %.1f s" % (dev, rw, qd, info["seconds"]), file=sys.stderr)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    load = open("/proc/loadavg").read().split()[:3]
    lines = ["# Device cost per 4 KiB I/O (qtest driver, callgrind)", "",
             "%s UTC; %d I/Os per run after a warm-up; backend %s; -M q35 -accel qtest; "
             "load average %s; %.0f s. Instructions are callgrind Ir per I/O "
             "(inclusive, function level); `device total` = MMIO dispatch + main loop "
             "AioContext dispatch (bottom halves, ioeventfd, completions) + all of the IOThread's "
             "instructions (`-iothread` devices), qtest protocol excluded. "
             "Event counts per I/O: doorbell writes that reached the device (MMIO/notify), "
             "MSI-X messages, main loop dispatches."
             % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), args.ios, args.backend,
                " ".join(load), time.time() - t0), ""]
    stage_names = STAGE_NAMES
    hdr = ["workload", "device"]
    if callgrind:
        hdr += ["device total"] + stage_names + ["vs nvme", "vs virtio-blk"]
    hdr += ["SQ doorbells", "CQ doorbells"]
    if callgrind:
        hdr += ["MSI-X", "loop dispatches"]
    lines += ["| " + " | ".join(hdr) + " |", "|" + "---|" * 2 + "---:|" * (len(hdr) - 2)]
    for row in rows:
        n = args.ios
        cells = ["%s QD%d" % (row["rw"], row["qd"]), row["dev"]]
        if callgrind:
            base = {r["dev"]: r["device_total"] for r in rows
                    if r["rw"] == row["rw"] and r["qd"] == row["qd"]}
            cells.append("%.0f" % (row["device_total"] / n))
            cells += ["–" if v is None else "%.0f" % (v / n) for v in row["stages"]]
            for b in ("nvme", "virtio"):
                cells.append("%.2f" % (row["device_total"] / base[b]) if base.get(b) else "–")
        cells += ["%.2f" % (row["events"]["SQ doorbell"] / n),
                  "%.2f" % (row["events"]["CQ doorbell"] / n)]
        if callgrind:
            cells += ["%.2f" % (row["calls"]["msix_notify"] / n),
                      "%.2f" % (row["calls"]["aio_ctx_dispatch"] / n)]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
