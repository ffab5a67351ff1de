# Cross-architecture USDT fixtures: TestTargets/cross/probes.c built for every architecture the
# argument parsers cover, at -O2 and -O0, freestanding (no cross libc: sdt.h needs only itself and
# sdt-config.h from systemtap-sdt-dev) and linked with ld.lld -shared. Tests/USDTTests/Cross
# compares what the library decodes from each with Tests/USDTTests/Fixtures/cross/<name>.json.
# Included by the main Makefile, which defines OUT and CLANG first.
#
#   $(OUT)/cross/<arch>.so, $(OUT)/cross/<arch>-O0.so   <arch> as in Architecture.rawValue
#
# Not built: mips64el (clang can, but there is no argument parser yet) and loongarch64 (this
# clang has no LoongArch backend).

CROSS_DIR    := TestTargets/cross
CROSS_OUT    := $(OUT)/cross
CROSS_LLD    ?= $(if $(wildcard $(dir $(shell command -v $(CLANG)))ld.lld),$(dir $(shell command -v $(CLANG)))ld.lld,ld.lld)
CROSS_SDT_INCLUDE ?= /usr/include/$(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
CROSS_CFLAGS := -g0 -fPIC -ffreestanding -nostdinc -I$(CROSS_SDT_INCLUDE) -Wall -Werror
CROSS_LDFLAGS := -shared --build-id=none

CROSS_TRIPLE_x86_64  := x86_64-linux-gnu
CROSS_TRIPLE_i386    := i386-linux-gnu
CROSS_TRIPLE_aarch64 := aarch64-linux-gnu
CROSS_TRIPLE_arm     := armv7a-linux-gnueabihf
CROSS_TRIPLE_riscv64 := riscv64-linux-gnu
CROSS_TRIPLE_s390x   := s390x-linux-gnu
CROSS_TRIPLE_ppc64le := powerpc64le-linux-gnu
CROSS_TRIPLE_ppc64   := powerpc64-linux-gnu

CROSS_ARCHES := x86_64 i386 aarch64 arm riscv64 s390x ppc64le ppc64
CROSS_LIBS   := $(foreach a,$(CROSS_ARCHES),$(CROSS_OUT)/$(a).so $(CROSS_OUT)/$(a)-O0.so)

EXTRA_TARGETS += $(CROSS_LIBS)

.PHONY: cross
## cross: only the cross-architecture fixtures
cross: $(CROSS_LIBS)

# $* is <arch> or <arch>-O0.
cross_arch = $(patsubst %-O0,%,$*)
cross_opt  = $(if $(filter %-O0,$*),-O0,-O2)

$(CROSS_LIBS): $(CROSS_OUT)/%.so: $(CROSS_DIR)/probes.c $(CROSS_DIR)/cross.mk | $(CROSS_OUT)
	$(CLANG) --target=$(CROSS_TRIPLE_$(cross_arch)) $(cross_opt) $(CROSS_CFLAGS) -c $< -o $(@:.so=.o)
	$(CROSS_LLD) $(CROSS_LDFLAGS) $(@:.so=.o) -o $@
	rm -f $(@:.so=.o)

$(CROSS_OUT):
	mkdir -p $@
