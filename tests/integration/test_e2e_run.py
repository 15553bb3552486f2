"""The end-to-end runner (``credstream demo``, ``bench e2e``) with a stage replicated."""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaAdminClient

from credstream.e2e import Sample, expected_awards, run
from credstream.roots.signer import signer_group
from credstream.settings import KafkaSettings, S3Settings
from tests.integration.workers import new_pipeline, synthetic_events


def test_two_signers_issue_every_credential_once_and_count_as_one_stage(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = synthetic_events(pipeline, 1500, learners=100)
    expected = expected_awards(pipeline, events)
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers.split(","))
    members: list[int] = []

    group = signer_group(pipeline.kafka)

    def signers_in_group(_: Sample) -> None:
        members.append(len(admin.describe_groups([group])[group]["members"]))

    try:
        result = run(
            pipeline, events, expected, ["processor", "signer"], replicas={"signer": 2},
            on_sample=signers_in_group, worker_env={"CREDSTREAM_SIGNER_PROCESSES": "1"},
        )  # fmt: skip
    finally:
        admin.close()

    assert expected
    assert (result.lost, result.duplicates, result.unexpected) == (0, 0, 0)
    assert result.issued_distinct == result.stored_objects == len(expected)
    assert max(members) == 2  # both signers joined the group
    assert set(result.cpu_seconds) == {"processor", "signer"}  # replicas add up per stage
    assert (tmp_path / "signer-2.log").exists()
