#!/bin/sh
# make bench: popseg against scikit-learn/numpy, same data, same run.
set -eu
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
mkdir -p bench/out
${PYTHON:-/usr/bin/python3} bench/bench.py "${POPSEG_BIN:-bin}" bench/out | tee bench/out/bench.txt
