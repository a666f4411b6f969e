#!/bin/sh
# bench/bundle.sh and bench/scaling16.sh where the packages are missing: the
# 16-core machines lent to some sessions run an image with no MPI, HDF5 or
# ScaLAPACK, so the scaling script runs popseg and mpirun from a tarball made
# here. Simulated in a mount namespace (root): Open MPI's and PMIx's folders
# emptied, mpirun and every library the bundle carries replaced by an empty
# file, so anything loaded from the system instead of the bundle fails.
. tests/lib.sh
B=$TMPD/bundle.tar.xz
if POPSEG_BUNDLE_XZ=-0 sh bench/bundle.sh "$B" >"$TMPD/out" 2>&1; then
  pass "bench/bundle.sh: $(tail -n 1 "$TMPD/out")"
else
  fail "bench/bundle.sh: $(tail -n 3 "$TMPD/out" | tr '\n' ' ')"; finish
fi
tar -tJf "$B" >"$TMPD/list"
for f in bin/popseg bin/mpirun env.sh lib/x86_64-linux-gnu/openmpi/lib/openmpi3/mca_btl_vader.so \
  share/openmpi etc/openmpi/openmpi-mca-params.conf; do
  check "the bundle holds $f" grep -q "^popseg-bundle/$f/\{0,1\}\$" "$TMPD/list"
done
check "the bundle leaves glibc out" sh -c "! grep -Eq '/lib/(libc|libm|ld-linux-x86-64)\\.so' '$TMPD/list'"
# hide CMD...: CMD with the system's Open MPI, PMIx and the bundle's libraries hidden.
cat >"$TMPD/hide.sh" <<HIDE
set -e
mount --make-rprivate /
for d in /usr/lib/x86_64-linux-gnu/openmpi /usr/lib/x86_64-linux-gnu/pmix2 /usr/share/openmpi \
  /etc/openmpi; do mount -t tmpfs none "\$d"; done
for name in \$(sed -n 's|^popseg-bundle/lib/\([^/]*\)\$|\1|p' "$TMPD/list"); do
  real=\$(readlink -f "/lib/x86_64-linux-gnu/\$name" 2>/dev/null || true)
  if [ -n "\$real" ] && [ -f "\$real" ]; then mount --bind /dev/null "\$real"; fi
done
mount --bind /dev/null "\$(readlink -f "\$(command -v mpirun)")"
set +e
"\$@"
HIDE
if ! unshare -m true 2>/dev/null; then
  fail "cannot make a mount namespace (unshare -m, root) to hide the packages"; finish
fi
# The hiding works: the system's mpirun and popseg no longer start.
unshare -m sh "$TMPD/hide.sh" sh -c "command -v mpirun; '$POPSEG' --version" >"$TMPD/h" 2>&1
check "with the packages hidden, mpirun is gone and popseg's libraries fail to load" \
  sh -c "! grep -q mpirun '$TMPD/h' && grep -q 'error while loading shared libraries' '$TMPD/h'"
# Without mpirun and without a bundle: one line saying so, exit 1.
unshare -m sh "$TMPD/hide.sh" env POPSEG_BUNDLE="$TMPD/missing.tar.xz" sh bench/scaling16.sh 20000 "$TMPD/none" \
  >"$TMPD/o" 2>"$TMPD/e" </dev/null
rc=$?
check "scaling16.sh with neither mpirun nor a bundle: exit 1, one line naming the bundle" \
  sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$TMPD/e') -eq 1 ] && grep -q 'no mpirun here and no bundle at' '$TMPD/e'"
# From the bundle: every rank count up to the CPUs (nproc, whatever
# OMP_NUM_THREADS says), the same bytes as one rank.
NP=$(env -u OMP_NUM_THREADS nproc)
[ "$NP" -gt 16 ] && NP=16
unshare -m sh "$TMPD/hide.sh" env POPSEG_BUNDLE="$B" sh bench/scaling16.sh 20000 "$TMPD/sc" \
  >"$TMPD/o" 2>"$TMPD/e"
rc=$?
check "scaling16.sh from the bundle, packages hidden: exit 0" sh -c "[ $rc -eq 0 ] || { tail -n 5 '$TMPD/e'; false; }"
check "scaling16.sh said it ran from the bundle" grep -q "popseg and Open MPI from $B" "$TMPD/o"
want=0
for np in 1 2 4 8 16; do [ "$np" -le "$NP" ] && want=$((want + 1)); done
rows=$(grep -c '^| [0-9]* | .* | yes |$' "$TMPD/sc/scaling16.md" 2>/dev/null)
check "scaling16.md: $want rank counts (of 1 2 4 8 16 up to $NP CPUs), each the same bytes as 1 rank (got ${rows:-0})" \
  [ "${rows:-0}" -eq "$want" ]
check "scaling16.sh keeps no HDF5 file (a 16M-row run writes 2.4 GB each)" \
  sh -c "! ls '$TMPD/sc/'*.h5 >/dev/null 2>&1"
finish
