#!/bin/sh
# make bench [ROWS="4000000 10000000"]: popseg against scikit-learn/numpy and the
# machine's bounds, in one run; writes bench/results.md (see bench/README.md).
set -eu
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
mkdir -p bench/out
# shellcheck disable=SC2086
${PYTHON:-/usr/bin/python3} bench/bench.py "${POPSEG_BIN:-bin}" bench/out ${ROWS:-}
