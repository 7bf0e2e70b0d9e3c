"""A loopback server that answers with scripted hostile bytes, directly or as an http proxy.

Each accepted connection reads one request (head and body, by ``Content-Length``) and hands the
socket to the script, a function ``script(sock, request)`` that writes whatever the case needs:
trickled bytes, endless streams, broken framing, an answer to ``CONNECT`` followed by forged bytes.
Streams are written from small blocks, so the server itself never holds much memory; a write that
fails (the client hung up) ends the connection quietly.
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import time
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    Script = Callable[[socket.socket, bytes], None]

__all__ = [
    "HostileServer",
    "self_signed_certificate",
    "endless",
    "gzip_bomb",
    "keep_alive",
    "read_request",
    "send",
    "stream",
    "trickle",
    "tunnel",
]

#: A valid answer to a list call: a client that accepts a hostile case would return this.
OK_BODY = b'{"data": []}'


def read_request(sock: socket.socket) -> bytes:
    """Read one request, head and body (by ``Content-Length``); b"" when the client hung up."""
    data = b""
    while b"\r\n\r\n" not in data:
        block = sock.recv(65536)
        if not block:
            return b""
        data += block
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        block = sock.recv(65536)
        if not block:
            break
        rest += block
    return head + b"\r\n\r\n" + rest


def send(data: bytes, *, hold: float = 0.0) -> Script:
    """Answer with ``data``, then close (after the client does, or ``hold`` seconds, if ``hold``)."""

    def script(sock: socket.socket, request: bytes) -> None:
        sock.sendall(data)
        if hold:
            sock.settimeout(hold)
            with contextlib.suppress(OSError):
                while sock.recv(65536):
                    pass

    return script


def keep_alive(answer: bytes) -> Script:
    """Answer every request of the connection with ``answer``, until the client closes it."""

    def script(sock: socket.socket, request: bytes) -> None:
        while request:
            sock.sendall(answer)
            request = read_request(sock)

    return script


def trickle(data: bytes, interval: float) -> Script:
    """Answer with ``data`` one byte every ``interval`` seconds."""

    def script(sock: socket.socket, head: bytes) -> None:
        for index in range(len(data)):
            sock.sendall(data[index : index + 1])
            time.sleep(interval)

    return script


def endless(prefix: bytes, repeat: bytes) -> Iterator[bytes]:
    """Yield ``prefix``, then ``repeat`` (batched into blocks of about 64 KiB) forever."""
    yield prefix
    block = repeat * max(1, 65536 // len(repeat))
    while True:
        yield block


def gzip_bomb(total: int = 1280 * 1024 * 1024) -> Iterator[bytes]:
    """Yield a gzip stream of ``total`` zero bytes (1.25 GiB by default: about 1.3 MB compressed)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    for _ in range(total // len(zeros)):
        if out := compressor.compress(zeros):
            yield out
    yield compressor.flush()


def stream(head: bytes, blocks: Iterable[bytes], *, chunked: bool = False) -> Script:
    """Answer with ``head``, then every block (each as one chunk when ``chunked``) until the client leaves."""

    def script(sock: socket.socket, request: bytes) -> None:
        sock.sendall(head)
        for block in blocks:
            sock.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
        if chunked:
            sock.sendall(b"0\r\n\r\n")

    return script


def tunnel(port: int) -> Script:
    """Answer ``CONNECT`` with 200 and pipe the connection to loopback ``port``, as an honest proxy does."""

    def script(sock: socket.socket, request: bytes) -> None:
        upstream = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(source: socket.socket, target: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    target.sendall(data)
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pipe, args=(upstream, sock), daemon=True)
        back.start()
        pipe(sock, upstream)
        back.join(5)
        upstream.close()

    return script


class HostileServer:
    """
    Serve ``script`` on a loopback port, one thread per connection.

    :param script: what to answer; it receives the socket and the first request.
    :param tls: a server-side TLS context: the handshake happens before the request is read.
    :param first: run the script at once, without waiting for a request (to speak in place of TLS).
    """

    def __init__(self, script: Script, *, tls: ssl.SSLContext | None = None, first: bool = False) -> None:
        self.script = script
        self.tls = tls
        self.first = first
        #: Every request read, head and body, in order of arrival.
        self.requests: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []

    def __enter__(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()
        for sock in list(self._open):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError, ValueError):
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            if self.first:
                self.script(sock, b"")
                return
            request = read_request(sock)
            if request:
                self.requests.append(request)
                self.script(sock, request)
        with contextlib.suppress(OSError):
            sock.close()


def self_signed_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """Write a self-signed certificate for ``name`` (DNS name) and its key; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path
