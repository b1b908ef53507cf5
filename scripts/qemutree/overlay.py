"""Lay the project into the QEMU tree as a series of git commits.

The series sits on the tag ``ocp-nvme-base``.  Each commit is one logical
step of the upstreamable patch series.  A file of the project is either
copied to its place in QEMU's tree (``COPIES``) or, for QEMU's own files, an
anchored edit of the base version (``EDITS``): an anchor that is not found
stops the build with a message rather than guessing.

Only files whose content changes are rewritten, so ninja rebuilds only what
an edit touched.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .repack import log

SIGNOFF = "Signed-off-by: ocp-nvme developers <dev@ocp-nvme.invalid>"
DEVICE_DIR = "rust/hw/nvme/ocp-nvme"

# The series, in order: (subject, body, copies, edits).
# copies: (project path, QEMU path); a directory copies every file below it.
# edits:  (QEMU path, anchor, text[, mode]): the text goes after the anchor,
#         or "before" it, or "replace"s it.
SERIES = [
    (
        "hw/pci: name the NVM Express class in info pci",
        "Class code 0108h is a mass storage controller of subclass NVM;\n"
        "'info pci' printed it as 'Class 0264'.",
        [],
        [("hw/pci/pci.c", '    { 0x0107, "SAS controller"},\n',
          '    { 0x0108, "NVM Express controller", "nvme"},\n')],
    ),
    (
        "rust: qom: let classes written in Rust declare QOM interfaces",
        "ObjectImpl::INTERFACES fills TypeInfo.interfaces; a PCI device must\n"
        "declare INTERFACE_PCIE_DEVICE or INTERFACE_CONVENTIONAL_PCI_DEVICE.",
        [],
        [
            ("rust/qom/src/qom.rs",
             "pub use crate::bindings::{type_register_static, ObjectClass};\n",
             "pub use crate::bindings::{type_register_static, InterfaceInfo, ObjectClass};\n",
             "replace"),
            ("rust/qom/src/qom.rs", "    const TYPE_INFO: TypeInfo = TypeInfo {\n",
             "    /// QOM interfaces the class implements, ending with an entry whose\n"
             "    /// `type_` is NULL; empty for none.\n"
             "    const INTERFACES: &'static [InterfaceInfo] = &[];\n\n",
             "before"),
            ("rust/qom/src/qom.rs", "        interfaces: core::ptr::null(),\n",
             "        interfaces: if Self::INTERFACES.is_empty() {\n"
             "            core::ptr::null()\n"
             "        } else {\n"
             "            Self::INTERFACES.as_ptr()\n"
             "        },\n",
             "replace"),
        ],
    ),
    (
        "rust: qom: add run-time uint64 properties",
        "add_u64_property() wraps object_property_add() with a getter and a\n"
        "setter, so that qom-get and qom-set reach live device state.  qdev\n"
        "properties (#[property]) cannot be set once a device is realized.",
        [("rust/qom/src/object_property.rs", "rust/qom/src/object_property.rs")],
        [
            ("rust/qom/wrapper.h", '#include "qom/object.h"\n',
             '#include "qapi/visitor.h"\n'),
            ("rust/qom/src/lib.rs", "mod qom;\n", "pub mod object_property;\n\n", "before"),
            ("rust/qom/meson.build", "      'src/bindings.rs',\n",
             "      'src/object_property.rs',\n"),
            ("rust/qom/meson.build", "  link_with: [_bql_rs, _migration_rs],\n",
             "  link_with: [_bql_rs, _migration_rs, _util_rs],\n", "replace"),
        ],
    ),
    (
        "rust: util: add bottom halves",
        "BottomHalf wraps qemu_bh_new_full(), with the memory reentrancy guard\n"
        "of a device, and deletes the bottom half when dropped.",
        [("rust/util/src/bh.rs", "rust/util/src/bh.rs")],
        [
            ("rust/util/wrapper.h", '#include "qemu/log.h"\n',
             '#include "qemu/main-loop.h"\n'),
            ("rust/util/src/lib.rs", "pub mod bindings;\n", "pub mod bh;\n", "before"),
            # main-loop.h brings in QOM and AioContext types that use glib.
            ("rust/util/src/bindings.rs", "use glib_sys::{guint, GPollFD, GString};\n",
             "use glib_sys::{\n"
             "    guint, GArray, GHashTable, GHashTableIter, GPollFD, GPtrArray, GSList, GSource, GString,\n"
             "};\n", "replace"),
            ("rust/util/meson.build", "      'src/bindings.rs',\n", "      'src/bh.rs',\n",
             "before"),
        ],
    ),
    (
        "rust: util: add AioContext",
        "A handle to the event loop of the main loop or of an IOThread, with\n"
        "run_and_wait() (aio_wait_bh_oneshot()): run a function in the\n"
        "context's thread, between two of its handlers, and wait for it.",
        [("rust/util/src/aio.rs", "rust/util/src/aio.rs")],
        [
            ("rust/util/wrapper.h", '#include "qemu/main-loop.h"\n',
             '#include "block/aio-wait.h"\n'),
            ("rust/util/src/lib.rs", "pub mod bh;\n", "pub mod aio;\n", "before"),
            ("rust/util/meson.build", "      'src/lib.rs',\n", "      'src/aio.rs',\n"),
        ],
    ),
    (
        "rust: util: add event notifiers",
        "EventNotifier wraps event_notifier_init() with a handler in the main\n"
        "loop, or in an IOThread's AioContext, that gets data the notifier\n"
        "owns, and removes the handler and closes the notifier when dropped\n"
        "(from inside the handler's context, waiting for it).",
        [("rust/util/src/event_notifier.rs", "rust/util/src/event_notifier.rs")],
        [
            ("rust/util/src/lib.rs", "pub mod error;\n", "pub mod event_notifier;\n"),
            ("rust/util/meson.build", "      'src/error.rs',\n", "      'src/event_notifier.rs',\n"),
        ],
    ),
    (
        "rust: util: add defer_call",
        "defer_call() runs a function with data at the end of the thread's\n"
        "current defer-call section (or at once outside one), once however\n"
        "often it was deferred: the block layer handles batches of completions\n"
        "in such sections.",
        [("rust/util/src/defer_call.rs", "rust/util/src/defer_call.rs")],
        [
            ("rust/util/wrapper.h", '#include "qemu/log.h"\n',
             '#include "qemu/defer-call.h"\n', "before"),
            ("rust/util/src/lib.rs", "pub mod bindings;\n", "pub mod defer_call;\n"),
            ("rust/util/meson.build", "      'src/bindings.rs',\n", "      'src/defer_call.rs',\n"),
        ],
    ),
    (
        "system/physmem: add address_space_is_direct()",
        "Whether accesses to a range of an address space go straight to\n"
        "memory, never to an MMIO callback.  A device that does DMA from an\n"
        "IOThread while holding a lock that BQL holders wait for must not let\n"
        "the guest point that DMA at MMIO, whose dispatch takes the BQL.",
        [],
        [
            ("include/system/memory.h",
             "/* address_space_map: map a physical memory region into a host virtual address\n",
             '/**\n * address_space_is_direct: check that accesses to a range go straight\n *                          to memory\n *\n * Whether every byte of [@addr, @addr + @len) is in RAM (or ROM, for\n * reads) that is accessed directly, so that an access never runs an MMIO\n * callback (which takes the BQL).  A thread that must not wait for the\n * BQL, such as an IOThread holding a lock that BQL holders wait for,\n * checks this before a DMA access.  The answer holds until the memory map\n * changes.\n *\n * @as: #AddressSpace to be accessed\n * @addr: address within that address space\n * @len: length of the range\n * @is_write: indicates the transfer direction\n * @attrs: memory attributes\n */\nbool address_space_is_direct(AddressSpace *as, hwaddr addr, hwaddr len,\n                             bool is_write, MemTxAttrs attrs);\n\n', "before"),
            ("system/physmem.c", "bool address_space_is_io(AddressSpace *as, hwaddr addr)\n",
             'bool address_space_is_direct(AddressSpace *as, hwaddr addr, hwaddr len,\n                             bool is_write, MemTxAttrs attrs)\n{\n    FlatView *fv;\n\n    RCU_READ_LOCK_GUARD();\n    fv = address_space_to_flatview(as);\n    while (len > 0) {\n        hwaddr xlat, l = len;\n        MemoryRegion *mr = flatview_translate(fv, addr, &xlat, &l, is_write,\n                                              attrs);\n\n        if (!l || !memory_access_is_direct(mr, is_write, attrs)) {\n            return false;\n        }\n        addr += l;\n        len -= l;\n    }\n    return true;\n}\n\n', "before"),
        ],
    ),
    (
        "rust: system: add DMA through an AddressSpace",
        "AddressSpace::dma_read() and dma_write() order the access with a full\n"
        "barrier like dma_memory_read() and dma_memory_write(), and report\n"
        "failed transactions as MemTxError.",
        [("rust/system/src/dma.rs", "rust/system/src/dma.rs")],
        [
            ("rust/system/src/lib.rs", "mod memory;\n", "mod dma;\npub use dma::*;\n\n",
             "before"),
            ("rust/system/meson.build", "      'src/memory.rs',\n", "      'src/dma.rs',\n",
             "before"),
            ("rust/system/meson.build", "system_rs = declare_dependency",
             "rust.test('rust-system-tests', _system_rs,\n"
             "          dependencies: [qemuutil, qom, hwcore],\n"
             "          suite: ['unit', 'rust'])\n\n", "before"),
        ],
    ),
    (
        "rust: system: add ioeventfd to memory regions",
        "MemoryRegion::add_eventfd() and del_eventfd() let a write to an\n"
        "address of the region set an EventNotifier instead of calling the\n"
        "region's write callback (without match data).",
        [("rust/system/src/ioeventfd.rs", "rust/system/src/ioeventfd.rs")],
        [
            ("rust/system/src/lib.rs", "mod memory;\n", "mod ioeventfd;\n\n", "before"),
            ("rust/system/meson.build", "      'src/memory.rs',\n", "      'src/ioeventfd.rs',\n",
             "before"),
        ],
    ),
    (
        "rust: hwcore: add PCI device bindings",
        "PCIDeviceImpl fills PCIDeviceClass (identity, realize returning a\n"
        "Result, exit, config_write); PCIDeviceMethods covers configuration\n"
        "space, BARs, the PCI Express, power management and FLR capabilities,\n"
        "INTx, MSI-X with vectors checked against the table (the C functions\n"
        "assert) and DMA through the bus-master address space.",
        [("rust/hw/core/src/pci.rs", "rust/hw/core/src/pci.rs")],
        [
            ("rust/hw/core/wrapper.h", '#include "hw/irq.h"\n',
             '#include "hw/pci/pci_device.h"\n'
             '#include "hw/pci/msix.h"\n'
             '#include "hw/pci/pcie.h"\n'
             '#include "hw/pci/pci_ids.h"\n'),
            ("rust/hw/core/src/lib.rs", "mod qdev;\n", "mod pci;\npub use pci::*;\n\n",
             "before"),
            # The PCI headers bring in main-loop and AioContext types.
            ("rust/hw/core/src/bindings.rs",
             "use glib_sys::{GArray, GByteArray, GHashTable, GHashTableIter, GList, GPtrArray, GSList, GString};\n",
             "use glib_sys::{\n"
             "    guint, GArray, GByteArray, GHashTable, GHashTableIter, GList, GPollFD, GPtrArray, GSList,\n"
             "    GSource, GString,\n"
             "};\n", "replace"),
            ("rust/hw/core/src/bindings.rs", "    clippy::too_many_arguments\n)]\n",
             "    clippy::too_many_arguments,\n    clippy::type_complexity\n)]\n", "replace"),
            # hw/pci/pci_device.h includes linux/iommufd.h, from linux-headers/.
            ("rust/hw/core/meson.build", "  include_directories: bindings_incdir,\n",
             "  include_directories: [bindings_incdir, include_directories('../../../linux-headers')],\n",
             "replace"),
            ("rust/hw/core/meson.build", "      'src/qdev.rs',\n", "      'src/pci.rs',\n",
             "before"),
            ("rust/hw/core/meson.build", "hwcore_rs = declare_dependency",
             "rust.test('rust-hwcore-tests', _hwcore_rs,\n"
             "          dependencies: [qemuutil, qom, hwcore],\n"
             "          suite: ['unit', 'rust'])\n\n", "before"),
        ],
    ),
    (
        "rust: hwcore: add string, size and OnOffAuto property types",
        "PropString, Size32 and OnOffAutoProperty let #[derive(Device)] structs\n"
        "declare qdev_prop_string, qdev_prop_size32 and qdev_prop_on_off_auto\n"
        "properties; DeviceReentrancyGuard gives bottom halves a device's\n"
        "memory reentrancy guard.",
        [("rust/hw/core/src/qdev_props.rs", "rust/hw/core/src/qdev_props.rs")],
        [
            ("rust/hw/core/src/lib.rs", "mod qdev;\n",
             "mod qdev_props;\npub use qdev_props::*;\n\n", "before"),
            ("rust/hw/core/meson.build", "      'src/qdev.rs',\n", "      'src/qdev_props.rs',\n"),
        ],
    ),
    (
        "rust: hwcore: add run state change handlers for devices",
        "VmStateChangeHandler wraps qdev_add_vm_change_state_handler(), so that\n"
        "a device can stop starting work while the machine is stopped, and\n"
        "removes the handler when dropped.",
        [("rust/hw/core/src/runstate.rs", "rust/hw/core/src/runstate.rs")],
        [
            ("rust/hw/core/wrapper.h", '#include "hw/irq.h"\n', '#include "system/runstate.h"\n'),
            ("rust/hw/core/src/lib.rs", "mod qdev;\n",
             "mod runstate;\npub use runstate::*;\n\n", "before"),
            ("rust/hw/core/meson.build", "      'src/qdev.rs',\n", "      'src/runstate.rs',\n"),
        ],
    ),
    (
        "rust: add the block crate",
        "Bindings for block devices: BlockBackend AIO (reads and writes over\n"
        "scatter-gather lists of guest memory, flush, discard, write zeroes)\n"
        "with completion callbacks that own their request, I/O accounting,\n"
        "and BlockConf with the drive and block size property types.",
        [("rust/block", "rust/block")],
        [
            ("rust/meson.build", "subdir('hw/core')\n", "subdir('block')\n"),
        ],
    ),
    (
        "hw/nvme: add the ocp-nvme controller engine",
        "A pure-Rust NVMe controller (registers, queues, PRP/SGL, admin and NVM\n"
        "command sets) and the OCP Datacenter NVMe SSD log pages and features.\n"
        "It uses no QEMU types and is tested with cargo test.",
        [("hw-ocp-nvme/engine/Cargo.toml", DEVICE_DIR + "/engine/Cargo.toml"),
         ("hw-ocp-nvme/engine/clippy.toml", DEVICE_DIR + "/engine/clippy.toml"),
         ("hw-ocp-nvme/engine/src", DEVICE_DIR + "/engine/src"),
         ("hw-ocp-nvme/engine/tests", DEVICE_DIR + "/engine/tests")],
        [],
    ),
    (
        "hw/nvme: add the ocp-nvme device",
        "A QOM PCIe device that plugs the engine into QEMU: BAR0, MSI-X, DMA,\n"
        "BlockBackend AIO, trace points, migration (the engine's state as one\n"
        "versioned blob) and the state store a drive keeps across power\n"
        "cycles.  It holds no NVMe logic of its own.",
        [("hw-ocp-nvme/Cargo.toml", DEVICE_DIR + "/Cargo.toml"),
         ("hw-ocp-nvme/clippy.toml", DEVICE_DIR + "/clippy.toml"),
         ("hw-ocp-nvme/src", DEVICE_DIR + "/src")],
        [("hw/nvme/trace-events", None, "TRACE_EVENTS", "append")],
    ),
    (
        "hw/nvme: build the ocp-nvme device",
        "Kconfig symbol OCP_NVME, meson wiring and the cargo workspace member.",
        [("meson.build", DEVICE_DIR + "/meson.build"),
         ("rust/hw/nvme/meson.build", "rust/hw/nvme/meson.build"),
         ("rust/hw/nvme/Kconfig", "rust/hw/nvme/Kconfig")],
        [
            ("rust/hw/meson.build", "subdir('char')\n", "subdir('nvme')\n"),
            ("rust/hw/Kconfig", "source char/Kconfig\n", "source nvme/Kconfig\n"),
            ("rust/Cargo.toml", '    "hw/char/pl011",\n',
             '    "hw/nvme/ocp-nvme",\n    "hw/nvme/ocp-nvme/engine",\n'),
            # What cargo adds to the lock file for the new members.
            ("rust/Cargo.lock", '[[package]]\nname = "bql"\n',
             '[[package]]\nname = "block"\nversion = "0.1.0"\ndependencies = [\n'
             ' "bql",\n "common",\n "glib-sys",\n "hwcore",\n "qom",\n "system",\n'
             ' "util",\n]\n\n', "before"),
            ("rust/Cargo.lock", '[[package]]\nname = "hwcore"\n',
             '[[package]]\nname = "hw-ocp-nvme"\nversion = "0.1.0"\ndependencies = [\n'
             ' "block",\n "bql",\n "common",\n "hwcore",\n "libc",\n "migration",\n'
             ' "ocp-nvme-engine",\n "qom",\n "system",\n "trace",\n "util",\n]\n\n',
             "before"),
            ("rust/Cargo.lock", '[[package]]\nname = "pkg-config"\n',
             '[[package]]\nname = "ocp-nvme-engine"\nversion = "0.1.0"\ndependencies = [\n'
             ' "bilge",\n]\n\n', "before"),
            ("MAINTAINERS", "ufs\nM: Jeuk Kim",
             "ocp-nvme\n"
             "M: ocp-nvme developers <dev@ocp-nvme.invalid>\n"
             "L: qemu-block@nongnu.org\n"
             "L: qemu-rust@nongnu.org\n"
             "S: Maintained\n"
             "F: rust/hw/nvme/\n"
             "F: rust/block/\n"
             "F: tests/qtest/ocp-nvme-test.c\n"
             "F: docs/system/devices/ocp-nvme.rst\n\n",
             "before"),
        ],
    ),
    (
        "tests/qtest: add ocp-nvme tests",
        "PCI identity, BAR0 registers, the enable handshake, MSI-X, I/O,\n"
        "malformed guest input, resets, FLR, migration with commands\n"
        "outstanding, and the startup errors for bad properties.",
        [("tests/qtest/ocp-nvme-test.c", "tests/qtest/ocp-nvme-test.c")],
        [
            ("tests/qtest/meson.build",
             "  (config_all_devices.has_key('CONFIG_IVSHMEM_DEVICE') ? ['ivshmem-test'] : [])\n",
             "  (config_all_devices.has_key('CONFIG_IVSHMEM_DEVICE') ? ['ivshmem-test'] : []) + \\\n"
             "  (config_all_devices.has_key('CONFIG_OCP_NVME') ? ['ocp-nvme-test'] : [])\n",
             "replace"),
        ],
    ),
    (
        "docs: document the ocp-nvme device",
        "User page: usage, properties, tracing and OCP support.",
        [("docs/qemu/ocp-nvme.rst", "docs/system/devices/ocp-nvme.rst")],
        [("docs/system/device-emulation.rst", "   devices/nvme.rst\n",
          "   devices/ocp-nvme.rst\n"),
         ("docs/specs/pci-ids.rst", "  PCI RISC-V IOMMU device\n",
          "1b36:0015\n  PCI OCP Datacenter NVMe SSD (``-device ocp-nvme``)\n")],
    ),
]

# Trace events of the device, appended to hw/nvme/trace-events (the C nvme
# device's file: tracetool groups events by directory of trace-events).
TRACE_EVENTS_FILE = "hw-ocp-nvme/trace-events"


def run(args, tree, env=None, text=True, input_data=None):
    return subprocess.run(args, cwd=tree, check=True, capture_output=True,
                          text=text, input=input_data,
                          env=dict(os.environ, **(env or {}))).stdout


def expand_copies(project, copies):
    """Yield (QEMU path, bytes) for each copied file that exists."""
    for src, dst in copies:
        path = project / src
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                yield dst + "/" + file.relative_to(path).as_posix(), file.read_bytes()
        elif path.is_file():
            yield dst, path.read_bytes()


def apply_edits(tree, base, edits, desired, project=None):
    """Apply anchored insertions to the base version of QEMU's files."""
    for path, anchor, text, *mode in edits:
        if path not in desired:
            desired[path] = run(["git", "show", "%s:%s" % (base, path)], tree)
        content = desired[path]
        if mode and mode[0] == "append":
            # text names a project file whose content goes at the end.
            extra = (project / TRACE_EVENTS_FILE).read_text() if text == "TRACE_EVENTS" else text
            desired[path] = content.rstrip("\n") + "\n\n" + extra
            continue
        at = content.find(anchor)
        if at < 0:
            sys.exit("overlay: anchor %r not found in %s" % (anchor.strip(), path))
        mode = mode[0] if mode else "after"
        end = at + len(anchor)
        if mode == "after":
            desired[path] = content[:end] + text + content[end:]
        elif mode == "before":
            desired[path] = content[:at] + text + content[at:]
        else:
            desired[path] = content[:at] + text + content[end:]
    return {p: desired[p].encode() for p, *_ in edits}


def commit_tree(tree, base, contents, parent, message):
    """Commit base + `contents` (QEMU path -> bytes), without checkout.

    Each commit gets the content of its own patch, not the working tree's:
    a QEMU file that later patches edit again must not show their edits
    early."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index"),
               "GIT_AUTHOR_NAME": "ocp-nvme developers",
               "GIT_AUTHOR_EMAIL": "dev@ocp-nvme.invalid",
               "GIT_COMMITTER_NAME": "ocp-nvme developers",
               "GIT_COMMITTER_EMAIL": "dev@ocp-nvme.invalid",
               "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
               "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z"}
        run(["git", "read-tree", base], tree, env)
        entries = []
        for path in sorted(contents):
            blob = run(["git", "hash-object", "-w", "--stdin"], tree, env, text=False,
                       input_data=contents[path]).decode().strip()
            entries.append("100644 %s\t%s" % (blob, path))
        run(["git", "update-index", "--add", "--index-info"], tree, env,
            input_data="\n".join(entries) + "\n")
        tree_id = run(["git", "write-tree"], tree, env).strip()
        return run(["git", "commit-tree", tree_id, "-p", parent, "-m", message],
                   tree, env).strip()


def write_if_changed(path, content):
    if path.exists() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def apply(project, tree, base_tag):
    base = run(["git", "rev-parse", base_tag + "^{commit}"], tree).strip()
    previous = set(run(["git", "diff", "--name-only", base, "HEAD"], tree).split())
    groups = []
    # QEMU files as edited so far: a later patch edits on top of an
    # earlier one's version.
    edited = {}
    for subject, body, copies, edits in SERIES:
        files = dict(expand_copies(project, copies))
        if copies and not files:
            continue  # not written yet: its edits would refer to nothing
        files.update(apply_edits(tree, base, edits, edited, project))
        groups.append((subject, body, files))
    # The working tree gets each file's last version (a file that several
    # patches edit must not be rewritten with an intermediate version, or
    # ninja would rebuild what depends on it every time).
    final = {}
    for _, _, files in groups:
        final.update(files)
    changed = 0
    wanted = set(final)
    for path, content in final.items():
        changed += write_if_changed(tree / path, content)
    for stale in sorted(previous - wanted):
        try:
            original = run(["git", "show", "%s:%s" % (base, stale)], tree, text=False)
            write_if_changed(tree / stale, original)
        except subprocess.CalledProcessError:
            (tree / stale).unlink(missing_ok=True)
        changed += 1
    head = base
    contents = {}
    for subject, body, files in groups:
        if not files:
            continue
        contents.update(files)
        head = commit_tree(tree, base, contents, head,
                           "%s\n\n%s\n\n%s\n" % (subject, body, SIGNOFF))
    run(["git", "update-ref", "refs/heads/ocp-nvme", head], tree)
    run(["git", "symbolic-ref", "HEAD", "refs/heads/ocp-nvme"], tree)
    run(["git", "read-tree", head], tree)
    log("tree at %s, %d file(s) updated" % (head[:12], changed))
