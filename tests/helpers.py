"""Helpers shared by tests (not fixtures)."""

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import uvicorn
import xmlschema
from fastapi import FastAPI

from marine_watch.app import create_app, server_options
from marine_watch.clock import Clock
from marine_watch.services import Services
from marine_watch.settings import Settings
from tests.services import scaled

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from marine_watch.hub import Hub
    from marine_watch.risk.pipeline import Pipeline

#: Reference data of the repository (reference/README.md: source, licence, units, traps per file).
REFERENCE = Path(__file__).resolve().parents[1] / "reference"
CAP_XSD = REFERENCE / "cap" / "CAP-v1.2.xsd"


T = TypeVar("T")

#: A JSON object from an HTTP or websocket answer: tests index it freely and assert on what they find.
JsonObject = dict[str, Any]


def json_of(response: httpx.Response) -> JsonObject:
    """The JSON object an HTTP answer carries."""
    body = response.json()
    assert isinstance(body, dict), body
    return body


def present(value: T | None) -> T:
    """``value``, which the test needs to be there (an XML element or text, an optional field)."""
    assert value is not None
    return value


def obj(value: object) -> JsonObject:
    """A JSON object, or a mapping nested in an explanation, narrowed so a test can index it."""
    assert isinstance(value, dict), value
    return value


def seq(value: object) -> list[Any]:
    """A JSON array, or a list or tuple nested in an explanation, narrowed for iterating."""
    assert isinstance(value, list | tuple), value
    return list(value)


def num(value: object) -> float:
    """A number from a JSON answer or an explanation, narrowed for arithmetic and comparisons."""
    assert isinstance(value, int | float), value
    assert not isinstance(value, bool), value
    return float(value)


def cap_schema() -> xmlschema.XMLSchema:
    """The official OASIS CAP 1.2 schema (reference/README.md)."""
    return xmlschema.XMLSchema(str(CAP_XSD))


ROOT = REFERENCE.parent
CONFIG = ROOT / "config"
#: A citation in a ``source``: a document of the repository, then the sections it names.
CITATION = re.compile(r"(?P<doc>docs/[\w./-]+\.md)|§(?P<section>\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", re.MULTILINE)


def sections(doc: Path) -> set[str]:
    """The numbered section headings of a Markdown document ("1", "1.3", ...)."""
    return set(HEADING.findall(doc.read_text(encoding="utf-8")))


def unresolved(source: str) -> list[str]:
    """What in a ``source`` does not resolve to a section heading of a document in the repository.

    A source must cite at least one ``docs/<file>.md §N[.M]``; each ``§`` belongs to the document
    named last before it.
    """
    problems: list[str] = []
    doc: str | None = None
    cited = 0
    for m in CITATION.finditer(source):
        if m.group("doc"):
            doc = m.group("doc")
            if not (ROOT / doc).is_file():
                problems.append(f"{source!r}: no file {doc}")
        elif doc is not None and (ROOT / doc).is_file():
            cited += 1
            if m.group("section") not in sections(ROOT / doc):
                problems.append(f"{source!r}: {doc} has no section §{m.group('section')}")
    if not cited:
        problems.append(f"{source!r}: cites no docs/<file>.md §section")
    return problems


def sources_in(value: object) -> Iterator[str]:
    """Every string under a ``source`` key, at any depth of a JSON-like value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "source" and isinstance(item, str):
                yield item
            else:
                yield from sources_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from sources_in(item)


def readme_commands(section: str | None = None) -> list[str]:
    """The commands (``$ `` lines of console blocks) of README.md, in order; only those under the
    first heading containing ``section`` (down to the next heading of its level or above) if given."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    if section is not None:
        start = next(i for i, line in enumerate(lines) if line.startswith("#") and section in line)
        level = len(lines[start]) - len(lines[start].lstrip("#"))
        end = next(
            (
                i
                for i in range(start + 1, len(lines))
                if lines[i].startswith("#") and len(lines[i]) - len(lines[i].lstrip("#")) <= level
            ),
            len(lines),
        )
        lines = lines[start:end]
    commands, console = [], False
    for line in lines:
        if line.startswith("```"):
            console = line.strip() == "```console" and not console
            continue
        if console and line.startswith("$ "):
            commands.append(line[2:].strip())
    return commands


# ---- the real app, served in the test's loop ------------------------------------------------


@dataclass
class Running:
    """A served app: its base URLs and its services."""

    http: str
    ws: str
    services: Services
    crashes: list[BaseException]
    app: FastAPI


@asynccontextmanager
async def serve(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Running]:
    """Run uvicorn on a port-0 socket in this loop; a worker crash fails the test."""
    crashes: list[BaseException] = []
    app = create_app(settings, clock=clock, on_fatal=crashes.append)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", **server_options(settings)))
    task = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
    try:
        async with asyncio.timeout(scaled(20)):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await asyncio.sleep(0.02)
        services: Services = app.state.services
        connected = (  # an API node follows the broker, ingests nothing
            services.mirrored.mirror.connected
            if services.mirrored is not None
            else services.ingest.connected
        )
        async with asyncio.timeout(scaled(20)):
            await connected.wait()
        yield Running(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", services, crashes, app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, scaled(30))
        sock.close()
    assert not crashes, f"a worker crashed: {crashes!r}"


# ---- the pipeline alone, without a broker or a server ----------------------------------------


@dataclass
class SetClock:
    """The service clock at a time the test sets (``now_s``)."""

    now_s: float

    def now(self) -> float:
        return self.now_s


def build_pipeline(clock: Clock) -> tuple["Pipeline", "Hub", "ThreadPoolExecutor"]:
    """A pipeline over the repository's sample coast (config/), with its hub and its numerics
    executor (the caller shuts the executor down)."""
    from concurrent.futures import ThreadPoolExecutor

    from marine_watch.coast import load_catalogue, load_constants
    from marine_watch.hub import Hub
    from marine_watch.metrics import Metrics
    from marine_watch.risk.pipeline import Pipeline

    catalogue = load_catalogue(ROOT / "config")
    constants = load_constants(Settings(config_dir=ROOT / "config"), catalogue)
    hub = Hub(capacity=256, stall_s=30.0)
    numerics = ThreadPoolExecutor(max_workers=1, thread_name_prefix="numerics")
    pipeline = Pipeline(catalogue, constants, hub, Metrics(), clock, numerics)
    return pipeline, hub, numerics
