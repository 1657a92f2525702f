"""Real Baton servers for the tests: `node packages/server/bin/baton.js serve` as a child process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import quote

import httpx

REPO_ROOT = Path(__file__).resolve().parents[3]
BATON_BIN = REPO_ROOT / "packages" / "server" / "bin" / "baton.js"

TOKENS = {
    "admin": "pyclient-admin-token-0123456789",
    "publisher": "pyclient-publisher-token-0123456789",
    "reader": "pyclient-reader-token-0123456789",
}
# The rate-limited server's window (BATON_PUBLISH_RATE_WINDOW): long enough that Retry-After
# outlasts a 5 s client deadline, short enough that waiting it out does not take a minute.
RATE_WINDOW_S = 15
TOKEN_SETTING = ",".join(f"py-{role}:{role}:{secret}" for role, secret in TOKENS.items())


class BatonServer:
    """One Baton process on a free port; ``url`` once it is ready. PGlite unless ``database_url``."""

    def __init__(self, backend: str, database_url: Optional[str] = None, env: Optional[Dict[str, str]] = None) -> None:
        self.backend = backend
        self.data_dir = tempfile.mkdtemp(prefix="baton-pyclient-")
        settings = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "PORT": "0",
            "LOG_LEVEL": "info",
            "BATON_TOKENS": TOKEN_SETTING,
            "BATON_DATA_DIR": os.path.join(self.data_dir, "data"),
            "BATON_PUBLISH_RATE_LIMIT": "0",
        }
        if database_url:
            settings["DATABASE_URL"] = database_url
        settings.update(env or {})
        self.proc = subprocess.Popen(
            ["node", str(BATON_BIN), "serve"], cwd=str(REPO_ROOT), env=settings, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.logs: List[str] = []
        self.stderr: List[str] = []
        self._ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        try:
            self._wait_ready(180.0)
        except BaseException:
            self.stop()
            raise

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.logs.append(line)
            if '"server ready"' in line:
                try:
                    self.url = json.loads(line)["url"]
                except (ValueError, KeyError):
                    continue
                self._ready.set()
        self._ready.set()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _wait_ready(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        self._ready.wait(timeout)
        if not self.url:
            raise RuntimeError(f"baton ({self.backend}) did not start: exit {self.proc.poll()}; stderr: {''.join(self.stderr)[-2000:]}")
        while time.monotonic() < end:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.url}/readyz did not answer 200 within {timeout} s")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def admin(self) -> httpx.Client:
        """A bare HTTP client with the admin token, for what the Baton client has no call for (pushing workflows)."""
        return httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {TOKENS['admin']}"}, timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def push_workflow(server: BatonServer, definition: Dict[str, object]) -> None:
    with server.admin() as http:
        res = http.post("/api/v3/workflows", json=definition)
        assert res.status_code == 200, res.text


def triggered_workflow(workflow_id: str, signal_name: str) -> Dict[str, object]:
    """A workflow with one NoOp step that every instance of ``signal_name`` starts."""
    return {
        "properties": {"owner": "tester"},
        "workflow": {
            "id": workflow_id,
            "signal_triggers": [{"definitions": {signal_name: {"match_params": {}, "join_keys": []}}}],
            "steps": [{"step": {"id": "only", "type": "NoOp", "transition": {"successors": {}}}}],
        }
    }


def gated_workflow(workflow_id: str, gate: str) -> Dict[str, object]:
    """A workflow whose only step waits for a signal named ``gate``."""
    return {
        "properties": {"owner": "tester"},
        "workflow": {
            "id": workflow_id,
            "steps": [
                {
                    "step": {
                        "id": "wait",
                        "type": "NoOp",
                        "signal_dependencies": [{"name": gate, "match_params": {}}],
                        "transition": {"successors": {}},
                    }
                }
            ],
        }
    }


def workflow_instances(server: BatonServer, workflow_id: str) -> List[Dict[str, object]]:
    """Every instance of a workflow (all pages)."""
    out: List[Dict[str, object]] = []
    cursor: Optional[int] = None
    with server.admin() as http:
        while True:
            params = {"limit": "1000", **({"cursor": str(cursor)} if cursor else {})}
            res = http.get(f"/api/v3/workflows/{workflow_id}/instances", params=params)
            assert res.status_code == 200, res.text
            page = res.json()
            out.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out


def signal_instances(server: BatonServer, name: str) -> List[Dict[str, object]]:
    """Every stored instance of a signal (all pages)."""
    out: List[Dict[str, object]] = []
    cursor: Optional[str] = None
    with server.admin() as http:
        while True:
            params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
            res = http.get(f"/api/v3/signals/{quote(name, safe='')}/instances", params=params)
            assert res.status_code == 200, res.text
            page = res.json()
            out.extend(page["instances"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out
