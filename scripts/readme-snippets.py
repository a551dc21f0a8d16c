#!/usr/bin/env python3
"""readme-snippets.py README.md OUTDIR

Every ```c block of the README is either a complete program (it defines
main) or a fragment that says so on its first line, a comment starting
with "Fragment" that names where the full program is. Complete programs
are written to OUTDIR/readme-N.c (N: the block's line in the README) for
scripts/consumers.sh to compile with -Werror and run. A block that is
neither is an error: the README would show code that was never compiled.
"""
import re
import sys


def blocks(text):
    """(line, code) of each ```c block."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        if lines[i].strip() == "```c":
            start, i, code = i + 1, i + 1, []
            while i < len(lines) and lines[i].strip() != "```":
                code.append(lines[i])
                i += 1
            out.append((start + 1, "\n".join(code) + "\n"))
        i += 1
    return out


def main():
    readme, outdir = sys.argv[1], sys.argv[2]
    bad, n = 0, 0
    for line, code in blocks(open(readme, encoding="utf-8").read()):
        if re.match(r"\s*/\*\s*Fragment", code):
            continue
        if not re.search(r"^int main\(", code, re.M):
            print(f"{readme}:{line}: a C block that is neither a complete "
                  f"program nor marked /* Fragment ... */", file=sys.stderr)
            bad += 1
            continue
        with open(f"{outdir}/readme-{line}.c", "w", encoding="utf-8") as f:
            f.write(code)
        n += 1
    print(f"readme-snippets: {n} complete programs")
    return 1 if bad or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
