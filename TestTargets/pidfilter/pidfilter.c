// Mirror of the pid-filter part of the kernel selftest uprobe_multi_test (prog_tests/
// uprobe_multi_test.c, attach_api_pattern/attach_api_syms with a child process or a child thread):
// one probe test:pid_filter_usdt in the noinline function usdt_trigger(), called by this process,
// by a forked child process, or by a child thread (tid != pid). A test spawns the child, attaches
// with (or without) the child's pid, then releases it, and checks which events were delivered.
//
// Protocol (line-buffered stdout; one reply line per command):
//   prints "ready pid=<pid>", then reads stdin:
//   "fire <x>"       this process calls usdt_trigger() once; prints "fired <x>";
//   "spawn-process"  forks a child that blocks on a pipe; prints "child pid=<pid>";
//   "spawn-thread"   creates a thread that blocks on a pipe; prints "thread tid=<gettid()>";
//   "release"        lets every blocked child process and thread call usdt_trigger() once, and
//                    waits until they have (waitpid / pthread_join); prints "released";
//   end of input exits with status 0. Children still blocked then are killed WITHOUT firing (a
//   child also dies with its parent, PR_SET_PDEATHSIG, and never fires on a pipe EOF).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sdt.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 16

__attribute__((noinline)) void usdt_trigger(void) { STAP_PROBE(test, pid_filter_usdt); }

// Blocks until one byte arrives on fd, then fires; EOF (the parent went away) exits silently.
static int wait_and_trigger(int fd) {
  char c;
  ssize_t n;
  do
    n = read(fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    return -1;
  usdt_trigger();
  return 0;
}

struct child {
  pid_t pid;    // process: its pid; thread: its tid
  pthread_t thread;
  int release_fd; // write end of the child's release pipe
};

static struct child procs[MAX_CHILDREN], threads[MAX_CHILDREN];
static int nprocs, nthreads;

struct thread_arg {
  int release_fd; // read end
  int ready_fd;   // write end: the thread reports its tid here
};

static void *thread_main(void *p) {
  struct thread_arg a = *(struct thread_arg *)p;
  pid_t tid = gettid();
  if (write(a.ready_fd, &tid, sizeof tid) != sizeof tid)
    return NULL;
  close(a.ready_fd);
  wait_and_trigger(a.release_fd);
  close(a.release_fd);
  return NULL;
}

static void spawn_process(void) {
  int fds[2];
  pid_t parent = getpid(), pid;

  if (nprocs == MAX_CHILDREN || pipe(fds) < 0) {
    printf("error spawn-process\n");
    return;
  }
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(1);
    close(fds[1]);
    for (int i = 0; i < nprocs; i++) // other children's release pipes
      close(procs[i].release_fd);
    for (int i = 0; i < nthreads; i++)
      close(threads[i].release_fd);
    _exit(wait_and_trigger(fds[0]) == 0 ? 0 : 1);
  }
  close(fds[0]);
  if (pid < 0) {
    close(fds[1]);
    printf("error spawn-process\n");
    return;
  }
  procs[nprocs++] = (struct child){.pid = pid, .release_fd = fds[1]};
  printf("child pid=%d\n", (int)pid);
}

static void spawn_thread(void) {
  int rel[2], rdy[2];
  pthread_t t;
  pid_t tid;
  struct thread_arg a;

  if (nthreads == MAX_CHILDREN || pipe(rel) < 0) {
    printf("error spawn-thread\n");
    return;
  }
  if (pipe(rdy) < 0) {
    close(rel[0]);
    close(rel[1]);
    printf("error spawn-thread\n");
    return;
  }
  a = (struct thread_arg){.release_fd = rel[0], .ready_fd = rdy[1]};
  if (pthread_create(&t, NULL, thread_main, &a) != 0) {
    close(rel[0]);
    close(rel[1]);
    close(rdy[0]);
    close(rdy[1]);
    printf("error spawn-thread\n");
    return;
  }
  // thread_main copies `a` before it writes, so `a` may go out of scope after this read.
  if (read(rdy[0], &tid, sizeof tid) != sizeof tid)
    tid = -1;
  close(rdy[0]);
  threads[nthreads++] = (struct child){.pid = tid, .thread = t, .release_fd = rel[1]};
  printf("thread tid=%d\n", (int)tid);
}

static void release_all(void) {
  for (int i = 0; i < nprocs; i++) {
    if (write(procs[i].release_fd, "r", 1) != 1)
      perror("release process");
    close(procs[i].release_fd);
    waitpid(procs[i].pid, NULL, 0);
  }
  for (int i = 0; i < nthreads; i++) {
    if (write(threads[i].release_fd, "r", 1) != 1)
      perror("release thread");
    close(threads[i].release_fd);
    pthread_join(threads[i].thread, NULL);
  }
  nprocs = nthreads = 0;
}

int main(void) {
  char line[128];

  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready pid=%d\n", (int)getpid());
  while (fgets(line, sizeof line, stdin)) {
    int x;
    line[strcspn(line, "\r\n")] = '\0';
    if (sscanf(line, "fire %d", &x) == 1) {
      usdt_trigger();
      printf("fired %d\n", x);
    } else if (strcmp(line, "spawn-process") == 0) {
      spawn_process();
    } else if (strcmp(line, "spawn-thread") == 0) {
      spawn_thread();
    } else if (strcmp(line, "release") == 0) {
      release_all();
      printf("released\n");
    } else {
      printf("error unknown command\n");
    }
  }
  // Unreleased children must not fire after the test: kill the processes; threads die with us.
  for (int i = 0; i < nprocs; i++) {
    kill(procs[i].pid, SIGKILL);
    waitpid(procs[i].pid, NULL, 0);
  }
  return 0;
}
