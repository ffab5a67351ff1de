// Attach benchmark, impl "libbpf": Debian's libbpf 1.1.2 bpf_program__attach_usdt (which has no
// uprobe_multi support: one perf-event uprobe + one bpf_link per site, 2 fds each).
//
//   libbpf_attach <count.bpf.o> <program>
// Commands: "attach <binary> <provider> <name>" -> "ok <ns>" (pid -1: every process);
// "detach" -> "ok <ns>" (bpf_link__destroy); "count" -> "ok <hits so far>"; end of input
// detaches and exits.
#include <stdlib.h>
#include "helper.h"

int main(int argc, char **argv) {
  char line[4096], binary[4000], provider[256], name[256];
  struct bpf_link *link = NULL;
  if (argc != 3) {
    fprintf(stderr, "usage: %s OBJECT PROGRAM\n", argv[0]);
    return 2;
  }
  helper_setup();
  struct bpf_object *object = bpf_object__open_file(argv[1], NULL);
  if (!object || bpf_object__load(object)) {
    reply_err(errno, "load");
    return 1;
  }
  struct bpf_program *program = bpf_object__find_program_by_name(object, argv[2]);
  if (!program) {
    reply_err(ENOENT, "program");
    return 1;
  }
  printf("ready\n");
  while (fgets(line, sizeof line, stdin)) {
    if (sscanf(line, "attach %3999s %255s %255s", binary, provider, name) == 3) {
      if (link) { reply_err(EBUSY, "attach"); continue; }
      long long start = now_ns();
      link = bpf_program__attach_usdt(program, -1, binary, provider, name, NULL);
      long long elapsed = now_ns() - start;
      if (!link) reply_err(errno, "bpf_program__attach_usdt");
      else reply_ok(elapsed);
    } else if (!strncmp(line, "detach", 6)) {
      long long start = now_ns();
      bpf_link__destroy(link);
      link = NULL;
      reply_ok(now_ns() - start);
    } else if (!strncmp(line, "count", 5)) {
      reply_ok(read_count(object));
    } else {
      reply_err(EINVAL, "unknown command");
    }
  }
  bpf_link__destroy(link);
  bpf_object__close(object);
  return 0;
}
