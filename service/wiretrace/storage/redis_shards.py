"""Redis keys spread over hash-tagged shards, and the Lua scripts that work on many shards at once.

LSH buckets and passage-wording counts are keyed by a 64-bit value and spread over
:data:`SHARDS` shards; the keys of one shard share the hash tag ``{P:s<n>}`` and so one slot
of Redis Cluster. A script call gets *parts*, each the arguments of one shard's work (a key
prefix of that shard and what to do there), so the same script serves one shard or many.

On Redis Cluster the parts are grouped by the node that serves their shard's slot and each
node gets one call: the script declares ``allow-cross-slot-keys`` (Redis 7), which lets it
touch keys of several slots, all of them on that node. The slot map is the client's; after a
reshard a node refuses keys it no longer serves ("non local key", nothing skipped: the scripts
are idempotent), and those parts go again one call each, routed by their own slot, which
redis-py follows through MOVED and ASK and which refreshes its map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.exceptions

SHARDS = 1024
# Shards' parts one write call takes on a single node: a batch of 256 articles touches about
# 3,000 shard parts, so about 50 calls, none holding the server for long.
PARTS_PER_CALL = 64
# How a node answers a script call for keys of slots it does not serve (any more).
_NOT_LOCAL = "Script attempted to access a non local key"


@dataclass(frozen=True, slots=True)
class Script:
    """A Lua script body, and the Redis 7 flags of its call over several slots of one node."""

    body: str
    flags: str = "allow-cross-slot-keys"

    @property
    def cross_slot(self) -> str:
        """The body with its flags: what one node runs for shards of several of its slots (one
        shard's call is the body alone, as Redis before 7 runs it)."""
        return f"#!lua flags={self.flags}\n{self.body}"


# ARGV[1]: "ZADD" or "ZREM"; then pairs: a shard's bucket name prefix and its "member seq\nkey key ...\n"
# lines (ZADD, the ingest sequence as score) or "member\nkey key ...\n" lines (ZREM).
BUCKET_SCRIPT = Script("""
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
""")

# The stories that carry each passage wording: <prefix>a:<fp> is a hash article -> the story it is
# counted in, <prefix>s:<fp> a hash story -> how many of those articles it holds (HLEN: the
# stories). ARGV[1]: "ADD" or "REMOVE"; then pairs: a shard's prefix and its
# "article story\nfp fp ...\n" lines (ADD) or "article\nfp fp ...\n" lines (REMOVE). An article
# counts once per wording however often the same write is replayed, and its removal takes off
# exactly what it added.
STORY_SCRIPT = Script("""
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
""")

# Document (ARGV[4]) and passage buckets (ARGV[5]), space-separated names, reading the earliest
# ARGV[2] / ARGV[3] owners of each: the ARGV[1] articles they hold most often (ties to the
# earliest read), as a flat list "id, count, id, count, ...".
COUNT_SCRIPT = Script(
    """
local counts, seen = {}, {}
for i = 1, 2 do
    local read = tonumber(ARGV[i + 1]) - 1
    for name in string.gmatch(ARGV[i + 3], "%S+") do
        for _, member in ipairs(redis.call("ZRANGE", name, 0, read)) do
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
""",
    # Reads only: it runs when the node takes no writes (out of memory, say).
    flags="no-writes,allow-cross-slot-keys",
)

# One shard's work: the shard, and its arguments.
Part = tuple[int, list[str]]
# The arguments of one call from those of the parts it does.
Join = Callable[[Sequence[list[str]]], list[str]]


def concatenated(arguments: Sequence[list[str]]) -> list[str]:
    return [a for own in arguments for a in own]


def joined_by_position(arguments: Sequence[list[str]]) -> list[str]:
    """Each argument position's texts joined by spaces (space-separated names from every part)."""
    return [" ".join(filter(None, texts)) for texts in zip(*arguments, strict=True)]


class Shards:
    """Shard names under one prefix, and script calls over shards' parts."""

    def __init__(self, prefix: str, *, cluster: bool) -> None:
        self.prefix = prefix
        self.cluster = cluster
        self._slots: dict[int, int] = {}  # shard -> hash slot

    def prefix_of(self, kind: str, shard: int) -> str:
        """The start of the names of one kind of key in a shard, e.g. ``P:bd:{P:s12}:``."""
        return f"{self.prefix}:{kind}:{{{self.prefix}:s{shard}}}:"

    def _routing_key(self, shard: int) -> str:
        """A key name in the shard's slot, declared so that a cluster client sends the call there."""
        return f"{self.prefix}:{{{self.prefix}:s{shard}}}"

    def _slot(self, client: Any, shard: int) -> int:
        slot = self._slots.get(shard)
        if slot is None:
            slot = self._slots[shard] = int(client.keyslot(self._routing_key(shard)))
        return slot

    def run(
        self,
        client: Any,
        script: Script,
        head: Sequence[str],
        parts: Sequence[Part],
        *,
        together: bool,
        join: Join = concatenated,
    ) -> list[Any]:
        """The script's results, called with ``head`` and the arguments of parts (``join`` makes
        one call's from its parts'): on a cluster one call per node; on one node one call per
        :data:`PARTS_PER_CALL` parts (a write holds the server for a bounded time), or
        (``together``) one for all of them. Calls are pipelined (on a cluster, one round trip)."""
        if not parts:
            return []
        if self.cluster:
            return self._run_per_node(client, script, head, parts, join)
        step = len(parts) if together else PARTS_PER_CALL
        pipe = client.pipeline(transaction=False)
        for start in range(0, len(parts), step):
            arguments = join([args for _, args in parts[start : start + step]])
            pipe.execute_command("EVAL", script.body, 0, *head, *arguments)
        return list(pipe.execute())

    def _run_per_node(
        self, client: Any, script: Script, head: Sequence[str], parts: Sequence[Part], join: Join
    ) -> list[Any]:
        by_node: dict[str, tuple[Any, list[Part]]] = {}
        for part in parts:
            node = client.nodes_manager.get_node_from_slot(self._slot(client, part[0]))
            by_node.setdefault(node.name, (node, []))[1].append(part)
        pipe = client.pipeline(transaction=False)
        for node, own in by_node.values():
            arguments = join([args for _, args in own])
            pipe.execute_command("EVAL", script.cross_slot, 0, *head, *arguments, target_nodes=node)
        results = []
        moved: list[Part] = []
        for (_, own), result in zip(by_node.values(), pipe.execute(raise_on_error=False), strict=True):
            if isinstance(result, redis.exceptions.ResponseError) and str(result).startswith(_NOT_LOCAL):
                moved.extend(own)
            elif isinstance(result, Exception):
                raise result
            else:
                results.append(result)
        if moved:  # resharded since the client read its slot map
            client.nodes_manager.initialize()
            pipe = client.pipeline(transaction=False)
            for shard, args in moved:
                pipe.execute_command("EVAL", script.body, 1, self._routing_key(shard), *head, *join([args]))
            results.extend(pipe.execute())
        return results
