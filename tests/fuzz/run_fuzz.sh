#!/bin/sh
# run_fuzz.sh FUZZ_DIR SECONDS TARGET... - run libFuzzer targets (make fuzz).
#
# For each TARGET: FUZZ_DIR/fuzz_TARGET runs SECONDS seconds on its working
# corpus FUZZ_DIR/corpus/TARGET (kept between runs; new inputs land there),
# read together with fresh seeds (tests/fuzz/make_corpus.sh, in
# FUZZ_DIR/seeds/TARGET) and the committed regression inputs
# (tests/fuzz/regressions/TARGET). Its whole output is FUZZ_DIR/TARGET.log.
# One summary line per target (executions, libFuzzer's coverage: cov = edges
# reached, ft = features; corpus size) and, below it, the edges reached in
# each of popseg's source files it links, go to stdout and to
# FUZZ_DIR/summary.txt. A crash, leak, timeout or out-of-memory stops that
# target; its report and reproducer (FUZZ_DIR/artifacts/TARGET/...) are
# printed and the exit status is 1 once every target has run. Replay a
# reproducer with FUZZ_DIR/fuzz_TARGET FILE (or bin/tests/fuzz_TARGET_regress
# FILE); save it as tests/fuzz/regressions/TARGET/crash-NAME to keep it.
set -u
dir=${1:?usage: run_fuzz.sh FUZZ_DIR SECONDS TARGET...}
secs=${2:?usage: run_fuzz.sh FUZZ_DIR SECONDS TARGET...}
shift 2
case $secs in
  '' | *[!0-9]*) echo "run_fuzz.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;;
esac
here=tests/fuzz
rm -rf "$dir/seeds"
sh "$here/make_corpus.sh" "$dir/seeds" || exit 2
summary=$dir/summary.txt
: >"$summary"
status=0
n_ok=0
n_bad=0
# The functions each target is about (the rest of what it links is shown per file).
focus() {
  case $1 in
    number) echo "ps_csv_parse_number" ;;
    csv) echo "ps_csv_parse parse_buffer parse_field find_duplicate check_utf8 ps_utf8_invalid" ;;
    csv_import) echo "ps_csv_import imp_columns imp_values imp_widths imp_fill read_ids choose_labels
                      row_name add_example parse_int64 is_missing ps_names_rename" ;;
    h5table) echo "ps_table_read_h5 table_shape read_attrs default_rows not_a_table need_dset
                   ps_h5r_read ps_h5r_read_strings terminate_strings xfer get_str get_num open_attr
                   ps_table_validate validate_features ps_utf8_invalid" ;;
  esac
}
# The -print_coverage listing ("COVERED_FUNC: hits: H edges: A/B name file:line",
# UNCOVERED_FUNC alike): edges reached per source file under src/ (files with
# any), then per focus function.
per_file() {
  awk -v focus=" $(focus "$2" | tr -s ' \n' '  ') " \
      '/^(UN)?COVERED_FUNC: / {
         split($5, e, "/"); file = $7; sub(/:[0-9]+$/, "", file)
         i = index(file, "/src/"); if (i == 0) next
         file = substr(file, i + 1)
         got[file] += e[1]; all[file] += e[2]; nf[file]++; if (e[1] > 0) hit[file]++
         if (index(focus, " " $6 " ") && !seen[$6]++) { fg[$6] = e[1]; fa[$6] = e[2] }
       }
       END {
         for (f in all) if (got[f] > 0)
           printf "    %-26s %5d of %5d edges, %3d of %3d functions\n",
                  f, got[f], all[f], hit[f], nf[f]
         n = split(focus, fs, " ")
         for (k = 1; k <= n; k++) if (fs[k] in fa)
           printf "      %-24s %5d of %5d edges\n", fs[k] "()", fg[fs[k]], fa[fs[k]]
       }' "$1" | sort -s -k1,1 |
    awk '!/\(\)/ { print; next } { f[++n] = $0 } END { for (i = 1; i <= n; i++) print f[i] }'
}
for t in "$@"; do
  bin=$dir/fuzz_$t
  log=$dir/$t.log
  corpus=$dir/corpus/$t
  art=$dir/artifacts/$t
  mkdir -p "$corpus" "$art"
  if [ ! -x "$bin" ]; then
    echo "fuzz_$t: $bin is missing (make fuzz-build)" | tee -a "$summary"
    status=1
    n_bad=$((n_bad + 1))
    continue
  fi
  # Per target: the longest input, a dictionary; the HDF5 reader prints one
  # error line per refused table on stderr (closed: -close_fd_mask=2; the
  # harness and the sanitizers report through a copy). Open MPI keeps memory
  # for the life of the process and frees nothing at exit: its leaks are only
  # looked for per input there (leak_check_at_exit=0).
  opts=""
  lsan="suppressions=$here/lsan.supp:print_suppressions=0"
  case $t in
    csv | csv_import) opts="-max_len=16384 -dict=$here/csv.dict" ;;
    number) opts="-max_len=256 -dict=$here/number.dict" ;;
    h5table) opts="-max_len=4096 -close_fd_mask=2"; lsan="$lsan:leak_check_at_exit=0" ;;
  esac
  regress=$here/regressions/$t
  [ -d "$regress" ] || regress=""
  echo "== fuzz_$t: $secs s (log: $log)"
  start=$(date +%s)
  # shellcheck disable=SC2086
  LSAN_OPTIONS=$lsan ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1} \
    UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin" -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
    -print_coverage=1 -artifact_prefix="$art/" $opts "$corpus" "$dir/seeds/$t" $regress \
    >"$log" 2>&1
  rc=$?
  took=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  total=$(sed -n 's/^INFO: Loaded 1 modules *(\([0-9]*\) inline 8-bit.*/\1/p' "$log" | head -n 1)
  last=$(grep -E '^#[0-9]+[[:space:]]+(INITED|NEW|REDUCE|pulse|DONE|RELOAD)' "$log" | tail -n 1)
  cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
  if [ "$rc" -eq 0 ]; then verdict="ok"; n_ok=$((n_ok + 1)); else verdict="FAILED (exit $rc)"; n_bad=$((n_bad + 1)); fi
  line=$(printf 'fuzz_%-11s %4s s  %10s execs (%s/s)  cov: %s of %s edges  ft: %s  corpus: %s  %s' \
    "$t" "$took" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${total:-?}" "${ft:-?}" "${corp:-?}" \
    "$verdict")
  echo "$line" | tee -a "$summary"
  per_file "$log" "$t" | tee -a "$summary"
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "   --- fuzz_$t: the report (from $log):"
    sed -n '/^==[0-9]*==\|^fuzz_[a-z0-9_]*: \|ERROR: libFuzzer\|runtime error/,$p' "$log" |
      grep -v '^\(UN\)\?COVERED_\|^  UNCOVERED_PC' | head -n 45 | sed 's/^/   /'
    grep -h 'Test unit written to\|^artifact_prefix' "$log" | sed 's/^/   reproducer: /' |
      tee -a "$summary"
  fi
done
echo "fuzz summary: $summary"
# One count per target: ran its time without a crash, a leak or a hang.
echo "$n_ok passed, $n_bad failed"
exit $status
