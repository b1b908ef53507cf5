"""Obtain pristine QEMU 10.0.x source.

Default: Debian's ``qemu`` source package of the stable suite, fetched
through a private apt configuration so that the host's apt sources stay
untouched.  ``QEMU_SRC=/path`` takes a user's own upstream v10.0.x tree.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .repack import log

DEBIAN_SUITE = os.environ.get("QEMU_DEBIAN_SUITE", "trixie")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def host_debian_mirror():
    """The Debian archive the host's apt already uses (no host name here)."""
    override = os.environ.get("DEBIAN_MIRROR")
    if override:
        return override
    uris = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in path.read_text().splitlines():
            if line.startswith("URIs:"):
                uris += line.split()[1:]
    listfile = Path("/etc/apt/sources.list")
    if listfile.exists():
        for line in listfile.read_text().splitlines():
            fields = line.split()
            if fields and fields[0] == "deb":
                uris += [f for f in fields[1:] if "://" in f][:1]
    for uri in uris:
        if uri.rstrip("/").endswith("/debian"):
            return uri
    sys.exit("qemu-tree: no Debian archive found in the host's apt sources; "
             "set DEBIAN_MIRROR=<archive URI> or QEMU_SRC=<qemu 10.0 tree>")


def apt_options(aptdir):
    return ["-o", "Dir::Etc::SourceList=%s" % (aptdir / "sources.list"),
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", "Dir::State::Lists=%s" % (aptdir / "lists"),
            "-o", "Dir::Cache=%s" % aptdir,
            "-o", "APT::Sandbox::User=root",
            "-o", "Debug::NoLocking=1"]


def debian_source(cache):
    """Download and unpack Debian's qemu source; return (dir, version)."""
    aptdir = cache / "apt"
    (aptdir / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (aptdir / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (aptdir / "sources.list").write_text(
        "deb-src [signed-by=%s] %s %s main\n" % (KEYRING, host_debian_mirror(), DEBIAN_SUITE))
    opts = apt_options(aptdir)
    log("reading Debian %s source index" % DEBIAN_SUITE)
    subprocess.run(["apt-get", "-q"] + opts + ["update"], check=True,
                   stdout=subprocess.DEVNULL)
    out = subprocess.run(["apt-cache"] + opts + ["showsrc", "qemu"], check=True,
                         capture_output=True, text=True).stdout
    versions = re.findall(r"(?m)^Version: (\S+)", out)
    if not versions:
        sys.exit("qemu-tree: Debian %s has no qemu source package" % DEBIAN_SUITE)
    version = versions[0]
    upstream = re.sub(r"^\d+:", "", version).split("+")[0].split("-")[0]
    if not upstream.startswith("10.0."):
        sys.exit("qemu-tree: Debian %s carries QEMU %s, not 10.0.x; use QEMU_SRC="
                 "<qemu v10.0.x tree>" % (DEBIAN_SUITE, upstream))
    dl = cache / "download"
    shutil.rmtree(dl, ignore_errors=True)
    dl.mkdir(parents=True)
    log("downloading Debian source package qemu %s" % version)
    subprocess.run(["apt-get", "-q"] + opts + ["source", "--download-only",
                                               "qemu=" + version],
                   cwd=dl, check=True, stdout=subprocess.DEVNULL)
    dsc = next(dl.glob("qemu_*.dsc"))
    subprocess.run(["dpkg-source", "--no-check", "-x", "--skip-patches",
                    dsc.name, "src"], cwd=dl, check=True,
                   stdout=subprocess.DEVNULL)
    return dl / "src", "%s (Debian %s source package)" % (upstream, version)


def user_source(path, dest):
    """Copy a user's QEMU tree (its committed state if it is a git tree)."""
    src = Path(path).resolve()
    if not (src / "VERSION").exists():
        sys.exit("qemu-tree: QEMU_SRC=%s has no VERSION file" % src)
    version = (src / "VERSION").read_text().strip()
    if not version.startswith("10.0."):
        sys.exit("qemu-tree: QEMU_SRC=%s is QEMU %s, not 10.0.x" % (src, version))
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if (src / ".git").exists():
        archive = subprocess.run(["git", "-C", str(src), "archive", "HEAD"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        head = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"],
                              check=True, capture_output=True, text=True).stdout.strip()
        return dest, "%s (QEMU_SRC=%s at %s)" % (version, src, head)
    shutil.copytree(src, dest, dirs_exist_ok=True, symlinks=True,
                    ignore=shutil.ignore_patterns("build"))
    return dest, "%s (QEMU_SRC=%s)" % (version, src)


def source_key():
    """What identifies the wanted source: a changed key rebuilds the tree."""
    path = os.environ.get("QEMU_SRC")
    return "QEMU_SRC=" + str(Path(path).resolve()) if path else "debian:" + DEBIAN_SUITE
