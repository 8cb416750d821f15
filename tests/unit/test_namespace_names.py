"""Namespace names, where each namespace's store lives, how a call names it, and the token file."""

from __future__ import annotations

from pathlib import Path

import pytest
from wiretrace.api.interceptors import TokenGrant, read_tokens
from wiretrace.api.namespaces import call_namespace, relative_name
from wiretrace.config import StorageSettings
from wiretrace.core.errors import InvalidArgument, InvalidNamespace
from wiretrace.core.namespace import validate_namespace


@pytest.mark.parametrize("name", ["default", "a", "newsroom-a", "n1", "a" * 63])
def test_valid_names(name: str) -> None:
    assert validate_namespace(name) == name


@pytest.mark.parametrize("name", ["", "A", "news_room", "-a", "a-", "a" * 64, "a/b", "a.b", "ä"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidNamespace, match="lowercase letters, digits and hyphens"):
        validate_namespace(name)


def test_the_default_namespace_is_the_store_as_it_was() -> None:
    sqlite = StorageSettings(data_dir=Path("/srv/data"))
    assert sqlite.namespace_dir == Path("/srv/data")
    assert StorageSettings(data_dir=Path("/srv/data"), namespace="n1").namespace_dir == Path("/srv/data/namespaces/n1")
    redis = StorageSettings(backend="redis", redis_prefix="wt")
    assert redis.namespace_prefix == "wt"
    assert StorageSettings(backend="redis", redis_prefix="wt", namespace="n1").namespace_prefix == "wt:ns:n1"
    with pytest.raises(InvalidNamespace):
        StorageSettings(namespace="../etc")


def test_a_call_names_its_namespace_in_a_header() -> None:
    assert call_namespace(None) == "default"
    assert call_namespace([("authorization", "Bearer x")]) == "default"
    assert call_namespace([("x-wiretrace-namespace", "n1")]) == "n1"
    with pytest.raises(InvalidNamespace):
        call_namespace([("x-wiretrace-namespace", "N1")])


def test_full_names_are_relative_to_the_call() -> None:
    assert relative_name("articles/x", "n1") == "articles/x"
    assert relative_name("namespaces/n1/articles/x", "n1") == "articles/x"
    assert relative_name("namespaces/default/clusters/c", "default") == "clusters/c"
    with pytest.raises(InvalidArgument, match="x-wiretrace-namespace: n2"):
        relative_name("namespaces/n2/articles/x", "n1")


def test_token_file_binds_tokens_to_namespaces(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# comment\n\nall-of-them\n  bound  a b \n")
    assert read_tokens(path) == [TokenGrant(b"all-of-them"), TokenGrant(b"bound", frozenset({"a", "b"}))]
    assert read_tokens(path)[1].permits("a") and not read_tokens(path)[1].permits("default")
    path.write_text("tok Bad_Name\n")
    with pytest.raises(ValueError, match="line 1"):
        read_tokens(path)


def test_commands_take_their_namespace_from_the_flag_or_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from wiretrace.cli import build_parser
    from wiretrace.cli.options import namespace, server_settings, storage_settings

    parser = build_parser()
    assert namespace(parser.parse_args(["stats"])) == "default"
    monkeypatch.setenv("WIRETRACE_NAMESPACE", "from-env")
    assert namespace(parser.parse_args(["stats"])) == "from-env"
    assert namespace(parser.parse_args(["web", "--namespace", "flag"])) == "flag"
    assert storage_settings(parser.parse_args(["export", "--data", "/d"])).namespace_dir == Path(
        "/d/namespaces/from-env"
    )
    # The server serves every namespace: the clients' variable does not move its default one.
    assert server_settings(parser.parse_args(["serve", "--data", "/d"]))[0].storage.namespace_dir == Path("/d")
