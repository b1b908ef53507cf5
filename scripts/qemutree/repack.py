"""Restore what Debian's repacked QEMU source (``+ds``) removes.

Debian drops ``subprojects/packagefiles/`` (the meson overlays that QEMU's
Rust crate wraps point to), the wheels in ``python/wheels/`` and the
``edk2-*.fd.bz2`` blobs.  Upstream trees have all of these.  This module
writes the meson overlays itself (one table below), takes the crate tarballs
from cargo's cache and the wheels from pip, and disables the edk2 unpacking.
"""

import configparser
import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Python wheels QEMU's configure installs offline (see pythondeps.toml).
# QEMU 10.2 with Rust needs meson >= 1.9.0 (configure disables Rust otherwise).
WHEELS = ["meson==1.9.0", "pycotap==1.3.1"]

# The crates behind subprojects/*-rs.wrap: how each is compiled.  Fields:
# crate name as rustc sees it, edition, kind ("lib" or "proc-macro"),
# whether it is a build-time (native) library, dependencies (wrap names),
# and the --cfg values its build.rs or Cargo features would set.
CRATES = {
    "unicode-ident-1-rs": dict(crate="unicode_ident", edition="2018", kind="lib",
                               native=True, deps=[], cfgs=[]),
    "proc-macro2-1-rs": dict(crate="proc_macro2", edition="2021", kind="lib",
                             native=True, deps=["unicode-ident-1-rs"],
                             cfgs=['feature="proc-macro"', "wrap_proc_macro",
                                   "no_literal_byte_character",
                                   "no_literal_c_string", "no_source_text"]),
    "quote-1-rs": dict(crate="quote", edition="2018", kind="lib", native=True,
                       deps=["proc-macro2-1-rs"], cfgs=['feature="proc-macro"']),
    "syn-2-rs": dict(crate="syn", edition="2021", kind="lib", native=True,
                     deps=["proc-macro2-1-rs", "quote-1-rs", "unicode-ident-1-rs"],
                     cfgs=['feature="%s"' % f for f in
                           ("full", "derive", "parsing", "printing",
                            "clone-impls", "proc-macro", "extra-traits")]),
    "either-1-rs": dict(crate="either", edition="2018", kind="lib", native=True,
                        deps=[], cfgs=['feature="use_std"']),
    "itertools-0.11-rs": dict(crate="itertools", edition="2018", kind="lib",
                              native=True, deps=["either-1-rs"],
                              cfgs=['feature="use_std"', 'feature="use_alloc"']),
    "proc-macro-error-attr-1-rs": dict(crate="proc_macro_error_attr",
                                       edition="2018", kind="proc-macro",
                                       native=True,
                                       deps=["proc-macro2-1-rs", "quote-1-rs"],
                                       cfgs=[]),
    "proc-macro-error-1-rs": dict(crate="proc_macro_error", edition="2018",
                                  kind="lib", native=True,
                                  deps=["proc-macro-error-attr-1-rs",
                                        "proc-macro2-1-rs", "quote-1-rs",
                                        "syn-2-rs"],
                                  cfgs=["use_fallback", 'feature="syn-error"']),
    "bilge-impl-0.2-rs": dict(crate="bilge_impl", edition="2021",
                              kind="proc-macro", native=False,
                              deps=["itertools-0.11-rs",
                                    "proc-macro-error-attr-1-rs",
                                    "proc-macro-error-1-rs", "quote-1-rs",
                                    "syn-2-rs", "proc-macro2-1-rs"],
                              cfgs=[]),
    "arbitrary-int-1-rs": dict(crate="arbitrary_int", edition="2021", kind="lib",
                               native=False, deps=[], cfgs=[]),
    "bilge-0.2-rs": dict(crate="bilge", edition="2021", kind="lib", native=False,
                         deps=["arbitrary-int-1-rs", "bilge-impl-0.2-rs"],
                         cfgs=[]),
    "anyhow-1-rs": dict(crate="anyhow", edition="2018", kind="lib", native=False,
                        deps=[], cfgs=['feature="std"', "std_backtrace"],
                        # build.rs: core::error::Error arrived in Rust 1.81.
                        cfgs_before={"1.81.0": ["anyhow_no_core_error"]}),
    "attrs-0.2-rs": dict(crate="attrs", edition="2021", kind="lib", native=True,
                         deps=["proc-macro2-1-rs", "syn-2-rs"], cfgs=[]),
    "foreign-0.3-rs": dict(crate="foreign", edition="2021", kind="lib",
                           native=False, deps=["libc-0.2-rs"], cfgs=[]),
    # QEMU requires glib 2.66; the feature list mirrors glib-sys's Cargo.toml.
    "glib-sys-0.21-rs": dict(crate="glib_sys", edition="2021", kind="lib",
                             native=False, deps=["libc-0.2-rs"],
                             cfgs=['feature="v2_%d"' % v for v in (58, 60, 62, 64, 66)]),
    "libc-0.2-rs": dict(crate="libc", edition="2015", kind="lib", native=False,
                        deps=[],
                        cfgs=["libc_priv_mod_use", "libc_union",
                              "libc_const_size_of", "libc_align", "libc_int128",
                              "libc_core_cvoid", "libc_packedN",
                              "libc_cfg_target_vendor", "libc_non_exhaustive",
                              "libc_long_array", "libc_ptr_addr_of",
                              "libc_underscore_const_names",
                              "libc_const_extern_fn"]),
}


def rustc_version():
    out = subprocess.run(["rustc", "--version"], check=True, capture_output=True,
                         text=True).stdout
    return tuple(int(x) for x in re.search(r"(\d+)\.(\d+)\.(\d+)", out).groups())


def log(msg):
    print("[qemu-tree] " + msg, flush=True)


def read_wrap(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser["wrap-file"]


def meson_overlay(wrap_name, version):
    """Text of subprojects/packagefiles/<wrap_name>/meson.build."""
    spec = CRATES[wrap_name]
    native = spec["native"]
    lines = [
        "# Written by ocp-nvme's build script: Debian's QEMU source omits",
        "# subprojects/packagefiles.",
        "project('%s', 'rust'," % wrap_name,
        "  meson_version: '>=1.5.0',",
        "  version: '%s',"  % version,
        "  license: 'MIT OR Apache-2.0',",
        "  default_options: [])",
        "",
    ]
    for dep in spec["deps"]:
        lines.append("subproject('%s', required: true)" % dep)
    dep_vars = []
    for dep in spec["deps"]:
        var = re.sub(r"[^A-Za-z0-9]", "_", dep) + "_dep"
        lines.append("%s = dependency('%s'%s)" %
                     (var, dep, ", native: true" if CRATES[dep]["native"] else ""))
        dep_vars.append(var)
    args = ["'--cap-lints', 'allow'"]
    cfgs = list(spec["cfgs"])
    for version, extra in spec.get("cfgs_before", {}).items():
        if rustc_version() < tuple(int(x) for x in version.split(".")):
            cfgs += extra
    for cfg in cfgs:
        args.append("'--cfg', '%s'" % cfg.replace("'", "\\'"))
    std = "['rust_std=%s', 'build.rust_std=%s']" % (spec["edition"], spec["edition"])
    lines.append("")
    if spec["kind"] == "proc-macro":
        lines += [
            "_lib = import('rust').proc_macro('%s', files('src/lib.rs')," % spec["crate"],
            "  override_options: %s," % std,
        ]
    else:
        lines += [
            "_lib = static_library('%s', files('src/lib.rs')," % spec["crate"],
            "  gnu_symbol_visibility: 'hidden',",
            "  override_options: %s," % std,
            "  rust_abi: 'rust',",
            "  native: %s," % ("true" if native else "false"),
        ]
    lines += [
        "  rust_args: [%s]," % ", ".join(args),
        "  dependencies: [%s])" % ", ".join(dep_vars),
        "",
        "_dep = declare_dependency(link_with: _lib)",
    ]
    lines.append("meson.override_dependency('%s', _dep%s)" %
                 (wrap_name, ", native: true" if native else ""))
    return "\n".join(lines) + "\n"


def write_packagefiles(tree):
    """Write the meson overlays and drop patches the repack no longer has."""
    sub = tree / "subprojects"
    for wrap in sorted(sub.glob("*-rs.wrap")):
        name = wrap.stem
        if name not in CRATES:
            sys.exit("qemu-tree: unknown Rust wrap %s; update scripts/qemutree/"
                     "repack.py's CRATES table" % wrap.name)
        section = read_wrap(wrap)
        version = section["directory"].rsplit("-", 1)[1]
        overlay = sub / "packagefiles" / section["patch_directory"]
        if (overlay / "meson.build").exists():
            continue
        overlay.mkdir(parents=True, exist_ok=True)
        (overlay / "meson.build").write_text(meson_overlay(name, version))
        if "diff_files" in section:
            # Those patches only make the crates build with rustc < 1.65.
            text = wrap.read_text()
            wrap.write_text(re.sub(r"(?m)^diff_files *=.*\n", "", text))


def disable_edk2_unpack(tree):
    """pc-bios/meson.build unpacks edk2 blobs the repack removed."""
    path = tree / "pc-bios" / "meson.build"
    text = path.read_text()
    anchor = "if unpack_edk2_blobs\n"
    if anchor not in text:
        sys.exit("qemu-tree: pc-bios/meson.build has no %r any more; update "
                 "scripts/qemutree/repack.py's disable_edk2_unpack" % anchor.strip())
    path.write_text(text.replace(anchor,
                                 "if unpack_edk2_blobs and false  # blobs not in source\n", 1))


def skip_missing_dtbs(tree):
    """pc-bios/dtb/meson.build installs prebuilt .dtb files when dtc is
    missing; the repack removed them (QEMU 10.2 fails at configure time)."""
    path = tree / "pc-bios" / "dtb" / "meson.build"
    if not path.exists():
        return
    text = path.read_text()
    anchor = "    install_data(dtbs, install_dir: qemu_datadir / 'dtb')\n"
    if anchor in text:
        path.write_text(text.replace(
            anchor, "    # prebuilt .dtb files are not in the source: nothing to install\n", 1))


def cargo_registry_cache():
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    return home / "registry" / "cache"


def fill_packagecache(tree):
    """Place each wrap's crate tarball where meson looks for it offline.

    rust/Cargo.lock pins exactly the wrap versions; cargo's cached .crate
    files are byte-identical to the tarballs the wraps' hashes expect.
    """
    cache = tree / "subprojects" / "packagecache"
    wraps = sorted((tree / "subprojects").glob("*-rs.wrap"))
    missing = [w for w in wraps
               if not (cache / read_wrap(w)["source_filename"]).exists()]
    if not missing:
        return
    log("fetching crates with cargo (rust/Cargo.lock)")
    subprocess.run(["cargo", "fetch", "--locked"], cwd=tree / "rust", check=True)
    cache.mkdir(parents=True, exist_ok=True)
    for wrap in missing:
        section = read_wrap(wrap)
        crate_file = section["directory"] + ".crate"
        found = glob.glob(str(cargo_registry_cache() / "*" / crate_file))
        if not found:
            sys.exit("qemu-tree: cargo did not provide %s for %s" % (crate_file, wrap.name))
        shutil.copyfile(found[0], cache / section["source_filename"])


def fill_wheels(tree):
    wheels = tree / "python" / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    want = {spec.split("==")[0]: spec for spec in WHEELS}
    have = {p.name.split("-")[0].lower() for p in wheels.glob("*.whl")}
    need = [spec for name, spec in want.items() if name not in have]
    if need:
        log("fetching Python wheels with pip: " + " ".join(need))
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                        "--only-binary=:all:", "-d", str(wheels)] + need,
                       check=True, stdout=subprocess.DEVNULL)


def repair_source(tree):
    """Changes that belong in the tree's base commit (tracked files)."""
    if not (tree / "subprojects" / "packagefiles").is_dir():
        log("restoring subprojects/packagefiles removed by the Debian repack")
        write_packagefiles(tree)
    if not list((tree / "pc-bios").glob("edk2-*.fd.bz2")):
        disable_edk2_unpack(tree)
    if not list((tree / "pc-bios" / "dtb").glob("*.dtb")):
        skip_missing_dtbs(tree)


def provide_downloads(tree):
    """Untracked inputs configure needs offline: crates and wheels."""
    fill_packagecache(tree)
    fill_wheels(tree)
