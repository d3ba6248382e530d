"""The CLI starts light (issue 16): ``import naef.cli``, ``naef --help``, ``naef validate``, ``naef scenarios`` and
the ledger's and keys' commands load no NumPy, SciPy, pandas or Numba — each command is imported when it runs or
its own help is shown (``naef.cli.LAZY_COMMANDS``), and every command's help still lists all its options. Ctrl-C
while the modules load prints one line and exits with 130, never a traceback.

Each check runs in a fresh interpreter (``sys.modules`` of this test process holds everything already)."""

from __future__ import annotations

import inspect
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import naef.cli

HEAVY = ("numpy", "scipy", "pandas", "numba")

#: run ``naef`` in process with ``argv`` and print (as JSON, on the last line of stdout) which HEAVY modules loaded
PROBE = """
import json, sys
watched = set(json.loads(sys.argv[2]))
sys.argv = ["naef", *json.loads(sys.argv[1])]
code = 0
try:
    import naef.cli
    if len(sys.argv) > 1:
        naef.cli.main()
except SystemExit as exc:
    code = exc.code or 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & watched)
print("\\n" + json.dumps({"code": code, "heavy": heavy}))
"""


def _probe(*argv: str, cwd: Path) -> dict[str, object]:
    res = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(argv)), json.dumps(HEAVY)], cwd=cwd,
                         capture_output=True, text=True, timeout=120, check=False,
                         env={**os.environ, "COLUMNS": "120"})
    assert res.stdout.strip(), res.stderr
    result: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("argv", [
    (),  # import naef.cli alone
    ("--help",),
    ("--version",),
    ("validate", "baseline"),
    ("scenarios",),
    ("scenarios", "baseline"),
    ("ledger", "--help"),
    ("ledger", "verify", "sqlite:///missing.db"),
    ("keys", "--help"),
    ("keys", "new", "--help"),
    # a command's own help loads its module only; these load no numerics either (sensitivity's help names the
    # factors of naef.analysis.factors and its defaults live in naef.studies.sensitivity, which load NumPy and
    # pandas; portfolio's module is being reworked)
    *((name, "--help") for name in ("calibrate", "size", "stress", "runs", "compare", "disclose", "verify-bundle",
                                    "serve")),
], ids=lambda a: " ".join(a) or "import")
def test_starting_the_cli_loads_no_numerics(argv: tuple[str, ...], tmp_path: Path) -> None:
    result = _probe(*argv, cwd=tmp_path)
    assert result["heavy"] == [], f"naef {' '.join(argv)} loaded {result['heavy']}"
    assert result["code"] in (0, 2)


def test_the_probe_sees_a_command_that_computes(tmp_path: Path) -> None:
    """The check above can fail: a deterministic run loads NumPy."""
    result = _probe("run", "--quiet", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result["code"] == 0
    assert "numpy" in result["heavy"]  # type: ignore[operator]


def _first_paragraph(command: object) -> str:
    return inspect.cleandoc(getattr(command, "help", "") or "").split("\n\n")[0]


@pytest.mark.parametrize("name", list(naef.cli.LAZY_COMMANDS))
def test_the_listing_shows_each_commands_own_summary(name: str) -> None:
    """``naef --help`` lists a lazy command by its summary in LAZY_COMMANDS: the first paragraph of its help."""
    command = naef.cli.load_command(name)
    assert naef.cli.LAZY_COMMANDS[name] == _first_paragraph(command)


@pytest.mark.parametrize("name", list(naef.cli.LAZY_COMMANDS))
def test_every_commands_help_lists_all_its_options(name: str) -> None:
    command = naef.cli.load_command(name)
    res = CliRunner().invoke(naef.cli.app, [name, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert res.exit_code == 0, res.output
    sub = getattr(command, "commands", None)
    if sub:  # a group: its commands are listed
        for child in sub:
            assert child in res.output, (name, child)
        return
    opts = [o for p in command.params for o in getattr(p, "opts", []) if o.startswith("--")]
    assert opts, name
    for opt in opts:
        assert opt in res.output, (name, opt)


def test_the_top_level_listing_names_every_command() -> None:
    res = CliRunner().invoke(naef.cli.app, ["--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert res.exit_code == 0
    group = typer.main.get_command(naef.cli.app)
    names = group.list_commands(None)  # type: ignore[attr-defined, arg-type]
    assert names[:3] == ["run", "validate", "scenarios"]
    assert names[3:] == list(naef.cli.LAZY_COMMANDS)
    for name in names:
        assert name in res.output


def test_a_lazy_command_runs_and_reports_bad_input_as_one_line(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-c", "import naef.cli; naef.cli.main()", "size", "--paths", "0"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 2
    assert res.stderr.startswith("error: --paths"), res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_ctrl_c_while_the_cli_loads_is_one_line_and_130(tmp_path: Path) -> None:
    """A KeyboardInterrupt raised while ``naef.cli`` is being imported (what Ctrl-C at start-up does) reaches the
    console script's ``naef.__main__.main``: one line, exit code 130, no traceback."""
    code = ("import sys\n"
            "class Interrupt:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'naef.cli':\n"
            "            raise KeyboardInterrupt\n"
            "sys.meta_path.insert(0, Interrupt())\n"
            "from naef.__main__ import main\n"
            "main()\n")
    res = subprocess.run([sys.executable, "-c", code, "--help"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, check=False)
    assert res.returncode == 128 + signal.SIGINT
    assert res.stderr == "interrupted: nothing written\n"
    assert res.stdout == ""


def test_ctrl_c_while_a_command_loads_is_one_line_and_130(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C while a lazy command's module is being imported (inside ``naef.cli.main``)."""
    def interrupted(name: str) -> typer.Typer:
        raise KeyboardInterrupt

    monkeypatch.setattr(naef.cli, "_LOADED", {})
    monkeypatch.setattr(naef.cli, "_typer_app", interrupted)
    monkeypatch.setattr(sys, "argv", ["naef", "size", "--help"])
    with pytest.raises(SystemExit) as exc:
        naef.cli.main()
    out, err = capsys.readouterr()
    assert exc.value.code == 128 + signal.SIGINT
    assert err == "interrupted: nothing written\n"
    assert out == ""


def test_a_mistyped_command_is_answered_with_the_close_ones() -> None:
    """Typer's "Did you mean …?" sees the lazy commands too (exit code 2, as any usage error)."""
    res = CliRunner().invoke(naef.cli.app, ["sizee"], env={"COLUMNS": "200"}, terminal_width=200)
    assert res.exit_code == 2
    assert "No such command 'sizee'. Did you mean 'size', 'serve'?" in res.output


def test_each_invocation_reports_only_what_it_wrote(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Files an earlier command wrote in this process (tests, a notebook calling ``naef.cli.main`` twice) are not
    reported as kept by a later interrupted one."""
    from naef.commands.kept import WRITTEN

    def interrupted(name: str) -> typer.Typer:
        raise KeyboardInterrupt

    WRITTEN.append(tmp_path / "summary.json")  # what a previous command in this process moved into place
    monkeypatch.setattr(naef.cli, "_LOADED", {})
    monkeypatch.setattr(naef.cli, "_typer_app", interrupted)
    monkeypatch.setattr(sys, "argv", ["naef", "size", "--help"])
    with pytest.raises(SystemExit):
        naef.cli.main()
    assert capsys.readouterr().err == "interrupted: nothing written\n"
    assert WRITTEN == []
