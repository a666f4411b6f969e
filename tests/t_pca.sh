#!/bin/sh
# t_pca.sh - scaling and PCA: hand-computed scaling cases, then scikit-learn /
# numpy references (tests/oracle/pca_oracle.py) for the census data (min-max
# and unscaled), a constant column, more features than rows and a large
# offset, each with the LAPACK and ScaLAPACK solvers at 1-4 ranks; finally
# ScaLAPACK against LAPACK on a 2500 x 2000 matrix.
. tests/lib.sh

S=$POPSEG_BIN/tests/test_scale
P=$POPSEG_BIN/tests/test_pca
O=$TMPD/oracle

for np in 1 2 3 4; do run_c_test "$np" "$S"; done
# dsyrk for the cross-products (the default takes the AVX-512 or AVX2 tiles where it can).
# (Exported around the call: an assignment before a function call need not reach it.)
export POPSEG_STATS_BLAS=1; run_c_test 1 "$S"; unset POPSEG_STATS_BLAS
# The AVX2 forms (the scaled rows, the cross-products' tiles) where the
# processor has AVX-512 too: the same checks, the same bits.
export POPSEG_NO_AVX512=1; run_c_test 2 "$S"; unset POPSEG_NO_AVX512

if "$PYTHON" tests/oracle/pca_oracle.py data/acs2015_county_data.csv "$O" >"$TMPD/oracle.out" 2>&1; then
  pass "oracle: scikit-learn/numpy references written ($(tail -n 1 "$TMPD/oracle.out"))"
else
  fail "oracle: pca_oracle.py failed: $(tail -n 3 "$TMPD/oracle.out" | tr '\n' ' ')"
  finish
fi

# run_c_test passes no arguments: test_pca reads its inputs from the environment.
export PCA_ORACLE_DIR="$O" PCA_TEST_MODE=all
for np in 1 2 3 4; do run_c_test "$np" "$P"; done
# The projection by a dgemm per block (the default fuses it where AVX-512 is).
export POPSEG_PCA_BLAS=1; run_c_test 2 "$P"; unset POPSEG_PCA_BLAS
# The AVX2 fused projection where the processor has AVX-512 too: the same bits.
export POPSEG_NO_AVX512=1; run_c_test 2 "$P"; unset POPSEG_NO_AVX512

# (e) 2,000 features: ScaLAPACK (grids 1x2, 1x3, 2x2) against LAPACK.
export PCA_TEST_MODE=big
for np in 2 3 4; do run_c_test "$np" "$P"; done

finish
