"""Guard rail: no module over 400 lines, no function over 60 (tests, benches and migrations aside).

A function's length is counted from its ``def`` line to its last line, less its docstring (the
numpydoc parameter tables are documentation, not logic).

Usage: python .ci/check_sizes.py [--max-module N] [--max-function N]. Prints each offender and
exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_PREFIXES = ("tests/", "bench/", ".ci/")
#: Data tables may be long; a function may not (the demo generator keeps its tables).
SKIP_PARTS = ("/migrations/",)


def _python_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / p for p in listed
            if not p.startswith(SKIP_PREFIXES) and not any(s in p for s in SKIP_PARTS) and (ROOT / p).exists()]


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _docstring_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = fn.body[0] if fn.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return (first.end_lineno or first.lineno) - first.lineno + 1
    return 0


def check(max_module: int, max_function: int) -> list[str]:
    """The offenders: ``path: N lines`` and ``path:line function: N lines``."""
    problems = []
    for path in _python_files():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        lines = text.count("\n") + (not text.endswith("\n") and bool(text))
        if lines > max_module:
            problems.append(f"{rel}: {lines} lines (max {max_module}): split it by job")
        for fn in _functions(ast.parse(text)):
            length = (fn.end_lineno or fn.lineno) - fn.lineno + 1 - _docstring_lines(fn)
            if length > max_function:
                problems.append(f"{rel}:{fn.lineno} {fn.name}: {length} lines (max {max_function})")
    return problems


def main() -> int:
    """Print the offenders; 1 when there is one."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-module", type=int, default=400)
    parser.add_argument("--max-function", type=int, default=60)
    args = parser.parse_args()
    problems = check(args.max_module, args.max_function)
    for line in problems:
        print(line)
    print(f"sizes: {len(problems)} over the limits" if problems else "sizes: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
