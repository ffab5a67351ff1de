// Mirror of the selftest urand_auto_attach (progs/test_urandom_usdt.c): programs whose
// sections name their probes, `SEC("usdt/<path>:<provider>:<name>")`, attached from the
// object alone; plus one bare SEC("usdt") program that auto-attach must leave alone.
// URANDOM_EXE and URANDOM_LIB are the absolute paths of the traced files (set by the Makefile).
#include "recorder.h"

#ifndef URANDOM_EXE
#error "build with -DURANDOM_EXE=\"/path/to/urandom_read\" -DURANDOM_LIB=\"/path/to/lib.so\""
#endif

SEC("usdt/" URANDOM_EXE ":urand:read_without_sema")
int urand_read_without_sema(struct pt_regs *ctx) { return record(ctx, 0); }

SEC("usdt/" URANDOM_EXE ":urand:read_with_sema")
int urand_read_with_sema(struct pt_regs *ctx) { return record(ctx, 1); }

SEC("usdt/" URANDOM_LIB ":urandlib:read_without_sema")
int urandlib_read_without_sema(struct pt_regs *ctx) { return record(ctx, 2); }

SEC("usdt/" URANDOM_LIB ":urandlib:read_with_sema")
int urandlib_read_with_sema(struct pt_regs *ctx) { return record(ctx, 3); }

SEC("usdt") int manual_only(struct pt_regs *ctx) { return record(ctx, 4); }

char LICENSE[] SEC("license") = "GPL";
