"""Who may use devhost: the Host header allowlist (against DNS rebinding), the same-origin rule for state-changing
management requests (against cross-site forms), CORS when asked for, and access keys when devhost is exposed.
Pure decisions over a request's method, path, headers and query; http.py turns a Refusal into the answer."""
from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from devhost.app.keys import HostKeys
from devhost.model import RPC_PATH, WEBHOOK_PATH

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The management API (webhook and RPC paths), the dashboard, and the host's and devhost's admin endpoints.
MANAGEMENT = (WEBHOOK_PATH, RPC_PATH, "/devhost", "/admin")
ADMIN = "/admin"
ADMIN_DEVHOST = "/admin/devhost"  # devhost's own admin (time travel, the dashboard's): management, not the host's
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Refusal:
    """Why a request is not served: the HTTP status and a message for the person who sent it."""

    status: int
    message: str = ""


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def is_dashboard_asset(method: str, path: str) -> bool:
    """A script or style sheet of the dashboard (GET /devhost/<name>.js|.css): the same public files as in the
    repository, holding no data. The browser loads them without the page's ?code=, so they need no key; the page
    itself and every API call it makes still do."""
    name = path[len("/devhost/"):] if path.startswith("/devhost/") else ""
    return method.upper() in ("GET", "HEAD") and name.endswith((".js", ".css")) and "/" not in name \
        and not name.startswith(".")


def is_management(path: str) -> bool:
    """The management API, the dashboard and the admin endpoints (not the app's own functions)."""
    return any(_under(path, p) for p in MANAGEMENT)


def host_name(host_header: str) -> str:
    """The name or address of a Host header, without port or IPv6 brackets, lower case ("[::1]:7071" -> "::1")."""
    text = host_header.strip().lower()
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text[1:]
    if text.count(":") == 1:
        text = text.split(":")[0]
    return text[:-1] if text.endswith(".") else text


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_loopback(address: str) -> bool:
    """A bind address or peer that only this machine can reach ("localhost", 127.0.0.0/8, ::1)."""
    name = host_name(address) if address.startswith("[") else address.strip().lower()
    ip = _ip(name)
    return name == "localhost" or (ip is not None and ip.is_loopback)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """scheme, host, port of an Origin or Referer value; None when it has none ("null", garbage)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS.get(scheme)


def _key_given(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key a request carries: the x-functions-key header, else the `code` query parameter (as the host reads)."""
    header = headers.get("x-functions-key")
    if header:
        return header
    return next((v for k, v in query.items() if k.lower() == "code"), None)


def _matches(given: str, keys: list[str]) -> bool:
    # compare_digest against every key, so timing tells nothing about which key nearly matched
    found = False
    for key in keys:
        found |= hmac.compare_digest(given.encode(), key.encode())
    return found


@dataclass(frozen=True)
class Guard:
    """The access policy of one devhost, from its command line: admit() for every request, function_access() for
    the app's HTTP functions, cors_headers() and preflight() when --cors names origins."""

    bind: str = "127.0.0.1"
    allow_hosts: frozenset[str] = frozenset()
    cors_origins: frozenset[str] = frozenset()
    cors_credentials: bool = False
    keys: HostKeys | None = None  # set when keys are required (--require-key)
    _names: frozenset[str] = field(init=False, repr=False, default=frozenset())
    _cors: frozenset[tuple[str, str, int | None] | None] = field(init=False, repr=False, default=frozenset())

    def __post_init__(self) -> None:
        names = set(LOCAL_NAMES) | {host_name(h) for h in self.allow_hosts}
        if self.bind.strip().lower() not in WILDCARD_BINDS:
            names.add(host_name(self.bind) if self.bind.startswith("[") else self.bind.strip().lower())
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_cors", frozenset(_origin(o) for o in self.cors_origins if o != "*") - {None})

    # -- 1. Host header ------------------------------------------------------------------------------------------
    def host_allowed(self, host_header: str | None) -> bool:
        """Hosts this devhost answers to: local names, the bind address, --allow-host names, any loopback address,
        and any IP address when it listens on all interfaces. An IP address in Host cannot come from DNS
        rebinding (the browser sends the name it resolved), so only names need the list."""
        if host_header is None or "*" in self.allow_hosts:
            return True
        name = host_name(host_header)
        if name in self._names:
            return True
        ip = _ip(name)
        return ip is not None and (ip.is_loopback or self.bind.strip().lower() in WILDCARD_BINDS)

    def _host_refusal(self, host_header: str) -> Refusal:
        name = host_name(host_header)
        return Refusal(403, f"devhost: requests for host '{name}' are refused. devhost answers only requests "
                            "addressed to localhost, 127.0.0.1, [::1] or the address it listens on, so that no web "
                            "page can reach it by pointing its own domain name at this machine (DNS rebinding). "
                            f"To use this name, start devhost with --allow-host {name}\n")

    # -- 2. Cross-site requests ----------------------------------------------------------------------------------
    def cors_allows(self, origin: str | None) -> bool:
        """Whether an Origin (or the origin of a Referer) is one named with --cors."""
        return origin is not None and ("*" in self.cors_origins or _origin(origin) in self._cors)

    def _cross_site(self, scheme: str, headers: Mapping[str, str]) -> str | None:
        """The foreign origin a browser request comes from, or None when it is same-origin or not from a browser."""
        host = headers.get("Host")
        for name in ("Origin", "Referer"):
            value = headers.get(name)
            if value is None:
                continue
            if self.cors_allows(value):
                return None
            seen = _origin(value)
            own = _origin(f"{scheme}://{host}") if host else None
            return None if seen is not None and seen == own else value
        # A browser that sent neither still says where the request comes from (Fetch Metadata).
        site = (headers.get("Sec-Fetch-Site") or "").lower()
        return f"a {site} page" if site in ("cross-site", "same-site") else None

    # -- 3. Keys ---------------------------------------------------------------------------------------------------
    def _management_keys(self, path: str) -> list[str]:
        assert self.keys is not None
        if _under(path, ADMIN) and not _under(path, ADMIN_DEVHOST):  # the host's admin API: master only, as Azure
            return [self.keys.master]
        return [self.keys.master, self.keys.system_key]

    def function_access(self, function: str, auth_level: str, headers: Mapping[str, str],
                        query: Mapping[str, str]) -> Refusal | None:
        """An HTTP function's authLevel, as Azure applies it when keys are required: anonymous needs nothing;
        function takes that function's keys, a host key or the master key; admin takes only the master key."""
        level = (auth_level or "function").lower()
        if self.keys is None or level == "anonymous":
            return None
        given = _key_given(headers, query)
        accepted = [self.keys.master] if level == "admin" else self.keys.function_level(function)
        return None if given is not None and _matches(given, accepted) else Refusal(401)

    # -- every request ---------------------------------------------------------------------------------------------
    def admit(self, method: str, scheme: str, path: str, headers: Mapping[str, str], query: Mapping[str, str],
              peer: str | None) -> Refusal | None:
        """None when the request may be served; else the refusal to answer with."""
        host = headers.get("Host")
        if host is not None and not self.host_allowed(host):
            return self._host_refusal(host)
        if not is_management(path):
            return None
        if method.upper() in STATE_CHANGING:
            foreign = self._cross_site(scheme, headers)
            if foreign is not None:
                return Refusal(403, f"devhost: a {method.upper()} to {path} from {foreign} is refused: only pages "
                                    "served by devhost itself may change instances (clients that send no Origin, "
                                    "such as curl and the Durable SDK, are not affected). To let a site in, start "
                                    "devhost with --cors <its origin>\n")
        if self.keys is None or is_dashboard_asset(method, path):
            return None
        if _under(path, RPC_PATH) and peer is not None and is_loopback(peer):
            return None  # the RPC API the SDK calls, as the extension serves it: to this machine only, no key
        given = _key_given(headers, query)
        return None if given is not None and _matches(given, self._management_keys(path)) else Refusal(401)

    # -- CORS (only with --cors) -------------------------------------------------------------------------------
    def cors_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The CORS headers of an answer to a request from an origin named with --cors; none otherwise."""
        origin = headers.get("Origin")
        if not self.cors_allows(origin):
            return {}
        assert origin is not None
        wildcard = "*" in self.cors_origins and not self.cors_credentials
        out = {"Access-Control-Allow-Origin": "*" if wildcard else origin}
        if not wildcard:
            out["Vary"] = "Origin"
        if self.cors_credentials:
            out["Access-Control-Allow-Credentials"] = "true"
        return out

    def preflight(self, method: str, headers: Mapping[str, str]) -> dict[str, str] | None:
        """The headers of a 204 answer to a CORS preflight from an allowed origin; None when it is not one."""
        asked = headers.get("Access-Control-Request-Method")
        if method.upper() != "OPTIONS" or asked is None or not self.cors_allows(headers.get("Origin")):
            return None
        out = self.cors_headers(headers)
        out["Access-Control-Allow-Methods"] = asked.upper()
        if headers.get("Access-Control-Request-Headers"):
            out["Access-Control-Allow-Headers"] = headers["Access-Control-Request-Headers"]
        out["Access-Control-Max-Age"] = "600"
        return out
