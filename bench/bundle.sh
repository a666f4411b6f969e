#!/bin/sh
# bench/bundle.sh [TARBALL]: popseg, Open MPI's mpirun and every shared library
# they load, in one relocatable tarball (default bench/bundle/popseg-bundle.tar.xz),
# for bench/scaling16.sh on a machine that has the cores but not the packages:
# the 16-core machines lent to some sessions run another image, with no MPI,
# HDF5 or ScaLAPACK and nothing to install them from (bench/README.md,
# "Strong scaling beyond 2 cores"). Built here from the Debian packages
# scripts/deps.sh installs; the target needs an x86-64 glibc at least as new as
# this one's (the bundle leaves glibc out: it is the one library every image has).
#
# POPSEG_BIN: the folder of the popseg to bundle (default bin, built if missing).
# POPSEG_BUNDLE_XZ: xz's preset (default -6: 23 MiB, about 35 s on 2 cores; the
# device tool carries at most 64 MiB with the working tree).
#
# Layout (what Open MPI's relocation expects: OPAL_PREFIX replaces /usr):
#   bin/popseg, bin/mpirun         the programs
#   lib/                           the libraries they and the plugins need
#   lib/x86_64-linux-gnu/openmpi/  Open MPI's libdir and its plugins (openmpi3/)
#   share/openmpi/, etc/openmpi/   its help texts and default parameters
#   pmix2/                         PMIx's plugins and parameters
#   env.sh                         sourced with B set to where it was unpacked
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-bench/bundle/popseg-bundle.tar.xz}
ARCH=x86_64-linux-gnu
OMPI=/usr/lib/$ARCH/openmpi
PMIX=/usr/lib/$ARCH/pmix2
MPIRUN=$(readlink -f "$(command -v mpirun)")
for p in "$OMPI/lib/openmpi3" "$PMIX/lib/pmix" /usr/share/openmpi /etc/openmpi "$MPIRUN"; do
  [ -e "$p" ] || { echo "bench/bundle.sh: $p: not found (run scripts/deps.sh first)" >&2; exit 1; }
done
BIN=${POPSEG_BIN:-bin}
[ -x "$BIN/popseg" ] || [ "$BIN" != bin ] || make --no-print-directory all >/dev/null
[ -x "$BIN/popseg" ] || { echo "bench/bundle.sh: $BIN/popseg: not found" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
B=$TMP/popseg-bundle
mkdir -p "$B/bin" "$B/lib/$ARCH" "$B/share" "$B/etc" "$B/pmix2/lib" "$B/hwloc-plugins"
cp "$BIN/popseg" "$B/bin/popseg"
cp "$MPIRUN" "$B/bin/mpirun"
cp -RL "$OMPI" "$B/lib/$ARCH/openmpi"
rm -rf "$B/lib/$ARCH/openmpi/include"
find "$B/lib/$ARCH/openmpi" -name '*.a' -delete
cp -RL /usr/share/openmpi "$B/share/openmpi"
cp -RL /etc/openmpi "$B/etc/openmpi"
cp -RL "$PMIX/lib/pmix" "$B/pmix2/lib/pmix"
cp -RL "$PMIX/share" "$B/pmix2/share"
# Every library the programs and the plugins resolve to, but glibc's own.
{
  ldd "$BIN/popseg" "$MPIRUN"
  find "$OMPI/lib" "$PMIX/lib" -name '*.so*' -type f -exec ldd {} \;
} 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
  grep -Ev '/(ld-linux-x86-64|libc|libm|libpthread|libdl|librt|libutil|libresolv|libanl|libmvec)\.so' |
  while read -r f; do cp -L "$f" "$B/lib/"; done
if ldd "$BIN/popseg" "$MPIRUN" | grep -q 'not found'; then
  echo "bench/bundle.sh: a library of popseg or mpirun is not found here" >&2
  exit 1
fi
GLIBC=$(ldd --version | awk 'NR == 1 {print $NF}')
cat >"$B/env.sh" <<EOF
# Sourced with B set to the unpacked bundle. Built against glibc $GLIBC.
export OPAL_PREFIX="\$B" OPAL_SYSCONFDIR="\$B/etc/openmpi"
export PMIX_PREFIX="\$B/pmix2" PMIX_MCA_mca_base_component_path="\$B/pmix2/lib/pmix"
export LD_LIBRARY_PATH="\$B/lib:\$B/lib/$ARCH/openmpi/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PATH="\$B/bin:\$PATH"
# hwloc's plugins (PCI, OpenCL, X) are optional and the target has none: the
# same empty folder everywhere. Single copies between ranks without CMA
# (process_vm_readv), which some sandboxes refuse; k-means' Allreduce is small.
export HWLOC_PLUGINS_PATH="\$B/hwloc-plugins" OMPI_MCA_btl_vader_single_copy_mechanism=none
POPSEG_BUNDLE_GLIBC=$GLIBC
EOF
mkdir -p "$(dirname "$OUT")"
tar -C "$TMP" -cf - popseg-bundle | xz -T0 "${POPSEG_BUNDLE_XZ:--6}" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT: $(du -k "$OUT" | cut -f1) KiB ($(du -sk "$B" | cut -f1) KiB unpacked, glibc $GLIBC)"
