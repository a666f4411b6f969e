# popseg - population segmentation with MPI, parallel HDF5 and ScaLAPACK.
# Every variable below can be overridden on the command line, e.g.
#   make MPICC=cc PKGS="hdf5 scalapack" LDLIBS="-lscalapack -lopenblas"
MPICC   ?= mpicc
PKGS    ?= hdf5-openmpi scalapack-openmpi lapacke
PREFIX  ?= /usr/local
BUILD   ?= build
BINDIR  ?= bin
NP      ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON  ?= /usr/bin/python3

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
WARN    ?= -Wall -Wextra -Werror
SAN     ?=
# -ffp-contract=off: no multiply and add fused behind the code's back. GCC does
# not in -std=c11, Clang does by default; the kernels' vector and scalar forms
# must round alike (their bits are tested), so it is spelled out.
FP      := -ffp-contract=off
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L $(FP) $(WARN) $(CFLAGS) $(SAN) -Iinclude $(PKG_CFLAGS) -MMD -MP
# hdf5_hl: dimension scales (H5DS) in the results files.
LDLIBS  ?= $(PKG_LIBS) -lhdf5_hl -lm
ALL_LDFLAGS = $(LDFLAGS) $(SAN)

# Layers (see README, "Layout"): app -> stages -> io -> core.
LAYERS   := core io stages app
LIB_SRC  := $(filter-out src/app/main.c,$(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c)))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BINDIR)/tests/%)
LIB      := $(BUILD)/libpopseg.a

MPIRUN_ENV = OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
             OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1

.PHONY: all deps run test test-asan test-slurm test-report bench clean install format print check-deps

all: $(BINDIR)/popseg $(TEST_BIN)

$(BUILD)/obj/%.o: src/%.c | check-deps
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/unit/%.c | check-deps
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_CFLAGS) -Itests/unit -c $< -o $@

# The HTML report's embedded files (src/app/assets.c, scripts/web.sh): the map's
# libraries and atlas from npm when it is there, staged once in WEB for every
# build (plain, asan, leaks, fuzz); without npm the report has no map.
WEB        ?= build/web
WEB_MODE   ?= auto
WEB_ASSETS := src/app/report.js src/app/report.css
$(WEB)/web_assets.h: scripts/web.sh web/package.json web/package-lock.json
	@sh scripts/web.sh $(WEB) $(WEB_MODE)
$(BUILD)/obj/app/assets.o: $(WEB)/web_assets.h $(WEB_ASSETS)
$(BUILD)/obj/app/assets.o: ALL_CFLAGS += -I$(WEB)

# The row loops of the statistics, the projection and the finite check are
# written to vectorize across columns (restrict, one operation per loop);
# -O3 lets GCC do it (-O2's cost model will not). No reassociation: the same
# bits as -O2 (ISO C mode keeps -ffp-contract=off).
HOT_OBJ := stages/stats stages/pca io/table
$(HOT_OBJ:%=$(BUILD)/obj/%.o): ALL_CFLAGS += -O3

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BINDIR)/popseg: $(BUILD)/obj/app/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BINDIR)/tests/%: $(BUILD)/tests/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

# test_csv feeds a FIFO from a thread (in every build: BUILD and BINDIR are
# the sanitizer build's in its sub-make).
$(BUILD)/tests/test_csv.o: ALL_CFLAGS += -pthread
$(BINDIR)/tests/test_csv: ALL_LDFLAGS += -pthread

# The fuzz harnesses (tests/fuzz/) with a plain main (tests/fuzz/driver.c) in place
# of libFuzzer's, built like the unit tests: tests/t_fuzz.sh replays the inputs in
# tests/fuzz/regressions/TARGET with them. (make fuzz builds the fuzzers themselves.)
FUZZ_TARGETS     := csv number csv_import h5table
FUZZ_REGRESS     := $(FUZZ_TARGETS:%=$(BINDIR)/tests/fuzz_%_regress)
FUZZ_REGRESS_OBJ := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.o) $(BUILD)/tests/fuzz/driver.o
all: $(FUZZ_REGRESS)

$(FUZZ_REGRESS_OBJ): $(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c | check-deps
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_CFLAGS) -c $< -o $@

$(FUZZ_REGRESS): $(BINDIR)/tests/fuzz_%_regress: $(BUILD)/tests/fuzz/fuzz_%.o \
                 $(BUILD)/tests/fuzz/driver.o $(LIB)
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_LDFLAGS) $(BUILD)/tests/fuzz/fuzz_$*.o $(BUILD)/tests/fuzz/driver.o $(LIB) \
	  $(LDLIBS) -o $@

-include $(FUZZ_REGRESS_OBJ:.o=.d)

# Fail early, in one line, when the libraries are not there.
# (LDLIBS given on the command line means the user brings their own flags.)
check-deps:
	@command -v $(MPICC) >/dev/null || \
	  { echo "popseg: no MPI compiler '$(MPICC)'; run 'make deps' (or set MPICC)"; exit 1; }
	@pkg-config --exists $(PKGS) 2>/dev/null || [ "$(origin LDLIBS)" = "command line" ] || \
	  { echo "popseg: pkg-config does not find $(PKGS); run 'make deps' (or set PKGS / LDLIBS)"; exit 1; }

deps:
	@sh scripts/deps.sh build

run: 
	@sh scripts/deps.sh build
	@$(MAKE) --no-print-directory all
	@mkdir -p results
	$(MPIRUN_ENV) mpirun --oversubscribe -np $(NP) $(BINDIR)/popseg run \
	  data/acs2015_county_data.csv -o results/census.h5 --csv results/segments.csv \
	  --report results/report.md --html results/report.html --force

test:
	@sh scripts/deps.sh test
	@$(MAKE) --no-print-directory all
	@POPSEG_BIN=$(BINDIR) PYTHON=$(PYTHON) sh tests/run.sh

test-asan:
	@sh scripts/deps.sh test
	@$(MAKE) --no-print-directory BUILD=build/asan BINDIR=build/asan/bin CFLAGS="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all
	@POPSEG_BIN=build/asan/bin PYTHON=$(PYTHON) POPSEG_ASAN=1 \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  sh tests/run.sh

# Leaks (tests/leaks/run.sh): LeakSanitizer on every unit test at 1 rank (an ASan
# build in build/leaks), then valgrind memcheck of popseg import/run/predict at
# 2 ranks (the normal build).
.PHONY: test-leaks
test-leaks:
	@sh scripts/deps.sh leaks
	@$(MAKE) --no-print-directory BUILD=build/leaks BINDIR=build/leaks/bin CFLAGS="-O1 -g" \
	  SAN="-fsanitize=address -fno-omit-frame-pointer" all
	@$(MAKE) --no-print-directory all
	@LEAK_BIN=build/leaks/bin POPSEG_BIN=$(BINDIR) PYTHON=$(PYTHON) sh tests/leaks/run.sh

# Fuzzing (tests/fuzz/): `make fuzz SECONDS=N` builds popseg and the libFuzzer
# harnesses with clang (OMPI_CC=clang), ASan and UBSan in build/fuzz, then runs each
# target N seconds (default 60) on its corpus build/fuzz/corpus/TARGET, seeded from
# tests/fuzz/make_corpus.sh and tests/fuzz/regressions/TARGET. It prints one line
# per target (executions, coverage) into build/fuzz/summary.txt too, and fails when
# a target crashed, naming the reproducer. Independent of make test.
SECONDS          ?= 60
FUZZ_DIR         := $(BUILD)/fuzz
FUZZ_CC          := OMPI_CC=clang $(MPICC)
FUZZ_SAN         := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                    -fno-omit-frame-pointer
FUZZ_CFLAGS       = -std=c11 -D_POSIX_C_SOURCE=200809L $(FP) $(WARN) -O1 -g $(FUZZ_SAN) -Iinclude \
                    $(PKG_CFLAGS) -MMD -MP
FUZZ_LIB_OBJ     := $(LIB_SRC:src/%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_HARNESS_OBJ := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/harness/fuzz_%.o)
FUZZ_BIN         := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build
fuzz:
	@sh scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run_fuzz.sh $(FUZZ_DIR) $(SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BIN)

$(FUZZ_LIB_OBJ): $(FUZZ_DIR)/obj/%.o: src/%.c | check-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/app/assets.o: $(WEB)/web_assets.h $(WEB_ASSETS)
$(FUZZ_DIR)/obj/app/assets.o: FUZZ_CFLAGS += -I$(WEB)

$(FUZZ_DIR)/libpopseg.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_HARNESS_OBJ): $(FUZZ_DIR)/harness/%.o: tests/fuzz/%.c | check-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BIN): $(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/harness/fuzz_%.o $(FUZZ_DIR)/libpopseg.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $< $(FUZZ_DIR)/libpopseg.a $(LDLIBS) -o $@

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_HARNESS_OBJ:.o=.d)

# The HTML report in a real browser (tests/report/t_report.sh): Debian's Chromium,
# headless with the network off, on the census, a weighted fit, 2017
# predictions, a sweep, synthetic (not county) data and a build without the
# map's libraries (build/nomap); screenshots in build/test-report.
.PHONY: test-report
test-report: all
	@sh scripts/deps.sh report
	@$(MAKE) --no-print-directory BUILD=build/nomap BINDIR=build/nomap/bin WEB=build/nomap/web \
	  WEB_MODE=none build/nomap/bin/popseg
	@POPSEG_BIN=$(BINDIR) NOMAP_BIN=build/nomap/bin PYTHON=$(PYTHON) TESTS=report/t_report \
	  sh tests/run.sh

test-slurm: all
	@sh scripts/deps.sh slurm
	@POPSEG_BIN=$(BINDIR) sh tests/slurm/run.sh

# The benchmark also builds popseg with plain floating-point sums
# (-DPS_SUMS_FLOAT, include/popseg/reduce.h) to measure what the exact sums
# cost; that binary stays in build/float and is never installed.
bench: all
	@sh scripts/deps.sh test
	@$(MAKE) --no-print-directory BUILD=build/float BINDIR=build/float/bin \
	  CFLAGS="$(CFLAGS) -DPS_SUMS_FLOAT" build/float/bin/popseg
	@POPSEG_BIN=$(BINDIR) POPSEG_BIN_FLOAT=build/float/bin PYTHON=$(PYTHON) sh bench/run.sh

install: $(BINDIR)/popseg
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BINDIR)/popseg $(DESTDIR)$(PREFIX)/bin/popseg

format:
	clang-format -i src/*/*.c include/popseg/*.h tests/unit/*.c tests/unit/*.h

print:
	@echo "MPICC   = $(MPICC)"
	@echo "PKGS    = $(PKGS)"
	@echo "CFLAGS  = $(ALL_CFLAGS)"
	@echo "LDLIBS  = $(LDLIBS)"

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/app/main.d $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%.d)
