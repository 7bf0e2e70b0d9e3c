"""Client settings: where the API is, how long to wait, how to reach it. Pure; no I/O."""

from __future__ import annotations

import ipaddress
import os
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote, urlsplit

from airflow_provider_opsgenie_incident.client.errors import InvalidRequestError
from airflow_provider_opsgenie_incident.client.retry import RetrySettings
from airflow_provider_opsgenie_incident.connection import default

__all__ = [
    "DEFAULT_BASE_URL",
    "EU_BASE_URL",
    "ClientSettings",
    "incident_url",
    "is_loopback",
    "resolve_base_url",
]

DEFAULT_BASE_URL: Final = "https://api.opsgenie.com"
EU_BASE_URL: Final = "https://api.eu.opsgenie.com"


def is_loopback(hostname: str | None) -> bool:
    """Tell whether a host name is this machine: ``localhost``, 127.0.0.0/8 or ``::1``."""
    if not hostname:
        return False
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_base_url(host: str | None, *, region: str | None = None) -> str:
    """
    Turn a connection host into the API base URL.

    Empty means the US API (``region="eu"`` the EU one); a host without a scheme is https.
    Plain ``http://`` is refused unless the host is loopback (the emulator), so the key never
    crosses a network in clear text.

    :raises InvalidRequestError: the URL is not http(s), or is plain http to another machine.
    """
    if not host or not host.strip():
        if region and region.lower() not in ("us", "eu"):
            raise InvalidRequestError(f"region must be 'us' or 'eu', got {region!r}", field="region")
        return EU_BASE_URL if region and region.lower() == "eu" else DEFAULT_BASE_URL
    url = host.strip()
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(f"host must be an http(s) URL, got scheme {scheme!r}", field="host")
    if scheme == "http" and not is_loopback(parts.hostname):
        raise InvalidRequestError(
            "host must use https: plain http is allowed only to a loopback address", field="host"
        )
    return f"{scheme}://{parts.netloc}{parts.path}".rstrip("/")


@dataclass(frozen=True)
class ClientSettings:
    """
    Everything a client needs; built by the hook from an Airflow connection.

    :param api_key: the GenieKey of an API integration; never shown in ``repr``.
    :param base_url: the API base URL (see :func:`resolve_base_url`).
    :param connect_timeout: seconds to establish a connection.
    :param read_timeout: seconds of silence allowed while waiting for or reading a response.
    :param attempt_timeout: seconds one attempt may take in all (connect, send, headers, body),
        however the bytes trickle in; by default ``connect_timeout + read_timeout``.
    :param retry: the retry budget.
    :param proxy: a proxy URL; when None, the environment's proxy for the base URL, read once. Never
        shown in ``repr``, as it may hold credentials.
    :param web_url: the account's web base URL, for links to incidents.
    """

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    connect_timeout: float = default("connect_timeout")
    read_timeout: float = default("read_timeout")
    retry: RetrySettings = field(default_factory=RetrySettings)
    attempt_timeout: float | None = None
    proxy: str | None = field(default=None, repr=False)
    web_url: str | None = None

    def __post_init__(self) -> None:
        if not self.api_key:
            raise InvalidRequestError("the API key (connection password) is empty", field="password")
        object.__setattr__(self, "base_url", resolve_base_url(self.base_url))
        proxy_host = urlsplit(self.proxy).hostname if self.proxy else None
        if self.base_url.startswith("http://") and self.proxy and not is_loopback(proxy_host):
            # The proxy would read the GenieKey of a plain-http request in clear text.
            raise InvalidRequestError(
                "proxy must be a loopback address for a plain http host: the key would cross it in clear",
                field="proxy",
            )
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise InvalidRequestError("timeouts must be positive", field="timeout")
        if self.attempt_timeout is None:
            object.__setattr__(self, "attempt_timeout", self.connect_timeout + self.read_timeout)
        elif self.attempt_timeout <= 0:
            raise InvalidRequestError("attempt_timeout must be positive", field="attempt_timeout")

    @property
    def attempt_deadline(self) -> float:
        """Return the total seconds one attempt may take (:attr:`attempt_timeout`, always set)."""
        assert self.attempt_timeout is not None
        return self.attempt_timeout

    def resolved_proxy(self) -> str | None:
        """Return the proxy to use, looking at the environment once rather than on every call."""
        if self.proxy:
            return self.proxy
        hostname = urlsplit(self.base_url).hostname or ""
        bypass = urllib.request.proxy_bypass_environment(hostname)  # type: ignore[attr-defined]
        if is_loopback(hostname) or bypass:
            return None
        proxies = urllib.request.getproxies_environment()
        return proxies.get(urlsplit(self.base_url).scheme) or proxies.get("all")

    @staticmethod
    def ca_bundle() -> str | bool:
        """Return the CA bundle requests would take from the environment, else True; both clients use it."""
        return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    def incident_url(self, incident_id: str = "", incident: Mapping[str, Any] | None = None) -> str | None:
        """Return an incident's web page by the one rule, :func:`incident_url`, with this ``web_url``."""
        return incident_url(self.web_url, incident, incident_id=incident_id)


def incident_url(
    web_url: str | None, incident: Mapping[str, Any] | None = None, *, incident_id: str = ""
) -> str | None:
    """
    Return an incident's web page: the one rule for log lines, the extra link and XCom ``url``.

    The connection's ``web_url`` wins when it is set, since every caller has it without a call (a
    notifier knows only the id of the incident it opened, not its ``links``), so every place shows
    the same address; the API's ``links.web`` serves when ``web_url`` is not set.

    :param web_url: the account's web base URL, e.g. ``https://acme.app.opsgenie.com``.
    :param incident: the incident as the API returns it (``id``, ``links``), if known.
    :param incident_id: the incident's id, when the incident itself is not at hand.
    :return: the address, or None when neither source knows it.
    """
    incident = incident or {}
    incident_id = incident_id or str(incident.get("id") or "")
    if web_url and incident_id:
        return f"{web_url.rstrip('/')}/incident/detail/{quote(incident_id, safe='')}"
    links = incident.get("links")
    if isinstance(links, Mapping) and links.get("web"):
        return str(links["web"])
    return None
