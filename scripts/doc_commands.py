"""The commands shown in README.md and docs/*.md, extracted and run (the convention of docs/contributing.md).

A command is a line starting with ``$ `` inside a fenced ```` ```console ````, ```` ```bash ````, ```` ```text ````,
```` ```shell ```` or ```` ```sh ```` block; a line ending in ``\\`` continues on the next. Every short command
is run. What is compared depends on the fence:

* ```` ```console ````: a verbatim session, the explicit marker of deterministic output. The lines after a ``$``
  line, up to the next ``$`` line or the end of the block, are its expected output (stdout and stderr together);
  ``...`` in them matches any text, across lines (doctest's ELLIPSIS); trailing spaces and blank lines at the
  edges are ignored. The command must exit 0 unless marked ``# exit N``; with no line after it, only the exit
  status is compared.
* the other fences: the shown output is illustrative (an excerpt) and not compared; the command must exit with
  the status marked ``# exit N``, or, unmarked, 0 or 1 (1: ``ssl-props`` reporting a failing check, which a
  document may show on purpose). A usage error (2), a missing command (127) or a timeout fails.

Markers, as a trailing comment on the ``$`` line: ``# exit N`` (the exit status) and ``# long`` (or
``# long: why``: over a minute, not run); the commands of :data:`LONG` are never run either.

Commands run from the repository root with this interpreter's ``bin`` first on ``PATH`` (``python`` and
``ssl-props`` are the environment's), one torch thread, ``COLUMNS=100``, under :data:`TIMEOUT` seconds each.

    python scripts/doc_commands.py             # run every short command, print one line per command
    python scripts/doc_commands.py --list      # list the commands and why a long one is not run
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCES = ("console", "bash", "text", "shell", "sh")
TIMEOUT = 120.0
#: commands (by prefix) that are never run by the doc test, with the reason
LONG = {
    "make mutate": "mutation testing over the committed tree (hours)",
    "make soak": "the theorem suite under N fresh seeds (tens of minutes)",
    "make atlas": "every loss checked and profiled (~1 min per loss per core)",
    "make gpu": "needs a CUDA machine",
    "make bench": "benchmarks (minutes)",
    "make theorems": "the whole theorem suite",
    "make test": "the whole test suite (this test is part of it)",
    "make conformance": "the lightly environment's suite",
    "make install": "installs packages",
    "python benchmarks/": "benchmarks (minutes)",
}
_MARK = re.compile(r"\s+#\s*(long(?::.*)?|exit\s+(\d+))\s*$")


@dataclass(frozen=True)
class DocCommand:
    """One ``$`` command of a document: where it is, what it runs, what it must print and exit with."""

    file: str
    line: int
    command: str
    expected: str | None  # None: the output is not compared (no output shown, or not a console block)
    exit_code: int | None = 0  # None: 0 or 1 (an unmarked command of an illustrative block)
    long: str | None = None  # why it is not run; None: it runs

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def _long_reason(command: str, marker: str | None) -> str | None:
    if marker and marker.startswith("long"):
        return marker.partition(":")[2].strip() or "marked `# long` in the document"
    return next((why for prefix, why in LONG.items() if command.startswith(prefix)), None)


def _command(file: str, line: int, raw: str, output: list[str], console: bool) -> DocCommand:
    m = _MARK.search(raw)
    marker = m.group(1) if m else None
    command = raw[: m.start()] if m else raw
    code = int(m.group(2)) if m and m.group(2) else 0 if console else None
    text = "\n".join(x.rstrip() for x in output).strip("\n")
    return DocCommand(file, line, command.strip(), text if text and console else None, code,
                      _long_reason(command.strip(), marker))


def extract(text: str, file: str = "<text>") -> list[DocCommand]:
    """Every ``$`` command of ``text`` (the convention in this module's docstring)."""
    out: list[DocCommand] = []
    fence: str | None = None
    console = False
    current: tuple[int, str] | None = None
    output: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line, number = lines[i], i + 1
        stripped = line.strip()
        if fence is None:
            if stripped.startswith("```") and stripped[3:].strip() in FENCES:
                fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
                console = stripped[3:].strip() == "console"
        elif stripped.startswith(fence) and stripped.strip("`") == "":
            if current:
                out.append(_command(file, *current, output, console))
            fence, current, output = None, None, []
        elif line.startswith("$ "):
            if current:
                out.append(_command(file, *current, output, console))
            raw = line[2:]
            while raw.endswith("\\") and i + 1 < len(lines):
                i += 1
                raw = raw[:-1].rstrip() + " " + lines[i].strip()
            current, output = (number, raw), []
        elif current:
            output.append(line)
        i += 1
    return out


def documents(root: Path = ROOT) -> list[Path]:
    """README.md and docs/*.md."""
    return [p for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))] if p.is_file()]


def extract_all(root: Path = ROOT) -> list[DocCommand]:
    return [c for p in documents(root) for c in extract(p.read_text(), str(p.relative_to(root)))]


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` (trailing spaces and blank edges ignored) is ``expected`` with each ``...`` any text
    (across lines); a line that is only ``...`` stands for any number of lines, none included."""
    norm = "\n".join(x.rstrip() for x in actual.splitlines()).strip("\n") + "\n"
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == "..." else
                      ".*?".join(re.escape(part) for part in line.split("...")) + r"\n"
                      for line in expected.strip("\n").splitlines())
    return re.fullmatch(pattern, norm, flags=re.DOTALL) is not None


def run(cmd: DocCommand, root: Path = ROOT, timeout: float = TIMEOUT) -> tuple[int, str]:
    """``(exit status, stdout and stderr)`` of ``cmd`` run by bash in ``root``."""
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
           "COLUMNS": "100", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    p = subprocess.run(["bash", "-c", cmd.command], cwd=root, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return p.returncode, p.stdout


def problem(cmd: DocCommand, code: int, output: str) -> str | None:
    """What is wrong with a run of ``cmd`` (None: it matches the document)."""
    allowed = (0, 1) if cmd.exit_code is None else (cmd.exit_code,)
    if code not in allowed:
        tail = "\n".join(output.strip().splitlines()[-5:])
        said = "0 or 1 (unmarked)" if cmd.exit_code is None else str(cmd.exit_code)
        return f"{cmd.id}: `{cmd.command}` exited {code}, the document says {said}; output ends:\n{tail}"
    if cmd.expected is not None and not matches(cmd.expected, output):
        return (f"{cmd.id}: `{cmd.command}` printed something else than the document shows\n--- shown\n{cmd.expected}\n"
                f"--- printed\n{output.rstrip()}")
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="list the commands, run nothing")
    args = ap.parse_args(argv)
    cmds = extract_all()
    failed = 0
    for c in cmds:
        if args.list or c.long:
            state = f"not run: {c.long}" if c.long else ("compared" if c.expected is not None else "exit status only")
            print(f"{c.id}: $ {c.command}  [{state}]")
            continue
        code, out = run(c)
        why = problem(c, code, out)
        failed += why is not None
        print(why or f"{c.id}: ok  $ {c.command}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
