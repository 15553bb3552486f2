"""``credstream keys``: generate, list, rotate, publish; no secret is ever printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from credstream.cli import cli
from credstream.commands import register
from signers.keys import resolve_verification_method

PASSPHRASE = "a long enough passphrase"
DID = "did:web:badges.acme.edu"
Invoke = Callable[..., tuple[int, str, str]]


@pytest.fixture()
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    register(cli)
    monkeypatch.setenv("CREDSTREAM_KEYS_KEYRING_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("CREDSTREAM_KEYS_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["keys", *args])
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_generate_rotate_list_publish(run: Invoke, tmp_path: Path) -> None:
    code, out, _ = run("generate", "--tenant", "acme", "--did", DID)
    assert code == 0, out
    first = out.split()[1]
    code, out, _ = run("rotate", "--tenant", "acme")
    assert code == 0, out
    second = out.split()[1]

    code, out, _ = run("list", "--tenant", "acme")
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (first, "retired", "local"),
        (second, "active", "local"),
    ]
    assert all(r[4].startswith("z6Mk") for r in rows)

    target = tmp_path / "did.json"
    code, _, err = run("publish", "--tenant", "acme", "--out", str(target))
    assert code == 0, err
    document = json.loads(target.read_text())
    assert document["assertionMethod"] == [f"{DID}#{first}", f"{DID}#{second}"]
    assert len(resolve_verification_method(document, f"{DID}#{first}")) == 32


def test_nothing_printed_contains_a_secret(run: Invoke, tmp_path: Path) -> None:
    outputs = [run("generate", "--tenant", "acme", "--did", DID)]
    outputs += [run("list", "--tenant", "acme"), run("list", "--tenant", "acme", "--json")]
    outputs += [run("publish", "--tenant", "acme")]
    key_file = next((tmp_path / "keys" / "acme").glob("*.key.json"))
    ciphertext = json.loads(key_file.read_text())["ciphertext"]

    for code, out, err in outputs:
        assert code == 0
        assert PASSPHRASE not in out + err and ciphertext not in out + err


def test_missing_passphrase_exits_2_naming_the_variable(
    run: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDSTREAM_KEYS_PASSPHRASE")

    code, _, err = run("generate", "--tenant", "acme")

    assert code == 2
    assert "CREDSTREAM_KEYS_PASSPHRASE is not set" in err


def test_publish_without_a_did_asks_for_one(run: Invoke) -> None:
    run("generate", "--tenant", "acme")
    code, _, err = run("publish", "--tenant", "acme")
    assert code == 2 and "--did" in err
    code, out, _ = run("publish", "--tenant", "acme", "--did", "did:web:example.com:acme")
    assert code == 0 and json.loads(out)["id"] == "did:web:example.com:acme"
