"""Facilitator mode: the address finder, the QR code (decoded back with an independent decoder, zxing-cpp), the
`streamlit run` command `make workshop` runs, and the CLI's dry run."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from analysis.cli import workshop as cli
from ui import workshop

ROOT = Path(__file__).resolve().parents[2]


def test_address_rank_prefers_the_rooms_network_and_refuses_what_no_one_can_join():
    assert [cli.address_rank(a) for a in ("127.0.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "nonsense")] == [
        None
    ] * 6
    order = ["192.168.1.20", "10.0.0.5", "172.20.1.1", "203.0.113.9", "172.17.0.1", "169.254.3.4"]
    ranks = [cli.address_rank(a) for a in order]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


def test_pick_address_takes_the_best_rank_then_the_first_found():
    assert cli.pick_address(["127.0.0.1", "172.17.0.1", "10.0.0.5", "192.168.1.20"]) == "192.168.1.20"
    assert cli.pick_address(["10.0.0.7", "10.0.0.5"]) == "10.0.0.7"
    assert cli.pick_address([" 172.17.0.1 ", "169.254.1.1"]) == "172.17.0.1"
    assert cli.pick_address(["127.0.0.1", "::1"]) is None
    assert cli.pick_address([]) is None


def test_the_addresses_found_belong_to_this_machine():
    found = cli.system_addresses()
    assert found, "no IPv4 address at all (not even the loopback's)"
    for address in found:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((address, 0))  # only an address assigned to this machine can be bound
    best = cli.lan_address()
    assert best is None or (best in found and cli.address_rank(best) is not None)


def test_join_url_and_the_command_make_workshop_runs():
    assert cli.join_url("192.168.1.20", 8501) == "http://192.168.1.20:8501/tour"
    cmd = cli.streamlit_command(8600, "10.0.0.5", python="/venv/bin/python")
    assert cmd[:5] == ["/venv/bin/python", "-m", "streamlit", "run", str(ROOT / "app.py")]
    options = dict(zip(cmd[5::2], cmd[6::2]))
    assert options == {
        "--server.address": "0.0.0.0",  # every interface: the room reaches the laptop
        "--server.port": "8600",
        "--server.headless": "true",
        "--browser.serverAddress": "10.0.0.5",  # the terminal shows the join address; no external-IP lookup
        "--browser.gatherUsageStats": "false",  # no internet
        "--server.fileWatcherType": "none",
        "--server.runOnSave": "false",
        "--client.toolbarMode": "viewer",
    }
    env = cli.workshop_env({"PATH": "/bin"}, Path("data/x.duckdb"), "http://10.0.0.5:8600/tour")
    assert env["CAE_DB"] == "data/x.duckdb" and env["CAE_WORKSHOP_URL"] == "http://10.0.0.5:8600/tour"
    assert env["PATH"] == "/bin" and env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    makefile = (ROOT / "Makefile").read_text()
    assert "-m analysis workshop --db $(WORKSHOP_DB) --port $(PORT)" in makefile


@pytest.mark.parametrize(
    "text", ["http://192.168.1.20:8501/tour", "http://10.0.0.5:8600/tour?tour_step=poles&tour_po_k=6"]
)
def test_the_qr_code_decodes_back_to_the_address(text):
    image = Image.open(io.BytesIO(workshop.qr_png(text)))
    assert image.format == "PNG"
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    assert decoded == [text]


def test_join_url_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("CAE_WORKSHOP_URL", raising=False)
    assert workshop.join_url() is None
    monkeypatch.setenv("CAE_WORKSHOP_URL", " http://10.0.0.5:8501/tour ")
    assert workshop.join_url() == "http://10.0.0.5:8501/tour"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "workshop", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_dry_run_prints_the_address_and_the_command(demo_db):
    done = _cli("--db", str(demo_db), "--port", "8765", "--address", "10.1.2.3", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "Join the workshop at:  http://10.1.2.3:8765/tour" in done.stdout
    assert "SYNTHETIC demo data" in done.stdout and "Not prepared yet" in done.stdout  # never embedded
    assert "python -m analysis embed --db" in done.stdout
    assert "-m streamlit run" in done.stdout and "--server.address 0.0.0.0 --server.port 8765" in done.stdout
    assert "--browser.serverAddress 10.1.2.3" in done.stdout


def test_cli_refuses_a_missing_database_and_says_what_to_run(tmp_path):
    done = _cli("--db", str(tmp_path / "none.duckdb"), "--dry-run")
    assert done.returncode == 2
    assert "no database at" in done.stderr and "python -m analysis demo --db" in done.stderr
