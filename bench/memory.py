"""Memory of a hosted server, against the issue's targets. Prints:

  (a) RSS of a bare Python process that imported torch;
  (b) RSS of a real `streamlit run app.py` server (hosted mode) with the dataset loaded and
      one idle session, and (b) - (a)                                 target: <= 200 MB;
  (c) RSS after N more sessions each trained a model (1 epoch), per session  target: < 5 MB each;

and, for (b) and (c), where the memory goes (RSS by origin: a package's native libraries,
or [anon]/[heap] for allocations).

    .venv/bin/python -m bench.memory [--sessions 8] [--as-cpu-build] [--malloc-arenas N] [--trace]

Sessions are Chromium pages (each page is its own Streamlit session) driven like a user.
One extra session trains first, so one-time costs (torch's thread pools, torch.optim's
import of torch._dynamo) are printed separately instead of being charged to the sessions.

--malloc-arenas 2 starts both processes with MALLOC_ARENA_MAX=2, as the Dockerfile does:
without it, glibc's per-thread malloc arenas make the server's RSS climb by tens of MB per
session for the first dozen or two sessions (Python's own allocations grow < 1 MB per
session: see --trace).

The local torch may be the CUDA build from PyPI. Deployments get the CPU-only build
(Pipfile, Dockerfile), which has no triton; --as-cpu-build makes triton unimportable in
both processes, so the figures match a deployment's (the CUDA libraries that `import torch`
loads here are in both (a) and (b), so they cancel out of (b) - (a)).
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench.appserver import child_pids, chromium, has_torch, rss_by_origin, rss_mb, settled_rss_mb, streamlit_server

NO_TRITON = '''
import importlib.abc, sys
class _NoTriton(importlib.abc.MetaPathFinder):
    """bench/memory.py --as-cpu-build: torch's CPU-only wheels don't ship triton."""
    def find_spec(self, name, path, target=None):
        if name == "triton" or name.startswith("triton."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoTriton())
'''


TRACE = '''
import os, signal, sys, tracemalloc
if "streamlit" in sys.orig_argv:
    tracemalloc.start(6)
    def _dump(signum, frame):
        tracemalloc.take_snapshot().dump(os.environ["SOFTMAX_STUDIO_TRACE"] + f".{signum}.{os.getpid()}.new")
        os.replace(os.environ["SOFTMAX_STUDIO_TRACE"] + f".{signum}.{os.getpid()}.new", os.environ["SOFTMAX_STUDIO_TRACE"])
    signal.signal(signal.SIGUSR1, _dump)
'''


@contextmanager
def environment(as_cpu_build: bool, trace: bool, malloc_arenas: int | None):
    """Env vars for both processes: hosted mode, glibc's arena cap if given, and a
    sitecustomize that hides triton or traces the server's Python allocations, if asked."""
    env = {"SOFTMAX_STUDIO_HOSTED": "1"}
    if malloc_arenas:
        env["MALLOC_ARENA_MAX"] = str(malloc_arenas)
    with tempfile.TemporaryDirectory() as folder:
        code = (NO_TRITON if as_cpu_build else "") + (TRACE if trace else "")
        if code:
            Path(folder, "sitecustomize.py").write_text(code)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [folder, os.environ.get("PYTHONPATH")]))
        if trace:
            env["SOFTMAX_STUDIO_TRACE"] = str(Path(folder, "snapshot"))
        yield env


def python_snapshot(pid: int, env: dict[str, str]):
    """The server's tracemalloc snapshot (--trace): it writes one when sent SIGUSR1."""
    import tracemalloc

    path = Path(env["SOFTMAX_STUDIO_TRACE"])
    path.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return tracemalloc.Snapshot.load(str(path))


def print_python_growth(before, after, top: int = 12) -> None:
    stats = after.compare_to(before, "traceback")
    print(f"    Python allocations that grew most (tracemalloc; total {sum(s.size_diff for s in stats) / 1e6:+.1f} MB):")
    for stat in stats[:top]:
        frames = [f for f in stat.traceback if "site-packages" not in f.filename] or list(stat.traceback)
        where = "; ".join(f"{Path(f.filename).name}:{f.lineno}" for f in frames[-3:])
        print(f"      {stat.size_diff / 1e6:+8.2f} MB  {stat.count_diff:+7d} blocks  {where}")


@contextmanager
def bare_torch(env: dict[str, str]):
    """A fresh `python -c 'import torch'` process, kept alive so it can be measured and compared."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys, torch; print('ready', flush=True); sys.stdin.read()"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, **env})
    try:
        assert proc.stdout.readline() == b"ready\n", "the bare process could not import torch"
        yield proc.pid
    finally:
        proc.stdin.close()
        proc.wait()


def print_breakdown(title: str, now: dict[str, float], before: dict[str, float], top: int = 8) -> None:
    """The origins whose RSS differs most between two measurements."""
    extra = {k: now.get(k, 0.0) - before.get(k, 0.0) for k in now.keys() | before.keys()}
    print(f"    {title}:")
    for origin, mb in sorted(extra.items(), key=lambda kv: -abs(kv[1]))[:top]:
        print(f"      {mb:+8.1f} MB  {origin}")


def open_idle_session(browser, url: str, server_pid: int):
    """One visitor: lands on Home (which warms torch up in the background), then opens Dataset."""
    page = browser.new_page()
    page.goto(url)
    deadline = time.monotonic() + 60
    while not has_torch(server_pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    page.get_by_role("link", name="Dataset").first.click()  # in-app navigation: the same session
    page.get_by_text("What an average garment looks like").wait_for(timeout=60_000)
    return page


def training_processes(server_pid: int) -> list[int]:
    """The server's child training processes (model.service.workers)."""
    return [pid for pid in child_pids(server_pid)
            if b"model.service.workers" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def private_mb(pid: int) -> float:
    """Memory only this process holds (its private pages): what another one like it costs, where
    RSS also counts the shared libraries (torch's are most of it) that every process maps."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return sum(int(fields[name].split()[0]) for name in ("Private_Clean", "Private_Dirty")) / 1024


def print_training_processes(server_pid: int, server_mb: float) -> None:
    pids = training_processes(server_pid)
    print(f"    training processes (children, each with torch and the dataset): {len(pids)}"
          + "".join(f"; RSS {rss_mb(pid):.0f} MB, private {private_mb(pid):.0f} MB" for pid in pids)
          + f"; server RSS and children's private memory together {server_mb + sum(map(private_mb, pids)):.0f} MB")


def train_once(browser, url: str):
    """A new session that trains the lesson preset for one epoch and waits for its results."""
    page = browser.new_page()
    page.goto(f"{url}/train")
    page.locator(".st-key-cfg_epochs").get_by_role("slider").press("Home", timeout=120_000)  # its minimum: 1 epoch
    page.locator(".st-key-start button").click()
    page.locator(".st-key-download_model").wait_for(timeout=300_000)  # shown with a finished run's results
    return page


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8, help="sessions that each train a model (default 8)")
    parser.add_argument("--as-cpu-build", action="store_true", help="hide triton, as torch's CPU-only build has none")
    parser.add_argument("--trace", action="store_true", help="also show which Python allocations grew (slower)")
    parser.add_argument("--malloc-arenas", type=int, metavar="N",
                        help="start both processes with MALLOC_ARENA_MAX=N (as the Dockerfile does)")
    args = parser.parse_args(argv)

    with environment(args.as_cpu_build, args.trace, args.malloc_arenas) as env, bare_torch(env) as bare_pid, \
            streamlit_server(env) as server, chromium() as browser:
        print(f"torch: {'as the CPU-only build (triton hidden)' if args.as_cpu_build else 'as installed'}; "
              f"MALLOC_ARENA_MAX={env.get('MALLOC_ARENA_MAX', os.environ.get('MALLOC_ARENA_MAX', 'unset'))}")
        bare = settled_rss_mb(bare_pid, 1)
        print(f"(a) bare python + import torch:                 {bare:7.1f} MB")
        print(f"    server just started (no session yet):       {rss_mb(server.pid):7.1f} MB")
        open_idle_session(browser, server.url, server.pid)
        idle = settled_rss_mb(server.pid, 10, timeout=120)  # after the warm-up training too
        print(f"(b) server, dataset loaded, one idle session:   {idle:7.1f} MB"
              f"  (torch loaded: {'yes' if has_torch(server.pid) else 'NO'})")
        print(f"    (b) - (a):                                  {idle - bare:7.1f} MB   target <= 200 MB"
              f"  {'OK' if idle - bare <= 200 else 'MISSED'}")
        print_training_processes(server.pid, idle)  # none yet: they start with the first visit to Train
        idle_origins = rss_by_origin(server.pid)
        print_breakdown("where (b) - (a) goes", idle_origins, rss_by_origin(bare_pid))
        if args.sessions:
            train_once(browser, server.url).close()
            warm = settled_rss_mb(server.pid, 5)
            print(f"    after a first training (one-time costs):    {warm:7.1f} MB  ({warm - idle:+.1f})")
            print_training_processes(server.pid, warm)
            warm_origins = rss_by_origin(server.pid)
            print_breakdown("where the one-time costs go", warm_origins, idle_origins)
            before = python_snapshot(server.pid, env) if args.trace else None
            series = []
            for _ in range(args.sessions):  # each stays open: a connected session with a trained model
                train_once(browser, server.url)
                series.append(settled_rss_mb(server.pid, 2))
            after = settled_rss_mb(server.pid, 5)
            per = (after - warm) / args.sessions
            print(f"    RSS after each session: {', '.join(f'{mb:.0f}' for mb in series)} MB")
            print(f"(c) after {args.sessions} more sessions each trained a model: {after:7.1f} MB")
            print(f"    per additional session:                     {per:7.2f} MB   target < 5 MB"
                  f"  {'OK' if per < 5 else 'MISSED'}")
            # RSS swings by tens of MB as trainings' buffers are freed and malloc keeps or returns
            # them, so one end point against another is noisy: the least-squares slope over all
            # sessions is the steadier estimate of what each one keeps.
            slope = statistics.linear_regression(range(len(series)), series).slope if len(series) > 1 else per
            print(f"    trend over the sessions (least squares):    {slope:7.2f} MB per session")
            print_training_processes(server.pid, after)
            print_breakdown(f"where the {args.sessions} sessions' memory goes", rss_by_origin(server.pid), warm_origins)
            if args.trace:
                print_python_growth(before, python_snapshot(server.pid, env))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
