#!/usr/bin/env python3
"""Make the patched QEMU tree and build it (see scripts/qemutree/)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from qemutree import build  # noqa: E402

sys.exit(build.main())
