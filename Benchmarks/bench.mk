# The benchmark suite: `make bench`. Included by the main Makefile, which defines OUT
# (TestTargets/out), CLANG, BPF_CFLAGS, NOCOOKIE and the `deps` target first; everything this
# fragment builds goes to $(OUT)/bench. Needs root; takes about 5 minutes on a 2-core machine.
#
#   $(BENCH_DIR)/sites-N            one probe (bench:site) at N sites, N in $(BENCH_SITES)
#   $(BENCH_DIR)/hit                two 3-argument probes (nop and nop;nop5 sites) in loops
#   $(BENCH_DIR)/count.bpf.o        the attach benchmark's hit counter (Debian's usdt.bpf.h)
#   $(BENCH_DIR)/hit*.bpf.o         the hit benchmark's programs: Debian's header (cookie and
#                                   -nocookie) and ours (Include/usdt/usdt.bpf.h)
#   $(BENCH_DIR)/libbpf_attach      libbpf 1.1.2's bpf_program__attach_usdt, driven over stdin
#   $(BENCH_DIR)/raw_multi          one bare BPF_LINK_CREATE(uprobe_multi): the floor
#
# Results: .build/bench/results.json and .build/bench/table.txt. Options for the harness go in
# BENCH_ARGS, e.g. `make bench BENCH_ARGS="--only attach --perf-1000"` (see usdt-bench --help);
# BENCH_PERF_1000=1 also adds the 1,000-site runs of swift-perf and libbpf (+~6 minutes).

BENCH_DIR    := $(OUT)/bench
BENCH_SRC    := Benchmarks
BENCH_SITES  := 100 1000 10000 50000
BENCH_BPF    := $(foreach o,count hit hit-nocookie hit-ours,$(BENCH_DIR)/$(o).bpf.o)
BENCH_BINS   := $(BENCH_SITES:%=$(BENCH_DIR)/sites-%) $(BENCH_DIR)/hit \
                $(BENCH_DIR)/libbpf_attach $(BENCH_DIR)/raw_multi
BENCH_CFLAGS := -O2 -g -Wall
BENCH_ARGS   ?=

.PHONY: bench bench-deps bench-targets

## bench-deps: GNU time (peak memory) is required; BCC's tplist is optional (skipped with a note)
bench-deps: deps
	@dpkg-query -W -f='$${Status}' time 2>/dev/null | grep -q "install ok installed" || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
	@dpkg-query -W -f='$${Status}' bpfcc-tools 2>/dev/null | grep -q "install ok installed" || { \
	  echo "installing bpfcc-tools (for tplist-bpfcc)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bpfcc-tools; } \
	  || echo "note: bpfcc-tools could not be installed; the list benchmark skips tplist"; }

## bench-targets: the benchmark's targets, helpers and BPF objects
bench-targets: $(BENCH_BPF) $(BENCH_BINS)

## bench: build everything, run usdt-bench (release) and print its tables
bench: bench-deps bench-targets
	swift build -c release --product usdt-bench
	swift build -c release --product usdt
	@saved=$$(cat /proc/sys/kernel/bpf_stats_enabled); \
	.build/release/usdt-bench --bench-dir $(abspath $(BENCH_DIR)) --usdt .build/release/usdt \
	  --out .build/bench $(BENCH_ARGS); status=$$?; \
	echo $$saved > /proc/sys/kernel/bpf_stats_enabled; exit $$status

$(BENCH_DIR):
	mkdir -p $@

$(BENCH_DIR)/sites-%: $(BENCH_SRC)/targets/sites.c | $(BENCH_DIR)
	gcc $(BENCH_CFLAGS) -DSITES=$* -o $@ $<

$(BENCH_DIR)/hit: $(BENCH_SRC)/targets/hit.c | $(BENCH_DIR)
	gcc $(BENCH_CFLAGS) -o $@ $<

$(BENCH_DIR)/libbpf_attach $(BENCH_DIR)/raw_multi: $(BENCH_DIR)/%: $(BENCH_SRC)/helpers/%.c \
                                                   $(BENCH_SRC)/helpers/helper.h | $(BENCH_DIR)
	gcc $(BENCH_CFLAGS) -o $@ $< -lbpf

$(BENCH_DIR)/count.bpf.o: $(BENCH_SRC)/bpf/count.bpf.c $(BENCH_SRC)/bpf/prelude.h | $(BENCH_DIR)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_DIR)/hit.bpf.o $(BENCH_DIR)/hit-nocookie.bpf.o: $(BENCH_SRC)/bpf/hit.bpf.c $(BENCH_SRC)/bpf/prelude.h | $(BENCH_DIR)
	$(CLANG) $(BPF_CFLAGS) $(NOCOOKIE) -c $< -o $@

$(BENCH_DIR)/hit-ours.bpf.o: $(BENCH_SRC)/bpf/hit.bpf.c $(BENCH_SRC)/bpf/prelude.h Include/usdt/usdt.bpf.h | $(BENCH_DIR)
	$(CLANG) $(BPF_CFLAGS) -DBENCH_OURS -IInclude -c $< -o $@
