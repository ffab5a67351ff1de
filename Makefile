# SwiftUSDT: build, test and conformance entry points. Every target installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := test

ARCH_DEFINE := __TARGET_ARCH_x86
MULTIARCH   := $(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
CLANG       ?= clang
OUT         := TestTargets/out
DEB_PACKAGES := libbpf-dev libelf-dev zlib1g-dev systemtap-sdt-dev pkg-config binutils gcc make
BPF_CFLAGS  := -target bpf -mcpu=v3 -g -O2 -D$(ARCH_DEFINE) -I/usr/include/$(MULTIARCH) -Wall -Werror

BPF_OBJECTS := $(foreach o,recorder autoattach-clang autoattach-gcc,$(OUT)/$(o).bpf.o $(OUT)/$(o)-nocookie.bpf.o) \
               $(OUT)/layout-libbpf17.bpf.o
TARGETS     := $(OUT)/basic-gcc-O0 $(OUT)/basic-gcc-O2 $(OUT)/basic-clang-O2 $(OUT)/optimized
EXTRA_TARGETS :=
EXTRA_BPF   :=
include TestTargets/targets.mk
include TestTargets/cross/cross.mk
include TestTargets/argforms/argforms.mk
include Sources/usdt/cli.mk
include Conformance/conformance.mk
include Benchmarks/bench.mk
include Fuzz/fuzz.mk
TARGETS     += $(EXTRA_TARGETS)
BPF_OBJECTS += $(EXTRA_BPF)

.PHONY: deps targets bpf build test conformance asan clean

## deps: install missing Debian packages (idempotent; apt-get update only when something is missing)
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## targets: the C programs the conformance suites trace
targets: deps $(TARGETS)

$(OUT)/basic-gcc-%: TestTargets/basic/basic.c | $(OUT)
	gcc -$* -g -o $@ $<
$(OUT)/basic-clang-%: TestTargets/basic/basic.c | $(OUT)
	$(CLANG) -$* -g -o $@ $<

$(OUT)/optimized: TestTargets/optimized/optimized.c | $(OUT)
	gcc -O2 -g -Wall -o $@ $<

## bpf: the BPF objects the suites load
bpf: deps $(BPF_OBJECTS)

# Each object also comes as a -nocookie variant that looks specs up by IP (see recorder.h).
NOCOOKIE = $(if $(findstring -nocookie,$@),-DUSDT_FORCE_NO_COOKIE)

$(OUT)/recorder.bpf.o $(OUT)/recorder-nocookie.bpf.o: TestTargets/bpf/recorder.bpf.c TestTargets/bpf/recorder.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) $(NOCOOKIE) -c $< -o $@

$(OUT)/layout-libbpf17.bpf.o: TestTargets/bpf/layout-libbpf17.bpf.c | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Auto-attach sections name the traced files by absolute path.
AUTOATTACH = $(CLANG) $(BPF_CFLAGS) $(NOCOOKIE) -DURANDOM_EXE='"$(abspath $(OUT))/urandom_read-$*"' \
  -DURANDOM_LIB='"$(abspath $(OUT))/libsharedprobes-$*.so"' -c $< -o $@
$(OUT)/autoattach-%-nocookie.bpf.o: TestTargets/bpf/autoattach.bpf.c TestTargets/bpf/recorder.h | $(OUT)
	$(AUTOATTACH)
$(OUT)/autoattach-%.bpf.o: TestTargets/bpf/autoattach.bpf.c TestTargets/bpf/recorder.h | $(OUT)
	$(AUTOATTACH)

$(OUT):
	mkdir -p $@

build: deps
	swift build

## test: everything, then every unit and conformance test
test: targets bpf
	swift test

## conformance: the privileged suites that attach to real probes, with a summary, then the
## corpus graded for ours, libbpf and bpftrace (.build/conformance/report.{json,html})
conformance: targets bpf
	bash ci/conformance-summary.sh
	$(MAKE) conformance-report

## asan: the unit tests once under AddressSanitizer (LeakSanitizer on, runtime noise suppressed)
asan: targets bpf
	LSAN_OPTIONS=suppressions=$(abspath ci/lsan.supp) \
	  swift test --sanitize=address --scratch-path .build-asan --filter USDTTests

clean:
	rm -rf $(OUT)
