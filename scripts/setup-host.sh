#!/usr/bin/env bash
# Install the Debian packages the build and the tests need, if missing.
# Crates come through cargo and Python wheels through pip, never apt.
set -euo pipefail

packages=(
  # QEMU build
  ninja-build pkg-config libglib2.0-dev libpixman-1-dev flex bison
  libclang-dev clang bindgen libfdt-dev libslirp-dev libaio-dev ccache
  # Debian's repacked QEMU source: dpkg-source; firmware the repack omits
  dpkg-dev xz-utils bzip2 seabios qemu-system-data ipxe-qemu
  # guest tests: initramfs packing
  cpio
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "[setup-host] installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "[setup-host] not root: run 'sudo apt-get install ${missing[*]}' and retry" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
