#!/bin/sh
# Install what popseg needs, if it is missing. Usage: deps.sh build|test|slurm|fuzz|leaks|report
# On Debian/Ubuntu (root or sudo) missing packages are installed with apt-get;
# elsewhere this prints what to install or `module load`.
set -u
what=${1:-build}
build_pkgs="make gcc libc6-dev openmpi-bin libopenmpi-dev libscalapack-openmpi-dev libhdf5-openmpi-dev hdf5-tools libopenblas-dev liblapacke-dev pkg-config"
test_pkgs="python3-numpy python3-sklearn python3-h5py python3-pandas python3-xarray python3-h5netcdf iproute2 procps util-linux xz-utils"
slurm_pkgs="slurm-wlm munge iproute2"
fuzz_pkgs="clang libclang-rt-14-dev"
leak_pkgs="valgrind clang libclang-rt-14-dev"
# Chromium headless; its recommended fonts and software GL named, since deps.sh installs
# without recommends.
report_pkgs="chromium fonts-liberation libgl1-mesa-dri util-linux"
case $what in
  build) pkgs=$build_pkgs ;;
  test) pkgs="$build_pkgs $test_pkgs" ;;
  slurm) pkgs="$build_pkgs $test_pkgs $slurm_pkgs" ;;
  fuzz) pkgs="$build_pkgs $test_pkgs $fuzz_pkgs" ;;
  leaks) pkgs="$build_pkgs $test_pkgs $leak_pkgs" ;;
  report) pkgs="$build_pkgs $test_pkgs $report_pkgs" ;;
  *) echo "deps.sh: unknown set '$what' (build, test, slurm, fuzz, leaks, report)" >&2; exit 2 ;;
esac
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
else
  # Not Debian: check the build through pkg-config and the compiler wrapper.
  if ! command -v mpicc >/dev/null 2>&1 || ! pkg-config --exists hdf5-openmpi scalapack-openmpi lapacke 2>/dev/null; then
    echo "popseg: needs an MPI compiler (mpicc), parallel HDF5, ScaLAPACK, LAPACKE and BLAS."
    echo "  On a cluster: module load openmpi hdf5/parallel scalapack openblas (names vary),"
    echo "  or spack load openmpi hdf5+mpi netlib-scalapack openblas, then"
    echo "  make MPICC=mpicc PKGS='hdf5 scalapack' (or set CFLAGS/LDLIBS directly)."
  fi
  exit 0
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "popseg: missing Debian packages:$missing" >&2
  echo "popseg: install them as root: apt-get install$missing" >&2
  exit 1
fi
echo "popseg: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || { echo "popseg: apt-get update failed" >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || {
  echo "popseg: apt-get install$missing failed" >&2; exit 1; }
echo "popseg: installed$missing"
