#!/bin/sh
# Regenerates Fixtures/cross/<name>.json from what `usdt list --json` prints for the cross-
# architecture builds of TestTargets/cross/probes.c ($(OUT)/cross/<name>.so, built by
# TestTargets/cross/cross.mk through `make targets`).
#
# Usage: regenerate.sh [USDT]        USDT defaults to .build/debug/usdt (run `swift build` first)
#
# Each file keeps what CrossArchitectureTests compares: the header facts, and for each note in
# order its provider, name and argument string, whether it names a semaphore, whether it is
# attachable (and the USDTError.Kind of each problem), and each argument's decode in the CLI's JSON shape, one argument
# per line. Addresses and offsets are left out (they move with the compiler); the test checks them
# structurally. An unreadable argument ("kind": "unavailable") keeps the parser's error kind
# ("error"), not its wording ("reason").
#
# The output is what the parsers decode TODAY. Review every changed decode against
# /work/shared/reference/arguments.md §4 and README.md here before committing it: a wrong decode
# must be reported and fixed, not pinned.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
usdt=${1:-$root/.build/debug/usdt}
out=$root/TestTargets/out/cross
names="x86_64 i386 aarch64 arm riscv64 s390x ppc64le ppc64"

for name in $names; do
  for variant in "$name" "$name-O0"; do
    so=$out/$variant.so
    [ -f "$so" ] || { echo "missing $so: run \`make targets\`" >&2; exit 1; }
    # The compiler that made the pinned notes (the first string of .comment), for the test's
    # message when a rebuild with another compiler moves registers around.
    compiler=$(readelf -p .comment "$so" | sed -n 's/^ *\[ *0\] *//p')
    "$usdt" list --json "$so" | python3 -c '
import json, sys

# The parser error kind of an unreadable argument, from its reason. Both refusals seen in these
# builds are thrown as USDTError.Kind.unsupportedOperand (ArgumentParsing.swift, X86.swift).
KINDS = [("spans a register pair", "unsupportedOperand"),
         ("symbolic displacement with an index register", "unsupportedOperand")]
FIELDS = ["size", "signed", "float", "operand", "kind", "register", "register_offset", "index",
          "index_offset", "scale", "offset", "value", "symbol"]

def argument(a):
    out = {k: a[k] for k in FIELDS if a.get(k) is not None}
    if a["kind"] == "unavailable":
        kinds = [kind for text, kind in KINDS if text in a["reason"]]
        if not kinds:
            sys.exit("classify this reason by hand: " + a["reason"])
        out["error"] = kinds[0]
    return out

listing = json.load(sys.stdin)
head = {"file": sys.argv[1], "compiler": sys.argv[2]}
head.update({k: listing[k] for k in
             ["arch", "machine", "elf_class", "endianness", "elf_type", "malformed_notes"]})
lines = ["{"] + ["  %s: %s," % (json.dumps(k), json.dumps(v)) for k, v in head.items()]
lines.append("  \"probes\": [")
probes = listing["probes"]
for n, p in enumerate(probes):
    meta = {"provider": p["provider"], "name": p["name"], "args": p["args"],
            "semaphore": p["semaphore"] != 0, "attachable": p["attachable"], "problems": []}
    if p["problems"]:
        # Pinned as USDTError.Kind names, with the reason in README.md: classify them by hand.
        sys.exit("%s:%s has problems, pin their kinds by hand: %s" % (p["provider"], p["name"], p["problems"]))
    lines.append("    {")
    lines += ["      %s: %s," % (json.dumps(k), json.dumps(v)) for k, v in meta.items()]
    args = [json.dumps(argument(a)) for a in p["arguments"]]
    if args:
        lines.append("      \"arguments\": [")
        lines += ["        " + a + ("," if i + 1 < len(args) else "") for i, a in enumerate(args)]
        lines.append("      ]")
    else:
        lines.append("      \"arguments\": []")
    lines.append("    }" + ("," if n + 1 < len(probes) else ""))
lines += ["  ]", "}"]
print("\n".join(lines))
' "$variant.so" "$compiler" > "$here/$variant.json"
    echo "wrote $variant.json"
  done
done
