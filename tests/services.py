"""PostgreSQL and Redis for tests, started on 127.0.0.1 on free ports in a temp dir.

The project's test command installs the Debian packages (postgresql, redis-server); these
helpers start private instances (never the system services) and stop them at session end.
A test that needs one is skipped, naming the missing binary, only when it is not installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        time.sleep(0.05)
    return False


async def wait_http_ok(url: str, seconds: float = 60, what: str = "server") -> None:
    """Poll `url` (e.g. a server's /health) until it answers 200; RuntimeError after
    `seconds` (tests and benchmarks that start `ogapi serve`)."""
    import asyncio

    import aiohttp

    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start ({url})")
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def serving(envs: list[dict[str, str]], what: str = "server") -> AsyncIterator[list[str]]:
    """One `ogapi serve` process per environment of `envs`, each on a free port (as hosts or
    workers behind a load balancer), started from the repository; yields their base URLs once
    each answers /health, and stops them (killed after 10 s) when done."""
    import asyncio
    import sys

    ports, procs = [free_port() for _ in envs], []
    try:
        for port, env in zip(ports, envs, strict=True):
            command = ("-m", "web.cli.main", "serve", "--port", str(port))
            quiet = asyncio.subprocess.DEVNULL
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable, *command, cwd=ROOT, env=env, stdout=quiet, stderr=quiet
                )
            )
        for port in ports:
            await wait_http_ok(f"http://127.0.0.1:{port}/health", 30, what)
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    runner = shutil.which("runuser")
    return (
        [runner, "-u", "postgres", "--", *cmd]
        if runner
        else ["su", "postgres", "-c", " ".join(cmd)]
    )


@contextlib.contextmanager
def postgres_server(tls: bool = False) -> Iterator[str]:
    """Yields the URL of a fresh database `ogapi` (user `postgres`, trust auth). With `tls`,
    the server also speaks TLS with a self-signed certificate for 127.0.0.1, kept as
    `<data>/server.crt` (see `postgres_cert`)."""
    bindir = postgres_bin()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL binaries not found (/usr/lib/postgresql/*/bin)")
    tmp = Path(tempfile.mkdtemp(prefix="ogapi-pg-"))
    data = tmp / "data"
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        tmp.chmod(0o700)
    port = free_port()
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off -c max_connections=200"
    if tls:
        cert, key = self_signed(data)
        cert.rename(data / "server.crt")
        key.rename(data / "server.key")
        for f in (data / "server.crt", data / "server.key"):
            f.chmod(0o600)
            if os.geteuid() == 0:
                shutil.chown(f, "postgres", "postgres")
        opts += " -c ssl=on"
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(tmp / "log"),
                "-w",
                "-o",
                opts,
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        _createdb(port)
        _CERTS[port] = data / "server.crt"
        _PG_CTL[port] = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w",
                         "-o", opts]  # fmt: skip
        yield f"postgres://postgres@127.0.0.1:{port}/ogapi"
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(tmp, ignore_errors=True)


_CERTS: dict[int, Path] = {}
_PG_CTL: dict[int, list[str]] = {}


def pg_ctl(url: str, action: str, *args: str) -> None:
    """`pg_ctl stop -m fast` / `start` on a `postgres_server()`, by its URL (fault tests)."""
    from urllib.parse import urlsplit

    cmd = [*_PG_CTL[urlsplit(url).port or 5432], action, *args]
    subprocess.run(_as_postgres(cmd), check=True, capture_output=True)


def postgres_cert(url: str) -> Path:
    """The certificate of a `postgres_server(tls=True)`, by its URL."""
    from urllib.parse import urlsplit

    return _CERTS[urlsplit(url).port or 5432]


def run_in_thread(coro_fn, *args):
    """Run a coroutine function to completion on its own loop (safe inside a running loop)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn(*args))).result()


def _createdb(port: int) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port, user="postgres", database="postgres"
        )
        try:
            await conn.execute("CREATE DATABASE ogapi")
        finally:
            await conn.close()

    run_in_thread(run)


async def reset_postgres(url: str) -> None:
    """Empty every table of the migrated database (between tests)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://"))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT LIKE 'tortoise%'"
        )
        names = ", ".join(f'"{t["tablename"]}"' for t in tables)
        if names:
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files), made with `cryptography`."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class RedisProcess:
    """A private redis-server on 127.0.0.1 that a test can stop and start again (same port)."""

    def __init__(self, *, tls: bool = False, users: dict[str, str] | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server not found on PATH")
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="ogapi-redis-"))
        args = [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", str(self.tmp)]  # fmt: skip
        self.cert: Path | None = None
        if tls:
            self.cert, key = self_signed(self.tmp)
            args += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file",
                     str(self.cert), "--tls-key-file", str(key), "--tls-ca-cert-file",
                     str(self.cert), "--tls-auth-clients", "no"]  # fmt: skip
        else:
            args += ["--port", str(self.port)]
        for user, password in (users or {}).items():
            args += ["--user", user, "on", f">{password}", "~*", "&*", "+@all"]
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if not _wait_port(self.port, 10):
            raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL: as if the host died (no goodbye to the clients)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
        shutil.rmtree(self.tmp, ignore_errors=True)


def flush_redis(url: str) -> None:
    """Empty the Redis database at `url` (between tests on the PostgreSQL + Redis stack)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    server = RedisProcess()
    try:
        yield server.url
    finally:
        server.close()


class MotoS3:
    """moto's S3-compatible server on 127.0.0.1 (a thread of this process); `stop` and
    `start` again on the same port for outages (its data survives, as a real store's does)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
