"""Partitioned ingest for brokers without shared subscriptions (NATS 2.9 MQTT, any MQTT 3.1.1 broker).

Each ingest node subscribes only to its own stations, ``{root}/{station}/#``, so several nodes split
the readings without ``$share``. ``MARINE_WATCH_INGEST_PARTITION`` chooses the node's part:

- ``k/n`` — hash partition: the stations whose CRC-32 of the id, modulo ``n``, is ``k - 1``. Every
  node of the tier uses the same ``n`` and its own ``k`` (1 ≤ k ≤ n); CRC-32 is the same on every
  machine and Python run, so each station belongs to exactly one ``k``.
- a name — a part of the explicit map ``config/ingest_partitions.toml``::

      [partitions]
      north = ["zhapu", "buoy-zhapu", "mast-zhapu"]
      south = ["dushan", ...]

At start-up the whole map is checked against ``config/stations.toml`` — a station in two parts,
in none, or unknown stops the node with the names — so no station is covered twice or never.
``marine-watch check-partitions [--nodes N]`` prints and checks the map for the whole tier.
"""

from __future__ import annotations

import re
import tomllib
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from marine_watch.errors import ConfigError

MAP_FILE = "ingest_partitions.toml"
MAX_PARTS = 256
_HASH = re.compile(r"^(\d+)/(\d+)$")
_SETTING = "env MARINE_WATCH_INGEST_PARTITION"


def part_of(station: str, parts: int) -> int:
    """The 1-based hash part of ``station`` among ``parts`` (stable across machines and runs)."""
    return zlib.crc32(station.encode("utf-8")) % parts + 1


def hash_map(stations: Iterable[str], parts: int) -> dict[str, tuple[str, ...]]:
    """``{"1/n": (...), ..., "n/n": (...)}``: every station in exactly one part."""
    out: dict[str, list[str]] = {f"{k}/{parts}": [] for k in range(1, parts + 1)}
    for station in stations:
        out[f"{part_of(station, parts)}/{parts}"].append(station)
    return {name: tuple(members) for name, members in out.items()}


def parse_hash(spec: str) -> tuple[int, int] | None:
    """``(k, n)`` of a ``k/n`` spec, None for a map name; ConfigError for a bad ``k/n``."""
    match = _HASH.match(spec)
    if match is None:
        return None
    k, n = int(match.group(1)), int(match.group(2))
    if not 1 <= k <= n <= MAX_PARTS:
        raise ConfigError(
            _SETTING,
            "ingest_partition",
            f"{spec!r}: need 1 <= k <= n <= {MAX_PARTS}",
        )
    return k, n


def load_map(config_dir: Path) -> dict[str, tuple[str, ...]]:
    """The explicit partition map of ``config/ingest_partitions.toml``."""
    path = config_dir / MAP_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "partitions", "no such file: write the partition map") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, "partitions", str(exc)) from None
    table = raw.get("partitions")
    if not isinstance(table, dict) or not table:
        raise ConfigError(path, "partitions", "a [partitions] table of name = [station ids]")
    out = {}
    for name, members in table.items():
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ConfigError(path, f"partitions.{name}", "must be a list of station ids")
        out[name] = tuple(members)
    return out


def problems(parts: dict[str, tuple[str, ...]], stations: Sequence[str]) -> list[str]:
    """Everything wrong with a partition map: unknown, doubly covered or uncovered stations."""
    known = set(stations)
    seen: dict[str, str] = {}
    found = []
    for name, members in parts.items():
        for station in members:
            if station not in known:
                found.append(f"{name}: unknown station {station!r}")
            elif station in seen:
                found.append(f"{station!r} is in both {seen[station]!r} and {name!r}")
            else:
                seen[station] = name
    missing = [s for s in stations if s not in seen]
    if missing:
        found.append(f"in no partition: {', '.join(missing)}")
    return found


def stations_of(spec: str, config_dir: Path, stations: Sequence[str]) -> tuple[str, ...]:
    """The stations of this node's part; the whole map is checked first (ConfigError)."""
    parsed = parse_hash(spec)
    if parsed is not None:
        k, n = parsed
        mine = hash_map(stations, n)[f"{k}/{n}"]
        if not mine:
            raise ConfigError(
                _SETTING,
                "ingest_partition",
                f"{spec}: no station hashes to this part (see marine-watch check-partitions --nodes {n})",
            )
        return mine
    parts = load_map(config_dir)
    found = problems(parts, stations)
    if found:
        raise ConfigError(config_dir / MAP_FILE, "partitions", "; ".join(found))
    if spec not in parts:
        raise ConfigError(
            _SETTING,
            "ingest_partition",
            f"{spec!r} is neither k/n nor a part of {MAP_FILE} ({', '.join(parts)})",
        )
    return parts[spec]


def topic_filters(root: str, stations: Iterable[str]) -> list[str]:
    """The MQTT topic filters of a partition: ``{root}/{station}/#`` per station."""
    base = root.rstrip("/")
    return [f"{base}/{station}/#" for station in stations]
