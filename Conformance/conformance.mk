# The conformance kit as a product (Conformance/ADAPTERS.md): the adapters that let other USDT
# implementations be graded on Conformance/corpus, and the report. Included by the main Makefile,
# which defines OUT (TestTargets/out), CLANG, BPF_CFLAGS and NOCOOKIE first.
#
#   conformance-deps      bpftrace (Debian package), for the bpftrace adapter, when missing
#   conformance-adapters  $(OUT)/conformance/libbpf_adapter and libbpf_adapter.bpf.o: libbpf's own
#                         bpf_program__attach_usdt and <bpf/usdt.bpf.h>, the peer being graded
#   conformance-report    `usdt conformance` for ours, libbpf and bpftrace on every corpus case:
#                         a matrix on stdout, .build/conformance/report.json and report.html;
#                         fails only when ours fails a case

CONFORMANCE_OUT     := $(OUT)/conformance
CONFORMANCE_REPORT  := .build/conformance
CONFORMANCE_ADAPTERS := $(CONFORMANCE_OUT)/libbpf_adapter $(CONFORMANCE_OUT)/libbpf_adapter.bpf.o

.PHONY: conformance-deps conformance-adapters conformance-report

conformance-deps:
	@command -v bpftrace >/dev/null || { echo "installing: bpftrace"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bpftrace; }

conformance-adapters: deps conformance-deps $(CONFORMANCE_ADAPTERS)

$(CONFORMANCE_OUT):
	mkdir -p $@

$(CONFORMANCE_OUT)/libbpf_adapter.bpf.o: Conformance/adapters/libbpf_adapter.bpf.c | $(CONFORMANCE_OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(CONFORMANCE_OUT)/libbpf_adapter: Conformance/adapters/libbpf_adapter.c | $(CONFORMANCE_OUT)
	gcc -O2 -g -Wall -Werror -o $@ $< $$(pkg-config --cflags --libs libbpf)

conformance-report: targets bpf conformance-adapters
	swift build --product usdt
	mkdir -p $(CONFORMANCE_REPORT)
	"$$(swift build --show-bin-path)/usdt" conformance \
	  --json $(CONFORMANCE_REPORT)/report.json --html $(CONFORMANCE_REPORT)/report.html
