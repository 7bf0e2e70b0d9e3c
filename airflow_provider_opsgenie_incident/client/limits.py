"""How much one HTTP exchange may take, on either transport. Pure data; no I/O.

Opsgenie's largest answer is a page of 100 incidents or timeline entries (well under 1 MiB) and
its header section a few hundred bytes, so these bounds stop a hostile server or proxy long
before they matter to a real one. The per-attempt deadline is :attr:`.ClientSettings.attempt_timeout`.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_HEADER_COUNT",
    "MAX_HEADER_LINE",
    "TransportCause",
]

#: A response body, counted on the decoded bytes (after gzip or deflate), read in chunks.
MAX_BODY_BYTES: Final = 32 * 1024 * 1024
#: The whole header section of a response (status line and every field).
MAX_HEADER_BYTES: Final = 64 * 1024
#: One header line (name, value and separator), as aiohttp and most servers bound it.
MAX_HEADER_LINE: Final = 8190
#: Header fields in one response.
MAX_HEADER_COUNT: Final = 100

#: Why an exchange ended without a usable answer: the ``cause`` of a ``TransportError``.
TransportCause = Literal[
    "connect",  # no connection could be made (refused, DNS, connect timeout)
    "proxy",  # the proxy refused or failed the tunnel (407, 5xx, bad answer to CONNECT)
    "tls",  # the handshake or the certificate failed
    "deadline",  # the attempt's total deadline passed (slow or trickling server included)
    "read_timeout",  # no byte came within the read timeout
    "reset",  # the connection was closed or reset mid-exchange
    "body_too_large",  # the decoded body passed MAX_BODY_BYTES
    "headers_too_large",  # the header section passed one of the header limits
    "malformed",  # framing or syntax that RFC 9112 says a client must reject
]
