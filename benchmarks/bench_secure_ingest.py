"""Ingest throughput on the secured broker (accounts + ACL, then + TLS) next to plaintext anonymous.

The same backlog as bench_ingest, queued by ``mosquitto_pub -l`` (C) for the service's persistent
session, is drained by the whole service into a private InfluxDB, three ways in one run:

* plain: an anonymous Mosquitto, the service on ``mqtt://`` (the scheme before broker accounts);
* accounts: `marine-watch mqtt-accounts` output — the service with its account on its own
  listener, the ACL checked for every message, the backlog published by a station account;
* accounts + TLS: the same with the service listener on TLS (a CA and certificate made for the
  run), the service on ``mqtts://`` verifying the broker.

Cases alternate (plain, accounts, TLS, TLS, accounts, plain) and each keeps its best run.
"""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from benchmarks.bench_ingest import LIMITS, payload_lines, service
from marine_watch.cli.main import main as cli
from marine_watch.ingest.subscriber import subscription
from marine_watch.mqtt.accounts import load_accounts
from marine_watch.mqtt.session import make_client
from marine_watch.settings import Settings
from tests.security.certs import make_pki
from tests.services import (
    HOST,
    Broker,
    Influx,
    find_binary,
    free_port,
    start_influxd,
    start_mosquitto,
)

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
ROOT = "marine/v1"  # the generated ACL is written for the configured root
SHAPES = (("100 readings per message", 100, 8_000), ("1 reading per message", 1, 10_000))
SCHEMES = ("plain, anonymous", "accounts + ACL", "accounts + ACL + TLS")


class Setup:
    """One broker scheme: the broker, how the service reaches it, how the backlog is published."""

    def __init__(self, scheme: str, tmp: Path) -> None:
        self.scheme = scheme
        folder = tmp / scheme.replace(" ", "").replace(",", "-").replace("+", "_")
        if scheme == SCHEMES[0]:
            self.broker = start_mosquitto(folder, extra_conf=LIMITS)
            self.service: dict[str, object] = {"mqtt_url": self.broker.url}
            self.publisher = ["-p", str(self.broker.port)]
            return
        tls = scheme == SCHEMES[2]
        port, service_port = free_port(), free_port()
        args = ["--out", str(folder), "--port", str(port), "--service-port", str(service_port)]
        args += ["--bind", HOST] + (["--broker-user", "root"] if os.geteuid() == 0 else [])
        if tls:
            pki = make_pki(tmp / "pki")
            args += ["--tls-port", str(free_port()), "--cert", str(pki.cert), "--key", str(pki.key)]
            args += ["--service-tls"]
        os.environ["MARINE_WATCH_CONFIG_DIR"] = str(CONFIG_DIR)
        if cli(["mqtt-accounts", *args]) != 0:
            sys.exit("mqtt-accounts failed")
        exe = find_binary("mosquitto", "mosquitto")
        self.broker = Broker(HOST, port, folder / "mosquitto.conf", folder / "mosquitto.out", exe)
        self.broker.start()
        accounts = load_accounts(folder / "accounts.json")
        self.service = {
            "mqtt_url": f"{'mqtts' if tls else 'mqtt'}://{'localhost' if tls else HOST}:{service_port}",
            "mqtt_username": accounts.service.username,
            "mqtt_password_file": folder / "service.password",
            "mqtt_ca_file": pki.ca if tls else None,
        }
        zhapu = accounts.stations["zhapu"]
        self.publisher = ["-p", str(port), "-u", zhapu.username, "-P", zhapu.password]


def queue_backlog(setup: Setup, topic: str, lines: list[str]) -> None:
    exe = shutil.which("mosquitto_pub") or sys.exit("mosquitto_pub missing (apt mosquitto-clients)")
    args = [exe, "-h", HOST, *setup.publisher, "-q", "1", "-t", topic, "-l"]
    subprocess.run(args, input="\n".join(lines).encode(), check=True)


async def one_run(setup: Setup, influx: Influx, tmp: Path, per_message: int, n: int) -> dict:
    app_id, db = f"marine-watch-{uuid.uuid4().hex[:8]}", f"b{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=influx.url) as http:
        await http.post("/query", params={"q": f'CREATE DATABASE "{db}"'})
    settings = Settings(
        config_dir=CONFIG_DIR,
        data_dir=tmp / app_id,
        mqtt_topic_root=ROOT,
        mqtt_client_id=app_id,
        store="influxdb",
        influx_url=influx.url,
        influx_db=db,
        risk_tick_s=5.0,
        **setup.service,  # type: ignore[arg-type]
    )
    async with make_client(settings) as session:  # the service's own persistent session
        await session.subscribe(subscription(settings), qos=1)
    topic, lines = payload_lines(ROOT, per_message, n)
    queue_backlog(setup, topic, lines)
    assert setup.broker.proc is not None
    pids = {"service": os.getpid(), "mosquitto": setup.broker.proc.pid}
    elapsed, cores = await service(settings, per_message * n, pids)
    async with httpx.AsyncClient(base_url=influx.url) as http:
        await http.post("/query", params={"q": f'DROP DATABASE "{db}"'})
    return {"readings_per_s": round(per_message * n / elapsed), **cores}


def run() -> list[dict[str, object]]:
    """One row per message shape and broker scheme, with its ratio to plain in the same run."""
    with tempfile.TemporaryDirectory(prefix="bench-secure-") as tmp_dir:
        tmp = Path(tmp_dir)
        influx = start_influxd(tmp / "influxd")
        setups = [Setup(scheme, tmp) for scheme in SCHEMES]
        try:
            best: dict[tuple[str, str], dict] = {}
            for label, per_message, n in SHAPES:
                for setup in [*setups, *reversed(setups)]:
                    result = asyncio.run(one_run(setup, influx, tmp, per_message, n))
                    key = (label, setup.scheme)
                    if key not in best or result["readings_per_s"] > best[key]["readings_per_s"]:
                        best[key] = result
        finally:
            for setup in setups:
                setup.broker.stop()
            influx.stop()
    rows: list[dict[str, object]] = []
    for (label, scheme), result in best.items():
        plain = best[(label, SCHEMES[0])]["readings_per_s"]
        rows.append(
            {
                "case": label,
                "broker": scheme,
                "readings_per_s": result["readings_per_s"],
                "ratio_to_plain": round(result["readings_per_s"] / plain, 2),
                "service_cores": round(result["service"], 2),
                "mosquitto_cores": round(result["mosquitto"], 2),
            }
        )
    return rows


if __name__ == "__main__":
    from benchmarks.run_all import table

    print(table(run()))
