r"""Render deploy/haproxy/haproxy.cfg for a set of marine_watch API nodes (standard library only).

    python3 deploy/haproxy/render.py --server api1=10.0.0.11:8000 --server api2=10.0.0.12:8000 \
        --bind :80 -o /etc/haproxy/haproxy.cfg

Every ``{{ field }}`` of the template is filled in; an unknown field, a field left over or a value
that could break out of its line is an error, so the output is exactly the shipped policy with the
addresses of this deployment. Check the result with ``haproxy -c -f FILE``.
"""

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "haproxy.cfg"
DEFAULTS: dict[str, str] = {
    "bind": ":80",
    "maxconn": "20000",
    "stats_bind": "127.0.0.1:8404",
    "admin_socket": "/run/haproxy/admin.sock",
    "timeout_client": "30s",
    "timeout_tunnel": "1h",
}
_FIELD = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_CHECKS = {
    "bind": re.compile(r"^[A-Za-z0-9.:\[\]*@_/-]+$"),
    "maxconn": re.compile(r"^[1-9][0-9]{0,6}$"),
    "stats_bind": re.compile(r"^[A-Za-z0-9.:\[\]*@_/-]+$"),
    "admin_socket": re.compile(r"^/[A-Za-z0-9._/-]+$"),
    "timeout_client": re.compile(r"^[0-9]+(us|ms|s|m|h|d)?$"),
    "timeout_tunnel": re.compile(r"^[0-9]+(us|ms|s|m|h|d)?$"),
}
_SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SERVER_ADDR = re.compile(r"^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$")


def _server_lines(servers: Sequence[tuple[str, str]], options: str) -> str:
    return "\n".join(
        f"    server {name} {addr} {options.format(name=name)}" for name, addr in servers
    )


def check_servers(servers: Sequence[tuple[str, str]]) -> None:
    """Names unique and plain, addresses ``host:port`` with a port in 1..65535."""
    if not servers:
        msg = "at least one --server NAME=HOST:PORT is needed"
        raise ValueError(msg)
    names = [name for name, _ in servers]
    if len(set(names)) != len(names):
        msg = f"server names must be unique: {names}"
        raise ValueError(msg)
    for name, addr in servers:
        match = _SERVER_ADDR.match(addr)
        if not _SERVER_NAME.match(name) or match is None or not 0 < int(match.group(2)) < 65536:
            msg = f"bad server {name}={addr}: want NAME=HOST:PORT"
            raise ValueError(msg)


def render(template: str, servers: Sequence[tuple[str, str]], **values: str) -> str:
    """The template with the servers and ``values`` (else DEFAULTS) filled in."""
    check_servers(servers)
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        msg = f"unknown fields: {sorted(unknown)}"
        raise ValueError(msg)
    fields = {**DEFAULTS, **values}
    for key, value in fields.items():
        if not _CHECKS[key].match(value):
            msg = f"bad value for {key}: {value!r}"
            raise ValueError(msg)
    fields["http_servers"] = _server_lines(servers, "check")
    fields["ws_servers"] = _server_lines(
        servers, "track api_http/{name} on-marked-down shutdown-sessions"
    )

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in fields:
            msg = f"the template has an unknown field {match.group(0)}"
            raise ValueError(msg)
        return fields[match.group(1)]

    return _FIELD.sub(fill, template)


def parse_servers(specs: Sequence[str]) -> list[tuple[str, str]]:
    """``NAME=HOST:PORT`` strings as (name, address) pairs."""
    pairs = []
    for spec in specs:
        name, sep, addr = spec.partition("=")
        if not sep:
            msg = f"bad --server {spec!r}: want NAME=HOST:PORT"
            raise ValueError(msg)
        pairs.append((name, addr))
    return pairs


def main(argv: Sequence[str] | None = None, defaults: Mapping[str, str] = DEFAULTS) -> int:
    """Render haproxy.cfg from the template and the ``--server`` list; 2 on a bad argument."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="append", default=[], help="NAME=HOST:PORT, repeat")
    for key, value in defaults.items():
        parser.add_argument(f"--{key.replace('_', '-')}", default=value, help=f"default {value}")
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        text = render(
            args.template.read_text(encoding="utf-8"),
            parse_servers(args.server),
            **{key: getattr(args, key) for key in defaults},
        )
    except ValueError as err:
        parser.error(str(err))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
