"""Redis Cluster: one script call per node, and a reshard that the client has not seen yet.

The Redis adapter groups a call's shards by the node its slot map says serves them. Slots
moved by a real reshard (``redis-cli --cluster reshard``, keys migrated) make a node refuse
the keys it no longer holds; reads and writes must still come out whole, and ``check`` clean.
A cluster of its own: the session's is shared with the other tests.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.cluster
from redis_servers import redis_binary, start_cluster, stop
from wiretrace.core.engine import Wiretrace
from wiretrace.core.maintenance import check_consistency
from wiretrace.core.model import ArticleDraft
from wiretrace.storage.redis import RedisStorage

from seeds import seed_drafts, syndicated_copy


@pytest.fixture
def cluster_url(tmp_path: Path) -> Iterator[str]:
    url, processes = start_cluster(tmp_path / "cluster")
    yield url
    stop(processes)


def _address(url: str) -> str:
    return url.removeprefix("redis://").removesuffix("/0")


def _master_ids(url: str) -> list[str]:
    """The node id of each master."""
    client = redis.cluster.RedisCluster.from_url(url)
    try:
        return sorted(_text(client.cluster_myid(node)) for node in client.get_primaries())
    finally:
        client.close()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _reshard(url: str, source: str, target: str, slots: int) -> None:
    subprocess.run(
        [redis_binary("redis-cli"), "--cluster", "reshard", _address(url), "--cluster-from", source,
         "--cluster-to", target, "--cluster-slots", str(slots), "--cluster-yes"],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip


def _errors(url: str) -> int:
    """Error replies every node has sent so far."""
    client = redis.cluster.RedisCluster.from_url(url)
    try:
        stats = client.info("errorstats", target_nodes=redis.cluster.RedisCluster.ALL_NODES)
        return sum(int(found.get("count", 0)) for node in stats.values() for found in node.values())
    finally:
        client.close()


def test_scripts_per_node_survive_a_reshard(cluster_url: str) -> None:
    engine = Wiretrace(RedisStorage(cluster_url, cluster=True, prefix=f"re{uuid.uuid4().hex[:8]}"))
    try:
        drafts = seed_drafts()
        for draft in drafts:
            engine.ingest(draft)
        records = engine.storage.get_records(d.article_id for d in drafts)
        before = {i: engine.storage.candidates(r.document_keys, r.passage_keys, 10) for i, r in records.items()}
        first, second, _ = _master_ids(cluster_url)

        _reshard(cluster_url, first, second, 1500)  # the engine's client still has the old map
        refused = _errors(cluster_url)
        after = {i: engine.storage.candidates(r.document_keys, r.passage_keys, 10) for i, r in records.items()}
        assert after == before
        assert _errors(cluster_url) > refused  # a node refused the moved shards; they went again

        _reshard(cluster_url, second, first, 3000)
        engine.delete("003")  # buckets and story counts removed through the stale map
        copy = syndicated_copy(1, drafts[3].text)
        engine.ingest(ArticleDraft("003-copy", copy, source="Elsewhere"))
        assert check_consistency(engine) == []
        assert engine.find_matches(text=copy).matches
    finally:
        engine.close()
