"""The local stack: Apache Kafka (KRaft) and an S3-compatible store, as plain processes.

``credstream dev up | down | status``. Kafka's jars come from Maven Central through the
Maven project in ``deploy/local/``; the object store is versitygw (a Go S3 gateway over
plain files, which honours ``If-None-Match: *``), built with ``go install``. Everything
lives under the ignored ``.credstream/`` folder of the project.
"""

from __future__ import annotations

from credstream.devstack._stack import DevStack, DevStackSettings, SaslConfig, ServiceStatus

__all__ = ["DevStack", "DevStackSettings", "SaslConfig", "ServiceStatus"]
