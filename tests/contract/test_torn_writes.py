"""Issue 12 item 5: a writer killed half way through a Redis batch leaves nothing half-indexed.

A child process ingests a batch and is killed (os._exit, nothing cleaned up) at the start of one
part of the write; the next process on the same prefix must find every article of that batch
whole, or none of it, and ``check`` must find nothing wrong. Real redis-server, real processes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import uuid

import pytest
from processes import ROOT, cli_env
from wiretrace.core.engine import Wiretrace
from wiretrace.core.maintenance import check_consistency
from wiretrace.core.model import ClusterKind
from wiretrace.storage.redis import RedisStorage

from seeds import seed_drafts

CHILD = textwrap.dedent(
    """
    import os, sys
    from wiretrace.core.engine import IngestRequest, Wiretrace
    from wiretrace.storage.redis import RedisStorage
    sys.path.insert(0, "tests")
    from seeds import seed_drafts

    url, prefix, cluster, part = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
    engine = Wiretrace(RedisStorage(url, cluster=cluster, prefix=prefix))
    drafts = seed_drafts()
    engine.ingest_batch([IngestRequest(d) for d in drafts[:3]])

    def die(*args, **kwargs):
        os._exit(9)

    setattr(RedisStorage, part, die)
    engine.ingest_batch([IngestRequest(d) for d in drafts[3:]])
    os._exit(0)  # not reached: the write dies first
    """
)


@pytest.mark.parametrize("part", ["_write_stories", "_write_buckets", "_write_lineage"])
@pytest.mark.parametrize("mode", ["node", "cluster"])
def test_a_batch_killed_half_way_is_completed_by_the_next_writer(
    part: str, mode: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("redis_url" if mode == "node" else "redis_cluster_url")
    prefix = f"torn{uuid.uuid4().hex[:8]}"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url, prefix, "1" if mode == "cluster" else "0", part],
        env=cli_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 9, child.stderr
    started = time.monotonic()
    engine = Wiretrace(RedisStorage(url, cluster=mode == "cluster", prefix=prefix))  # recovers under the lock
    # The dead writer's lock is a lease that runs out in seconds (it used to block writes for 60 s).
    assert time.monotonic() - started < 30
    try:
        assert check_consistency(engine) == []
        drafts = seed_drafts()
        assert engine.stats().counts.articles == len(drafts)
        for draft in drafts:
            record = engine.storage.get_records([draft.article_id])[draft.article_id]
            found = engine.storage.candidates(record.document_keys, record.passage_keys, len(drafts))
            assert draft.article_id in found
        # The seeds quote one statement: 003 carries it with 000 and 001.
        (statement,) = [c for c in engine.clusters_of("003") if c.kind is ClusterKind.STATEMENT]
        assert {a.article_id for a in engine.cluster(statement.cluster_id).members} == {"000", "001", "003"}
    finally:
        engine.close()
