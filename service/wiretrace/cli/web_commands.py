"""``wiretrace web``: the read-only HTML view, a client of a running server."""

from __future__ import annotations

import argparse
from typing import Any

from wiretrace.cli.client_commands import add_client_flags
from wiretrace.cli.options import namespace
from wiretrace.config import field_default, resolve
from wiretrace.web.settings import WEB_OPTIONS, WebSettings


def cmd_web(args: argparse.Namespace) -> int:
    from wiretrace.web.app import serve

    given = {option.field: getattr(args, option.field, None) for option in WEB_OPTIONS}
    settings, _ = resolve(
        WebSettings, WEB_OPTIONS, given, server=args.server, timeout=args.timeout, namespace=namespace(args)
    )
    return serve(settings)


def register(commands: Any) -> None:
    web: argparse.ArgumentParser = commands.add_parser(
        "web", help="a read-only web view: articles, their matches side by side, lineage (HTML over HTTP)"
    )
    add_client_flags(web)
    group = web.add_argument_group("web view")
    for option in WEB_OPTIONS:
        default = field_default(WebSettings, option)
        group.add_argument(
            option.flag,
            dest=option.field,
            type=option.kind,
            default=None,
            help=f"{option.help} (WIRETRACE_{option.env}; default {default})",
        )
    web.set_defaults(handler=cmd_web)
