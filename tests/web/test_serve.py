"""``naef serve``: its options, and the one-line message when the web extra is missing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from naef.commands import serve as serve_module
from naef.errors import CliError


def _app() -> typer.Typer:
    app = typer.Typer()
    serve_module.register(app)

    @app.callback()
    def _root() -> None:
        """(a group, so that `serve` is a subcommand as in naef)"""

    return app


def test_missing_extra_gives_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("uvicorn", "plotly") else real(name, *a))
    result = CliRunner().invoke(_app(), ["serve"])
    assert isinstance(result.exception, CliError)
    message = str(result.exception)
    assert "\n" not in message
    assert "missing uvicorn, plotly" in message
    assert "pip install 'naef[web]'" in message


def test_bad_options_are_refused_before_starting(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["serve", "--port", "70000"])
    assert isinstance(result.exception, CliError)
    assert "--port" in str(result.exception)
    result = CliRunner().invoke(_app(), ["serve", "--ledger", str(tmp_path / "none.db")])
    assert isinstance(result.exception, CliError)
    assert "no such ledger file" in str(result.exception)


def test_serve_runs_uvicorn_on_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[dict[str, object]] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    result = CliRunner().invoke(_app(), ["serve", "--host", "127.0.0.1", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls[0]["port"] == 8123
    assert calls[0]["host"] == "127.0.0.1"
    state = calls[0]["app"].state.naef  # type: ignore[attr-defined]
    assert state.config.scenario == "baseline"
    state.close()


def test_a_bad_scenario_stops_serve_with_its_message() -> None:
    from naef.scenario import ScenarioError

    result = CliRunner().invoke(_app(), ["serve", "--scenario", "no-such-scenario.toml"])
    assert isinstance(result.exception, ScenarioError)
    assert "no such scenario file" in str(result.exception)


def test_workers_run_the_factory_over_a_shared_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import os

    import uvicorn

    from naef.web.app import CONFIG_ENV

    calls: list[dict[str, object]] = []

    def fake_run(app: object, **kw: object) -> None:
        config = json.loads(os.environ[CONFIG_ENV])
        assert Path(config["shared_dir"]).is_dir()  # made by the parent, alive while the server runs
        calls.append({"app": app, "config": config, **kw})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    result = CliRunner().invoke(_app(), ["serve", "--workers", "3", "--node-cache", "0"])
    assert result.exit_code == 0, result.output
    assert calls[0]["app"] == "naef.web.app:create_app_from_environment"
    assert calls[0]["factory"] is True
    assert calls[0]["workers"] == 3
    config = calls[0]["config"]
    assert isinstance(config, dict)
    assert config["node_cache_nodes"] == 0
    assert config["started_at"] is not None
    assert not Path(config["shared_dir"]).exists()  # removed when the server stops


@pytest.mark.parametrize(("option", "value"), [("--workers", "0"), ("--workers", "65"), ("--node-cache", "-1")])
def test_bad_workers_or_cache_are_refused(option: str, value: str) -> None:
    result = CliRunner().invoke(_app(), ["serve", option, value])
    assert isinstance(result.exception, CliError)
    assert option in str(result.exception)
    assert "\n" not in str(result.exception)


def test_set_changes_the_servers_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    """``naef serve --set KEY=VALUE`` changes the scenario the portal and its runs use, as every command's --set."""
    calls: list[dict[str, object]] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    result = CliRunner().invoke(_app(), ["serve", "--set", "tranches[0].coupon_rate=0.0725"])
    assert result.exit_code == 0, result.output
    state = calls[0]["app"].state.naef  # type: ignore[attr-defined]
    try:
        assert state.config.scenario_sets == ("tranches[0].coupon_rate=0.0725",)
        scenario = state.scenario(state.scenario_label)
        assert scenario.tranches[0].coupon_rate == 0.0725
        from naef.scenario.changes import changes_of

        assert changes_of(scenario) == {"tranches[0].coupon_rate": 0.0725}
    finally:
        state.close()


def test_a_bad_set_stops_serve_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from naef.scenario import ScenarioError

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: pytest.fail("started with a bad --set"))
    result = CliRunner().invoke(_app(), ["serve", "--set", "tranches[0].coupon_rate=high"])
    assert isinstance(result.exception, ScenarioError)
    message = str(result.exception)
    assert message.startswith("--set tranches[0].coupon_rate=high: ")
    assert "\n" not in message


def test_workers_carry_the_set_to_every_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import os

    import uvicorn

    from naef.web.app import CONFIG_ENV, create_app_from_environment

    configs: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: configs.append(os.environ[CONFIG_ENV]))
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    result = CliRunner().invoke(_app(), ["serve", "--workers", "2", "--set", "scenario.discount_rate=0.12"])
    assert result.exit_code == 0, result.output
    assert json.loads(configs[0])["scenario_sets"] == ["scenario.discount_rate=0.12"]
    monkeypatch.setenv(CONFIG_ENV, json.dumps({**json.loads(configs[0]), "shared_dir": None}))
    app = create_app_from_environment()
    state = app.state.naef
    try:
        assert state.config.scenario_sets == ("scenario.discount_rate=0.12",)
        assert state.scenario(state.scenario_label).scenario.discount_rate == 0.12
    finally:
        state.close()
