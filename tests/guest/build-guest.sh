#!/usr/bin/env bash
# Build the Linux test guest: a Debian trixie kernel and an initramfs holding
# busybox, nvme-cli and fio with exactly the shared libraries they need, and
# nvme-cli 2.16 from Debian unstable as /bin/nvme-2.16.
#
# Everything comes from Debian trixie binary packages fetched with
# `apt-get download` through a private apt configuration and unpacked with
# `dpkg-deb -x`; nothing is installed on the host.  The result is cached in
#   ${OCP_NVME_CACHE:-$HOME/.cache/ocp-nvme}/guest/
#     vmlinuz          the kernel
#     initramfs.cpio.gz
#     manifest.txt     package versions, kernel release, modules, libraries
#     stamp            hash of the inputs the build was made from
# and rebuilt only when the inputs (this script, init, the package list)
# change, or with --force / GUEST_REBUILD=1.
#
# Environment:
#   OCP_NVME_CACHE   cache root (default ~/.cache/ocp-nvme)
#   DEBIAN_MIRROR    Debian mirror URL (default: the host's own apt
#                    configuration, the URIs: entry ending in /debian)
#   DEBIAN_SUITE     default trixie
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE_ROOT=${OCP_NVME_CACHE:-$HOME/.cache/ocp-nvme}
OUT=$CACHE_ROOT/guest
SUITE=${DEBIAN_SUITE:-trixie}
FORCE=${GUEST_REBUILD:-0}
QUIET=0
for a in "$@"; do
  case $a in
    --force) FORCE=1 ;;
    --quiet|-q) QUIET=1 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-guest.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
log() { [ "$QUIET" = 1 ] || echo "build-guest: $*" >&2; }
die() { echo "build-guest: error: $*" >&2; exit 1; }

# Programs and libraries in the guest; the kernel comes from linux-image-amd64.
TOP_PACKAGES="busybox-static nvme-cli fio"
# Kernel modules wanted (their dependencies are added from modules.dep).
MODULES="nvme virtio_blk virtio_pci qemu_fw_cfg"
# Packages never needed for the binaries' libraries (scripts, daemons, data).
SKIP_RE='^(libpython.*|libpam.*|libsystemd-shared|libsemanage.*|libdebconfclient0|libdebian-installer4|libaudit-common|libtirpc-common|libsemanage-common|readline-common)$'

inputs_hash() {
  { cat "$HERE/build-guest.sh" "$HERE/init"; echo "$SUITE"; } | sha256sum | cut -c1-16
}
HASH=$(inputs_hash)
mkdir -p "$OUT"
# one build at a time (parallel test runs share the cache)
if command -v flock >/dev/null && [ -z "${GUEST_BUILD_LOCKED:-}" ]; then
  export GUEST_BUILD_LOCKED=1
  exec flock "$OUT/.lock" "$0" "$@"
fi
if [ "$FORCE" != 1 ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$HASH" ] \
   && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initramfs.cpio.gz" ]; then
  log "up to date ($OUT)"
  exit 0
fi

for t in apt-get apt-cache dpkg-deb python3 sha256sum; do
  command -v "$t" >/dev/null || die "$t is needed on the host"
done
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$KEYRING" ] || die "$KEYRING missing (apt-get install debian-archive-keyring)"

# --- the mirror: the host's own configuration unless DEBIAN_MIRROR is set
mirror_from_host() {
  local f
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { sub(/\/$/, "", $i); print $i; exit } }' "$f"
  done | head -n1
  if [ -r /etc/apt/sources.list ]; then
    awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { sub(/\/$/, "", $i); print $i; exit } }' /etc/apt/sources.list
  fi
}
MIRROR=${DEBIAN_MIRROR:-$(mirror_from_host | head -n1)}
[ -n "$MIRROR" ] || die "no Debian mirror found in the host's apt configuration; set DEBIAN_MIRROR"

# --- private apt configuration
APTDIR=$OUT/apt
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/debs"
echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" > "$APTDIR/sources.list"
# Own apt.conf (read through APT_CONFIG): none of the host's apt.conf.d
# (no update hooks, no extra index targets, no host pinning), but the host's
# Acquire settings (proxies, validity checks) so the mirror is reached the
# same way the host reaches it.
mkdir -p "$APTDIR/conf.d"
{
  echo "Dir::Etc::Parts \"$APTDIR/conf.d\";"
  echo "Dir::Etc::Main \"/dev/null\";"
  echo "Dir::Etc::Preferences \"/dev/null\";"
  echo "Dir::Etc::PreferencesParts \"$APTDIR/conf.d\";"
  apt-config dump 2>/dev/null | grep -E '^Acquire::' | grep -Ev '^Acquire::(IndexTargets|Languages)' || true
} > "$APTDIR/apt.conf"
export APT_CONFIG=$APTDIR/apt.conf
APT_OPTS=(
  -o "Dir::Etc::SourceList=$APTDIR/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$APTDIR/lists"
  -o "Dir::Cache=$APTDIR/cache"
  -o Dir::State::Status=/dev/null
  -o APT::Sandbox::User=root
  -o Debug::NoLocking=1
  -o Acquire::Languages=none
  -o APT::Get::List-Cleanup=0
)
log "apt-get update ($SUITE from the host's mirror)"
apt-get -q "${APT_OPTS[@]}" update >"$APTDIR/update.log" 2>&1 \
  || { cat "$APTDIR/update.log" >&2; die "apt-get update failed"; }

declare -A VERS=()
# candidate versions of many packages with one apt-cache call (it is slow to start)
load_candidates() {
  local p v
  while read -r p v; do VERS[$p]=$v; done < <(apt-cache "${APT_OPTS[@]}" policy "$@" \
    | awk '/^[^ ].*:$/ { sub(/:$/, ""); p = $0 } /Candidate:/ { print p, $2 }')
}
candidate() { echo "${VERS[$1]:-}"; }

KPKG=$(apt-cache "${APT_OPTS[@]}" depends linux-image-amd64 \
        | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$KPKG" ] || die "cannot resolve linux-image-amd64"

# Library closure by package dependencies (the ELF closure below trims it).
DEPS=$(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests \
         --no-conflicts --no-breaks --no-replaces --no-enhances $TOP_PACKAGES \
       | grep -v '^ ' | grep -v '^<' | sort -u \
       | grep -E '^(lib[a-z0-9].*|zlib1g)$' | grep -Ev "$SKIP_RE" || true)
PACKAGES="$KPKG $TOP_PACKAGES $DEPS"
load_candidates $PACKAGES

# --- download (kept in $APTDIR/debs; only missing versions are fetched)
cd "$APTDIR/debs"
need=()
for p in $PACKAGES; do
  v=$(candidate "$p")
  [ -n "$v" ] && [ "$v" != "(none)" ] || die "package $p has no candidate in $SUITE"
  vf=${v//:/%3a}
  ls "${p}_${vf}_"*.deb >/dev/null 2>&1 || need+=("$p=$v")
done
if [ ${#need[@]} -gt 0 ]; then
  log "downloading ${#need[@]} packages"
  apt-get -q "${APT_OPTS[@]}" download "${need[@]}" >"$APTDIR/download.log" 2>&1 \
    || { cat "$APTDIR/download.log" >&2; die "apt-get download failed"; }
fi

# --- unpack into a staging dir (reused while the package set is the same)
STAGE=$OUT/stage
PKGLIST=$(for p in $PACKAGES; do echo "$p $(candidate "$p")"; done)
rm -rf "$OUT/root"
if [ ! -f "$STAGE/.packages" ] || [ "$(cat "$STAGE/.packages")" != "$PKGLIST" ]; then
  log "unpacking packages"
  rm -rf "$STAGE"
  mkdir -p "$STAGE"
  for p in $PACKAGES; do
    v=$(candidate "$p"); vf=${v//:/%3a}
    deb=$(ls "${p}_${vf}_"*.deb | head -n1)
    dpkg-deb -x "$deb" "$STAGE"
  done
  echo "$PKGLIST" > "$STAGE/.packages"
fi
{
  echo "# ocp-nvme test guest, built $(date -u +%Y-%m-%dT%H:%M:%SZ) from Debian $SUITE"
  echo "# inputs hash $HASH"
  echo "## packages"
  echo "$PKGLIST"
} > "$OUT/manifest.new"

# --- assemble the root
ROOT=$OUT/root
mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,lib64,usr/lib/x86_64-linux-gnu,lib/modules}
ln -s usr/lib/x86_64-linux-gnu "$ROOT/lib/x86_64-linux-gnu" 2>/dev/null || true
cp "$STAGE/usr/bin/busybox" "$ROOT/bin/busybox"
cp "$STAGE/usr/sbin/nvme" "$ROOT/bin/nvme"
cp "$STAGE/usr/bin/fio" "$ROOT/bin/fio"
install -m 0755 "$HERE/init" "$ROOT/init"

# ELF closure of the binaries: python3 reads DT_NEEDED (no host ldd on
# trixie binaries).
python3 - "$STAGE" "$ROOT" "$OUT/manifest.new" <<'PY'
import os, shutil, struct, sys
stage, root, manifest = sys.argv[1:4]
libdirs = ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib", "lib",
           "usr/lib/x86_64-linux-gnu/ceph"]

def needed(path):
    with open(path, "rb") as f:
        d = f.read()
    if d[:4] != b"\x7fELF" or d[4] != 2:
        return [], None
    phoff, = struct.unpack_from("<Q", d, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", d, 0x36)
    loads, dyn, interp = [], None, None
    for i in range(phnum):
        p_type, _, p_off, p_vaddr, _, p_filesz, _, _ = struct.unpack_from("<IIQQQQQQ", d, phoff + i * phentsize)
        if p_type == 1: loads.append((p_vaddr, p_off, p_filesz))
        elif p_type == 2: dyn = (p_off, p_filesz)
        elif p_type == 3: interp = d[p_off:p_off + p_filesz].rstrip(b"\0").decode()
    if not dyn:
        return [], interp
    def v2o(v):
        for va, off, sz in loads:
            if va <= v < va + sz: return v - va + off
        raise ValueError("bad address")
    ents, strtab = [], None
    for i in range(dyn[1] // 16):
        tag, val = struct.unpack_from("<qQ", d, dyn[0] + 16 * i)
        if tag == 0: break
        if tag == 1: ents.append(val)
        if tag == 5: strtab = v2o(val)
    out = []
    for off in ents:
        e = d.index(b"\0", strtab + off)
        out.append(d[strtab + off:e].decode())
    return out, interp

def resolve(rel):
    """Follow symlinks inside the staging tree (absolute targets stay in it)."""
    parts, path, hops = rel.strip("/").split("/"), "", 0
    while parts:
        c = parts.pop(0)
        nxt = os.path.join(path, c) if path else c
        full = os.path.join(stage, nxt)
        if os.path.islink(full):
            hops += 1
            if hops > 40: return None
            t = os.readlink(full)
            base = "" if t.startswith("/") else path
            parts = [x for x in os.path.join(base, t).strip("/").split("/") if x] + parts
            path = ""
            # normalise ".." in the rebuilt path
            norm = []
            for x in parts:
                if x == "..":
                    if norm: norm.pop()
                elif x != ".": norm.append(x)
            parts = norm
        else:
            path = nxt
    full = os.path.join(stage, path)
    return full if os.path.isfile(full) else None

def find(soname):
    for ld in libdirs:
        p = resolve(os.path.join(ld, soname))
        if p: return p
    return None

todo = [os.path.join(root, "bin", b) for b in ("nvme", "fio")]
seen, missing, libs = set(), [], []
while todo:
    f = todo.pop()
    names, interp = needed(f)
    if interp and "INTERP" not in seen:
        seen.add("INTERP")
        src = resolve(interp) or find(os.path.basename(interp))
        if not src: sys.exit("build-guest: error: no " + interp)
        dst = os.path.join(root, interp.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
        libs.append(interp)
    for n in names:
        if n in seen: continue
        seen.add(n)
        src = find(n)
        if not src:
            missing.append(n); continue
        dst = os.path.join(root, "usr/lib/x86_64-linux-gnu", n)
        shutil.copy2(src, dst)
        libs.append(n)
        todo.append(dst)
if missing:
    sys.exit("build-guest: error: libraries not found in the packages: " + " ".join(sorted(missing)))
with open(manifest, "a") as m:
    m.write("## libraries\n")
    for l in sorted(libs): m.write(l + "\n")
PY

# --- nvme-cli 2.16 from Debian unstable (sid): its own private apt
# configuration (the sid line added to the same mirror; sid's Release file
# has a Valid-Until, so the check is off), unpacked into its own staging dir
# and installed as /opt/nvme-2.16 with sid's loader and libraries (sid's
# glibc is newer than trixie's), run through that loader by /bin/nvme-2.16.
# trixie's nvme-cli 2.13 stays /bin/nvme.
SID_SUITE=${DEBIAN_SID_SUITE:-sid}
SID_TOP="nvme-cli libnvme1t64"
SIDDIR=$OUT/apt-sid
mkdir -p "$SIDDIR/lists/partial" "$SIDDIR/cache/archives/partial" "$SIDDIR/debs"
echo "deb [signed-by=$KEYRING] $MIRROR $SID_SUITE main" > "$SIDDIR/sources.list"
SID_OPTS=("${APT_OPTS[@]}"
  -o "Dir::Etc::SourceList=$SIDDIR/sources.list"
  -o "Dir::State::Lists=$SIDDIR/lists"
  -o "Dir::Cache=$SIDDIR/cache"
  -o Acquire::Check-Valid-Until=false)
log "apt-get update ($SID_SUITE, for nvme-cli 2.16)"
apt-get -q "${SID_OPTS[@]}" update >"$SIDDIR/update.log" 2>&1 \
  || { cat "$SIDDIR/update.log" >&2; die "apt-get update ($SID_SUITE) failed"; }
SID_DEPS=$(apt-cache "${SID_OPTS[@]}" depends --recurse --no-recommends --no-suggests \
         --no-conflicts --no-breaks --no-replaces --no-enhances $SID_TOP \
       | grep -v '^ ' | grep -v '^<' | sort -u \
       | grep -E '^(lib[a-z0-9].*|zlib1g)$' | grep -Ev "$SKIP_RE" || true)
declare -A SIDV=()
while read -r p v; do SIDV[$p]=$v; done < <(apt-cache "${SID_OPTS[@]}" policy $SID_TOP $SID_DEPS \
  | awk '/^[^ ].*:$/ { sub(/:$/, ""); p = $0 } /Candidate:/ { print p, $2 }')
SIDSTAGE=$OUT/stage-sid
rm -rf "$SIDSTAGE"; mkdir -p "$SIDSTAGE"
cd "$SIDDIR/debs"
sid_need=()
for p in $SID_TOP $SID_DEPS; do
  v=${SIDV[$p]:-}
  [ -n "$v" ] && [ "$v" != "(none)" ] || die "package $p has no candidate in $SID_SUITE"
  ls "${p}_${v//:/%3a}_"*.deb >/dev/null 2>&1 || sid_need+=("$p=$v")
done
if [ ${#sid_need[@]} -gt 0 ]; then
  log "downloading ${#sid_need[@]} $SID_SUITE packages"
  apt-get -q "${SID_OPTS[@]}" download "${sid_need[@]}" >"$SIDDIR/download.log" 2>&1 \
    || { cat "$SIDDIR/download.log" >&2; die "apt-get download ($SID_SUITE) failed"; }
fi
for p in $SID_TOP $SID_DEPS; do
  v=${SIDV[$p]}
  dpkg-deb -x "$(ls "${p}_${v//:/%3a}_"*.deb | head -n1)" "$SIDSTAGE"
done
cd "$OUT"
{
  echo "## $SID_SUITE packages (/opt/nvme-2.16)"
  for p in $SID_TOP $SID_DEPS; do echo "$p ${SIDV[$p]}"; done
} >> "$OUT/manifest.new"
mkdir -p "$ROOT/opt/nvme-2.16/lib"
cp "$SIDSTAGE/usr/sbin/nvme" "$ROOT/opt/nvme-2.16/nvme"
python3 - "$SIDSTAGE" "$ROOT/opt/nvme-2.16" <<'PY'
import os, shutil, struct, sys
stage, dest = sys.argv[1:3]
libdirs = ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib", "lib"]
def needed(path):
    d = open(path, "rb").read()
    phoff, = struct.unpack_from("<Q", d, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", d, 0x36)
    loads, dyn, interp = [], None, None
    for i in range(phnum):
        t, _, off, va, _, sz, _, _ = struct.unpack_from("<IIQQQQQQ", d, phoff + i * phentsize)
        if t == 1: loads.append((va, off, sz))
        elif t == 2: dyn = (off, sz)
        elif t == 3: interp = d[off:off + sz].rstrip(b"\0").decode()
    if not dyn: return [], interp
    v2o = lambda v: next(v - va + off for va, off, sz in loads if va <= v < va + sz)
    ents, strtab = [], None
    for i in range(dyn[1] // 16):
        tag, val = struct.unpack_from("<qQ", d, dyn[0] + 16 * i)
        if tag == 0: break
        if tag == 1: ents.append(val)
        if tag == 5: strtab = v2o(val)
    return [d[strtab + o:d.index(b"\0", strtab + o)].decode() for o in ents], interp
def find(name):
    for ld in libdirs:
        p = os.path.join(stage, ld, name)
        if os.path.exists(p): return os.path.realpath(p)
    return None
todo, seen = [os.path.join(dest, "nvme")], set()
while todo:
    names, interp = needed(todo.pop())
    if interp and "ld" not in seen:
        seen.add("ld")
        src = find(os.path.basename(interp))
        if not src: sys.exit("build-guest: error: no %s in the sid packages" % interp)
        shutil.copy2(src, os.path.join(dest, "lib", "ld.so"))
    for n in names:
        if n in seen: continue
        seen.add(n)
        src = find(n)
        if not src: sys.exit("build-guest: error: %s not in the sid packages" % n)
        shutil.copy2(src, os.path.join(dest, "lib", n))
        todo.append(os.path.join(dest, "lib", n))
PY
cat > "$ROOT/bin/nvme-2.16" <<'SH'
#!/bin/sh
exec /opt/nvme-2.16/lib/ld.so --library-path /opt/nvme-2.16/lib /opt/nvme-2.16/nvme "$@"
SH
chmod 0755 "$ROOT/bin/nvme-2.16"

# --- kernel and modules
KVER=$(ls "$STAGE/usr/lib/modules" 2>/dev/null | head -n1)
[ -n "$KVER" ] || die "no modules in $KPKG"
cp "$STAGE/boot/vmlinuz-$KVER" "$OUT/vmlinuz.new"
MODDIR=$STAGE/usr/lib/modules/$KVER
python3 - "$MODDIR" "$ROOT" "$KVER" "$OUT/manifest.new" $MODULES <<'PY'
# The package has no modules.dep (depmod runs at install): read each
# module's "depends=" from its .modinfo section instead.
import os, struct, subprocess, sys
moddir, root, kver, manifest, *want = sys.argv[1:]
norm = lambda n: n.split(".ko")[0].replace("-", "_")
byname = {}
for d, _, files in os.walk(os.path.join(moddir, "kernel")):
    for f in files:
        if ".ko" in f: byname[norm(f)] = os.path.join(d, f)
builtin = set()
with open(os.path.join(moddir, "modules.builtin")) as f:
    for line in f: builtin.add(norm(os.path.basename(line.strip())))
def load(path):
    if path.endswith(".xz"):
        try:
            import lzma
            return lzma.open(path).read()
        except ImportError:
            return subprocess.run(["xz", "-dc", path], check=True, capture_output=True).stdout
    if path.endswith(".zst"): return subprocess.run(["zstd", "-dcq", path], check=True, capture_output=True).stdout
    if path.endswith(".gz"):
        import gzip
        return gzip.open(path).read()
    return open(path, "rb").read()
def modinfo(data):
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stro = secs[shstrndx][4]
    for name, _, _, _, off, size in secs:
        n = data[stro + name:data.index(b"\0", stro + name)]
        if n == b".modinfo":
            return dict(kv.split("=", 1) for kv in data[off:off + size].decode(errors="replace").split("\0") if "=" in kv)
    return {}
order, seen, blobs, skipped = [], set(), {}, []
def visit(n):
    n = norm(n)
    if n in seen: return
    seen.add(n)
    if n not in byname:
        if n in builtin: skipped.append(n + " (built in)"); return
        sys.exit("build-guest: error: module %s not found" % n)
    data = load(byname[n])
    for d in filter(None, modinfo(data).get("depends", "").split(",")): visit(d)
    blobs[n] = data
    order.append(n)
for w in want: visit(w)
dst = os.path.join(root, "lib/modules")
for n in order:
    open(os.path.join(dst, n + ".ko"), "wb").write(blobs[n])
with open(os.path.join(dst, "load-order"), "w") as f:
    f.write("".join(n + ".ko\n" for n in order))
with open(manifest, "a") as m:
    m.write("## kernel %s\n## modules (load order)\n" % kver)
    for n in order: m.write(n + "\n")
    for s in skipped: m.write(s + "\n")
PY
echo "$KVER" > "$ROOT/etc/kernel-release"
cp "$OUT/manifest.new" "$ROOT/etc/guest-manifest"

# --- the initramfs (newc cpio written by python: no host cpio needed)
python3 - "$ROOT" "$OUT/initramfs.cpio.gz.new" <<'PY'
import gzip, os, stat, sys
root, out = sys.argv[1:3]
ino = [1000]
def hdr(name, mode, size, nlink=1, rdev=(0, 0)):
    ino[0] += 1
    h = "070701" + "".join("%08X" % v for v in (
        ino[0], mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(name) + 1, 0))
    b = h.encode() + name.encode() + b"\0"
    return b + b"\0" * (-len(b) % 4)
with gzip.open(out, "wb", compresslevel=6) as o:
    entries = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(d, root)
        if rel != ".": entries.append(rel)
        for f in sorted(files): entries.append(os.path.join(rel, f) if rel != "." else f)
    # device nodes the kernel wants before devtmpfs is mounted
    o.write(hdr("dev/console", stat.S_IFCHR | 0o600, 0, rdev=(5, 1)))
    o.write(hdr("dev/null", stat.S_IFCHR | 0o666, 0, rdev=(1, 3)))
    for e in entries:
        p = os.path.join(root, e)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            t = os.readlink(p).encode()
            o.write(hdr(e, stat.S_IFLNK | 0o777, len(t))); o.write(t + b"\0" * (-len(t) % 4))
        elif stat.S_ISDIR(st.st_mode):
            o.write(hdr(e, stat.S_IFDIR | 0o755, 0, nlink=2))
        else:
            data = open(p, "rb").read()
            o.write(hdr(e, stat.S_IFREG | (st.st_mode & 0o777), len(data))); o.write(data + b"\0" * (-len(data) % 4))
    o.write(hdr("TRAILER!!!", 0, 0, nlink=1))
PY

mv "$OUT/vmlinuz.new" "$OUT/vmlinuz"
mv "$OUT/initramfs.cpio.gz.new" "$OUT/initramfs.cpio.gz"
mv "$OUT/manifest.new" "$OUT/manifest.txt"
echo "$HASH" > "$OUT/stamp"
log "built $OUT (kernel $KVER, initramfs $(du -h "$OUT/initramfs.cpio.gz" | cut -f1))"
