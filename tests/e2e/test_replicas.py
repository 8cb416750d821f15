"""Two service processes on one Redis (node and cluster): each sees the other's ingests at once."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from processes import ServerProcess
from wiretrace_client import ArticleInput, Client

from seeds import seed_drafts


@pytest.mark.parametrize("mode", ["node", "cluster"])
def test_two_replicas_on_one_redis(mode: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = request.getfixturevalue("redis_url" if mode == "node" else "redis_cluster_url")
    flags = ["--storage", "redis", "--redis-url", url, "--redis-prefix", f"r{uuid.uuid4().hex[:8]}"]
    if mode == "cluster":
        flags.append("--redis-cluster")
    drafts = seed_drafts()
    with ServerProcess(tmp_path / "a", *flags) as first, ServerProcess(tmp_path / "b", *flags) as second:
        with Client(first.address) as one, Client(second.address) as two:
            for number, draft in enumerate(drafts):
                client = one if number % 2 == 0 else two
                client.create_article(
                    draft.article_id, draft.text, publish_time=draft.publish_time, source=draft.source
                )
            assert one.get_stats().articles == two.get_stats().articles == 5
            assert two.get_stats().storage == "redis"
            for article_id in ("000", "001", "003"):
                assert one.find_matches(article_id=article_id) == two.find_matches(article_id=article_id)
            assert one.clusters_of("003") == two.clusters_of("003")
            statement = one.clusters_of("003")[1]
            assert one.get_cluster(statement.cluster_id) == two.get_cluster(statement.cluster_id)
            assert {m.article_id for m in two.get_cluster(statement.cluster_id).members} == {"000", "001", "003"}
            items = list(two.ingest_many([ArticleInput("copy", drafts[3].text + "\nWith a new last line.")]))
            assert items[0].result is not None and items[0].result.matches[0].article_id == "003"
            assert one.get_article("copy").cluster_id == one.get_article("003").cluster_id
