#!/bin/sh
# tests/t_hosts.sh - popseg across two hosts: two network namespaces on this
# machine joined by a veth pair (tests/netns/netns.sh), mpirun started on the
# first, an rsh agent in place of ssh starting orted on the second, Open MPI's
# TCP transport and out-of-band channel restricted to the veth subnet.
# The results must equal a single-host run. Needs root with CAP_NET_ADMIN:
# without it every check here FAILS (a skipped multi-host test is not a pass).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns/netns.sh"

trap 'netns_down; rm -rf "$TMPD"' EXIT
trap 'echo "FAIL: t_hosts interrupted"; exit 130' INT TERM HUP

NS=$TMPD/netns
if ! netns_up "$NS" 2>"$TMPD/netns.err"; then
  echo "t_hosts: cannot build two hosts from network namespaces on this machine:" >&2
  cat "$TMPD/netns.err" >&2
  fail "two hosts (network namespaces): $(tr '\n' ' ' <"$TMPD/netns.err")"
  finish
fi
pass "two hosts: namespaces $NETNS_A ($NETNS_ADDR_A) and $NETNS_B ($NETNS_ADDR_B), veth pair up"

POPSEG_ABS=$(cd "$POPSEG_BIN" && pwd)/popseg
DATA=$(pwd)/data/acs2015_county_data.csv
MCA="--mca plm_rsh_agent $NS/agent --mca btl tcp,self --mca btl_tcp_if_include $NETNS_SUBNET \
--mca oob_tcp_if_include $NETNS_SUBNET"

# hosts_mpirun NP HOSTFILE CMD...: mpirun on nodea across the hosts, 120 s limit.
hosts_mpirun() {
  np=$1; hf=$2; shift 2
  # shellcheck disable=SC2086 # MCA is an option list
  netns_run nodea timeout -k 5 120 mpirun --hostfile "$hf" -np "$np" $MCA "$@"
}

# veth0 bytes sent by nodeb (rank traffic to nodea must cross the veth pair).
tx_b() { ip netns exec "$NETNS_B" cat /sys/class/net/veth0/statistics/tx_bytes 2>/dev/null || echo 0; }

# Reference: one host, plain mpirun.
if mpi 2 "$POPSEG" run "$DATA" -o "$TMPD/one.h5" --quiet 2>"$TMPD/one.err"; then
  pass "single-host reference run"
else
  fail "single-host reference run: $(tail -n 3 "$TMPD/one.err" | tr '\n' ' ')"
fi

# hostfile with two slots per host: ranks fill nodea's slots first (0, 1), then nodeb's.
printf 'nodea slots=2\nnodeb slots=2\n' >"$NS/hostfile2"
for layout in "2 $NS/hostfile 1+1" "4 $NS/hostfile2 2+2"; do
  set -- $layout
  np=$1; hf=$2; desc=$3
  res=$TMPD/hosts-$np.h5
  # Placement: each rank reports its host name and veth address.
  out=$(hosts_mpirun "$np" "$hf" sh -c \
    'echo "$OMPI_COMM_WORLD_RANK $(hostname) $(ip -o -4 addr show dev veth0 | awk "{print \$4}")"' \
    2>"$TMPD/place.err" | sort -n | tr '\n' ';')
  if [ "$np" -eq 2 ]; then want="0 nodea $NETNS_ADDR_A/24;1 nodeb $NETNS_ADDR_B/24;"
  else want="0 nodea $NETNS_ADDR_A/24;1 nodea $NETNS_ADDR_A/24;2 nodeb $NETNS_ADDR_B/24;3 nodeb $NETNS_ADDR_B/24;"; fi
  if [ "$out" = "$want" ]; then
    pass "placement $desc: $out"
  else
    fail "placement $desc: got '$out' want '$want': $(head -c 400 "$TMPD/place.err" | tr '\n' ' ')"
  fi
  before=$(tx_b)
  hosts_mpirun "$np" "$hf" "$POPSEG_ABS" run "$DATA" -o "$res" --verbose >"$TMPD/h$np.out" 2>"$TMPD/h$np.err"
  rc=$?
  after=$(tx_b)
  if [ $rc -eq 0 ] && [ -s "$res" ]; then
    pass "popseg run on two hosts, $np ranks ($desc)"
  else
    fail "popseg run on two hosts, $np ranks ($desc) exited $rc: $(tail -n 4 "$TMPD/h$np.err" | tr '\n' ' ')"
    continue
  fi
  # Across hosts Open MPI chooses its own pml (launch.h: only one node's jobs leave cm out).
  if grep -q '^read ' "$TMPD/h$np.out" && ! grep -q '^mpi ' "$TMPD/h$np.out"; then
    pass "two hosts, $np ranks: popseg sets no pml"
  else
    fail "two hosts, $np ranks: a pml set, or no --verbose output: $(grep '^mpi ' "$TMPD/h$np.out")"
  fi
  if msg=$("$PYTHON" tests/slurm/compare.py "$res" "$TMPD/one.h5" 2>&1); then
    pass "two hosts, $np ranks: labels, centroids, ids equal the single-host run"
  else
    fail "two hosts, $np ranks: differs from the single-host run: $msg"
  fi
  # Each rank's share of the work crosses the wire at least once: far more
  # than the out-of-band chatter of an idle job.
  sent=$((after - before))
  if [ "$sent" -gt 10000 ]; then
    pass "two hosts, $np ranks: nodeb sent $sent bytes over veth0"
  else
    fail "two hosts, $np ranks: only $sent bytes left nodeb over veth0 (did the ranks really talk over TCP?)"
  fi
  left=$(ip netns pids "$NETNS_B" 2>/dev/null | tr '\n' ' ')
  if [ -z "$left" ]; then pass "two hosts, $np ranks: nothing left running on nodeb"
  else fail "two hosts, $np ranks: processes left on nodeb: $left"; fi
done

finish
