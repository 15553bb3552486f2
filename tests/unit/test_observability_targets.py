"""Workers announce their metrics address in a folder; top and Prometheus read it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from credstream.errors import InvalidInputError
from credstream.observability import TopSettings, register_target, target_urls


def test_a_registered_target_is_a_prometheus_file_sd_entry_named_after_the_stage(
    tmp_path: Path,
) -> None:
    path = register_target(tmp_path / "targets", "signer", "127.0.0.1:40123")
    assert path.name == f"signer-{os.getpid()}.json"
    assert json.loads(path.read_text()) == [
        {"targets": ["127.0.0.1:40123"], "labels": {"job": "credstream-signer"}}
    ]
    assert not list((tmp_path / "targets").glob("*.tmp"))
    assert target_urls(tmp_path / "targets") == ["http://127.0.0.1:40123/metrics"]


def test_no_folder_means_no_targets_and_a_bad_file_is_named(tmp_path: Path) -> None:
    assert target_urls(tmp_path / "missing") == []
    (tmp_path / "x.json").write_text('{"targets": 1}')
    with pytest.raises(InvalidInputError, match=r"x\.json"):
        target_urls(tmp_path)


def test_top_watches_explicit_urls_announced_workers_or_the_default_ports(tmp_path: Path) -> None:
    assert TopSettings().urls() == [
        f"http://127.0.0.1:{p}/metrics" for p in (9401, 9402, 9403, 9404)
    ]
    assert TopSettings(targets="http://a:1/metrics, http://b:2/metrics").urls() == [
        "http://a:1/metrics",
        "http://b:2/metrics",
    ]
    assert TopSettings(targets="http://a:1/metrics").urls(["http://c:3/metrics"]) == [
        "http://c:3/metrics"
    ]
    announced = TopSettings(targets_dir=tmp_path)
    assert announced.urls() == []  # a folder and nobody in it: nothing, not the defaults
    register_target(tmp_path, "processor", "127.0.0.1:40001")
    assert announced.urls() == ["http://127.0.0.1:40001/metrics"]  # read anew each frame
