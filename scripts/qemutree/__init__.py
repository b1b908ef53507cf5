"""Build a patched QEMU 10.2.x tree that carries the ocp-nvme device.

Modules:
  source   -- obtain pristine QEMU source (Debian source package or QEMU_SRC)
  repack   -- restore what Debian's repacked source lacks
  overlay  -- lay the project into the tree as a series of git commits
  build    -- configure and build with ninja
"""
