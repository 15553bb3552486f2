"""credstream sign / verify / bench sign, end to end on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from credstream.cli import cli
from credstream.commands import register
from tests.unit._proofs_vectors import OB, W3C, load, ob_expected, w3c_file

W3C_METHOD = load(W3C / "eddsa-rdfc-2022" / "proofConfigDataInt.json")["verificationMethod"]
W3C_DID = W3C_METHOD.partition("#")[0]
W3C_CREATED = "2023-02-24T23:36:38Z"
W3C_KEY = str(W3C / "keyPair.json")


@pytest.fixture(scope="module")
def root() -> click.Group:
    register(cli)
    return cli


def run(root: click.Group, args: list[str], stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(root, args, input=stdin)


def compact(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def sign_w3c(root: click.Group, stdin: str | bytes, *extra: str) -> Result:
    args = ["sign", "-", "--key", W3C_KEY, "--verification-method", W3C_METHOD]
    return run(root, [*args, "--created", W3C_CREATED, *extra], stdin)


def did_key_credentials(count: int) -> list[dict[str, Any]]:
    unsigned = load(W3C / "unsigned.json")
    return [{**unsigned, "id": f"urn:uuid:{n}", "issuer": W3C_DID} for n in range(count)]


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_sign_reproduces_the_w3c_signed_vector(root: click.Group, suite: str) -> None:
    pretty = (W3C / "unsigned.json").read_text(encoding="utf-8")  # multi-line JSON
    result = sign_w3c(root, pretty, "--suite", suite)
    assert result.exit_code == 0, result.output
    assert result.output == compact(load(w3c_file(suite, "signed", "json"))) + "\n"


def test_sign_with_a_seed_reproduces_the_open_badges_proof_value(root: click.Group) -> None:
    expected = ob_expected()
    options = expected["proofOptions"]
    result = run(
        root,
        [
            "sign",
            str(OB / "unsigned.json"),
            "--seed-hex",
            expected["privateKeySeedHex"],
            "--verification-method",
            options["verificationMethod"],
            "--created",
            options["created"],
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["proof"]["proofValue"] == expected["proofValue"]


def test_open_badges_credential_verifies_against_a_controller_document(
    root: click.Group, tmp_path: Path
) -> None:
    expected = ob_expected()
    method = expected["proofOptions"]["verificationMethod"]
    issuer = method.partition("#")[0]
    controller = {
        "id": issuer,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": issuer,
                "publicKeyMultibase": expected["publicKeyMultibase"],
            }
        ],
        "assertionMethod": [method],
    }
    (tmp_path / "did.json").write_text(json.dumps(controller))
    signed = {**load(OB / "unsigned.json"), "proof": {**expected["proofOptions"]}}
    signed["proof"]["proofValue"] = expected["proofValue"]
    (tmp_path / "signed.json").write_text(json.dumps(signed, indent=2))
    args = ["verify", str(tmp_path / "signed.json"), "--controller", str(tmp_path / "did.json")]
    result = run(root, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("http://example.com/credentials/3527: verified\n")


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_signed_stream_verifies_and_any_change_fails(
    root: click.Group, suite: str, tmp_path: Path
) -> None:
    lines = "".join(compact(c) + "\n\n" for c in did_key_credentials(3))  # blank lines skipped
    signed = sign_w3c(root, lines, "--suite", suite)
    assert signed.exit_code == 0, signed.output
    assert len(signed.output.splitlines()) == 3
    path = tmp_path / "signed.jsonl"
    path.write_text(signed.output)

    verified = run(root, ["verify", str(path), "--json"])
    assert verified.exit_code == 0, verified.output
    results = [json.loads(line) for line in verified.output.splitlines()]
    assert [(r["credential"], r["verified"]) for r in results] == [
        (f"urn:uuid:{n}", True) for n in range(3)
    ]

    path.write_text(signed.output.replace("The School of Examples", "The School of Exemples", 1))
    tampered = run(root, ["verify", str(path)])
    assert tampered.exit_code == 1
    assert "urn:uuid:0: NOT VERIFIED" in tampered.output
    assert "FAIL valid_signature" in tampered.output
    assert "urn:uuid:1: verified" in tampered.output


def test_signed_lines_are_the_standard_compact_json_of_the_signed_credentials(
    root: click.Group,
) -> None:
    """orjson reads and writes the lines: what it writes is what json would, byte for byte
    (non-ASCII, control characters, emoji), and what only json handles still signs."""
    from credstream.commands.sign import read_key_file
    from signers.fastcanon._samples import sample_credentials
    from signers.proofs import add_proof, default_canonicalizer, ed25519_signer

    credentials = list(sample_credentials(40, seed=11, varied=True, hostile=True))
    credentials[0]["credentialSubject"]["achievement"]["creditsAvailable"] = 2**70  # > int64
    result = sign_w3c(root, "".join(compact(c) + "\n" for c in credentials))
    assert result.exit_code == 0, result.output
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": W3C_CREATED,
        "verificationMethod": W3C_METHOD,
        "proofPurpose": "assertionMethod",
    }
    sign, canonicalizer = ed25519_signer(read_key_file(Path(W3C_KEY))), default_canonicalizer()
    expected = [compact(add_proof(c, options, sign, canonicalizer)) for c in credentials]
    assert result.output.split("\n") == [*expected, ""]  # (U+2028 in values: not splitlines)


def test_verify_without_controller_rejects_a_key_that_is_not_the_issuers(
    root: click.Group, tmp_path: Path
) -> None:
    path = tmp_path / "signed.json"
    path.write_text((w3c_file("eddsa-rdfc-2022", "signed", "json")).read_text())
    result = run(root, ["verify", str(path)])
    assert result.exit_code == 1
    assert "FAIL issuer_binding" in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--seed-hex", "00" * 32], "{}", "exactly one of --key and --seed-hex"),
        (["--created", "yesterday"], "{}", "not a date-time with a time zone"),
        ([], compact(did_key_credentials(1)[0]) + "\n{oops\n", "line 2: not JSON"),
        # Lines are read as bytes: a line that is not UTF-8 is named, not a traceback.
        (
            [],
            compact(did_key_credentials(1)[0]).encode() + b'\n{"name": "caf\xe9"}\n',
            "line 2: not JSON ('utf-8' codec can't decode",
        ),
        ([], "[1, 2]", "a credential must be a JSON object"),
        ([], '{"x": NaN}', "NaN is not a JSON number"),
    ],
)
def test_bad_input_is_a_clear_error(
    root: click.Group, args: list[str], stdin: str | bytes, message: str
) -> None:
    result = sign_w3c(root, stdin, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_undefined_term_names_the_line_and_term(root: click.Group) -> None:
    credential = {**load(OB / "unsigned.json"), "nmae": "typo"}
    result = sign_w3c(root, compact(load(OB / "unsigned.json")) + "\n" + compact(credential))
    assert result.exit_code == 2
    assert "line 2" in result.output and "'nmae'" in result.output
    # The line signed before the error is written (output goes out in blocks).
    assert json.loads(result.stdout.splitlines()[0])["proof"]["proofValue"].startswith("z")


def test_verification_method_must_name_the_signing_key(root: click.Group) -> None:
    other = "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    args = ["sign", "-", "--key", W3C_KEY, "--verification-method", f"{other}#{other[8:]}"]
    result = run(root, [*args, "--created", W3C_CREATED], "{}")
    assert result.exit_code == 2
    assert "names another key than the signing key" in result.output


def test_key_material_never_appears_in_errors(root: click.Group, tmp_path: Path) -> None:
    seed = "8f" * 32
    method = ["--verification-method", "https://x.example#k"]
    result = run(root, ["sign", "-", "--seed-hex", seed, *method, "--created", "bad"], "{}")
    assert result.exit_code == 2 and seed not in result.output
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({"secretKeyMultibase": "zNotAKey0OIl"}))
    result = run(
        root, ["sign", "-", "--key", str(key_file), *method, "--created", W3C_CREATED], "{}"
    )
    assert result.exit_code == 2
    assert "secretKeyMultibase" in result.output and "zNotAKey0OIl" not in result.output


def bench_sign(*args: str) -> subprocess.CompletedProcess[str]:
    # A separate process: the command pins itself to one CPU.
    command = [sys.executable, "-m", "credstream", "bench", "sign", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_bench_sign_prints_one_object_per_suite() -> None:
    result = bench_sign("--count", "3", "--json")
    assert result.returncode == 0, result.stderr
    rates = json.loads(result.stdout)
    assert [rate["suite"] for rate in rates] == ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
    for rate in rates:
        assert set(rate) == {
            "suite",
            "signed_per_second",
            "reference_per_second",
            "raw_ed25519_per_second",
        }
        assert rate["signed_per_second"] > 0 and rate["raw_ed25519_per_second"] > 0
    assert rates[0]["reference_per_second"] > 0
    assert rates[1]["reference_per_second"] is None


def test_bench_sign_through_the_cli_adds_its_rates() -> None:
    result = bench_sign("--count", "500", "--cli", "--json")
    assert result.returncode == 0, result.stderr
    for rate in json.loads(result.stdout):
        assert rate["cli_per_second"] > 0 and rate["cli_builder_like_per_second"] > 0


def test_bench_sign_through_the_cli_refuses_too_few_credentials() -> None:
    result = bench_sign("--count", "10", "--cli")
    assert result.returncode == 2 and "--count 500 or more" in result.stderr
