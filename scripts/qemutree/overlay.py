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
        "rust: qemu-api: let classes written in Rust declare QOM interfaces",
        "ObjectImpl::INTERFACES fills TypeInfo.interfaces; a PCI device must\n"
        "declare INTERFACE_PCIE_DEVICE or INTERFACE_CONVENTIONAL_PCI_DEVICE.",
        [],
        [
            ("rust/qemu-api/src/qom.rs", "    const TYPE_INFO: TypeInfo = TypeInfo {\n",
             "    /// QOM interfaces the class implements, ending with an entry whose\n"
             "    /// `type_` is NULL (for example\n"
             "    /// [`PCIE_DEVICE_INTERFACES`](crate::pci::PCIE_DEVICE_INTERFACES)).\n"
             "    const INTERFACES: &'static [bindings::InterfaceInfo] = &[];\n\n",
             "before"),
            ("rust/qemu-api/src/qom.rs", "        interfaces: core::ptr::null_mut(),\n",
             "        interfaces: if Self::INTERFACES.is_empty() {\n"
             "            core::ptr::null_mut()\n"
             "        } else {\n"
             "            core::ptr::addr_of!(Self::INTERFACES[0]) as *mut _\n"
             "        },\n",
             "replace"),
        ],
    ),
    (
        "rust: qemu-api: add PCI, DMA, block backend, bottom half, logging and property bindings",
        "What a PCI block device written in Rust needs: PCIDevice class setup,\n"
        "realize/exit/config_write, BARs, PCIe, PM and FLR capabilities, INTx,\n"
        "MSI-X, DMA through the bus-master address space, BlockBackend AIO with\n"
        "scatter-gather lists and accounting, bottom halves, run state change\n"
        "handlers, guest-error logging, C Error conversion and uint64 QOM\n"
        "properties with callbacks.",
        [("rust/qemu-api/src", "rust/qemu-api/src")],
        [
            ("rust/wrapper.h", '#include "hw/char/pl011.h"\n',
             '#include "hw/pci/pci_device.h"\n'
             '#include "hw/pci/msi.h"\n'
             '#include "hw/pci/msix.h"\n'
             '#include "hw/pci/pcie.h"\n'
             '#include "hw/pci/pci_ids.h"\n'
             '#include "system/block-backend.h"\n'
             '#include "system/dma.h"\n'
             '#include "hw/block/block.h"\n'
             '#include "block/accounting.h"\n'
             '#include "qemu/iov.h"\n'
             '#include "qemu/log.h"\n'
             '#include "qemu/main-loop.h"\n'
             '#include "qapi/visitor.h"\n'
             '#include "system/runstate.h"\n'),
            ("rust/qemu-api/meson.build", "      'src/bitops.rs',\n",
             "      'src/block.rs',\n"),
            ("rust/qemu-api/meson.build", "      'src/cell.rs',\n",
             "      'src/bh.rs',\n"),
            ("rust/qemu-api/meson.build", "      'src/chardev.rs',\n",
             "      'src/dma.rs',\n"),
            ("rust/qemu-api/meson.build", "      'src/errno.rs',\n",
             "      'src/error.rs',\n"),
            ("rust/qemu-api/meson.build", "      'src/prelude.rs',\n",
             "      'src/property.rs',\n"),
            ("rust/qemu-api/meson.build", "      'src/irq.rs',\n",
             "      'src/log.rs',\n"),
            ("rust/qemu-api/meson.build", "      'src/offset_of.rs',\n",
             "      'src/pci.rs',\n"),
            ("rust/qemu-api/meson.build", "      'src/qom.rs',\n",
             "      'src/runstate.rs',\n"),
            ("rust/qemu-api/src/lib.rs", "pub mod bitops;\n", "pub mod block;\npub mod bh;\n"),
            ("rust/qemu-api/src/lib.rs", "pub mod chardev;\n", "pub mod dma;\n"),
            ("rust/qemu-api/src/lib.rs", "pub mod irq;\n", "pub mod log;\n"),
            ("rust/qemu-api/src/lib.rs", "pub mod offset_of;\n", "pub mod pci;\n"),
            ("rust/qemu-api/src/lib.rs", "pub mod errno;\n", "pub mod error;\n"),
            ("rust/qemu-api/src/lib.rs", "pub mod prelude;\n", "pub mod property;\n"),
            ("rust/qemu-api/src/lib.rs", "pub mod qom;\n", "pub mod runstate;\n"),
            ("rust/qemu-api/src/prelude.rs", "pub use crate::qom_isa;\n",
             "\npub use crate::pci::PCIDeviceMethods;\n"),
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
        "BlockBackend AIO.  It holds no NVMe logic of its own.",
        [("hw-ocp-nvme/Cargo.toml", DEVICE_DIR + "/Cargo.toml"),
         ("hw-ocp-nvme/clippy.toml", DEVICE_DIR + "/clippy.toml"),
         ("hw-ocp-nvme/src", DEVICE_DIR + "/src")],
        [],
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
            ("MAINTAINERS", "ufs\nM: Jeuk Kim",
             "ocp-nvme\n"
             "M: ocp-nvme developers <dev@ocp-nvme.invalid>\n"
             "L: qemu-block@nongnu.org\n"
             "L: qemu-rust@nongnu.org\n"
             "S: Maintained\n"
             "F: rust/hw/nvme/\n"
             "F: tests/qtest/ocp-nvme-test.c\n"
             "F: docs/system/devices/ocp-nvme.rst\n\n",
             "before"),
        ],
    ),
    (
        "tests/qtest: add ocp-nvme tests",
        "PCI identity, BAR0 registers, the enable handshake, MSI-X and the\n"
        "startup errors for missing properties.",
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
        "User page: usage, properties and OCP support.",
        [("docs/qemu/ocp-nvme.rst", "docs/system/devices/ocp-nvme.rst")],
        [("docs/system/device-emulation.rst", "   devices/nvme.rst\n",
          "   devices/ocp-nvme.rst\n"),
         ("docs/specs/pci-ids.rst", "  PCI RISC-V IOMMU device\n",
          "1b36:0015\n  PCI OCP Datacenter NVMe SSD (``-device ocp-nvme``)\n")],
    ),
]


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


def apply_edits(tree, base, edits, desired):
    """Apply anchored insertions to the base version of QEMU's files."""
    for path, anchor, text, *mode in edits:
        if path not in desired:
            desired[path] = run(["git", "show", "%s:%s" % (base, path)], tree)
        content = desired[path]
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
    return {p: c.encode() for p, c in desired.items()}


def commit_tree(tree, base, paths, parent, message):
    """Commit base + the working-tree versions of paths, without checkout."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index"),
               "GIT_AUTHOR_NAME": "ocp-nvme developers",
               "GIT_AUTHOR_EMAIL": "dev@ocp-nvme.invalid",
               "GIT_COMMITTER_NAME": "ocp-nvme developers",
               "GIT_COMMITTER_EMAIL": "dev@ocp-nvme.invalid",
               "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
               "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z"}
        run(["git", "read-tree", base], tree, env)
        run(["git", "update-index", "--add", "--stdin"], tree, env,
            input_data="\n".join(sorted(paths)) + "\n")
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
    for subject, body, copies, edits in SERIES:
        files = dict(expand_copies(project, copies))
        if copies and not files:
            continue  # not written yet: its edits would refer to nothing
        files.update(apply_edits(tree, base, edits, {}))
        groups.append((subject, body, files))
    changed = 0
    wanted = set()
    for _, _, files in groups:
        for path, content in files.items():
            changed += write_if_changed(tree / path, content)
            wanted.add(path)
    for stale in sorted(previous - wanted):
        try:
            original = run(["git", "show", "%s:%s" % (base, stale)], tree, text=False)
            write_if_changed(tree / stale, original)
        except subprocess.CalledProcessError:
            (tree / stale).unlink(missing_ok=True)
        changed += 1
    head = base
    paths = []
    for subject, body, files in groups:
        if not files:
            continue
        paths += list(files)
        head = commit_tree(tree, base, paths, head,
                           "%s\n\n%s\n\n%s\n" % (subject, body, SIGNOFF))
    run(["git", "update-ref", "refs/heads/ocp-nvme", head], tree)
    run(["git", "symbolic-ref", "HEAD", "refs/heads/ocp-nvme"], tree)
    run(["git", "read-tree", head], tree)
    log("tree at %s, %d file(s) updated" % (head[:12], changed))
