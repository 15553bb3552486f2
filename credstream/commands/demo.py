"""``credstream demo``: run the main job on the local stack and say what happened."""

from __future__ import annotations

import io
import json
import time
import uuid
from importlib import resources
from typing import Any

import click
import fastavro
from botocore.exceptions import ClientError

from credstream.clients import ensure_topics, kafka_consumer, kafka_producer, s3_client
from credstream.devstack import DevStack, DevStackSettings
from credstream.settings import KafkaSettings, S3Settings
from schemas.topics import ASSESSMENT_COMPLETED


@click.command()
@click.option("--events", default=5, show_default=True, help="Events to send.")
def demo(events: int) -> None:
    """Produce Avro events to Kafka, consume them in a group, store and read back objects."""
    stack = DevStack(DevStackSettings())
    kafka = KafkaSettings(bootstrap_servers=stack.bootstrap_servers())
    store = S3Settings(endpoint_url=stack.s3_endpoint(), bucket=stack.settings.s3_bucket)
    ensure_topics(kafka, [ASSESSMENT_COMPLETED])
    schema = fastavro.parse_schema(
        json.loads(
            resources.files("schemas").joinpath("avro/assessment_completed.v1.avsc").read_text()
        )
    )
    run = uuid.uuid4().hex[:8]
    sent = []
    with kafka_producer(kafka) as producer:
        for i in range(events):
            event: dict[str, Any] = {
                "event_id": str(uuid.uuid4()), "tenant_id": "demo-u", "engine_id": "demo-engine",
                "learner": {"id": f"learner-{i}", "email": None}, "course_id": "da-101",
                "assessment_id": "da-101/m1", "score": 80.0 + i, "max_score": 100.0,
                "passed": True, "attempt": 1, "occurred_at": int(time.time() * 1000),
                "attributes": {"run": run},
            }  # fmt: skip
            buffer = io.BytesIO()
            fastavro.schemaless_writer(buffer, schema, event)
            producer.send(
                ASSESSMENT_COMPLETED.name,
                key=event["learner"]["id"].encode(),
                value=buffer.getvalue(),
            )
            sent.append(event["event_id"])
        producer.flush()
    click.echo(f"produced {len(sent)} Avro events to {ASSESSMENT_COMPLETED.name} (run {run})")

    consumer = kafka_consumer(kafka, f"credstream-demo-{run}", ASSESSMENT_COMPLETED.name)
    client = s3_client(store)
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while len(seen) < events and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                decoded = fastavro.schemaless_reader(io.BytesIO(record.value), schema, schema)
                assert isinstance(decoded, dict)
                if decoded["attributes"].get("run") != run:
                    continue
                key = f"demo/{run}/{decoded['event_id']}.json"
                body = json.dumps(decoded, sort_keys=True, default=str).encode()
                try:
                    client.put_object(Bucket=store.bucket, Key=key, Body=body, IfNoneMatch="*")
                except ClientError as error:
                    if error.response["ResponseMetadata"]["HTTPStatusCode"] != 412:
                        raise
                seen.append(key)
        consumer.commit()  # offsets move only after the objects are stored
    consumer.close()
    click.echo(f"consumed {len(seen)} of them in a consumer group and stored one object each")
    if seen:
        body = client.get_object(Bucket=store.bucket, Key=seen[0])["Body"].read()
        click.echo(f"read back s3://{store.bucket}/{seen[0]}:\n  {body.decode()}")
    if len(seen) != events:
        raise click.ClickException(f"expected {events} events, consumed {len(seen)}")
