"""Driver: make the patched QEMU tree and build it.

    python3 -m qemutree.build [--no-build] [--targets T ...]

Cache layout (``$OCP_NVME_CACHE``, default ``~/.cache/ocp-nvme``):
    qemu/           git tree: pristine commit, repack fixes, project series
    qemu/build/     ninja build directory
    download/, apt/ source package download and private apt state
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import overlay, repack, source
from .repack import log

PROJECT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("OCP_NVME_CACHE", Path.home() / ".cache" / "ocp-nvme"))
TREE = CACHE / "qemu"
BUILD = TREE / "build"
STAMP = TREE / ".git" / "ocp-nvme-source"
PRISTINE_TAG = "ocp-nvme-pristine"
BASE_TAG = "ocp-nvme-base"
GIT_ID = ["-c", "user.name=ocp-nvme build", "-c", "user.email=build@ocp-nvme.invalid",
          "-c", "commit.gpgsign=false"]
FIXED_DATE = {"GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
              "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z"}

# Debian's seabios, qemu-system-data and ipxe-qemu packages provide the
# firmware the Debian repack leaves out.
FIRMWARE_PATH = ["/usr/share/qemu", "/usr/share/seabios", "/usr/lib/ipxe/qemu"]

CONFIGURE_ARGS = [
    "--target-list=x86_64-softmmu",
    "--enable-rust",
    "--disable-docs",
    "--disable-download",
    "--disable-install-blobs",
    "--enable-slirp",
    "--firmwarepath=" + ":".join(FIRMWARE_PATH),
]


def git(*args, cwd=TREE, env=None, capture=False):
    full_env = dict(os.environ, **(env or {}))
    result = subprocess.run(["git"] + GIT_ID + list(args), cwd=cwd, env=full_env,
                            check=True, text=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    return result.stdout.strip() if capture else None


def make_tree():
    """Create TREE with the pristine and base commits, unless it is current."""
    key = source.source_key()
    if STAMP.exists() and STAMP.read_text().split("\n")[0] == key:
        return
    shutil.rmtree(TREE, ignore_errors=True)
    if os.environ.get("QEMU_SRC"):
        src, desc = source.user_source(os.environ["QEMU_SRC"], CACHE / "user-src")
    else:
        src, desc = source.debian_source(CACHE)
    packaging = src / "debian"
    if packaging.exists():
        shutil.rmtree(CACHE / "debian-packaging", ignore_errors=True)
        shutil.move(str(packaging), CACHE / "debian-packaging")
    shutil.move(str(src), TREE)
    log("creating git tree for QEMU " + desc)
    git("init", "-q", "-b", "ocp-nvme")
    (TREE / ".git" / "info").mkdir(exist_ok=True)
    with open(TREE / ".git" / "info" / "exclude", "a") as exclude:
        exclude.write("/python/wheels/\n/subprojects/packagecache/\n")
    git("add", "-A", "-f", ".")
    git("commit", "-q", "-m", "QEMU " + desc, env=FIXED_DATE)
    git("tag", "-f", PRISTINE_TAG)
    repack.repair_source(TREE)
    if git("status", "--porcelain", capture=True):
        git("add", "-A", ".")
        git("commit", "-q", "-m",
            "Restore build files removed by Debian's repack\n\n"
            "Meson overlays for the Rust crate wraps, no edk2 blob unpacking and no\n"
            "installation of the prebuilt device trees.",
            env=FIXED_DATE)
    git("tag", "-f", BASE_TAG)
    STAMP.write_text(key + "\n" + desc + "\n")


def configure():
    args_file = BUILD / "ocp-nvme-configure-args"
    wanted = "\n".join(CONFIGURE_ARGS)
    if (BUILD / "build.ninja").exists() and args_file.exists() \
            and args_file.read_text() == wanted:
        return
    shutil.rmtree(BUILD, ignore_errors=True)
    BUILD.mkdir(parents=True)
    cc = ["--cc=ccache cc", "--cxx=ccache c++"] if shutil.which("ccache") else []
    log("configuring QEMU")
    subprocess.run(["../configure"] + CONFIGURE_ARGS + cc, cwd=BUILD, check=True,
                   stdout=open(BUILD / "ocp-nvme-configure.log", "w"),
                   stderr=subprocess.STDOUT)
    # configure makes -Werror the default in git trees; QEMU 10.2 builds
    # without a warning here (gcc 12, rustc 1.95), so it stays on: a
    # warning in the series fails the build, as it would upstream.
    args_file.write_text(wanted)
    # QEMU run from the build tree looks firmware up below build/qemu-bundle.
    for path in FIRMWARE_PATH:
        link = BUILD / "qemu-bundle" / path.lstrip("/")
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(path)


def build(targets):
    log("building " + " ".join(targets))
    subprocess.run(["ninja", "-C", str(BUILD)] + targets, check=True)
    out = PROJECT / "build"
    out.mkdir(exist_ok=True)
    link = out / "qemu-system-x86_64"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(BUILD / "qemu-system-x86_64")
    (out / "qemu-tree").unlink(missing_ok=True)
    (out / "qemu-tree").symlink_to(TREE)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--no-build", action="store_true",
                        help="prepare the tree and its commits only")
    parser.add_argument("--targets", nargs="*", default=["qemu-system-x86_64"])
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["bash", str(PROJECT / "scripts" / "setup-host.sh")], check=True)
    make_tree()
    repack.provide_downloads(TREE)
    overlay.apply(PROJECT, TREE, BASE_TAG)
    if args.no_build:
        return
    configure()
    build(args.targets)


if __name__ == "__main__":
    sys.exit(main())
