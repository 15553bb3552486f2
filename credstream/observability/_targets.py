"""Where workers say they serve metrics: Prometheus ``file_sd`` files in one folder.

A worker on port 0 (any free port, as when several run on one host) cannot be found by a
fixed address. With ``CREDSTREAM_METRICS_TARGETS_DIR`` set it writes
``<stage>-<pid>.json`` there while it serves, and removes it when it stops. Prometheus
(``file_sd_configs``) and ``credstream top --targets-dir`` read the folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from credstream.errors import InvalidInputError


def register_target(directory: Path, stage: str, address: str) -> Path:
    """Writes this process's target file (atomically: readers never see half of it)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stage}-{os.getpid()}.json"
    entry = [{"targets": [address], "labels": {"job": f"credstream-{stage}"}}]
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(entry))
    partial.replace(path)
    return path


def target_urls(directory: Path) -> list[str]:
    """The /metrics URLs of every target file in ``directory`` (none if it is missing)."""
    urls = []
    for path in sorted(directory.glob("*.json")):
        try:
            entries = json.loads(path.read_text())
            addresses = [address for entry in entries for address in entry["targets"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InvalidInputError(
                f"{path}: not a Prometheus file_sd target file: {error}"
            ) from error
        urls += [f"http://{address}/metrics" for address in addresses]
    return urls
