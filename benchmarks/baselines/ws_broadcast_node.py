"""A stand-in broadcast node for load-balancer benchmarks: the raw `websockets` broadcast, on any address.

    python benchmarks/baselines/ws_broadcast_node.py --host 10.214.0.2 --port 8000 --hz 1

Every websocket on any path gets the same ~200-byte JSON ``--hz`` times a second through
``websockets.asyncio.server.broadcast`` (the baseline of the fan-out benchmarks); the message starts
with ``{"ts":<epoch s>`` so ws_fanout.py clients measure send → receive latency. ``GET /health``
answers 200 for HAProxy's checks. Late ticks are skipped, not queued. Runs until SIGTERM.
"""

import argparse
import asyncio
import contextlib
import resource
import signal
import time

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request, Response


def message(seq: int, size: int) -> str:
    body = f'{{"ts":{time.time():.6f},"seq":{seq},"type":"risk_update","id":"bench","pad":"'
    return body + "x" * max(0, size - len(body) - 2) + '"}'


async def main(host: str, port: int, hz: float, size: int) -> None:
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    def health(conn: ServerConnection, request: Request) -> Response | None:
        if request.path == "/health":
            return conn.respond(200, "ok\n")
        return None

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with serve(
        handler, host, port, backlog=4096, compression=None, process_request=health, max_size=2**12
    ):
        period, seq, tick = 1.0 / hz, 0, loop.time()
        while not stop.is_set():
            tick += period
            if (delay := tick - loop.time()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
            else:
                tick = loop.time()  # late: skip missed ticks instead of bursting
            broadcast(clients, message(seq, size))
            seq += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--hz", type=float, default=1.0)
    parser.add_argument("--size", type=int, default=200, help="message bytes")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one fd per client
    asyncio.run(main(args.host, args.port, args.hz, args.size))
