"""The end-to-end runner (``credstream demo``, ``bench e2e``) with a stage replicated."""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaAdminClient

from credstream.e2e import Sample, expected_awards, run
from credstream.roots.processor import processor_group
from credstream.roots.signer import signer_group
from credstream.settings import KafkaSettings, S3Settings
from tests.integration.workers import new_pipeline, synthetic_events


def test_replicated_stages_issue_every_credential_once_and_count_as_one_stage(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = synthetic_events(pipeline, 1500, learners=100)
    expected = expected_awards(pipeline, events)
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers.split(","))
    groups = [processor_group(pipeline.kafka), signer_group(pipeline.kafka)]
    members: list[list[int]] = []

    def members_of_groups(_: Sample) -> None:
        described = admin.describe_groups(groups)
        members.append([len(described[group]["members"]) for group in groups])

    try:
        result = run(
            pipeline, events, expected, ["processor", "signer"],
            replicas={"processor": 2, "signer": 2}, rate=300, backlog=False,
            on_sample=members_of_groups,
            worker_env={"CREDSTREAM_SIGNER_PROCESSES": "1"},
        )  # fmt: skip
    finally:
        admin.close()

    assert expected
    assert (result.lost, result.duplicates, result.unexpected) == (0, 0, 0)
    assert result.issued_distinct == result.stored_objects == len(expected)
    # Offered open loop: the run waits until every replica is in its group.
    assert members and all(m == [2, 2] for m in members)
    # The replicas' CPU adds up per stage (and this process's, sending the events).
    assert set(result.cpu_seconds) == {"processor", "signer", "load-generator"}
    assert (tmp_path / "signer-2.log").exists()
    state = Path(pipeline.env()["CREDSTREAM_PROCESSOR_DATA_DIR"])
    assert state.is_dir() and Path(f"{state}-2").is_dir()  # a RocksDB folder each
