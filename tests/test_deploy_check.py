"""bench/deploy_check.py's parts that decide what is measured: the command Cloud runs, the environment it has, and the
memory of a process tree (the figure the cap is held to)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("deploy_check", ROOT / "bench" / "deploy_check.py")
deploy_check = sys.modules["deploy_check"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(deploy_check)


def test_the_server_runs_app_py_as_cloud_does_without_this_projects_settings():
    cmd = deploy_check.server_command(Path("/v"), 8765)
    assert cmd[:5] == ["/v/bin/python", "-m", "streamlit", "run", "app.py"]  # from the tree's root
    assert "--server.address" not in cmd  # .streamlit/config.toml decides, as on Cloud
    env = deploy_check.server_env({"PATH": "/bin", "CAE_DB": "x.duckdb", "CAE_WORKSHOP_URL": "u", "HOME": "/h"})
    assert env == {"PATH": "/bin", "HOME": "/h"}


def test_tree_rss_counts_a_child_process():
    size = 300 * 2**20
    child = subprocess.Popen(
        [sys.executable, "-c", f"import sys, time; b = b'x' * {size}; print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout.readline().strip() == "ready"
        alone = deploy_check.tree_rss(child.pid)
        with_parent = deploy_check.tree_rss(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert alone >= size  # the 300 MB it wrote are resident
    assert with_parent >= alone  # the parent's tree includes the child
    assert deploy_check.tree_rss(child.pid) == 0  # gone
