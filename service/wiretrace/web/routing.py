"""Requests, responses and a small router: a path pattern and its methods to a view."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    # First value of each query parameter, and of each form field of a POST body.
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)

    def param(self, name: str, default: str = "") -> str:
        """A form field, else a query parameter of that name."""
        return self.form.get(name, self.query.get(name, default))


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def redirect(cls, location: str) -> Response:
        """303 See Other: the browser follows with a GET."""
        return cls(303, "", {"Location": location})


View = Callable[..., Response]


class HttpError(Exception):
    """An answer other than a page, raised by routing or a view: ``status`` and one line for people."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    view: View


class Router:
    """Routes in the order added; ``{name}`` in a path matches one path segment, passed to the view
    (percent-decoded) as a keyword argument."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, methods: str, path: str, view: View) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
        self._routes.append(Route(frozenset(methods.split()), re.compile(regex), view))

    def dispatch(self, request: Request) -> Response:
        allowed: set[str] = set()
        for route in self._routes:
            found = route.pattern.fullmatch(request.path)
            if found is None:
                continue
            if request.method not in route.methods:
                allowed |= route.methods
                continue
            return route.view(request, **{k: unquote(v) for k, v in found.groupdict().items()})
        if allowed:
            raise HttpError(405, f"{request.method} is not allowed here (use {' or '.join(sorted(allowed))})")
        raise HttpError(404, f"No page at {request.path}.")
