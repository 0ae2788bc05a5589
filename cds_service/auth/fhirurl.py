"""A FHIR server URL as it will be requested, so that the allow-list compares the real target.

``http://allowed-host/fhir/%2e%2e/admin`` reads as under ``/fhir/`` but is sent to ``/admin``:
httpx (and many servers) undo the percent-encoding of unreserved characters and then remove the
dot segments. So the URL is normalised first (RFC 3986 §6.2.2: scheme and host case, unreserved
characters decoded, other escapes in upper case, default port dropped, one trailing slash), and
anything whose target a server might read differently is refused rather than guessed: dot
segments in any spelling, encoded ``/`` or ``\\``, ``;`` parameters (``..;`` walks up on some
Java servers), empty segments, user information, a query or a fragment.
"""

from __future__ import annotations

import ipaddress
import re
import string
from urllib.parse import urlsplit

import httpx

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_PATH_CHARS = frozenset(_UNRESERVED | set("!$&'()*+,=:@%"))
"""RFC 3986 ``pchar`` without ``;``; anything else is refused, not re-encoded."""
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalised(url: str) -> str | None:
    """``url`` in its one canonical spelling, ending in ``/``; None if it cannot be trusted."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or "?" in url or "#" in url or "@" in parts.netloc:
        return None
    host = _host(parts.netloc, parts.hostname or "")
    path = _path(parts.path)
    if host is None or path is None:
        return None
    shown_port = f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{shown_port}{path}"


def allowed_base(server: str, allow_list: tuple[str, ...]) -> httpx.URL | None:
    """``server``, normalised, if it is an allowed server or lies under one, path segment by
    path segment; the queries are built from this URL, never from what the client wrote."""
    url = normalised(server)
    if url is None:
        return None
    for allowed in allow_list:
        base = normalised(allowed)
        if base is not None and url.startswith(base):
            return httpx.URL(url)
    return None


def under(target: httpx.URL, base: httpx.URL) -> bool:
    """Whether ``target`` (a query or a next link, its query string aside) stays under ``base``."""
    path_only = normalised(str(target.copy_with(query=None, fragment=None)))
    return path_only is not None and path_only.startswith(str(base))


def _host(netloc: str, hostname: str) -> str | None:
    if "[" in netloc:
        try:
            return f"[{ipaddress.IPv6Address(hostname).compressed}]"
        except ValueError:
            return None
    return hostname if _HOST.fullmatch(hostname) else None


def _path(raw: str) -> str | None:
    if not set(raw) <= _PATH_CHARS | {"/"}:
        return None
    segments = raw.split("/")[1:] if raw.startswith("/") else ([raw] if raw else [])
    if segments and segments[-1] == "":
        segments.pop()  # one trailing slash is the same base
    kept = []
    for segment in segments:
        decoded = _decoded(segment)
        if decoded is None or decoded in ("", ".", ".."):
            return None
        kept.append(decoded)
    return "/" + "".join(f"{segment}/" for segment in kept)


def _decoded(segment: str) -> str | None:
    """Unreserved characters decoded, other escapes upper-cased; a stray ``%`` refuses it."""
    if segment.count("%") != len(_ESCAPE.findall(segment)):
        return None

    def one(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    decoded = _ESCAPE.sub(one, segment)
    if "%2F" in decoded or "%5C" in decoded or "%3B" in decoded or "%00" in decoded:
        return None
    return decoded
