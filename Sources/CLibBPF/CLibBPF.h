// libbpf as a loader: open, load and inspect BPF objects, their maps and their BTF.
// Our USDT code never calls libbpf's own USDT attach; it only uses libbpf to load objects.
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
