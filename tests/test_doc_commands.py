"""Every short command shown in README.md and docs/*.md runs, and prints what a ```console block shows (issue 23).

The convention is in docs/contributing.md and ``scripts/doc_commands.py`` (the extractor and runner). The first
tests show that the extractor reads the convention and that a wrong shown output, a wrong exit status and a
usage error are caught, with commands and expected outputs written here by hand.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    name = "ssl_props_doc_commands_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "doc_commands.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


dc = _script()

SAMPLE = """\
Some prose with $ not a command.

```console
$ echo hello
hello
$ printf 'a\\nb\\nc\\n'
a
...
$ false  # exit 1
$ make mutate
$ sleep 100  # long: sleeps
```

```text
$ echo illustrative
this excerpt is not compared
```

```python
$ not_a_command
```

```bash
$ echo one \\
  two
```
"""


def test_extractor_reads_the_convention():
    cmds = dc.extract(SAMPLE, "sample.md")
    got = [(c.line, c.command, c.expected, c.exit_code, c.long) for c in cmds]
    assert got == [
        (4, "echo hello", "hello", 0, None),
        (6, "printf 'a\\nb\\nc\\n'", "a\n...", 0, None),
        (9, "false", None, 1, None),
        (10, "make mutate", None, 0, "mutation testing over the committed tree (hours)"),
        (11, "sleep 100", None, 0, "sleeps"),
        (15, "echo illustrative", None, None, None),
        (24, "echo one two", None, None, None),
    ]


@pytest.mark.parametrize("expected,actual,ok", [
    ("hello", "hello\n", True),
    ("hello", "hello   \n\n", True),
    ("a\n...", "a\nb\nc", True),
    ("took ... s", "took 3.2 s", True),
    ("...\nlast", "x\ny\nlast", True),
    ("a\n...\nz", "a\nz", True),
    ("hello", "goodbye", False),
    ("a\n...", "b\na", False),
    ("took ... s", "took 3.2 ms", False),
])
def test_ellipsis_matching(expected, actual, ok):
    assert dc.matches(expected, actual) is ok


def test_a_wrong_shown_output_is_caught(tmp_path):
    wrong = dc.DocCommand("doc.md", 3, "echo hello", "goodbye")
    code, out = dc.run(wrong, tmp_path)
    msg = dc.problem(wrong, code, out)
    assert msg is not None and msg.startswith("doc.md:3: `echo hello` printed something else than the document shows")
    right = dc.DocCommand("doc.md", 3, "echo hello", "hello")
    assert dc.problem(right, *dc.run(right, tmp_path)) is None


def test_a_wrong_exit_status_is_caught(tmp_path):
    usage = dc.DocCommand("doc.md", 5, "ssl-props atlas --only no-such-loss", None, None)
    code, out = dc.run(usage, tmp_path)
    assert code == 2
    assert "exited 2, the document says 0 or 1 (unmarked)" in dc.problem(usage, code, out)
    marked = dc.DocCommand("doc.md", 5, "exit 3", None, 1)
    assert "exited 3, the document says 1" in dc.problem(marked, *dc.run(marked, tmp_path))


def test_contributing_and_atlas_pages_follow_the_convention():
    files = {c.file for c in dc.extract_all(ROOT) if not c.long}
    assert "docs/contributing.md" in files
    compared = [c for c in dc.extract_all(ROOT) if c.file == "docs/contributing.md" and c.expected is not None]
    assert len(compared) >= 3
    if (ROOT / "docs" / "atlas.md").exists():
        assert "docs/atlas.md" in files


COMMANDS = [c for c in dc.extract_all(ROOT) if not c.long]


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.id for c in COMMANDS])
def test_documented_command(cmd):
    code, out = dc.run(cmd)
    why = dc.problem(cmd, code, out)
    assert why is None, why
