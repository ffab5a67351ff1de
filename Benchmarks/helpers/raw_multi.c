// Attach benchmark, impl "raw-multi": the floor. Only the one BPF_LINK_CREATE with
// BPF_TRACE_UPROBE_MULTI (attach type 48) for precomputed file offsets and cookies, and one
// close() to detach; no ELF reading, no spec. The program is loaded with expected_attach_type 48.
//
//   raw_multi <count.bpf.o> <program>
// Commands: "load <binary> <offsets-file>" (one decimal file offset per line; not timed) ->
// "ok <sites>"; "attach" -> "ok <ns>" (pid 0: every process; cookie 0 = spec 0 at every site);
// "detach" -> "ok <ns>" (close); "count" -> "ok <hits so far>"; end of input exits.
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

// BPF_LINK_CREATE's part of union bpf_attr as of Linux 6.6 (Debian 12's 6.1 uapi predates it);
// the same layout as Sources/CUSDTShims/include/CUSDTShims.h.
struct link_create_uprobe_multi {
  uint32_t prog_fd, target_fd, attach_type, flags;
  uint64_t path, offsets, ref_ctr_offsets, cookies;
  uint32_t cnt, multi_flags, pid, path_fd;
};
#define LINK_CREATE 28
#define TRACE_UPROBE_MULTI 48

int main(int argc, char **argv) {
  char line[8192], binary[4000], offsets_path[4000];
  unsigned long *offsets = NULL;
  uint64_t *cookies = NULL;
  size_t count = 0;
  int link_fd = -1;
  if (argc != 3) {
    fprintf(stderr, "usage: %s OBJECT PROGRAM\n", argv[0]);
    return 2;
  }
  helper_setup();
  struct bpf_object *object = bpf_object__open_file(argv[1], NULL);
  struct bpf_program *program = object ? bpf_object__find_program_by_name(object, argv[2]) : NULL;
  if (!program) {
    reply_err(errno ? errno : ENOENT, "open");
    return 1;
  }
  bpf_program__set_expected_attach_type(program, TRACE_UPROBE_MULTI);
  if (bpf_object__load(object)) {
    reply_err(errno, "load");
    return 1;
  }
  printf("ready\n");
  while (fgets(line, sizeof line, stdin)) {
    if (sscanf(line, "load %3999s %3999s", binary, offsets_path) == 2) {
      FILE *file = fopen(offsets_path, "r");
      unsigned long offset;
      size_t capacity = 1024;
      if (!file) { reply_err(errno, offsets_path); continue; }
      count = 0;
      offsets = realloc(offsets, capacity * sizeof *offsets);
      while (fscanf(file, "%lu", &offset) == 1) {
        if (count == capacity) offsets = realloc(offsets, (capacity *= 2) * sizeof *offsets);
        offsets[count++] = offset;
      }
      fclose(file);
      cookies = realloc(cookies, (count ? count : 1) * sizeof *cookies);
      memset(cookies, 0, (count ? count : 1) * sizeof *cookies);
      reply_ok((long long)count);
    } else if (!strncmp(line, "attach", 6)) {
      struct link_create_uprobe_multi attr;
      memset(&attr, 0, sizeof attr);
      attr.prog_fd = bpf_program__fd(program);
      attr.attach_type = TRACE_UPROBE_MULTI;
      attr.path = (uintptr_t)binary;
      attr.offsets = (uintptr_t)offsets;
      attr.cookies = (uintptr_t)cookies;
      attr.cnt = (uint32_t)count;
      long long start = now_ns();
      link_fd = (int)syscall(SYS_bpf, LINK_CREATE, &attr, sizeof attr);
      long long elapsed = now_ns() - start;
      if (link_fd < 0) reply_err(errno, "BPF_LINK_CREATE");
      else reply_ok(elapsed);
    } else if (!strncmp(line, "detach", 6)) {
      long long start = now_ns();
      if (link_fd >= 0) close(link_fd);
      link_fd = -1;
      reply_ok(now_ns() - start);
    } else if (!strncmp(line, "count", 5)) {
      reply_ok(read_count(object));
    } else {
      reply_err(EINVAL, "unknown command");
    }
  }
  if (link_fd >= 0) close(link_fd);
  bpf_object__close(object);
  return 0;
}
