"""Flags from the declarations in :mod:`wiretrace.config`: each declared once, with its
variable and default, and turned back into typed settings the same way for every command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, TypeVar

from wiretrace.config import (
    INDEX_OPTIONS,
    NAMESPACE_OPTIONS,
    SERVER_OPTIONS,
    STORAGE_OPTIONS,
    Option,
    ServerSettings,
    StorageSettings,
    field_default,
    resolve,
)
from wiretrace.core.settings import IndexSettings

T = TypeVar("T")
DEFAULT_SERVER = "127.0.0.1:50051"


def _add(group: Any, options: Sequence[Option], cls: type) -> None:
    for option in options:
        default = field_default(cls, option)
        help_text = f"{option.help} (WIRETRACE_{option.env}; default {default})"
        if option.kind is bool:
            group.add_argument(
                option.flag, dest=option.field, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            group.add_argument(
                option.flag,
                dest=option.field,
                type=option.kind,
                default=None,
                choices=option.choices or None,
                help=help_text,
            )


def add_storage_flags(parser: argparse.ArgumentParser) -> None:
    _add(parser.add_argument_group("storage"), STORAGE_OPTIONS, StorageSettings)


def add_namespace_flag(parser: argparse.ArgumentParser) -> None:
    _add(parser, NAMESPACE_OPTIONS, StorageSettings)


def add_index_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("index parameters (a store remembers its own; changing them needs a reindex)")
    _add(group, INDEX_OPTIONS, IndexSettings)


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    _add(parser.add_argument_group("server"), SERVER_OPTIONS, ServerSettings)


def _given(args: argparse.Namespace, options: Sequence[Option]) -> dict[str, Any]:
    return {option.field: getattr(args, option.field, None) for option in options}


def storage_settings(args: argparse.Namespace) -> StorageSettings:
    """The storage of the command; its namespace only for a command that has ``--namespace``
    (``serve`` has none: it serves every namespace, and WIRETRACE_NAMESPACE is the clients')."""
    options = (*STORAGE_OPTIONS, *NAMESPACE_OPTIONS) if "namespace" in vars(args) else STORAGE_OPTIONS
    return resolve(StorageSettings, options, _given(args, options))[0]


def namespace(args: argparse.Namespace) -> str:
    """The namespace a client command calls in: ``--namespace``, else WIRETRACE_NAMESPACE, else default."""
    return resolve(StorageSettings, NAMESPACE_OPTIONS, _given(args, NAMESPACE_OPTIONS))[0].namespace


def index_settings(args: argparse.Namespace) -> tuple[IndexSettings, frozenset[str]]:
    """The index settings and which of them were set on purpose (flag or variable)."""
    return resolve(IndexSettings, INDEX_OPTIONS, _given(args, INDEX_OPTIONS))


def server_settings(args: argparse.Namespace) -> tuple[ServerSettings, frozenset[str]]:
    index, explicit = index_settings(args)
    settings, _ = resolve(
        ServerSettings, SERVER_OPTIONS, _given(args, SERVER_OPTIONS), storage=storage_settings(args), index=index
    )
    return settings, explicit
