// The conformance adapter for libbpf (Conformance/ADAPTERS.md): attaches with libbpf's own
// bpf_program__attach_usdt, as installed (Debian 12: libbpf 1.1.2), the program of
// libbpf_adapter.bpf.o (next to this executable), so the harness grades libbpf's USDT support
// exactly as a libbpf user gets it.
//
//   libbpf_adapter --binary=PATH --probe=PROVIDER:NAME --pid=PID|-1 --mode=cookie|no-cookie --cookie=N
//
// Prints "ready" once attached, waits for the end of stdin (or SIGINT/SIGTERM), then prints one
// JSON line per hit, {"pid":…,"tid":…,"args":[…],"cookie":…}, detaches and exits 0. An attach
// that libbpf refuses exits 1 with libbpf's messages and the errno on stderr. libbpf chooses
// between BPF cookies and its IP map from the kernel's features, so --mode=no-cookie cannot be
// honoured on a kernel with cookies: exit 2 (unsupported).
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAX_ARGS 12

// Must match struct hit in libbpf_adapter.bpf.c.
struct hit {
  uint32_t pid;
  uint32_t tid;
  int32_t arg_cnt;
  uint32_t unused;
  uint64_t cookie;
  int64_t rets[MAX_ARGS];
  uint64_t args[MAX_ARGS];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo) {
  (void)signo;
  stop_requested = 1;
}

// Blocks until stdin ends or SIGINT/SIGTERM arrives.
static void wait_for_stop(void) {
  char buf[256];
  while (!stop_requested) {
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    int n = poll(&p, 1, 100);
    if (n < 0 && errno != EINTR)
      return;
    if (n > 0) {
      ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
      if (got == 0 || (got < 0 && errno != EINTR))
        return;
    }
  }
}

static const char *option(int argc, char **argv, const char *name) {
  size_t len = strlen(name);
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=')
      return argv[i] + len + 1;
  return NULL;
}

int main(int argc, char **argv) {
  const char *binary = option(argc, argv, "--binary");
  const char *probe = option(argc, argv, "--probe");
  const char *pid_text = option(argc, argv, "--pid");
  const char *mode = option(argc, argv, "--mode");
  const char *cookie_text = option(argc, argv, "--cookie");
  if (!binary || !probe) {
    fprintf(stderr, "usage: %s --binary=PATH --probe=PROVIDER:NAME [--pid=PID] [--mode=cookie] [--cookie=N]\n", argv[0]);
    return 1;
  }
  if (mode && strcmp(mode, "cookie") != 0) {
    fprintf(stderr, "libbpf picks BPF cookies or its IP map from the kernel's features; mode %s cannot be forced\n", mode);
    return 2;
  }
  char provider[256], name[256];
  const char *colon = strchr(probe, ':');
  if (!colon || colon == probe || !colon[1] || (size_t)(colon - probe) >= sizeof provider || strlen(colon + 1) >= sizeof name) {
    fprintf(stderr, "--probe must be provider:name, got %s\n", probe);
    return 1;
  }
  memcpy(provider, probe, colon - probe);
  provider[colon - probe] = '\0';
  strcpy(name, colon + 1);
  pid_t pid = pid_text ? (pid_t)strtol(pid_text, NULL, 10) : -1;
  uint64_t cookie = cookie_text ? strtoull(cookie_text, NULL, 0) : 0;

  // The BPF object sits next to this executable.
  char object_path[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", object_path, sizeof object_path - 32);
  if (len < 0) {
    perror("readlink /proc/self/exe");
    return 1;
  }
  object_path[len] = '\0';
  char *slash = strrchr(object_path, '/');
  strcpy(slash ? slash + 1 : object_path, "libbpf_adapter.bpf.o");

  struct bpf_object *object = bpf_object__open_file(object_path, NULL);
  if (!object) {
    fprintf(stderr, "bpf_object__open_file %s: %s\n", object_path, strerror(errno));
    return 1;
  }
  if (bpf_object__load(object)) {
    fprintf(stderr, "bpf_object__load %s: %s\n", object_path, strerror(errno));
    return 1;
  }
  struct bpf_program *program = bpf_object__find_program_by_name(object, "record");
  LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = cookie);
  struct bpf_link *link = bpf_program__attach_usdt(program, pid, binary, provider, name, &opts);
  if (!link) {
    int err = errno;
    fprintf(stderr, "bpf_program__attach_usdt(%s, %s:%s, pid %d): %s (errno %d)\n", binary, provider, name,
            (int)pid, strerror(err), err);
    bpf_object__close(object);
    return 1;
  }

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  printf("ready\n");
  fflush(stdout);
  wait_for_stop();

  int count_fd = bpf_map__fd(bpf_object__find_map_by_name(object, "hit_count"));
  int hits_fd = bpf_map__fd(bpf_object__find_map_by_name(object, "hits"));
  uint32_t zero = 0;
  uint64_t count = 0;
  int status = 0;
  if (bpf_map_lookup_elem(count_fd, &zero, &count)) {
    perror("reading hit_count");
    status = 1;
  }
  if (count > 65536)
    count = 65536;
  for (uint32_t i = 0; i < count && status == 0; i++) {
    struct hit h;
    if (bpf_map_lookup_elem(hits_fd, &i, &h)) {
      perror("reading hits");
      status = 1;
      break;
    }
    printf("{\"pid\":%u,\"tid\":%u,\"args\":[", h.pid, h.tid);
    int n = h.arg_cnt < 0 ? 0 : h.arg_cnt > MAX_ARGS ? MAX_ARGS : h.arg_cnt;
    for (int a = 0; a < n; a++) {
      if (h.rets[a] == 0)
        printf("%s%" PRId64, a ? "," : "", (int64_t)h.args[a]);
      else
        printf("%s\"unavailable\"", a ? "," : "");
    }
    printf("],\"cookie\":%" PRIu64 "}\n", h.cookie);
  }
  fflush(stdout);
  bpf_link__destroy(link);
  bpf_object__close(object);
  return status;
}
