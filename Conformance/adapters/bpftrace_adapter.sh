#!/bin/bash
# The conformance adapter for bpftrace (Conformance/ADAPTERS.md), as installed (Debian 12:
# bpftrace 0.17, `apt-get install bpftrace`; `make conformance-deps` does it).
#
#   bpftrace_adapter.sh --binary=PATH --probe=PROVIDER:NAME --pid=PID|-1 --mode=cookie --cookie=0
#
# Generates `usdt:PATH:PROVIDER:NAME { printf("H %d %d %ld…\n", pid, tid, arg0, …); }` with one
# argN per argument of the probe's first note (counted from `readelf -n`), runs bpftrace (with
# -p PID when given a pid), prints "ready" once bpftrace reports its probes attached
# (__BPFTRACE_NOTIFY_PROBES_ATTACHED), waits for the end of stdin or SIGINT/SIGTERM, stops
# bpftrace with SIGINT (it drains its output), and prints one JSON line per hit with
# "cookie": null. bpftrace has no USDT cookies and no way to choose the spec lookup, so a
# non-zero cookie or --mode=no-cookie exits 2 (unsupported); a program bpftrace rejects exits 1
# with its error (refused).
set -u

binary="" probe="" pid=-1 mode=cookie cookie=0
for arg in "$@"; do
  case $arg in
    --binary=*) binary=${arg#*=} ;;
    --probe=*) probe=${arg#*=} ;;
    --pid=*) pid=${arg#*=} ;;
    --mode=*) mode=${arg#*=} ;;
    --cookie=*) cookie=${arg#*=} ;;
    *) echo "unknown argument: $arg" >&2; exit 1 ;;
  esac
done
if [[ -z $binary || $probe != *:* ]]; then
  echo "usage: $0 --binary=PATH --probe=PROVIDER:NAME [--pid=PID] [--mode=cookie] [--cookie=0]" >&2
  exit 1
fi
if [[ $mode != cookie ]]; then
  echo "bpftrace cannot be told how to find specs (mode $mode)" >&2
  exit 2
fi
if (( cookie != 0 )); then
  echo "bpftrace has no USDT cookies (asked for cookie $cookie)" >&2
  exit 2
fi
if ! command -v bpftrace >/dev/null; then
  echo "bpftrace is not installed (apt-get install bpftrace, or make conformance-deps)" >&2
  exit 1
fi
provider=${probe%%:*}
name=${probe#*:}

# How many arguments the probe has: the first matching note's argument string.
count=$(readelf -n --wide "$binary" 2>/dev/null | awk -v p="$provider" -v n="$name" '
  /Provider: / { prov = $NF }
  /^ *Name: / { nm = $2 }
  /^ *Arguments:/ { if (prov == p && nm == n && !done) { print NF - 1; done = 1 } }')
format="H %d %d" values="pid, tid"
for ((i = 0; i < ${count:-0}; i++)); do
  format+=" %ld"
  values+=", arg$i"
done
program="usdt:$binary:$provider:$name { printf(\"$format\\n\", $values); }"

work=$(mktemp -d /tmp/usdt-bpftrace-adapter.XXXXXX)
bpftrace_pid=""
cleanup() {
  [[ -n $bpftrace_pid ]] && kill -KILL "$bpftrace_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# bpftrace's stderr without its routine noise.
errors() {
  grep -v -e __BPFTRACE_NOTIFY_PROBES_ATTACHED -e RLIMIT_MEMLOCK -e uprobe_events \
    -e 'failed to detach probe' -e '^$' "$work/err" >&2
}

pid_option=()
(( pid > 0 )) && pid_option=(-p "$pid")
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 bpftrace "${pid_option[@]}" -e "$program" \
  >"$work/out" 2>"$work/err" </dev/null &
bpftrace_pid=$!

until grep -q __BPFTRACE_NOTIFY_PROBES_ATTACHED "$work/err"; do
  if ! kill -0 "$bpftrace_pid" 2>/dev/null; then
    wait "$bpftrace_pid"
    status=$?
    bpftrace_pid=""
    echo "bpftrace exited with status $status before attaching; program: $program" >&2
    errors
    exit 1
  fi
  sleep 0.02
done
echo ready

# Until the end of stdin, or SIGINT/SIGTERM (`wait` returns early for a trapped signal).
trap 'kill "$reader" 2>/dev/null' INT TERM
cat >/dev/null &
reader=$!
wait "$reader"
trap - INT TERM

# bpftrace prints from per-CPU perf buffers that it polls; on SIGINT it stops polling, so let the
# output settle first: until it has not grown for 0.3 s (at most 5 s).
last=-1 still=0
for ((i = 0; i < 250 && still < 15; i++)); do
  size=$(stat -c %s "$work/out")
  if (( size == last )); then still=$((still + 1)); else still=0 last=$size; fi
  sleep 0.02
done
kill -INT "$bpftrace_pid" 2>/dev/null
wait "$bpftrace_pid"
status=$?
bpftrace_pid=""
if (( status != 0 )); then
  echo "bpftrace exited with status $status" >&2
  errors
  exit 1
fi
awk '$1 == "H" {
  printf "{\"pid\":%s,\"tid\":%s,\"args\":[", $2, $3
  for (i = 4; i <= NF; i++) printf "%s%s", (i > 4 ? "," : ""), $i
  print "],\"cookie\":null}"
}' "$work/out"
