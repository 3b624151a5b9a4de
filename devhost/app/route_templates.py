"""Route templates of httpTrigger functions ("orchestrators/{functionName}", "{id:int?}", "{*rest}") as regexes."""
from __future__ import annotations

import re
from dataclasses import dataclass

_PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)((?::[A-Za-z]+(?:\([^)]*\))?)*)(\?)?(?:=([^}]*))?\}")
_CONSTRAINTS = {"int": r"-?\d+", "long": r"-?\d+", "bool": r"(?i:true|false)", "guid": r"[0-9A-Fa-f\-{}]{32,38}",
                "alpha": r"[A-Za-z]+", "double": r"-?\d+(?:\.\d+)?", "float": r"-?\d+(?:\.\d+)?"}


@dataclass(frozen=True)
class RouteTemplate:
    """A compiled route template; match() returns the route parameters or None."""

    template: str
    regex: re.Pattern[str]
    defaults: tuple[tuple[str, str], ...]

    def match(self, path: str) -> dict[str, str] | None:
        m = self.regex.fullmatch(path.strip("/"))
        if m is None:
            return None
        params = dict(self.defaults)
        params.update({k: v for k, v in m.groupdict().items() if v is not None})
        return params


def compile_route(template: str) -> RouteTemplate:
    """Compile an ASP.NET-style route template (case-insensitive, as the host matches)."""
    parts: list[str] = []
    defaults: list[tuple[str, str]] = []
    segments = [s for s in template.strip("/").split("/") if s]
    for i, segment in enumerate(segments):
        pos, pattern = 0, ""
        optional_segment = False
        for m in _PARAM.finditer(segment):
            pattern += re.escape(segment[pos:m.start()])
            catch_all, name, constraints, optional, default = m.groups()
            kind = constraints.lstrip(":").split(":")[0].split("(")[0] if constraints else ""
            body = ".*" if catch_all else _CONSTRAINTS.get(kind.lower(), r"[^/]+")
            pattern += f"(?P<{name}>{body})"
            if default is not None:
                defaults.append((name, default))
            if optional or default is not None or catch_all:
                optional_segment = m.start() == 0 and m.end() == len(segment)
                if not optional_segment:
                    pattern = pattern[:-1] + "?"
            pos = m.end()
        pattern += re.escape(segment[pos:])
        sep = "/" if i else ""
        parts.append(f"(?:{sep}{pattern})?" if optional_segment else f"{sep}{pattern}")
    return RouteTemplate(template, re.compile("".join(parts), re.IGNORECASE), tuple(defaults))
