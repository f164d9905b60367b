"""Mixed-traffic load test over real HTTP (a benchmark, not a test): 127.0.0.1 only.

usage: python -m bench.load_bench [--backend sqlite|postgres] [--workers N] [--seconds S]
                            [--clients C] [--rate R] [--json FILE] [--profile DIR]

It starts `ogapi serve --workers N` on a fresh database (SQLite, or private PostgreSQL +
Redis instances from tests/services.py), seeds accounts with a year of history, then runs C
closed-loop clients for S seconds (or paced to R requests/s in total with --rate). Each client
picks a route by weight:

    render hit    GET  /api/generate           (a card rendered at start-up: X-Cache HIT)
    render miss   POST /api/generate           (a new title: renders, counts one image)
    signed hit    GET  /api/signed/image       (signed offline, rendered at start-up)
    signed miss   GET  /api/signed/image       (a new title: renders)
    usage         GET  /api/user/usage         (X-API-Key)
    graphql       POST /graphql                (the dashboard's usage / transactions / balance
                                                queries, session cookie)
    webhook       POST /api/stripe/webhook     (a signed Stripe event, when the route exists)

It prints throughput, p50/p99 per route, status counts (5xx), and the RSS of every server
process (web workers and render workers), sampled every 5 s (start, middle, end, max).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.graphql_bench import BALANCE, PASSWORD, TRANSACTIONS, USAGE  # noqa: E402
from bench.graphql_bench import _seed as seed_history  # noqa: E402

SECRET = "bench-secret-key-0123456789-0123456789-abcdef"
WEBHOOK_SECRET = "whsec_bench_0123456789abcdef"
ACCOUNTS = 4
WEIGHTS = {
    "render hit": 20,
    "render miss": 8,
    "signed hit": 20,
    "signed miss": 4,
    "usage": 18,
    "graphql": 24,
    "webhook": 6,
    "health": 2,  # the event loop's own delay: /health does no I/O
}


def dashboard_query() -> str:
    """The dashboard's own query (web/static/dashboard.js `QUERY`, its `${…}` filled in), so
    the load is what the browser sends."""
    import re

    js = (ROOT / "web" / "static" / "dashboard.js").read_text()
    consts = dict(re.findall(r'^const ([A-Z]+) = [`"](.*?)[`"];$', js, re.M))
    query = re.search(r"^const QUERY = `(.*?)`;$", js, re.M | re.S).group(1)
    for _ in range(3):
        query = re.sub(r"\$\{([A-Z]+)\}", lambda m: consts[m.group(1)], query)
    return query


# "dashboard" is the page's one query (every panel); the others are the narrower reads of
# bench/graphql_bench.py that scripts make.
QUERIES = (("dashboard", dashboard_query()), ("usage", USAGE), ("transactions", TRANSACTIONS),
           ("balance", BALANCE))  # fmt: skip


@dataclass
class Account:
    email: str
    key: str
    kid: str
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)  # a few bodies of unexpected answers


# ---------------------------------------------------------------- setup


async def _prepare(url: str, history: bool) -> list[Account]:
    from models import Account as AccountRow
    from models import PlanId
    from models.db import database, migrate
    from resolvers.accounts.accounts import create_account
    from resolvers.accounts.keys import active_key, reveal
    from resolvers.crypto import SecretBox

    await migrate(url)
    box = SecretBox(SECRET)
    out = []
    async with database(url):
        for i in range(ACCOUNTS):
            acct = await create_account(f"load{i}@example.com", PASSWORD, box,
                                        plan=PlanId.PUBLISHING)  # fmt: skip
            await AccountRow.filter(id=acct.id).update(custom_quota=10_000_000)
            if history:
                await seed_history(acct.id, datetime.now(UTC))
            key = await active_key(acct)
            out.append(Account(acct.email, reveal(key, box) or "", key.kid))
    return out


def _server_env(database_url: str, redis_url: str | None, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # A test key: webhooks need billing configured; the events sent call no Stripe API.
        "STRIPE_SECRET_KEY": "sk_test_load_benchmark",
        "OGAPI_ENV": "development",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def _tree(pid: int) -> list[int]:
    """`pid` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = defaultdict(list)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{d}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children[ppid].append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def _rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def _ppid(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return 0


def _role(pid: int, root: int) -> str:
    """supervisor (the gunicorn arbiter we started), web (an HTTP worker), render (a render
    process), or the helpers around them."""
    cmd = _cmdline(pid)
    if pid == root:
        return "supervisor"
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "forkserver" in cmd:
        return "render" if "forkserver" in _cmdline(_ppid(pid)) else "forkserver"
    return "web"


def _service_roots(ports: list[int]) -> dict[int, str]:
    """The PostgreSQL postmaster and redis-server listening on `ports` (started by this run, so
    other instances on the machine are not counted): pid -> role."""
    out = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        cmd = _cmdline(int(d))
        for port in ports:
            if f"-p {port} " in cmd + " " and "postgres" in cmd:
                out[int(d)] = "postgres"
            elif f"127.0.0.1:{port}" in cmd and "redis-server" in cmd:
                out[int(d)] = "redis"
    return out


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _rss_snapshot(root: int, services: dict[int, str]) -> dict[int, tuple[str, float, float]]:
    """pid -> (role, RSS MB, CPU s) for the server's processes; PostgreSQL's backends are
    summed into one "postgres" row (keyed by the postmaster), as is Redis."""
    out = {}
    for pid in _tree(root):
        rss = _rss_mb(pid)
        if rss is not None:
            out[pid] = (_role(pid, root), rss, _cpu_s(pid))
    for top, role in services.items():
        tree = _tree(top)
        out[top] = (role, sum(_rss_mb(p) or 0 for p in tree), sum(_cpu_s(p) for p in tree))
    return out


# ---------------------------------------------------------------- traffic


def _webhook(secret: str, n: int) -> tuple[bytes, str]:
    """A signed Stripe event (Stripe's scheme: t=…,v1=HMAC-SHA256(secret, "t.payload"))."""
    now = int(time.time())
    event = {
        "id": f"evt_load_{os.getpid()}_{n}",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": now,
        "type": "customer.updated",
        "livemode": False,
        "data": {"object": {"id": f"cus_load_{n % 50}", "object": "customer"}},
    }
    body = json.dumps(event).encode()
    sig = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={now},v1={sig}"


class Traffic:
    def __init__(self, base: str, accounts: list[Account], webhooks: bool) -> None:
        self.base = base
        self.accounts = accounts
        self.webhooks = webhooks
        self.stats = Stats()
        self.n = 0
        self.record = True

    def _signed(self, acct: Account, params: dict[str, str]) -> str:
        from resolvers.images.signing import SIGNED_PATH, signed_query

        return f"{self.base}{SIGNED_PATH}?{signed_query(acct.key, acct.kid, params, None)}"

    def routes(self) -> list[str]:
        return [n for n, w in WEIGHTS.items() if w > 0 and (n != "webhook" or self.webhooks)]

    async def one(self, http, acct: Account, route: str, idx: int) -> None:
        self.n += 1
        n = self.n
        key = {"X-API-Key": acct.key}
        hit_title = f"Load test card {idx % 8}"
        if route == "render hit":
            req = http.get(f"{self.base}/api/generate", params={"title": hit_title}, headers=key)
        elif route == "render miss":
            body = {"title": f"Fresh card {n} {random.random()}", "template": "blog",
                    "subtitle": "Rendered under load"}  # fmt: skip
            req = http.post(f"{self.base}/api/generate", json=body, headers=key)
        elif route == "signed hit":
            req = http.get(self._signed(acct, {"title": hit_title, "template": "minimal"}))
        elif route == "signed miss":
            params = {"title": f"Signed fresh {n} {random.random()}", "template": "vibrant"}
            req = http.get(self._signed(acct, params))
        elif route == "health":
            req = http.get(f"{self.base}/health")
        elif route == "usage":
            req = http.get(f"{self.base}/api/user/usage", headers=key)
        elif route == "graphql":
            name, query = QUERIES[0] if n % 2 else QUERIES[1 + n // 2 % 3]
            route = f"graphql {name}"
            req = http.post(f"{self.base}/graphql", json={"query": query}, cookies=acct.cookies)
        else:
            body, sig = _webhook(WEBHOOK_SECRET, n)
            req = http.post(f"{self.base}/api/stripe/webhook", data=body,
                            headers={"Stripe-Signature": sig,
                                     "Content-Type": "application/json"})  # fmt: skip
        t0 = time.perf_counter()
        try:
            async with req as resp:
                data = await resp.read()
                status = resp.status
        except Exception as exc:  # a broken connection is a result too
            self.stats.errors[f"{route}: {type(exc).__name__}"] += 1
            return
        ms = (time.perf_counter() - t0) * 1000
        if not self.record:
            return
        self.stats.latencies[route].append(ms)
        self.stats.statuses[route][status] += 1
        bad = status >= 500 or (route.startswith("graphql") and b'"errors"' in data)
        if bad and status < 500:
            self.stats.errors[f"{route}: GraphQL errors"] += 1
        if (bad or status >= 400) and len(self.stats.samples) < 10:
            self.stats.samples.append(f"{route} {status}: {data[:200]!r}")

    async def warm(self, http) -> None:
        """Log every account in and render the hit set once (then the hits are hits)."""
        for acct in self.accounts:
            login = {"email": acct.email, "password": PASSWORD}
            async with http.post(f"{self.base}/api/auth/login", json=login) as r:
                assert r.status == 200, await r.text()
                acct.cookies = {k: v.value for k, v in r.cookies.items()}
        for acct in self.accounts:
            for i in range(8):
                title = f"Load test card {i}"
                async with http.get(f"{self.base}/api/generate", params={"title": title},
                                    headers={"X-API-Key": acct.key}) as r:  # fmt: skip
                    assert r.status == 200, await r.text()
                async with http.get(
                    self._signed(acct, {"title": title, "template": "minimal"})
                ) as r:
                    assert r.status == 200, await r.text()
            await asyncio.sleep(1.1)  # the burst refills
        if self.webhooks:
            body, sig = _webhook(WEBHOOK_SECRET, 0)
            async with http.post(f"{self.base}/api/stripe/webhook", data=body,
                                 headers={"Stripe-Signature": sig,
                                          "Content-Type": "application/json"}) as r:  # fmt: skip
                if r.status == 404:
                    self.webhooks = False

    async def run(self, clients: int, seconds: float, rate: float | None, on_start=None) -> float:
        import aiohttp

        conn = aiohttp.TCPConnector(limit=0, force_close=False)
        async with aiohttp.ClientSession(connector=conn) as http:
            await self.warm(http)
            if on_start is not None:
                on_start()
            names = self.routes()
            weights = [WEIGHTS[n] for n in names]
            deadline = time.perf_counter() + seconds
            interval = clients / rate if rate else 0.0

            async def client(i: int) -> None:
                acct = self.accounts[i % len(self.accounts)]
                rng = random.Random(i)
                nxt = time.perf_counter() + rng.random() * interval
                while time.perf_counter() < deadline:
                    if interval:
                        delay = nxt - time.perf_counter()
                        if delay > 0:
                            await asyncio.sleep(delay)
                        nxt += interval
                    route = rng.choices(names, weights)[0]
                    await self.one(http, acct, route, rng.randrange(8))

            t0 = time.perf_counter()
            await asyncio.gather(*(client(i) for i in range(clients)))
            return time.perf_counter() - t0


# ---------------------------------------------------------------- report


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def report(stats: Stats, elapsed: float, rss: list[tuple[float, dict]], meta: dict) -> dict:
    total = sum(len(v) for v in stats.latencies.values())
    five = sum(n for c in stats.statuses.values() for s, n in c.items() if s >= 500)
    routes = {}
    for route in sorted(stats.latencies):
        v = stats.latencies[route]
        routes[route] = {
            "n": len(v),
            "rps": round(len(v) / elapsed, 1),
            "p50_ms": round(statistics.median(v), 1),
            "p99_ms": round(_pct(v, 0.99), 1),
            "max_ms": round(max(v), 1),
            "statuses": dict(sorted(stats.statuses[route].items())),
        }
    per_proc: dict[int, dict] = {}
    for _, snap in rss:
        for pid, (role, mb, cpu) in snap.items():
            p = per_proc.setdefault(pid, {"role": role, "series": [], "cpu": []})
            p["series"].append(round(mb, 1))
            p["cpu"].append(cpu)
    out = {
        **meta,
        "seconds": round(elapsed, 1),
        "requests": total,
        "rps": round(total / elapsed, 1),
        "5xx": five,
        "client_errors": dict(stats.errors),
        "routes": routes,
        "rss_mb": {
            str(pid): {
                "role": p["role"],
                "start": p["series"][0],
                "mid": p["series"][len(p["series"]) // 2],
                "end": p["series"][-1],
                "max": max(p["series"]),
                "cpu_pct": round(100 * (p["cpu"][-1] - p["cpu"][0]) / elapsed, 1),
                "per_minute": p["series"][::12],  # samples are 5 s apart
            }
            for pid, p in sorted(per_proc.items())
        },
        "samples": stats.samples,
    }
    return out


def print_report(r: dict) -> None:
    print(f"\n{r['backend']}, {r['workers']} worker(s), {r['clients']} clients, "
          f"{'rate ' + str(r['rate']) + '/s' if r['rate'] else 'closed loop'}, "
          f"{r['seconds']} s: {r['requests']} requests, {r['rps']} req/s, "
          f"5xx: {r['5xx']}, other errors: {r['client_errors'] or 0}")  # fmt: skip
    print("\n| route | req/s | p50 ms | p99 ms | max ms | statuses |")
    print("|---|---|---|---|---|---|")
    for name, v in r["routes"].items():
        st = ", ".join(f"{k}: {n}" for k, n in v["statuses"].items())
        print(f"| {name} | {v['rps']} | {v['p50_ms']} | {v['p99_ms']} | {v['max_ms']} | {st} |")
    print("\n| process | role | RSS MB start | mid | end | max | CPU % |")
    print("|---|---|---|---|---|---|---|")
    for pid, v in r["rss_mb"].items():
        print(
            f"| {pid} | {v['role']} | {v['start']} | {v['mid']} | {v['end']} | {v['max']} "
            f"| {v['cpu_pct']} |"
        )
    print(f"load generator CPU: {r['client_cpu_pct']} %")
    for s in r["samples"]:
        print("sample:", s)


# ---------------------------------------------------------------- main


async def _sample_rss(
    root: int, services: dict[int, str], out: list, stop: asyncio.Event, every: float
) -> None:
    t0 = time.perf_counter()
    while True:
        out.append((time.perf_counter() - t0, _rss_snapshot(root, services)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
            out.append((time.perf_counter() - t0, _rss_snapshot(root, services)))
            return


async def _wait_ready(base: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    import aiohttp

    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with s.get(f"{base}/ready") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError("server did not become ready")


def run(a: argparse.Namespace) -> dict:
    from tests.services import free_port, postgres_server, redis_server

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ogapi-load-")))
        if a.backend == "postgres":
            database_url = stack.enter_context(postgres_server())
            if a.pg_options:
                database_url += "?" + a.pg_options
            redis_url = stack.enter_context(redis_server())
        else:
            database_url, redis_url = f"sqlite://{tmp / 'load.sqlite3'}", None
        ports = [int(u.rsplit(":", 1)[1].split("/")[0]) for u in (database_url, redis_url)
                 if u and "://" in u and not u.startswith("sqlite")]  # fmt: skip
        services = _service_roots(ports)
        accounts = asyncio.run(_prepare(database_url, history=True))
        port = free_port()
        env = _server_env(database_url, redis_url, port)
        if a.render_workers is not None:
            env["OGAPI_RENDER_WORKERS"] = str(a.render_workers)
        cmd = [sys.executable, "-m", "web.cli.main", "serve", "--workers", str(a.workers)]
        if a.profile:
            cmd = ["py-spy", "record", "--subprocesses", "--idle", "-r", "200", "-f", "speedscope",
                   "-o", str(Path(a.profile) / "profile.json"), "--", *cmd]  # fmt: skip
        log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed with the stack
        stack.callback(log.close)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip

        def stop() -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM if not a.profile else signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

        stack.callback(stop)
        base = f"http://127.0.0.1:{port}"

        async def main() -> dict:
            await _wait_ready(base, proc)
            traffic = Traffic(base, accounts, webhooks=not a.no_webhooks)
            rss: list = []
            done = asyncio.Event()
            tasks, cpu0 = [], []

            def start() -> None:
                cpu0.append(time.process_time())
                tasks.append(asyncio.create_task(_sample_rss(proc.pid, services, rss, done, 5.0)))

            elapsed = await traffic.run(a.clients, a.seconds, a.rate, on_start=start)
            client_cpu = time.process_time() - cpu0[0]
            done.set()
            await tasks[0]
            meta = {"backend": a.backend, "workers": a.workers, "clients": a.clients,
                    "rate": a.rate, "webhooks": traffic.webhooks,
                    "client_cpu_pct": round(100 * client_cpu / elapsed, 1)}  # fmt: skip
            return report(traffic.stats, elapsed, rss, meta)

        result = asyncio.run(main())
        if a.keep_log:
            Path(a.keep_log).write_bytes((tmp / "server.log").read_bytes())
        return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--rate", type=float, default=None, help="total requests/s (paced clients)")
    p.add_argument("--render-workers", type=int, default=None, help="OGAPI_RENDER_WORKERS")
    p.add_argument("--no-webhooks", action="store_true")
    p.add_argument("--pg-options", help="query options for DATABASE_URL, e.g. maxsize=20")
    p.add_argument("--mix", help="route weights, e.g. 'render miss=0,usage=30'")
    p.add_argument("--json", help="also write the result as JSON here")
    p.add_argument("--profile", help="run the server under py-spy, speedscope output in DIR")
    p.add_argument("--keep-log", help="copy the server's log here")
    a = p.parse_args(argv)
    if a.backend == "sqlite" and a.workers > 1:
        p.error("several workers need --backend postgres")
    for item in filter(None, (a.mix or "").split(",")):
        name, _, weight = item.partition("=")
        if name.strip() not in WEIGHTS:
            p.error(f"--mix: unknown route {name!r} (routes: {', '.join(WEIGHTS)})")
        WEIGHTS[name.strip()] = int(weight)
    result = run(a)
    print_report(result)
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
