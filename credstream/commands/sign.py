"""``credstream sign`` and ``credstream verify``: Data Integrity proofs from the command line.

Input is one JSON credential (pretty-printed or not) or a JSON-lines stream of them.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

import click
import orjson

from credstream.errors import ConfigurationError, InvalidInputError, SigningError, StorageError

SUITES = click.Choice(["eddsa-rdfc-2022", "eddsa-jcs-2022"])


@click.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON key file with secretKeyMultibase or privateKeyMultibase.",
)
@click.option(
    "--seed-hex",
    help="The 32-byte Ed25519 seed in hex. Development only: other local users can read "
    "command lines.",
)
@click.option("--verification-method", required=True, help="proof.verificationMethod (a URL).")
@click.option("--created", required=True, help="proof.created, e.g. 2024-05-01T10:00:00Z.")
@click.option("--suite", type=SUITES, default="eddsa-rdfc-2022", show_default=True)
def sign(
    source: IO[bytes],
    key_file: Path | None,
    seed_hex: str | None,
    verification_method: str,
    created: str,
    suite: str,
) -> None:
    """Sign the credential(s) in SOURCE (a file, or - for stdin); one signed credential per
    line (compact JSON) on stdout."""
    from signers.proofs import (
        PROOF_TYPE,
        VerificationMethodError,
        add_proof,
        default_canonicalizer,
        did_key_method,
        ed25519_public_key,
        ed25519_signer,
    )

    if (key_file is None) == (seed_hex is None):
        raise click.UsageError("give exactly one of --key and --seed-hex")
    seed = read_key_file(key_file) if key_file is not None else _seed_from_hex(seed_hex or "")
    if verification_method.startswith("did:key:"):
        try:
            named_key = did_key_method(verification_method).public_key
        except VerificationMethodError as error:
            raise ConfigurationError(f"--verification-method: {error}") from None
        if named_key != ed25519_public_key(seed):
            raise ConfigurationError("--verification-method names another key than the signing key")
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": suite,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    signer, canonicalizer = ed25519_signer(seed), default_canonicalizer()
    out = click.get_binary_stream("stdout")
    # Each line makes a few hundred short-lived, acyclic objects: the default threshold
    # ran a collection every few lines (a tenth of the time per credential).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    # Output goes out in blocks of whole lines, as Python buffers a pipe by default, even
    # under PYTHONUNBUFFERED (a write per line cost a third of the time per credential).
    block: list[bytes] = []
    size, interactive = 0, out.isatty()
    try:
        for number, document in _documents(source):
            if not isinstance(document, dict):
                raise InvalidInputError(
                    f"{_where(source, number)}: a credential must be a JSON object"
                )
            try:
                signed = add_proof(document, options, signer, canonicalizer)
            except SigningError as error:
                raise InvalidInputError(f"{_where(source, number)}: {error}") from None
            line = _compact(signed) + b"\n"
            block.append(line)
            size += len(line)
            if size >= _OUTPUT_BLOCK or interactive:
                out.write(b"".join(block))
                block.clear()
                size = 0
    finally:  # what was signed before an error is written
        out.write(b"".join(block))
        out.flush()


@click.command()
@click.argument("source", type=click.File("rb"))
@click.option(
    "--controller",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Controller document (did.json) holding the key; without it the verification "
    "method must be a did:key.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON result per credential.")
@click.option(
    "--status-list",
    "status_lists",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A status list credential (BitstringStatusListCredential) file; repeatable. "
    "Checks revocation and suspension against it.",
)
@click.option(
    "--store",
    "from_store",
    is_flag=True,
    help="Check revocation and suspension against the status lists in the object store "
    "(CREDSTREAM_S3_*).",
)
@click.pass_context
def verify(
    ctx: click.Context,
    source: IO[bytes],
    controller: Path | None,
    as_json: bool,
    status_lists: tuple[Path, ...],
    from_store: bool,
) -> None:
    """Verify the credential(s) in SOURCE: proof, issuer/verification-method binding and
    validity period, and with --status-list or --store their revocation and suspension
    status (the list's own proof included). Exit 0 when all are valid, 1 otherwise."""
    from signers.proofs import (
        ResolveMethod,
        VerificationResult,
        controller_document_method,
        default_canonicalizer,
        did_key_method,
        verify_credential,
    )
    from signers.status import StatusLists, status_checks

    resolve: ResolveMethod = did_key_method
    if controller is not None:
        resolve = partial(controller_document_method, _json_object(controller))
    canonicalizer, now = default_canonicalizer(), datetime.now(UTC)
    lists = None
    if status_lists or from_store:
        fetch = _status_list_fetcher(status_lists, from_store)
        lists = StatusLists(fetch, resolve, now, canonicalizer)
    all_verified = True
    for number, document in _documents(source):
        where = _where(source, number)
        result = verify_credential(document, resolve, now, canonicalizer)
        if lists is not None:
            result = VerificationResult((*result.checks, *status_checks(document, lists)))
        all_verified = all_verified and result.verified
        label = document.get("id", where) if isinstance(document, dict) else where
        if as_json:
            click.echo(json.dumps({"credential": label, **result.as_dict()}, ensure_ascii=False))
            continue
        click.echo(f"{label}: {'verified' if result.verified else 'NOT VERIFIED'}")
        for check in result.checks:
            click.echo(f"  {'ok  ' if check.valid else 'FAIL'} {check.id}: {check.message}")
    ctx.exit(0 if all_verified else 1)


def _status_list_fetcher(files: tuple[Path, ...], from_store: bool) -> Callable[[str], Any]:
    """Status list credentials by URL: the given files first (by their ``id``), then the
    store (the URL's path names the object key). Nothing is fetched from the URL itself."""
    by_id: dict[str, dict[str, Any]] = {}
    for path in files:
        document = _json_object(path)
        if not isinstance(document.get("id"), str):
            raise InvalidInputError(f"{path}: a status list credential needs an id")
        by_id[document["id"]] = document
    store = None
    if from_store:
        from credstream.clients import s3_client
        from credstream.settings import S3Settings
        from signers.storage import Boto3Store

        settings = S3Settings()
        store = Boto3Store(s3_client(settings), settings.bucket)

    def fetch(url: str) -> Any:
        from botocore.exceptions import BotoCoreError

        from signers.status import StatusListError, parse_status_list_url

        if url in by_id or store is None:
            return by_id.get(url)
        try:
            body = store.get(parse_status_list_url(url).key)
        except StatusListError:
            return None  # not one of our lists: reported as not available
        except BotoCoreError as error:
            raise StorageError(f"cannot read status list {url} from the store: {error}") from None
        try:
            return None if body is None else _loads(body)
        except ValueError:
            return body  # not JSON: reported as not a JSON object

    return fetch


def read_key_file(path: Path) -> bytes:
    """The Ed25519 seed in a JSON key file (``secretKeyMultibase`` or
    ``privateKeyMultibase``, as the test vectors' keyPair.json). Messages never quote it."""
    from signers.multikey import seed_from_multibase

    document = _json_object(path)
    for field in ("secretKeyMultibase", "privateKeyMultibase"):
        if isinstance(document.get(field), str):
            try:
                return seed_from_multibase(document[field])
            except SigningError as error:
                raise InvalidInputError(f"{path}: {field}: {error}") from None
    raise InvalidInputError(f"{path}: no secretKeyMultibase or privateKeyMultibase string")


def _seed_from_hex(text: str) -> bytes:
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise click.BadParameter("must be 64 hexadecimal digits", param_hint="--seed-hex")
    return seed


def _json_object(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InvalidInputError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(document, dict):
        raise InvalidInputError(f"{path}: expected a JSON object")
    return document


def _documents(source: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """(line number, document) for each line of JSON lines, or (0, document) for one JSON
    document over several lines; :func:`_where` names either in messages.

    The first non-blank line decides: a complete JSON value means JSON lines (streamed),
    anything else is the start of a single multi-line document. Lines stay bytes: decoding
    them to text and orjson encoding them back cost ~3 us a line.
    """
    lines = enumerate(source, start=1)
    start = next(((number, line) for number, line in lines if not line.isspace()), None)
    if start is None:
        return
    number, line = start
    try:
        first = _loads(line)
    except ValueError:
        whole = line + b"".join(text for _, text in lines)
        try:
            yield 0, _loads(whole)
        except ValueError as error:
            raise InvalidInputError(
                f"{_where(source, 0)}: neither JSON nor JSON lines ({error})"
            ) from None
        return
    yield number, first
    for number, line in lines:
        if line.isspace():
            continue
        try:
            yield number, _loads(line)
        except ValueError as error:
            raise InvalidInputError(f"{_where(source, number)}: not JSON ({error})") from None


def _where(source: IO[bytes], number: int) -> str:
    """The input's name, and the line for JSON lines (``number`` 0: a single document)."""
    name = getattr(source, "name", "<input>")
    return f"{name} line {number}" if number else str(name)


def _loads(data: bytes) -> Any:
    # orjson reads integers beyond 64 bits as floats, and refuses some JSON the standard
    # decoder reads (lone surrogates): where either may apply, that one decides.
    # The digit-run test on bytes costs ~2 us a line; a regular expression cost ~40.
    if _DIGIT_RUN not in data.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return _DECODER.decode(data.decode("utf-8"))


def _compact(document: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: a tenth of the standard encoder's time per line)."""
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:  # integers beyond 64 bits, which only json writes
        return _COMPACT.encode(document).encode("utf-8")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_OUTPUT_BLOCK = 1 << 16
# One decoder and one encoder for the whole stream: json.loads/dumps with options build a
# new one per call, a cost comparable to the rest of the line's JSON work.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
# Every integer of 18 digits fits in 64 bits: a line without a run of 19 digits is safe.
_DIGITS_ONLY = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_DIGIT_RUN = b"0" * 19
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
