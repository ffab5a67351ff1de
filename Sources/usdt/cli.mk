# The usdt CLI's built-in BPF recorder (`usdt trace`). Included by the main Makefile, which
# defines OUT, CLANG, BPF_CFLAGS and NOCOOKIE first; this fragment only adds its rules and hangs
# them on `bpf`.
#
#   $(OUT)/trace.bpf.o               TestTargets/bpf/trace.bpf.c: recorder.h with one SEC("usdt")
#                                    program, built like the suites' objects
#   Sources/usdt/EmbeddedRecorder.swift
#                                    that object as a base64 literal (ci/embed-bpf.sh); checked in
#                                    so `swift build` works without clang, regenerated here when
#                                    the object changes
#
# -fdebug-prefix-map keeps the checkout's absolute path out of the object (DWARF and BTF line
# info), so the same compiler gives the same bytes, and the same Swift file, in any directory.

CLI_EMBEDDED_RECORDER := Sources/usdt/EmbeddedRecorder.swift

$(OUT)/trace.bpf.o: TestTargets/bpf/trace.bpf.c TestTargets/bpf/recorder.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -fdebug-prefix-map=$(CURDIR)=. -c $< -o $@

$(CLI_EMBEDDED_RECORDER): $(OUT)/trace.bpf.o ci/embed-bpf.sh
	bash ci/embed-bpf.sh $< $@ TestTargets/bpf/trace.bpf.c

bpf: $(CLI_EMBEDDED_RECORDER)
