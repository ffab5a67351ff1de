#!/usr/bin/env python3
"""Regenerates the seed corpora in Fuzz/corpus/ from the test fixtures.

  Fuzz/corpus/elf/          the small ELF fixtures of Tests/USDTTests/Fixtures/elf/ (<= 8 KiB each)
  Fuzz/corpus/args-<arch>/  one argument string per file: every input of the argument fixture
                            tables (Tests/USDTTests/Fixtures/arguments/*.tsv) for that architecture
                            and its siblings (x86_64 seeds i386, ppc64le seeds ppc64 and ppc,
                            riscv64 seeds riscv32), plus the whole argument strings the ELF
                            fixtures' .readelf recordings show, plus a few strings built to reach
                            the tokenizer's corners (blank runs, ':' prefix, 13 arguments).

The output is deterministic (file names are `<source>-<line>` or a content hash), so rerunning it
after a fixture change gives a reviewable diff. `make fuzz` reads these directories as seeds only;
what libFuzzer finds goes to .build/fuzz/corpus/.
"""
import hashlib
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "USDTTests", "Fixtures")
OUT = os.path.join(ROOT, "Fuzz", "corpus")
MAX_ELF_SEED = 8 * 1024

# Every Architecture case (Sources/USDT/Arguments/Architecture.swift), each a fuzz target.
ARCHITECTURES = ["x86_64", "aarch64", "arm", "i386", "riscv64", "riscv32", "s390x",
                 "ppc64le", "ppc64", "ppc", "loongarch64", "mips"]
# Rows of the key architecture also seed the listed ones: the grammars are shared or close.
SIBLINGS = {"x86_64": ["i386"], "ppc64le": ["ppc64", "ppc"], "ppc64": ["ppc64le", "ppc"],
            "ppc": ["ppc64le", "ppc64"], "riscv64": ["riscv32"], "riscv32": ["riscv64"],
            "i386": ["x86_64"]}
# Which architecture each ELF fixture is, for its .readelf argument strings.
FIXTURE_ARCH = {"x86_64-": "x86_64", "aarch64-": "aarch64", "arm-": "arm", "ppc-": "ppc",
                "s390x-": "s390x"}
# Strings no table has: blanks, the ':' convention, the argument limit, spaces around '@'.
EXTRA = [
    "", ":", ":-4@%eax", "  \t\n", "4 @ %eax", "-4@ -20(%rbp)  8@%rax\t1@$1",
    " ".join(["-4@%eax"] * 13), " ".join(["8@x0"] * 12), "-4@$0x7fffffffffffffff", "8@-9223372036854775808(%rip)",
    "-4@[sp, 8]", "-8@16($sp) 4@$4", "4f@%xmm0", "8@sym+0x10(%rip)",
]


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def table_rows():
    """(arch, input, source label) for every row of every argument table."""
    directory = os.path.join(FIXTURES, "arguments")
    for table in sorted(os.listdir(directory)):
        if not table.endswith(".tsv"):
            continue
        with open(os.path.join(directory, table), encoding="utf-8") as f:
            header_seen = False
            for number, line in enumerate(f.read().split("\n"), start=1):
                if not line or line.startswith("#"):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                fields = line.split("\t")
                yield fields[0], fields[1], f"{table[:-4]}-{number}"


def readelf_strings():
    """(arch, argument string) from the notes recorded in Fixtures/elf/*.readelf."""
    directory = os.path.join(FIXTURES, "elf")
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".readelf"):
            continue
        arch = next((a for prefix, a in FIXTURE_ARCH.items() if name.startswith(prefix)), None)
        if arch is None:
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            for match in re.finditer(r"^\s*Arguments: (.*)$", f.read(), re.M):
                yield arch, match.group(1)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    elf_dir = os.path.join(FIXTURES, "elf")
    elf_seeds = 0
    for name in sorted(os.listdir(elf_dir)):
        path = os.path.join(elf_dir, name)
        if os.path.isfile(path) and "." not in name.replace(".so", "") and os.path.getsize(path) <= MAX_ELF_SEED:
            with open(path, "rb") as f:
                data = f.read()
            if data[:4] == b"\x7fELF":
                write(os.path.join(OUT, "elf"), name, data)
                elf_seeds += 1
    if elf_seeds == 0:
        sys.exit("no ELF fixture small enough to seed Fuzz/corpus/elf")

    seeds = {arch: {} for arch in ARCHITECTURES}
    for arch, text, label in table_rows():
        for target in [arch] + SIBLINGS.get(arch, []):
            seeds[target].setdefault(text, label)
    for arch, text in readelf_strings():
        for target in [arch] + SIBLINGS.get(arch, []):
            label = "readelf-" + hashlib.sha1(text.encode()).hexdigest()[:12]
            seeds[target].setdefault(text, label)
    for arch in ARCHITECTURES:
        for text in EXTRA:
            seeds[arch].setdefault(text, "extra-" + hashlib.sha1(text.encode()).hexdigest()[:12])
    for arch, texts in seeds.items():
        for text, label in texts.items():
            write(os.path.join(OUT, f"args-{arch}"), label, text.encode("utf-8"))
    print(f"Fuzz/corpus: elf {elf_seeds} files; "
          + ", ".join(f"args-{a} {len(t)}" for a, t in seeds.items()))


if __name__ == "__main__":
    main()
