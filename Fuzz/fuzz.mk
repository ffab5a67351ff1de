# Fuzzing with libFuzzer; included by the main Makefile. See Fuzz/README.md.
#
#   make fuzz                              every target, 30 s each
#   make fuzz FUZZ_SECONDS=300             longer
#   make fuzz FUZZ_TARGETS="elf args-x86_64"
#
# Results: .build/fuzz/summary.txt (executions per target), .build/fuzz/logs/<target>.log,
# crashing inputs in .build/fuzz/artifacts/<target>/. A crash fails the target.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?=
FUZZ_OUT     ?= .build/fuzz

.PHONY: fuzz fuzz-corpus malformed-corpus

## fuzz: run each fuzz target for FUZZ_SECONDS (default 30) and summarise executions per target
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" FUZZ_OUT=$(FUZZ_OUT) bash Fuzz/run-fuzz.sh

## fuzz-corpus: regenerate the committed seed corpora in Fuzz/corpus/ from the test fixtures
fuzz-corpus:
	python3 Fuzz/make-seed-corpus.py

## malformed-corpus: regenerate Tests/USDTTests/Fixtures/malformed/ and its manifest.json
malformed-corpus:
	python3 ci/make-malformed-corpus.py
