"""``credstream engines`` and ``credstream produce --dry-run`` (no broker needed)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from credstream.cli import cli
from credstream.commands import register

SAMPLES = Path(__file__).parents[1] / "data" / "samples"


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CREDSTREAM_ENGINES_DIR", str(tmp_path / "engines"))
    register(cli)
    return CliRunner()


def test_engines_add_prints_the_key_path_never_the_key(runner: CliRunner, tmp_path: Path) -> None:
    added = runner.invoke(cli, ["engines", "add", "lms"])
    assert added.exit_code == 0, added.output
    key_file = tmp_path / "engines" / "lms.key"
    assert str(key_file) in added.output
    assert key_file.read_text().strip() not in added.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    listed = runner.invoke(cli, ["engines", "list"])
    assert listed.output.startswith("lms\tz6Mk")
    again = runner.invoke(cli, ["engines", "add", "lms"])
    assert (again.exit_code, again.output) == (2, "error: engine 'lms' is already registered\n")


def test_dry_run_prints_the_events_as_json_lines(runner: CliRunner) -> None:
    result = runner.invoke(
        cli,
        ["produce", str(SAMPLES / "xapi" / "lrs-statement-result.json"), "--format", "xapi",
         "--tenant", "uni", "--engine", "lms", "--dry-run"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["learner"]["email"] for e in lines] == ["ada@example.org", None, None]
    assert {(e["tenant_id"], e["engine_id"]) for e in lines} == {("uni", "lms")}
    assert "skipped document statements[3]: verb completed without result.score" in result.stderr
    synthetic = runner.invoke(cli, ["produce", "--synthetic", "--events", "25", "--dry-run"])
    assert len(synthetic.stdout.splitlines()) == 25


def test_a_rejected_file_and_usage_errors(runner: CliRunner) -> None:
    bad = SAMPLES / "caliper-v1p2" / "caliperEventGradeGraded.json"
    result = runner.invoke(cli, ["produce", str(bad), "--format", "caliper", "--dry-run"])
    assert result.exit_code == 2
    assert "generated.maxScore: must be greater than 0 (got 0.0)" in result.stderr
    assert result.stdout == ""
    neither = runner.invoke(cli, ["produce", "--dry-run"])
    assert "give either FILE with --format, or --synthetic" in neither.output
    no_format = runner.invoke(cli, ["produce", str(bad), "--dry-run"])
    assert "--format is required with FILE" in no_format.output


def test_sending_needs_a_registered_engine(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["produce", "--synthetic", "--events", "1", "--engine", "ghost"])
    assert result.exit_code == 2
    assert "run `credstream engines add ghost`" in result.stderr
