"""Install, start, check and stop the local Kafka cluster and object store."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from credstream.devstack._process import ManagedProcess, port_answers, require_free_port
from credstream.errors import DevStackError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class DevStackSettings(BaseSettings):
    """Where the local stack lives and listens. Environment prefix ``CREDSTREAM_DEV_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_DEV_", frozen=True)

    home: Path = PROJECT_ROOT / ".credstream"
    # Downloaded jars and built binaries; data, logs and PID files stay under ``home``.
    cache: Path = PROJECT_ROOT / ".credstream" / "cache"
    kafka_version: str = "4.1.1"
    kafka_port: int = 9092
    # Broker i (1-based) listens on kafka_port + i - 1 and its controller on
    # controller_port + i - 1.
    controller_port: int = 9192
    kafka_heap: str = "768m"
    s3_port: int = 7070
    s3_bucket: str = "credentials"
    s3_access_key: str = "credstream"
    s3_secret_key: SecretStr = SecretStr("credstream-dev-secret")
    # Where the store keeps its objects. Unset: in memory (/dev/shm) where the machine
    # has it, else under ``home``. On this project's machine (ext4 without a journal) a
    # new file cost the store 0.3-0.8 ms of kernel CPU, most of it the inode allocator
    # skipping recently deleted inodes; on tmpfs 0.11-0.15 ms (README, The local stack).
    s3_data: Path | None = None
    versitygw_version: str = "v1.8.0"
    start_timeout_seconds: float = 120.0


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    pid: int | None
    healthy: bool

    def line(self) -> str:
        state = "healthy" if self.healthy else ("starting/unhealthy" if self.pid else "stopped")
        pid = f"pid {self.pid}" if self.pid else "no process"
        return f"{self.name:<10} {self.address:<22} {state:<18} {pid}"


_SCRAM_MECHANISM = "SCRAM-SHA-512"
# Names and passwords go into broker properties and kafka-storage arguments unquoted.
_SAFE_CREDENTIAL = re.compile(r"[A-Za-z0-9._~+/=_-]+")


@dataclass(frozen=True)
class SaslConfig:
    """SASL/SCRAM-SHA-512 on the brokers' client listener, with ACLs enforced.

    The users are created when the storage is formatted (KRaft: ``--add-scram``); the admin
    is a super user and the brokers' own principal. The controller listener stays PLAINTEXT
    on loopback (its ANONYMOUS principal is a super user, as brokers register through it).
    """

    admin: str
    admin_password: SecretStr
    users: Mapping[str, SecretStr]

    def __post_init__(self) -> None:
        for name, password in [(self.admin, self.admin_password), *self.users.items()]:
            if not _SAFE_CREDENTIAL.fullmatch(name) or not _SAFE_CREDENTIAL.fullmatch(
                password.get_secret_value()
            ):
                raise DevStackError(
                    f"SASL user {name!r}: names and passwords may use only letters, digits "
                    "and ._~+/=_-"
                )

    def broker_config(self, port: int, controller: int) -> dict[str, object]:
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{self.admin}" password="{self.admin_password.get_secret_value()}";'
        )
        return {
            "listeners": f"SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{port}",
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms": _SCRAM_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": _SCRAM_MECHANISM,
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": jaas,
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:{self.admin};User:ANONYMOUS",
            "allow.everyone.if.no.acl.found": "false",
        }

    def format_args(self) -> list[str]:
        users = [(self.admin, self.admin_password), *self.users.items()]
        return [
            arg
            for name, password in users
            for arg in (
                "--add-scram",
                f"{_SCRAM_MECHANISM}=[name={name},password={password.get_secret_value()}]",
            )
        ]

    def client_options(self) -> dict[str, object]:
        """kafka-python options for the admin principal."""
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": _SCRAM_MECHANISM,
            "sasl_plain_username": self.admin,
            "sasl_plain_password": self.admin_password.get_secret_value(),
        }


def _require_tool(tool: str, what: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise DevStackError(f"`{tool}` was not found on PATH; install {what} and run again.")
    return path


class DevStack:
    """The local stack of one project checkout."""

    def __init__(
        self, settings: DevStackSettings, brokers: int | None = None, sasl: SaslConfig | None = None
    ) -> None:
        self.settings = settings
        self.sasl = sasl
        self.home = settings.home
        self.layout_file = self.home / "data" / "kafka-layout.json"
        self.brokers = brokers or self._formatted_brokers() or 1
        if self.brokers not in (1, 3):
            raise DevStackError("--brokers takes 1 or 3")

    # -- paths and processes -------------------------------------------------------
    @property
    def kafka_libs(self) -> Path:
        return self.settings.cache / f"kafka-{self.settings.kafka_version}" / "libs"

    @property
    def versitygw_bin(self) -> Path:
        return self.settings.cache / f"versitygw-{self.settings.versitygw_version}" / "versitygw"

    @property
    def s3_root(self) -> Path:
        if self.settings.s3_data is not None:
            return self.settings.s3_data
        memory = Path("/dev/shm")  # noqa: S108 (start_s3 checks the folder is ours)
        if memory.is_dir():
            # One folder per checkout: two clones' stacks never share objects.
            checkout = hashlib.sha256(bytes(self.home.resolve())).hexdigest()[:12]
            return memory / f"credstream-{checkout}"
        return self.home / "data" / "s3"

    def _proc(self, name: str) -> ManagedProcess:
        return ManagedProcess(name, self.home / "run", self.home / "logs")

    def process_pid(self, name: str) -> int | None:
        """PID of a running stack process (``kafka-1``, ``s3``...), for CPU accounting."""
        return self._proc(name).pid()

    def kafka_ports(self) -> list[int]:
        return [self.settings.kafka_port + i for i in range(self.brokers)]

    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.kafka_ports())

    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.settings.s3_port}"

    def _formatted_brokers(self) -> int | None:
        try:
            return int(json.loads(self.layout_file.read_text())["brokers"])
        except (FileNotFoundError, KeyError, ValueError):
            return None

    def _formatted_sasl(self) -> bool:
        try:
            return bool(json.loads(self.layout_file.read_text()).get("sasl", False))
        except (FileNotFoundError, ValueError):
            return False

    # -- install ------------------------------------------------------------------
    def install(self, echo: Callable[[str], None]) -> None:
        """Fetch Kafka's jars and build the S3 gateway once; later calls find them cached."""
        _require_tool(
            "java", "a Java runtime 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
        )
        if not (self.kafka_libs / f"kafka_2.13-{self.settings.kafka_version}.jar").exists():
            mvn = _require_tool("mvn", "Apache Maven (Debian: apt-get install maven)")
            echo(f"fetching Apache Kafka {self.settings.kafka_version} from Maven Central ...")
            self._run(
                [
                    mvn, "-q", "-B", "-f", str(PROJECT_ROOT / "deploy/local/pom.xml"),
                    f"-Dkafka.version={self.settings.kafka_version}",
                    "dependency:copy-dependencies", "-DincludeScope=runtime",
                    f"-DoutputDirectory={self.kafka_libs}",
                ],
                "Maven could not fetch Kafka's jars",
            )  # fmt: skip
        if not self.versitygw_bin.exists():
            go = _require_tool("go", "Go 1.22 or newer (Debian: apt-get install golang)")
            echo(
                f"building versitygw {self.settings.versitygw_version} (S3 gateway) with go install"
            )
            self._run(
                [
                    go,
                    "install",
                    f"github.com/versity/versitygw/cmd/versitygw@{self.settings.versitygw_version}",
                ],
                "go install could not build versitygw",
                env={"GOBIN": str(self.versitygw_bin.parent), "CGO_ENABLED": "0"},
            )

    @staticmethod
    def _run(argv: list[str], failure: str, env: dict[str, str] | None = None) -> None:
        import os

        result = subprocess.run(
            argv, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
            raise DevStackError(f"{failure} (exit {result.returncode}):\n{tail}")

    # -- kafka ----------------------------------------------------------------------
    def _broker_config(self, node: int) -> Path:
        s = self.settings
        voters = ",".join(
            f"{i}@127.0.0.1:{s.controller_port + i - 1}" for i in range(1, self.brokers + 1)
        )
        replication = 3 if self.brokers == 3 else 1
        min_isr = 2 if self.brokers == 3 else 1
        port = s.kafka_port + node - 1
        controller = s.controller_port + node - 1
        config = {
            "process.roles": "broker,controller",
            "node.id": node,
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.home / "data" / f"kafka-{node}"),
            "num.partitions": 6,
            "default.replication.factor": replication,
            "min.insync.replicas": min_isr,
            "offsets.topic.replication.factor": replication,
            "transaction.state.log.replication.factor": replication,
            "transaction.state.log.min.isr": min_isr,
            "group.initial.rebalance.delay.ms": 0,
            "auto.create.topics.enable": "false",
            "message.max.bytes": 2_097_152,
        }
        if self.sasl is not None:
            config.update(self.sasl.broker_config(port, controller))
        path = self.home / "config" / f"kafka-{node}.properties"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{key}={value}\n" for key, value in config.items()))
        if self.sasl is not None:
            path.chmod(0o600)  # holds the admin's SCRAM password
        return path

    def _java(self, main: str, *args: str, heap: str = "256m") -> list[str]:
        return [
            _require_tool("java", "a Java runtime 17 or newer"),
            f"-Xmx{heap}", f"-Xms{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={PROJECT_ROOT / 'deploy/local/log4j2.properties'}",
            "-cp", f"{self.kafka_libs}/*", main, *args,
        ]  # fmt: skip

    def _format_kafka(self, echo: Callable[[str], None]) -> None:
        formatted = self._formatted_brokers()
        if formatted == self.brokers:
            if self._formatted_sasl() != (self.sasl is not None):
                raise DevStackError(
                    "the local Kafka was formatted "
                    f"{'with' if self._formatted_sasl() else 'without'} SASL users; run "
                    "`credstream dev down --purge` first to start over with empty data"
                )
            return
        if formatted is not None:
            raise DevStackError(
                f"the local Kafka was formatted with {formatted} broker(s), not {self.brokers}; "
                "run `credstream dev down --purge` first to start over with empty data"
            )
        cluster_id = str(uuid.uuid4().hex[:22])
        echo(f"formatting Kafka storage for {self.brokers} broker(s) ...")
        for node in range(1, self.brokers + 1):
            self._run(
                self._java("kafka.tools.StorageTool", "format", "-t", cluster_id,
                           "-c", str(self._broker_config(node)),
                           *(self.sasl.format_args() if self.sasl else [])),
                f"formatting the storage of Kafka broker {node} failed",
            )  # fmt: skip
        self.layout_file.parent.mkdir(parents=True, exist_ok=True)
        layout = {"brokers": self.brokers, "cluster_id": cluster_id, "sasl": self.sasl is not None}
        self.layout_file.write_text(json.dumps(layout))

    def start_broker(self, node: int) -> None:
        proc = self._proc(f"kafka-{node}")
        if proc.pid() is not None:
            return
        port = self.settings.kafka_port + node - 1
        require_free_port(port, f"Kafka broker {node}", "CREDSTREAM_DEV_KAFKA_PORT")
        require_free_port(
            self.settings.controller_port + node - 1,
            f"Kafka controller {node}",
            "CREDSTREAM_DEV_CONTROLLER_PORT",
        )
        heap = self.settings.kafka_heap if self.brokers == 1 else "512m"
        proc.start(self._java("kafka.Kafka", str(self._broker_config(node)), heap=heap))

    def stop_broker(self, node: int, kill: bool = False) -> None:
        self._proc(f"kafka-{node}").stop(timeout=0.0 if kill else 30.0)

    def kafka_healthy(self) -> bool:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        if not any(port_answers(port) for port in self.kafka_ports()):
            return False
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers(),
                request_timeout_ms=3000,
                **(self.sasl.client_options() if self.sasl else {}),
            )
        except (KafkaError, OSError, ValueError):
            return False
        try:
            brokers = admin.describe_cluster().get("brokers", [])
            return len(brokers) >= self.brokers
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    # -- object store -----------------------------------------------------------------
    def start_s3(self) -> None:
        proc = self._proc("s3")
        if proc.pid() is not None:
            return
        require_free_port(self.settings.s3_port, "S3 store", "CREDSTREAM_DEV_S3_PORT")
        root = self.s3_root
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A shared folder such as /dev/shm: another user could have made the name first.
        if root.is_symlink() or root.stat().st_uid != os.getuid():
            raise DevStackError(f"{root} belongs to another user; set CREDSTREAM_DEV_S3_DATA")
        proc.start(
            [
                str(self.versitygw_bin), "--port", f"127.0.0.1:{self.settings.s3_port}",
                "--quiet", "--keep-alive", "posix", str(root),
            ],
            env={
                "ROOT_ACCESS_KEY": self.settings.s3_access_key,
                "ROOT_SECRET_KEY": self.settings.s3_secret_key.get_secret_value(),
            },
        )  # fmt: skip

    def s3_client(self) -> S3Client:
        from credstream.clients import s3_client
        from credstream.settings import S3Settings

        return s3_client(
            S3Settings(
                endpoint_url=self.s3_endpoint(),
                bucket=self.settings.s3_bucket,
                access_key_id=self.settings.s3_access_key,
                secret_access_key=self.settings.s3_secret_key,
            )
        )

    def s3_healthy(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        if not port_answers(self.settings.s3_port):
            return False
        try:
            self.s3_client().head_bucket(Bucket=self.settings.s3_bucket)
        except (BotoCoreError, ClientError):
            return False
        return True

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        client = self.s3_client()
        try:
            client.head_bucket(Bucket=self.settings.s3_bucket)
        except ClientError:
            client.create_bucket(Bucket=self.settings.s3_bucket)

    # -- the whole stack --------------------------------------------------------------
    def up(self, echo: Callable[[str], None] = print) -> list[ServiceStatus]:
        self.install(echo)
        self._format_kafka(echo)
        for node in range(1, self.brokers + 1):
            self.start_broker(node)
        self.start_s3()
        self._wait("s3", self.s3_port_open)
        self._ensure_bucket()
        self._wait("kafka", self.kafka_healthy)
        return self.status()

    def s3_port_open(self) -> bool:
        return port_answers(self.settings.s3_port)

    def _wait(self, name: str, healthy: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_seconds
        while time.monotonic() < deadline:
            if healthy():
                return
            for proc in self._processes():
                if not proc.name.startswith(name):
                    continue
                pid, why = proc.inspect()
                if pid is None:
                    raise DevStackError(
                        f"{proc.name} exited during start ({why}); last lines of "
                        f"{proc.log_file}:\n{proc.log_tail()}"
                    )
            time.sleep(0.5)
        raise DevStackError(
            f"{name} did not become healthy within {self.settings.start_timeout_seconds}s"
        )

    def _processes(self) -> list[ManagedProcess]:
        run = self.home / "run"
        names = sorted(p.stem for p in run.glob("*.pid")) if run.exists() else []
        return [self._proc(name) for name in names]

    def down(self, purge: bool = False) -> list[str]:
        stopped = [proc.name for proc in self._processes() if proc.stop()]
        if purge:
            shutil.rmtree(self.home / "data", ignore_errors=True)
            shutil.rmtree(self.s3_root, ignore_errors=True)
            shutil.rmtree(self.home / "config", ignore_errors=True)
        return stopped

    def status(self) -> list[ServiceStatus]:
        kafka_ok = self.kafka_healthy()
        statuses = [
            ServiceStatus(
                f"kafka-{node}",
                f"127.0.0.1:{self.settings.kafka_port + node - 1}",
                self._proc(f"kafka-{node}").pid(),
                kafka_ok and port_answers(self.settings.kafka_port + node - 1),
            )
            for node in range(1, self.brokers + 1)
        ]
        statuses.append(
            ServiceStatus("s3", self.s3_endpoint(), self._proc("s3").pid(), self.s3_healthy())
        )
        return statuses
