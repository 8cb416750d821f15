"""Redis keys spread over hash-tagged shards, and the Lua scripts that work on many shards at once.

LSH buckets and passage-wording counts are keyed by a 64-bit value and spread over
:data:`SHARDS` shards; the keys of one shard share the hash tag ``{P:s<n>}`` and so one slot
of Redis Cluster. A script call gets *parts*, each the arguments of one shard's work (a key
prefix of that shard and what to do there), so the same script serves one shard or many.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SHARDS = 1024

# ARGV[1]: "ZADD" or "ZREM"; then pairs: a shard's bucket name prefix and its "member seq\nkey key ...\n"
# lines (ZADD, the ingest sequence as score) or "member\nkey key ...\n" lines (ZREM).
BUCKET_SCRIPT = """
local command = ARGV[1]
local count = 0
for part = 2, #ARGV, 2 do
    local prefix = ARGV[part]
    for head, keys in string.gmatch(ARGV[part + 1], "([^\\n]+)\\n([^\\n]*)\\n") do
        local member, score = string.match(head, "^(%S+) ?(%S*)$")
        for key in string.gmatch(keys, "%S+") do
            if command == "ZADD" then
                redis.call("ZADD", prefix .. key, score, member)
            else
                redis.call("ZREM", prefix .. key, member)
            end
            count = count + 1
        end
    end
end
return count
"""

# The stories that carry each passage wording: <prefix>a:<fp> is a hash article -> the story it is
# counted in, <prefix>s:<fp> a hash story -> how many of those articles it holds (HLEN: the
# stories). ARGV[1]: "ADD" or "REMOVE"; then pairs: a shard's prefix and its
# "article story\nfp fp ...\n" lines (ADD) or "article\nfp fp ...\n" lines (REMOVE). An article
# counts once per wording however often the same write is replayed, and its removal takes off
# exactly what it added.
STORY_SCRIPT = """
local command = ARGV[1]
for part = 2, #ARGV, 2 do
    local prefix = ARGV[part]
    for head, fingerprints in string.gmatch(ARGV[part + 1], "([^\\n]+)\\n([^\\n]*)\\n") do
        local article, story = string.match(head, "^(%S+) ?(.*)$")
        for fingerprint in string.gmatch(fingerprints, "%S+") do
            local articles, stories = prefix .. "a:" .. fingerprint, prefix .. "s:" .. fingerprint
            if command == "ADD" then
                if redis.call("HSETNX", articles, article, story) == 1 then
                    redis.call("HINCRBY", stories, story, 1)
                end
            else
                local counted = redis.call("HGET", articles, article)
                if counted then
                    redis.call("HDEL", articles, article)
                    if redis.call("HINCRBY", stories, counted, -1) <= 0 then
                        redis.call("HDEL", stories, counted)
                    end
                end
            end
        end
    end
end
return 0
"""

# Buckets read in triples from ARGV[2]: a name prefix, its space-separated keys and how many of
# the earliest owners of each bucket to read. Returns the ARGV[1] articles they hold most often
# (ties to the earliest read) as a flat list "id, count, id, count, ...".
COUNT_SCRIPT = """
local counts, seen = {}, {}
for part = 2, #ARGV, 3 do
    local prefix, read = ARGV[part], tonumber(ARGV[part + 2]) - 1
    for key in string.gmatch(ARGV[part + 1], "%S+") do
        for _, member in ipairs(redis.call("ZRANGE", prefix .. key, 0, read)) do
            local count = counts[member]
            if count == nil then
                seen[#seen + 1] = member
                counts[member] = 1
            else
                counts[member] = count + 1
            end
        end
    end
end
local order = {}
for position, member in ipairs(seen) do order[member] = position end
table.sort(seen, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return order[a] < order[b]
end)
local found = {}
for position = 1, math.min(#seen, tonumber(ARGV[1])) do
    found[#found + 1] = seen[position]
    found[#found + 1] = counts[seen[position]]
end
return found
"""

Part = tuple[int, list[str]]


class Shards:
    """Shard names under one prefix, and script calls over shards' parts."""

    def __init__(self, prefix: str, *, cluster: bool) -> None:
        self.prefix = prefix
        self.cluster = cluster

    def prefix_of(self, kind: str, shard: int) -> str:
        """The start of the names of one kind of key in a shard, e.g. ``P:bd:{P:s12}:``."""
        return f"{self.prefix}:{kind}:{{{self.prefix}:s{shard}}}:"

    def _routing_key(self, shard: int) -> str:
        """A key name in the shard's slot, declared so that a cluster client sends the call there."""
        return f"{self.prefix}:{{{self.prefix}:s{shard}}}"

    def run(self, client: Any, script: str, head: Sequence[str], parts: Sequence[Part], *, together: bool) -> list[Any]:
        """The script's results, called with ``head`` and the arguments of parts: one call a part,
        or (``together``, one node only) one call for all of them. Calls are pipelined (on a
        cluster, one round trip per node)."""
        if not parts:
            return []
        pipe = client.pipeline(transaction=False)
        if together and not self.cluster:
            pipe.execute_command("EVAL", script, 0, *head, *(a for _, args in parts for a in args))
        else:
            for shard, args in parts:
                pipe.execute_command("EVAL", script, 1, self._routing_key(shard), *head, *args)
        return list(pipe.execute())
