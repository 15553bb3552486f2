"""``credstream images put``: an issuer's badge artwork, for the renderer to bake.

The renderer never fetches an achievement's ``image`` URL; issuers upload the artwork
to the object store instead, one PNG and/or one SVG per achievement key. The file is
checked (it must be a PNG or SVG that can be baked, at most 4 MiB) before it is stored.
A new upload replaces the old one for badges rendered from then on (after the
renderer's artwork cache expires); badges already rendered keep their image.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def images() -> None:
    """Badge artwork the renderer bakes credentials into."""


@images.command()
@click.argument("achievement_key")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", required=True, help="The tenant whose achievement it is.")
def put(achievement_key: str, file: Path, tenant: str) -> None:
    """Store FILE (PNG or SVG) as the artwork of ACHIEVEMENT_KEY."""
    from credstream.clients import s3_client
    from credstream.errors import InvalidInputError
    from credstream.settings import S3Settings
    from signers.render import MAX_IMAGE_BYTES, MEDIA_TYPES, check_png, check_svg, image_key

    if file.stat().st_size > MAX_IMAGE_BYTES:
        raise InvalidInputError(f"{file}: larger than {MAX_IMAGE_BYTES} bytes")
    data = file.read_bytes()
    extension = "png" if data.startswith(b"\x89PNG") else "svg"
    try:
        (check_png if extension == "png" else check_svg)(data)
    except InvalidInputError as error:
        raise InvalidInputError(f"{file}: {error}") from None
    settings = S3Settings()
    key = image_key(tenant, achievement_key, extension)
    s3_client(settings).put_object(
        Bucket=settings.bucket, Key=key, Body=data, ContentType=MEDIA_TYPES[extension]
    )
    click.echo(f"stored s3://{settings.bucket}/{key} ({len(data)} bytes)")
