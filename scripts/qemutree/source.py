"""Obtain pristine QEMU 10.2.x source.

Default: the newest QEMU 10.2.x source package that Debian's suites list
and whose files download, fetched through a private apt configuration so
that the host's apt sources stay untouched.  Debian's unstable suite keeps
a version in its index for a while after its files left the pool, so each
candidate is tried, newest first.  ``QEMU_SRC=/path`` takes a user's own
upstream v10.2.x tree.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .repack import log

# The QEMU release series the project is built on.
SERIES = "10.2."
# Suites whose source indexes are searched for a 10.2.x package.
DEBIAN_SUITES = os.environ.get(
    "QEMU_DEBIAN_SUITES", "sid forky trixie-backports trixie").split()
NO_SOURCE_HINT = ("use your own QEMU v10.2.x tree: QEMU_SRC=/path/to/qemu make qemu")
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
             "set DEBIAN_MIRROR=<archive URI> or QEMU_SRC=<qemu v10.2.x tree>")


def apt_options(aptdir):
    return ["-o", "Dir::Etc::SourceList=%s" % (aptdir / "sources.list"),
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", "Dir::State::Lists=%s" % (aptdir / "lists"),
            "-o", "Dir::Cache=%s" % aptdir,
            "-o", "APT::Sandbox::User=root",
            "-o", "Debug::NoLocking=1"]


def upstream_version(debian_version):
    """1:10.2.2+ds-1 -> 10.2.2"""
    return re.sub(r"^\d+:", "", debian_version).split("+")[0].split("-")[0].split("~")[0]


def newest_first(versions):
    """Debian versions sorted newest first (dpkg's ordering)."""
    import functools

    def cmp(a, b):
        if a == b:
            return 0
        newer = subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0
        return -1 if newer else 1
    return sorted(set(versions), key=functools.cmp_to_key(cmp))


def debian_source(cache):
    """Download and unpack Debian's newest downloadable qemu 10.2.x source.

    Return (dir, description).
    """
    aptdir = cache / "apt"
    (aptdir / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (aptdir / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    mirror = host_debian_mirror()
    (aptdir / "sources.list").write_text("".join(
        "deb-src [signed-by=%s] %s %s main\n" % (KEYRING, mirror, suite)
        for suite in DEBIAN_SUITES))
    opts = apt_options(aptdir)
    log("reading the qemu source indexes of Debian %s" % ", ".join(DEBIAN_SUITES))
    # A suite that does not exist (any more) only warns; the others count.
    subprocess.run(["apt-get", "-q"] + opts + ["update"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run(["apt-cache"] + opts + ["showsrc", "qemu"],
                         capture_output=True, text=True).stdout
    listed = re.findall(r"(?m)^Version: (\S+)", out)
    candidates = [v for v in newest_first(listed)
                  if upstream_version(v).startswith(SERIES)]
    if not candidates:
        sys.exit("qemu-tree: no Debian suite (%s) lists a QEMU %sx source package "
                 "(listed: %s); %s" % (" ".join(DEBIAN_SUITES), SERIES,
                                       ", ".join(newest_first(listed)) or "none",
                                       NO_SOURCE_HINT))
    dl = cache / "download"
    for version in candidates:
        shutil.rmtree(dl, ignore_errors=True)
        dl.mkdir(parents=True)
        log("downloading Debian source package qemu %s" % version)
        got = subprocess.run(["apt-get", "-q"] + opts + ["source", "--download-only",
                                                         "qemu=" + version],
                             cwd=dl, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
        if got.returncode == 0:
            break
        log("qemu %s is listed but its files do not download: %s" %
            (version, (got.stderr.strip().splitlines() or ["?"])[-1]))
    else:
        sys.exit("qemu-tree: Debian lists QEMU %sx source packages (%s) but none "
                 "downloads; %s" % (SERIES, ", ".join(candidates), NO_SOURCE_HINT))
    dsc = next(dl.glob("qemu_*.dsc"))
    subprocess.run(["dpkg-source", "--no-check", "-x", "--skip-patches",
                    dsc.name, "src"], cwd=dl, check=True,
                   stdout=subprocess.DEVNULL)
    return dl / "src", "%s (Debian %s source package)" % (upstream_version(version), version)


def user_source(path, dest):
    """Copy a user's QEMU tree (its committed state if it is a git tree)."""
    src = Path(path).resolve()
    if not (src / "VERSION").exists():
        sys.exit("qemu-tree: QEMU_SRC=%s has no VERSION file" % src)
    version = (src / "VERSION").read_text().strip()
    if not version.startswith(SERIES):
        sys.exit("qemu-tree: QEMU_SRC=%s is QEMU %s, not %sx" % (src, version, SERIES))
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
    return "QEMU_SRC=" + str(Path(path).resolve()) if path else "debian:%s:%s" % (SERIES, ",".join(DEBIAN_SUITES))
