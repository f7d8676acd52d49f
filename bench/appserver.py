"""What the benchmarks share: a real `streamlit run app.py` server, headless Chromium, RSS.

    with streamlit_server({"SOFTMAX_STUDIO_HOSTED": "1"}) as server, chromium() as browser:
        page = browser.new_page(); page.goto(server.url + "/dataset"); rss_mb(server.pid)
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 900}  # the browser window of the tests and the benches
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class Server:
    url: str
    pid: int
    log: Path  # the server's stdout and stderr, for when something goes wrong


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MB (VmRSS from /proc: what the OS really holds for it)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def rss_by_origin(pid: int) -> dict[str, float]:
    """RSS in MB per origin: a site-packages package (its native libraries and data), another
    file, or [anon]/[heap] for allocations (the Python heap, numpy arrays, torch's allocator)."""
    sizes: dict[str, float] = {}
    origin = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:  # a mapping's header line
            path = fields[5] if len(fields) > 5 else "[anon]"
            if "site-packages/" in path:
                path = "site-packages/" + path.split("site-packages/")[1].split("/")[0]
            origin = "[anon]" if path.startswith("[anon") or path.startswith("[stack") else path
        elif fields[0] == "Rss:":
            sizes[origin] = sizes.get(origin, 0.0) + int(fields[1]) / 1024
    return sizes


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (the server's training process among them)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def settled_rss_mb(pid: int, quiet: float = 3.0, timeout: float = 60.0) -> float:
    """RSS once it has stayed within 2 MB for `quiet` seconds (background work such as the
    app's warm-up training has finished), or after `timeout` seconds."""
    samples: list[float] = []
    deadline = time.monotonic() + timeout
    window = max(2, int(quiet / 0.5))
    while time.monotonic() < deadline:
        samples.append(rss_mb(pid))
        if len(samples) >= window and max(samples[-window:]) - min(samples[-window:]) < 2:
            break
        time.sleep(0.5)
    return samples[-1]


def has_torch(pid: int) -> bool:
    """Whether the process has loaded torch's native library."""
    return "libtorch_cpu" in Path(f"/proc/{pid}/maps").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str] | None, log: Path, watch_files: bool = False,
                 timeout: float = 90.0) -> tuple[subprocess.Popen, str]:
    """(process, url) of `streamlit run app.py` as users run it, once /_stcore/health answers.
    Its output goes to `log`."""
    port = _free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
               f"--server.port={port}", "--browser.gatherUsageStats=false"]
    if not watch_files:  # the watcher would walk .venv inside the checkout for nothing
        command.append("--server.fileWatcherType=none")
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(process)
            raise RuntimeError(f"the server did not answer its health check in {timeout:.0f} s; see {log}")
        time.sleep(0.05)


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def temp_log(name: str) -> Path:
    """A fresh log file for a server a bench starts (the tests keep theirs in tests/artifacts/)."""
    return Path(tempfile.mkstemp(prefix=f"softmax-studio-{name}-", suffix=".log")[1])


@contextmanager
def streamlit_server(env: dict[str, str] | None = None, log: Path | None = None):
    """start_server for a `with` block: yields a Server, stops it afterwards."""
    log = log or temp_log("server")
    process, url = start_server(env, log)
    try:
        yield Server(url, process.pid, log)
    finally:
        stop_server(process)


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_until_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (twice in a row, 100 ms apart)."""
    page.wait_for_timeout(100)
    for _ in range(2):
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state')"
            " === 'notRunning'", timeout=timeout)
        page.wait_for_timeout(100)
