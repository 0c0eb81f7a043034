"""python -m analysis workshop: serve the explorer to a room on the local network (``make workshop``).

It checks the database (the facilitator's choice: ``--db``, else $CAE_DB, else the demo, built if missing), says what
is prepared, finds this machine's address on the local network without the internet (the addresses the system has
assigned: ``hostname -I``, the host name's addresses, and as a last resort the address a UDP socket would send from,
which ``connect`` finds without sending any packet), prints the address to join and its QR code, and runs
``streamlit run app.py`` listening on every interface, with the join address in $CAE_WORKSHOP_URL so the app shows it
(text and QR code) in the sidebar and on the Tour. Nothing here reaches the internet; Streamlit's usage statistics are
off.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from analysis import store
from analysis.pipeline import steps
from analysis.pipeline.demo import ensure_demo

ENV_URL = "CAE_WORKSHOP_URL"  # the address the app shows as "join this workshop"
APP = store.repo_root() / "app.py"
DEFAULT_PORT = 8501
LANDING = "tour"  # the page students land on
_PREFERRED = (  # most likely the room's network first; a container bridge (Docker's 172.17/16) late
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
)
_BRIDGE = ipaddress.ip_network("172.17.0.0/16")


def address_rank(text: str) -> int | None:
    """How good an address is for others on the network to reach (lower is better); None when it cannot be one
    (not IPv4, loopback, unspecified, multicast)."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if ip.version != 4 or ip.is_loopback or ip.is_unspecified or ip.is_multicast:
        return None
    if ip in _BRIDGE:  # a container bridge: reachable from this laptop only
        return len(_PREFERRED) + 1
    for rank, net in enumerate(_PREFERRED):
        if ip in net:
            return rank
    if ip.is_link_local:  # 169.254/16: no DHCP server answered; reachable only on the same link
        return len(_PREFERRED) + 2
    return len(_PREFERRED)  # another address the system assigned (a public one on a campus network, a test network)


def pick_address(candidates: Iterable[str]) -> str | None:
    """The best address of ``candidates`` for a room to join (first of the best rank), or None."""
    ranked = [(rank, i, c.strip()) for i, c in enumerate(candidates) if (rank := address_rank(c)) is not None]
    return min(ranked)[2] if ranked else None


def _hostname_i() -> list[str]:
    try:
        done = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.SubprocessError):
        return []
    return done.stdout.split() if done.returncode == 0 else []


def _host_addresses() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]


def _route_address() -> list[str]:
    """The source address of the default route: ``connect`` on a UDP socket sends no packet, it only picks a route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return [s.getsockname()[0]]
        except OSError:
            return []


def system_addresses() -> list[str]:
    """This machine's IPv4 addresses as the system reports them (no packet leaves the machine)."""
    found = [a for a in _hostname_i() + _host_addresses() if _is_ipv4(a)]  # hostname -I lists IPv6 ones too
    if pick_address(found) is None:
        found += _route_address()
    return list(dict.fromkeys(found))


def _is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text.strip()).version == 4
    except ValueError:
        return False


def lan_address() -> str | None:
    return pick_address(system_addresses())


def join_url(address: str, port: int, page: str = LANDING) -> str:
    return f"http://{address}:{int(port)}/{page}"


def streamlit_command(
    port: int, address: str = "localhost", python: str = sys.executable, app: Path = APP
) -> list[str]:
    """``streamlit run app.py`` for a room: every interface, no browser on the laptop, no usage statistics, no file
    watcher, the viewer's toolbar (students see no developer menu), and the join address as the server's address (the
    terminal shows it; set by hand, Streamlit never looks up an external IP)."""
    return [
        python, "-m", "streamlit", "run", str(app),
        "--server.address", "0.0.0.0", "--server.port", str(int(port)), "--server.headless", "true",
        "--browser.serverAddress", address, "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false", "--client.toolbarMode", "viewer",
    ]  # fmt: skip


def workshop_env(base: Mapping[str, str], db: Path, url: str) -> dict[str, str]:
    return {**base, store.ENV_DB: str(db), ENV_URL: url, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="the database to serve (default: $CAE_DB, else the demo, built if missing)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the port (default {DEFAULT_PORT})")
    p.add_argument("--address", help="the address students use, when the one found is not the room's network")
    p.add_argument("--dry-run", action="store_true", help="print the address and the command, start nothing")


def _database(path: Path) -> tuple[dict, steps.Readiness] | None:
    if not path.exists():
        if path.resolve() != store.DEMO_DB.resolve():
            print(f"error: no database at {path}. Build one first: python -m analysis demo --db {path}, or "
                  f"python -m analysis ingest FILE --db {path}.", file=sys.stderr)  # fmt: skip
            return None
        print(f"Building the synthetic demo at {path} (seconds)…")
        ensure_demo(path)
    try:
        con = store.connect(path, read_only=True)
    except store.DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    try:
        return store.db_info(con), steps.readiness(con, None, str(path))
    except store.DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    finally:
        con.close()


def _say_ready(path: Path, info: dict, ready: steps.Readiness) -> None:
    kind = "SYNTHETIC demo data" if info["synthetic"] else f"real data ({info['source']})"
    print(f"Database: {path} ({kind}, {info['counts'].get('comparisons', 0):,} comparisons)")
    if ready.commands:
        print("Not prepared yet: the Values map and the Tour's first step need these steps (minutes; run them before")
        print("the room arrives, or press 'Run these steps now' on the Values map):")
        for cmd in ready.commands:
            print(f"  {cmd}")


def _say_join(url: str, found: bool) -> None:
    print()
    if not found:
        print("No address on a local network was found: students cannot reach this laptop. Join the room's Wi-Fi or")
        print("open a hotspot, then start again (or pass --address).")
    print(f"Join the workshop at:  {url}")
    try:
        import segno  # pure Python; also draws the QR code in the app

        segno.make(url, error="m").terminal(compact=True)
    except (ImportError, OSError):
        pass


def run(args: argparse.Namespace) -> int:
    path = store.resolve_db_path(args.db)
    found = _database(path)
    if found is None:
        return 2
    _say_ready(path, *found)
    address = args.address or lan_address()
    url = join_url(address or "localhost", args.port)
    _say_join(url, address is not None)
    command = streamlit_command(args.port, address or "localhost")
    if args.dry_run:
        print(shlex.join(command))
        return 0
    try:
        return subprocess.call(command, env=workshop_env(os.environ, path, url), cwd=APP.parent)
    except KeyboardInterrupt:
        return 0
