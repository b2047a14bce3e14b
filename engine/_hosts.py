"""Base URLs → checked: credentials go only to the hosts a spec's `environments` declare.

Two URLs are checked here. The spec's own environment URL, rendered from non-secret settings,
must land on the host it declares (a template fills only a label before a literal domain). A
caller's `base_url` override (a local test server, a proxy) is the caller's choice, but the
credentials go with it, so it must name a declared host too unless the caller opts in with
`allow_undeclared_host=True`; even then plain `http://` is accepted only to loopback.

A declared host matches exactly, or, where the spec templates a label, as `<label><tail>`
with `tail` starting at a label boundary ("-api-live.pay.example", ".example.com"):
`evilexample.com` never matches `example.com`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from ._errors import CredentialsError

#: What a template may put before a host's literal tail: one DNS label (or the start of one),
#: or nothing (a setting left empty: the host is still inside the literal domain).
_LABEL = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)?")
#: A base URL holds printable ASCII only: no whitespace, control or non-ASCII character (httpx
#: would refuse some, percent-encode or IDNA-map others: what is sent must be what was given).
_URL_TEXT = re.compile(r"[\x21-\x7e]+")
_DEFAULT_PORTS = {"https": 443, "http": 80}
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True, slots=True)
class HostRule:
    """The host one environment URL declares: `tail` is the literal end of its host name (all
    of it when `templated` is false), `port` the port it names or implies."""

    tail: str
    port: int
    templated: bool = False

    def allows(self, host: str, port: int) -> bool:
        host = host.lower()
        if port != self.port:
            return False
        if not self.templated:
            return host == self.tail
        # A template fills the start of a label: the tail must begin at a boundary, so the
        # host stays inside the literal domain after it.
        if not self.tail.startswith(("-", ".")) or not host.endswith(self.tail):
            return False
        return _LABEL.fullmatch(host[: len(host) - len(self.tail)]) is not None

    def describe(self) -> str:
        shown = f"*{self.tail}" if self.templated else self.tail
        return shown if self.port == 443 else f"{shown}:{self.port}"


def host_rule(url_template: str) -> HostRule:
    """The HostRule of a spec's environment URL (templates `{{ … }}` only in the host's first
    labels: the lint rule `fixed_hosts` makes sure)."""
    authority = url_template.split("://", 1)[-1].split("/", 1)[0]
    templated = "}}" in authority
    literal = urlsplit("https://" + authority.rsplit("}}", 1)[-1])
    try:
        port = literal.port or 443
    except ValueError:  # refused by the spec schema's URL pattern; never matches then
        port = -1
    return HostRule((literal.hostname or "").lower(), port, templated)


def environment_url(plan_id: str, environment: str, url: str, rule: HostRule) -> str:
    """A rendered environment URL, or CredentialsError when it left its declared host (a
    setting that smuggles in user info, a path or another domain)."""
    parts = _split(url)
    if (
        parts is None
        or parts.scheme != "https"
        or "@" in parts.netloc
        or not rule.allows(parts.hostname or "", _port(parts))
    ):
        raise CredentialsError(
            f"{plan_id}: the {environment} base URL left the declared host {rule.describe()}"
        )
    return url


def override_url(
    plan_id: str, rules: list[HostRule], base_url: object, *, allow_undeclared_host: bool = False
) -> str:
    """A caller's `base_url`, checked; CredentialsError naming the setting (never its value)
    when it is malformed, holds user info, a query or fragment, or is plain http to a host that
    is not loopback, or names a host the spec does not declare without the opt-in."""
    problem = _override_problem(rules, base_url, allow_undeclared_host)
    if problem is not None:
        raise CredentialsError(f"{plan_id}: base_url {problem}")
    assert isinstance(base_url, str)
    return base_url


def _override_problem(rules: list[HostRule], url: object, allow_undeclared: bool) -> str | None:
    if not isinstance(url, str):
        return "must be a string"
    if not _URL_TEXT.fullmatch(url):
        return "may hold printable ASCII only (no whitespace, control or non-ASCII character)"
    parts = _split(url)
    if parts is None or parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return "must be an absolute http:// or https:// URL with a host (and a valid port)"
    if "@" in parts.netloc:
        return "may not hold user info (user:password@): credentials go in the credentials"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "may not hold a query or a fragment"
    host, port = parts.hostname, _port(parts)
    if parts.scheme == "http" and not _is_loopback(host):
        return "may use plain http:// only to a loopback host (127.0.0.1, ::1, localhost)"
    if parts.scheme == "https" and any(rule.allows(host, port) for rule in rules):
        return None
    if allow_undeclared:
        return None
    declared = ", ".join(dict.fromkeys(rule.describe() for rule in rules))
    return (
        f"names a host the spec does not declare (it declares: {declared}); pass "
        "allow_undeclared_host=True (CLI: --allow-undeclared-host) to send the credentials there"
    )


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        _port(parts)  # an out-of-range or non-numeric port raises here
    except ValueError:
        return None
    return parts


def _port(parts: SplitResult) -> int:
    return parts.port if parts.port is not None else _DEFAULT_PORTS.get(parts.scheme, 0)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
