"""SigV4 signatures match AWS's published example and botocore's own signer."""

from __future__ import annotations

import calendar
import time

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from signers.storage._sigv4 import SigV4Signer, object_path

ACCESS = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_aws_documentation_get_object_example() -> None:
    # "Example: GET Object" from the S3 SigV4 documentation.
    now = calendar.timegm(time.strptime("20130524T000000Z", "%Y%m%dT%H%M%SZ"))
    headers = SigV4Signer(ACCESS, SECRET, "us-east-1").sign(
        "GET", "/test.txt", "examplebucket.s3.amazonaws.com", EMPTY, {"Range": "bytes=0-9"}, now=now
    )
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_same_signature_as_botocore_for_a_conditional_put() -> None:
    body = '{"name": "Données ✓"}'.encode()
    import hashlib

    digest = hashlib.sha256(body).hexdigest()
    path = object_path("credentials", "example-u/credentials/ü b+c.json")
    now = time.time()
    ours = SigV4Signer(ACCESS, SECRET, "eu-west-1").sign(
        "PUT", path, "127.0.0.1:7070", digest, {"if-none-match": "*"}, now=now
    )
    request = AWSRequest(
        method="PUT",
        url=f"http://127.0.0.1:7070{path}",
        data=body,
        headers={"If-None-Match": "*", "X-Amz-Content-SHA256": digest},
    )
    request.context["timestamp"] = ours["x-amz-date"]
    auth = S3SigV4Auth(Credentials(ACCESS, SECRET), "s3", "eu-west-1")
    auth._timestamp = lambda: ours["x-amz-date"]  # type: ignore[method-assign]
    auth.add_auth(request)
    assert request.headers["Authorization"] == ours["authorization"]


def test_object_path_encodes_once_and_keeps_slashes() -> None:
    assert object_path("b", "t/ü b+c.json") == "/b/t/%C3%BC%20b%2Bc.json"


def test_secret_is_not_in_repr() -> None:
    assert SECRET not in repr(SigV4Signer(ACCESS, SECRET, "us-east-1"))
