"""deploy/kubernetes: every manifest validates offline against its schema (Kubernetes' own
via kubernetes-validate, KEDA's and the Prometheus Operator's from deploy/kubernetes/schemas),
the kustomization builds, and the workers are hardened, probed, budgeted and scaled right."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from schemas.topics import Topology

KUBERNETES = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
BASE = KUBERNETES / "base"
COMPONENT = KUBERNETES / "components" / "servicemonitor"
KUBERNETES_VERSION = "1.31"
CUSTOM = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh-v1alpha1-scaledobject.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda.sh-v1alpha1-triggerauthentication.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com-v1-servicemonitor.json",
}
WORKERS = ("processor", "signer", "renderer", "status-updater")
SECRET_WORDS = ("PASSWORD", "SECRET", "PASSPHRASE", "TOKEN", "PRIVATE")


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def listed(directory: Path) -> list[Path]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return [directory / name for name in kustomization["resources"]]


def all_documents() -> list[dict[str, Any]]:
    return [doc for d in (BASE, COMPONENT) for path in listed(d) for doc in documents(path)]


def validate(doc: dict[str, Any]) -> None:
    """Raises jsonschema.ValidationError (or a subclass) naming the first problem."""
    schema_file = CUSTOM.get((doc["apiVersion"], doc["kind"]))
    if schema_file is None:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        return
    schema = json.loads((KUBERNETES / "schemas" / schema_file).read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in all_documents() if d["kind"] == kind}


def test_every_listed_resource_exists_and_every_manifest_is_listed() -> None:
    for directory in (BASE, COMPONENT):
        resources = listed(directory)
        assert all(path.is_file() for path in resources), resources
        on_disk = {p for p in directory.glob("*.yaml") if p.name != "kustomization.yaml"}
        assert on_disk == set(resources)


@pytest.mark.parametrize(
    "doc", all_documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}"
)
def test_manifest_validates_against_its_schema(doc: dict[str, Any]) -> None:
    validate(doc)


def test_the_validation_rejects_broken_manifests() -> None:
    deployment = copy.deepcopy(by_kind("Deployment")["credstream-signer"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}  # typo
    with pytest.raises(jsonschema.ValidationError):
        validate(deployment)
    scaled = copy.deepcopy(by_kind("ScaledObject")["credstream-signer"])
    del scaled["spec"]["triggers"][0]["metadata"]["topic"]
    with pytest.raises(jsonschema.ValidationError, match="topic"):
        validate(scaled)
    scaled = copy.deepcopy(by_kind("ScaledObject")["credstream-signer"])
    scaled["spec"]["maxReplicas"] = 3  # the HPA's name, not KEDA's
    with pytest.raises(jsonschema.ValidationError, match="maxReplicas"):
        validate(scaled)


def test_kustomize_builds_the_base_and_the_output_validates() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    built = subprocess.run(
        [kubectl, "kustomize", str(BASE)], capture_output=True, text=True, check=False, timeout=120
    )
    assert built.returncode == 0, built.stderr
    docs = [d for d in yaml.safe_load_all(built.stdout) if d]
    assert len(docs) == sum(len(documents(p)) for p in listed(BASE))
    for doc in docs:
        validate(doc)
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "credstream", doc["metadata"]["name"]
    bootstrap = by_kind("ConfigMap")["credstream-config"]["data"][
        "CREDSTREAM_KAFKA_BOOTSTRAP_SERVERS"
    ]
    for doc in docs:
        if doc["kind"] == "ScaledObject":
            assert doc["spec"]["triggers"][0]["metadata"]["bootstrapServers"] == bootstrap


def test_workers_are_non_root_read_only_resourced_and_probed() -> None:
    deployments = by_kind("Deployment")
    assert set(deployments) == {f"credstream-{w}" for w in WORKERS}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert container["args"] == [name.removeprefix("credstream-")]


def test_secrets_are_only_referenced_never_written_down() -> None:
    assert "Secret" not in {d["kind"] for d in all_documents()}
    for doc in all_documents():
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []):
            for env in container.get("env", []):
                if any(word in env["name"] for word in SECRET_WORDS):
                    assert "secretKeyRef" in env.get("valueFrom", {}), env["name"]
    config = by_kind("ConfigMap")["credstream-config"]["data"]
    assert not [key for key in config if any(word in key for word in SECRET_WORDS)]


def test_each_worker_has_a_budget_a_metrics_service_and_a_scaler() -> None:
    budgets, services, scalers = (
        by_kind("PodDisruptionBudget"),
        by_kind("Service"),
        by_kind("ScaledObject"),
    )
    for name, deployment in by_kind("Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert budgets[name]["spec"]["selector"]["matchLabels"] == labels
        assert services[name]["spec"]["selector"] == labels
        assert scalers[name]["spec"]["scaleTargetRef"]["name"] == name


def test_scaling_stops_at_the_partition_count_of_the_consumed_topic() -> None:
    from credstream.roots import processor, renderer, signer, status_updater

    partitions = {topic.name: topic.partitions for topic in Topology().all()}
    groups = {}
    for name, scaled in by_kind("ScaledObject").items():
        (trigger,) = scaled["spec"]["triggers"]
        assert trigger["type"] == "kafka"
        topic = trigger["metadata"]["topic"]
        assert scaled["spec"]["maxReplicaCount"] == partitions[topic], name
        assert scaled["spec"]["minReplicaCount"] >= 1, name  # a signer is always ready
        groups[name] = trigger["metadata"]["consumerGroup"]
    assert groups == {
        "credstream-processor": processor.APP_ID,
        "credstream-signer": signer.GROUP,
        "credstream-renderer": renderer.GROUP,
        "credstream-status-updater": status_updater.GROUP,
    }


def test_the_image_is_the_one_compose_builds() -> None:
    compose = yaml.safe_load((KUBERNETES.parent / "compose" / "compose.yaml").read_text())
    compose_image = compose["x-worker"]["image"].split(":")[0]
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    assert [i["name"] for i in kustomization["images"]] == [compose_image]
    for deployment in by_kind("Deployment").values():
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.split(":")[0] == compose_image
