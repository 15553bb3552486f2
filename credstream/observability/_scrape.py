"""Reading the workers' ``/metrics`` endpoints: the I/O edge of ``credstream top``."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from credstream.errors import InvalidInputError
from credstream.observability._top import Snapshot, TargetScrape, parse_metrics


def scrape_target(url: str, timeout: float) -> TargetScrape:
    """One worker's samples, or the reason they could not be read (never raises)."""
    if not url.startswith(("http://", "https://")):
        return TargetScrape(url, None, "not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            text = response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        return TargetScrape(url, None, f"HTTP {error.code}")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return TargetScrape(url, None, str(reason))
    try:
        return TargetScrape(url, parse_metrics(text, url))
    except InvalidInputError as error:
        return TargetScrape(url, None, str(error))


def scrape(urls: Sequence[str], timeout: float = 2.0) -> Snapshot:
    """Every target at once (in parallel, so one slow worker delays a frame only once)."""
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(urls)))) as pool:
        at, wall = time.monotonic(), time.time()
        targets = tuple(pool.map(lambda url: scrape_target(url, timeout), urls))
    return Snapshot(at=at, wall=wall, targets=targets)
