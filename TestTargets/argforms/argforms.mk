# SwiftUSDT's own BPF header (Include/usdt/usdt.bpf.h) and the argument-form targets.
# Included by the main Makefile, which defines OUT (TestTargets/out), CLANG, BPF_CFLAGS, NOCOOKIE
# and the $(OUT) rule first; this fragment only adds its outputs to EXTRA_TARGETS / EXTRA_BPF and
# defines their rules.
#
#   argforms-{gcc,clang}-{O0,O2}    TestTargets/argforms/argforms.c: probes covering every x86-64
#       operand form (registers of each width, stack slots, sym(%rip), SIB, constants, floats,
#       %fs: TLS); expected values in expected.json, each build's argument strings in
#       notes-<build>.txt (refresh with `make argforms-notes`).
#   argforms.bpf.o, argforms-nocookie.bpf.o    TestTargets/bpf/argforms.bpf.c: the recorder built
#       against Include/usdt/usdt.bpf.h (spec 304 bytes, argument 24); -nocookie looks specs up
#       by IP (see recorder.h).

AF_DIR     := TestTargets/argforms
AF_BUILDS  := gcc-O0 gcc-O2 clang-O0 clang-O2
AF_TARGETS := $(AF_BUILDS:%=$(OUT)/argforms-%)
AF_BPF     := $(OUT)/argforms.bpf.o $(OUT)/argforms-nocookie.bpf.o

EXTRA_TARGETS += $(AF_TARGETS)
EXTRA_BPF     += $(AF_BPF)

$(OUT)/argforms-gcc-%: $(AF_DIR)/argforms.c | $(OUT)
	gcc -$* -g -Wall -o $@ $<
$(OUT)/argforms-clang-%: $(AF_DIR)/argforms.c | $(OUT)
	$(CLANG) -$* -g -Wall -o $@ $<

$(AF_BPF): TestTargets/bpf/argforms.bpf.c Include/usdt/usdt.bpf.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) $(NOCOOKIE) -I$(abspath Include) -c $< -o $@

# The committed snapshots: each note's provider:name and Arguments, in note order.
.PHONY: argforms-notes
argforms-notes: $(AF_TARGETS)
	@for b in $(AF_BUILDS); do \
	  case $$b in gcc-*) cc=gcc ;; *) cc="$(CLANG)" ;; esac; \
	  { echo "# $$b: $$($$cc --version | head -n 1)"; \
	    echo "# readelf -n $(OUT)/argforms-$$b, one line per note: provider:name  Arguments"; \
	    readelf -nW $(OUT)/argforms-$$b | awk '/Provider:/ { p = $$NF } /Name:/ { n = $$2 } \
	      /Arguments:/ { sub(/^ *Arguments: */, ""); print p ":" n "  " $$0 }'; \
	  } > $(AF_DIR)/notes-$$b.txt; \
	done
