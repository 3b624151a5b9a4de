"""Route templates of httpTrigger functions ("orchestrators/{functionName}", "{id:int:min(1)?}", "{*rest}") parsed as
ASP.NET Core's RoutePatternParser reads them and matched as its router does: the path by shape, then every inline
constraint against the route values (defaults included); a failed constraint is no match."""
from __future__ import annotations

import re
from dataclasses import dataclass

from devhost.app.route_constraints import Constraint, RouteTemplateError, resolve

__all__ = ["Parameter", "RouteTemplate", "RouteTemplateError", "compile_route"]


@dataclass(frozen=True)
class Parameter:
    """One {parameter} of a template: its name, kind, default and resolved constraints."""

    name: str
    catch_all: bool = False
    optional: bool = False
    default: str | None = None
    constraints: tuple[Constraint, ...] = ()

    def accepts(self, values: dict[str, str]) -> bool:
        """RouteConstraintMatcher for this parameter: an absent optional value passes (OptionalRouteConstraint);
        any other absent value fails every constraint, as each constraint's Match does."""
        if not self.constraints:
            return True
        value = values.get(self.name)
        if value is None:
            return self.optional
        return all(c(value) for c in self.constraints)


@dataclass(frozen=True)
class RouteTemplate:
    """A compiled route template; match() returns the route parameters or None."""

    template: str
    regex: re.Pattern[str]
    parameters: tuple[Parameter, ...] = ()

    @property
    def defaults(self) -> tuple[tuple[str, str], ...]:
        return tuple((p.name, p.default) for p in self.parameters if p.default is not None)

    def match(self, path: str) -> dict[str, str] | None:
        m = self.regex.fullmatch(path.strip("/"))
        if m is None:
            return None
        params = dict(self.defaults)
        for i, p in enumerate(self.parameters):
            if (value := m.group(f"p{i}")) is not None:
                params[p.name] = value
        return params if all(p.accepts(params) for p in self.parameters) else None


def _split(template: str) -> list[str]:
    """The template's segments: '/' separates them outside a {parameter} only."""
    segments, current, depth = [], "", 0
    for ch in template:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "/" and depth <= 0:
            segments.append(current)
            current, depth = "", 0
        else:
            current += ch
    segments.append(current)
    return [s for s in segments if s]


def _parts(segment: str) -> list[str | tuple[str]]:
    """A segment as literal texts and (parameter text,) tuples; '{{' and '}}' are literal braces, in a literal or
    inside a parameter (regex(^\\d{{3}}$))."""
    parts: list[str | tuple[str]] = []
    literal, i = "", 0
    while i < len(segment):
        ch = segment[i]
        if ch in "{}" and segment[i + 1:i + 2] == ch:
            literal, i = literal + ch, i + 2
        elif ch == "{":
            end = i + 1
            while end < len(segment) and not (segment[end] == "}" and segment[end + 1:end + 2] != "}"):
                end += 2 if segment[end] in "{}" else 1
            if end >= len(segment):
                raise RouteTemplateError(f"There is an incomplete parameter in the route template: '{segment}'.")
            if literal:
                parts.append(literal)
            parts.append((segment[i + 1:end].replace("}}", "}").replace("{{", "{"),))
            literal, i = "", end + 1
        elif ch == "}":
            raise RouteTemplateError(f"There is an incomplete parameter in the route template: '{segment}'.")
        else:
            literal, i = literal + ch, i + 1
    return parts + ([literal] if literal else [])


def _constraint_texts(text: str, start: int) -> tuple[list[str], int]:
    """RouteParameterParser.ParseConstraints: the constraint texts from `start` (at a ':' or '=') and where the
    default value's '=' is; a ')' ends an argument list only before ':', '=' or the end."""
    out: list[str] = []
    state, begin, i = "start", start, start
    while state != "end":
        ch = text[i] if i < len(text) else None
        if state == "start":
            if ch is None:
                state = "end"
            elif ch == ":":
                state, begin = "name", i + 1
            elif ch == "(":
                state = "paren"
            elif ch == "=":
                state, i = "end", i - 1
        elif state == "paren":
            if ch is None:
                state = "end"
                out.append(text[begin:i])
            elif ch == ")":
                nxt = text[i + 1] if i + 1 < len(text) else None
                if nxt in (None, ":", "="):
                    out.append(text[begin:i + 1])
                    state = "start" if nxt == ":" else "end"
                    begin = i + 1
            elif ch in ":=":
                close = text.find(")", i + 1)
                if close == -1:
                    out.append(text[begin:i])
                    state, begin = ("name", i + 1) if ch == ":" else ("end", begin)
                    i -= 1 if ch == "=" else 0
                else:
                    i = close
        elif state == "name":
            if ch is None or ch in ":=":
                if text[begin:i]:
                    out.append(text[begin:i])
                if ch is None:
                    state = "end"
                elif ch == ":":
                    begin = i + 1
                else:
                    state, i = "end", i - 1
            elif ch == "(":
                state = "paren"
        i += 1
    return out, i


def _parameter(text: str, route: str) -> Parameter:
    """RouteParameterParser.ParseRouteParameter: '*' or '**' catch-all, a trailing '?' optional, the name up to
    the first ':' or '=', the constraints, then '=default'."""
    catch_all = text.startswith("*")
    body = text.lstrip("*") if not text.startswith("**") else text[2:]
    optional = body.endswith("?")
    body = body[:-1] if optional else body
    cut = next((i for i, ch in enumerate(body) if ch in ":=" and i > 0), len(body))
    name = body[:cut]
    if not name:
        raise RouteTemplateError("The route parameter name '' is invalid. Route parameter names must be non-empty "
                                 "and cannot contain these characters: '{', '}', '/'. The '?' character marks a "
                                 "parameter as optional, and can occur only at the end of the parameter. The '*' "
                                 "character marks a parameter as catch-all, and can occur only at the start of the "
                                 "parameter.")
    texts, at = _constraint_texts(body, cut) if cut < len(body) else ([], cut)
    default = body[at + 1:] if at < len(body) and body[at] == "=" else None
    constraints = []
    for t in texts:
        if (constraint := resolve(t)) is None:  # RouteConstraintBuilder.AddResolvedConstraint's words
            raise RouteTemplateError(f"The constraint entry '{name}' - '{t}' on the route '{route}' could not be "
                                     "resolved by the constraint resolver of type 'DefaultInlineConstraintResolver'.")
        constraints.append(constraint)
    return Parameter(name, catch_all, optional, default, tuple(constraints))


def compile_route(template: str, display: str | None = None) -> RouteTemplate:
    """Compile an ASP.NET-style route template (case-insensitive, as the host matches); a RouteTemplateError
    where ASP.NET Core's router would refuse to build the route (an unknown constraint, wrong arguments), naming
    the route as `display` (the template under its prefix, as the host builds it)."""
    parts: list[str] = []
    parameters: list[Parameter] = []
    for i, segment in enumerate(_split(template.strip("/"))):
        pattern, optional_segment = "", False
        pieces = _parts(segment)
        for piece in pieces:
            if isinstance(piece, str):
                pattern += re.escape(piece)
                continue
            p = _parameter(piece[0], display or template)
            group = f"(?P<p{len(parameters)}>{'.*' if p.catch_all else '[^/]+'})"
            parameters.append(p)
            if p.optional or p.default is not None or p.catch_all:
                optional_segment = len(pieces) == 1
                if not optional_segment:
                    group += "?"
            pattern += group
        sep = "/" if i else ""
        parts.append(f"(?:{sep}{pattern})?" if optional_segment else f"{sep}{pattern}")
    return RouteTemplate(template, re.compile("".join(parts), re.IGNORECASE), tuple(parameters))
