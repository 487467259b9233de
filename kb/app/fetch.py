"""Fetching one file of another city's publication, from the web or from a folder, within
limits: at most ``max_bytes`` (counted after decompression, so a small gzip bomb is stopped
too), at most :data:`TOTAL_SECONDS` for the whole file, a few redirects; conditional
(``If-None-Match``, ``If-Modified-Since``), so an unchanged publication costs a 304 and
nothing else. Every failure is a :class:`FetchError` that says what happened in words."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from kb import __version__
from kb.core.errors import KBError

CONNECT_SECONDS = 10.0
READ_SECONDS = 30.0
TOTAL_SECONDS = 120.0
MAX_REDIRECTS = 5
USER_AGENT = f"malmo-kb/{__version__} (kb sync)"


class FetchError(KBError):
    """A file of a publication that could not be fetched as it is."""


@dataclass
class Fetched:
    status: int  # 200, or 304: not modified since the copy we have
    content: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


def is_web(location: str) -> bool:
    return urlsplit(location).scheme in ("http", "https")


def fetch(location: str, *, max_bytes: int, etag: str | None = None, last_modified: str | None = None,
          total_seconds: float = TOTAL_SECONDS) -> Fetched:
    """``location`` (an http(s) address, or a file in a published folder) as bytes."""
    if is_web(location):
        return _fetch_web(location, max_bytes=max_bytes, etag=etag, last_modified=last_modified,
                          total_seconds=total_seconds)
    return _fetch_file(Path(location), max_bytes=max_bytes, last_modified=last_modified)


def _fetch_file(path: Path, *, max_bytes: int, last_modified: str | None) -> Fetched:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise FetchError(f"{path}: no such file") from None
    except OSError as exc:
        raise FetchError(f"{path}: cannot be read ({exc.strerror})") from None
    if not path.is_file():
        raise FetchError(f"{path}: not a file")
    if stat.st_size > max_bytes:
        raise FetchError(f"{path}: {stat.st_size:,} bytes; at most {max_bytes:,} are read")
    stamp = f"{stat.st_mtime_ns}-{stat.st_size}"
    if last_modified == stamp:
        return Fetched(304, last_modified=stamp)
    with path.open("rb") as handle:
        content = handle.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise FetchError(f"{path}: more than {max_bytes:,} bytes")
    return Fetched(200, content, last_modified=stamp)


def _fetch_web(url: str, *, max_bytes: int, etag: str | None, last_modified: str | None,
               total_seconds: float) -> Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    timeout = httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS) as client:
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return Fetched(304, etag=etag, last_modified=last_modified)
                if response.status_code != 200:
                    raise FetchError(f"{url}: the server answered {response.status_code} "
                                     f"{response.reason_phrase or ''}".rstrip()
                                     + (" (is this the publication's folder, ending in /-/kb/open/?)"
                                        if response.status_code == 404 else ""))
                announced = response.headers.get("content-length", "")
                if announced.isdigit() and int(announced) > max_bytes:
                    raise FetchError(f"{url}: {int(announced):,} bytes; at most {max_bytes:,} are read")
                parts, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"{url}: more than {max_bytes:,} bytes; at most {max_bytes:,} are read")
                    if time.monotonic() - started > total_seconds:
                        raise FetchError(f"{url}: still arriving after {total_seconds:.0f} s; given up")
                    parts.append(chunk)
                return Fetched(200, b"".join(parts), etag=response.headers.get("etag"),
                               last_modified=response.headers.get("last-modified"))
    except httpx.TimeoutException:
        raise FetchError(f"{url}: no answer within {READ_SECONDS:.0f} s") from None
    except httpx.TooManyRedirects:
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects") from None
    except httpx.DecodingError:
        raise FetchError(f"{url}: the compressed answer could not be read") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"{url}: not a usable address ({exc})") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: could not be reached ({type(exc).__name__}: {exc})") from None
