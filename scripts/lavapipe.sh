#!/usr/bin/env bash
# Unpacks Mesa 25's software Vulkan driver (lavapipe) from Debian bookworm-backports into
# .cache/lavapipe, so that the GPU tests run (slowly, as a correctness check) on a machine without a GPU.
# Debian 12's own Mesa 22 is too old for Dawn. Nothing is installed system-wide; the tests point
# VK_DRIVER_FILES and LD_LIBRARY_PATH at the folder. Needs apt-get, curl and dpkg-deb.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/lavapipe
[ -f "$dest/lvp.json" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mirror=https://deb.debian.org/debian
curl -fsSL "$mirror/dists/bookworm-backports/main/binary-amd64/Packages.xz" | xz -d > "$tmp/Packages"
for p in mesa-vulkan-drivers libdrm2 libdrm-amdgpu1 libdrm-common libwayland-client0; do
  f=$(awk -v p="$p" '$1 == "Package:" { x = ($2 == p) } x && $1 == "Filename:" { print $2; exit }' "$tmp/Packages")
  curl -fsSL -o "$tmp/$p.deb" "$mirror/$f"
done
(cd "$tmp" && apt-get download -qq libllvm15 libvulkan1 libxcb-dri3-0 libxcb-present0 libxcb-randr0 libxcb-shm0 \
  libxcb-sync1 libxcb-xfixes0 libxshmfence1 libx11-xcb1 libelf1 libz3-4 libedit2 libxml2 libicu72 2>/dev/null)
mkdir -p "$dest.tmp"
for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$dest.tmp/root"; done
rm -rf "$dest"
mv "$dest.tmp" "$dest"
# The ICD names its library by absolute path.
lib=$(cd "$dest/root/usr/lib/x86_64-linux-gnu" && pwd)
printf '{ "ICD": { "api_version": "1.3.0", "library_path": "%s/libvulkan_lvp.so" }, "file_format_version": "1.0.0" }\n' "$lib" > "$dest/lvp.json"
echo "lavapipe unpacked into $dest"
