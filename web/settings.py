"""Configuration: environment variables only (12-factor), read once into a frozen Settings."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from models.db import DEFAULT_DATABASE_URL, connection_config, default_database_url, is_sqlite
from resolvers.images.cache import DEFAULT_MEMORY_MB
from resolvers.images.store import StoreUrlError, parse_store_url
from resolvers.redisconn import check_url


class ConfigError(Exception):
    """A missing or malformed setting; the CLI prints it and exits with status 2."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 0 or 1, got {raw!r}")


def _int(
    env: Mapping[str, str], name: str, default: int, low: int = 0, high: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < low:
        raise ConfigError(f"{name} must be at least {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(f"{name} must be at most {high}, got {value}")
    return value


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 127.0.0.1` -> networks; raises ValueError naming a bad entry."""
    out = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {item!r}") from None
    return tuple(out)


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    try:
        return parse_networks(env.get(name, ""))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _dev_secret(data_dir: Path) -> str:
    """In development the secret is generated once and kept under ./data/ (never in git)."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def default_render_workers() -> int:
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    """Every setting with its default; `from_env` reads the environment over these defaults."""

    secret_key: str
    env: str = "development"
    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str = "http://127.0.0.1:8080"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_max_network_retries: int = 2  # Stripe calls retried on network errors and 5xx
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "OG Image API <no-reply@localhost>"
    smtp_starttls: bool = False
    admin_token: str | None = None
    session_idle_minutes: int = 60
    signups_per_hour: int = 10  # sign-ups per client address within an hour (0: no limit)
    allow_private_fetch: bool = False
    render_workers: int = field(default_factory=lambda: default_render_workers())
    render_nice: int = 10  # added to the render processes' niceness (0: the web worker's own)
    trusted_proxies: tuple[Network, ...] = ()
    image_cache_mb: int = DEFAULT_MEMORY_MB  # the in-process image cache's bound
    # The durable image store (docs/caching.md): file://DIR, s3://BUCKET/PREFIX or none.
    # `from_env` defaults to file://<OGAPI_DATA_DIR>/images; built directly (tests), none.
    image_store: str = "none"
    image_store_retention_days: int = 400
    s3_endpoint_url: str | None = None  # S3-compatible services other than AWS
    s3_region: str | None = None
    aws_access_key_id: str | None = None  # unset: botocore's usual chain (IAM role, ~/.aws)
    aws_secret_access_key: str | None = None
    log_format: str = "text"  # text | json (web/http/logs.py)
    reservation_timeout: int = 120  # seconds before an unsettled quota reservation is orphaned
    log_level: str = "INFO"

    @property
    def production(self) -> bool:
        return self.env == "production"

    def workers_problem(self, workers: int) -> str | None:
        """Why this configuration cannot run `workers` processes (None when it can)."""
        if workers > 1 and is_sqlite(self.database_url):
            return (
                f"{workers} workers need PostgreSQL and Redis: SQLite is a single-process "
                "database. Set DATABASE_URL=postgres://… and REDIS_URL=redis://…, "
                "or run one worker."
            )
        if workers > 1 and not self.redis_url:
            return f"{workers} workers need REDIS_URL for the shared cache and rate limiter"
        return None

    @property
    def stripe_webhook_secrets(self) -> tuple[str, ...]:
        """STRIPE_WEBHOOK_SECRET split on commas (several during a rotation)."""
        raw = self.stripe_webhook_secret or ""
        return tuple(s.strip() for s in raw.split(",") if s.strip())

    @property
    def billing_configured(self) -> bool:
        return bool(self.stripe_secret_key)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        mode = env.get("OGAPI_ENV", cls.env)
        if mode not in ("development", "production"):
            raise ConfigError(f"OGAPI_ENV must be development or production, got {mode!r}")
        production = mode == "production"
        data_dir = Path(env.get("OGAPI_DATA_DIR", "data"))
        secret = env.get("SECRET_KEY") or None
        base_url = env.get("BASE_URL") or None
        if production:
            missing = [n for n, v in (("SECRET_KEY", secret), ("BASE_URL", base_url)) if not v]
            if missing:
                raise ConfigError(f"OGAPI_ENV=production requires {' and '.join(missing)}")
            if len(secret or "") < 32:
                raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        if production and _bool(env, "OGAPI_ALLOW_PRIVATE_FETCH", False):
            raise ConfigError("OGAPI_ALLOW_PRIVATE_FETCH=1 is for tests only, never production")
        host = env.get("HOST", cls.host)
        port = _int(env, "PORT", cls.port, low=1)
        database_url = env.get("DATABASE_URL") or default_database_url(data_dir)
        try:
            connection_config(database_url)  # the scheme, sslmode and TLS files
        except (ValueError, OSError) as exc:
            raise ConfigError(str(exc)) from None
        redis_url = env.get("REDIS_URL") or None
        if redis_url is not None:
            try:
                check_url(redis_url)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        stripe_key = env.get("STRIPE_SECRET_KEY") or None
        stripe_base = env.get("STRIPE_API_BASE") or None
        if stripe_key:
            from resolvers.billing.stripe_api import StripeConfigError, check_config

            try:
                check_config(stripe_key, stripe_base)
            except StripeConfigError as exc:
                raise ConfigError(str(exc)) from None
        image_store = env.get("IMAGE_STORE") or f"file://{data_dir / 'images'}"
        try:
            parse_store_url(image_store)
        except StoreUrlError as exc:
            raise ConfigError(str(exc)) from None
        log_format = (env.get("LOG_FORMAT") or "text").lower()
        if log_format not in ("text", "json"):
            raise ConfigError(f"LOG_FORMAT must be text or json, got {log_format!r}")
        log_level = (env.get("LOG_LEVEL") or "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR: {log_level!r}")
        return cls(
            secret_key=secret or _dev_secret(data_dir),
            env=mode,
            host=host,
            port=port,
            base_url=(base_url or f"http://{host}:{port}").rstrip("/"),
            database_url=database_url,
            redis_url=redis_url,
            stripe_secret_key=stripe_key,
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_base=stripe_base,
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=_int(env, "SMTP_PORT", cls.smtp_port, low=1),
            smtp_username=env.get("SMTP_USERNAME") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_from=env.get("SMTP_FROM") or cls.smtp_from,
            smtp_starttls=_bool(env, "SMTP_STARTTLS", False),
            admin_token=env.get("ADMIN_TOKEN") or None,
            session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", cls.session_idle_minutes, low=1),
            signups_per_hour=_int(env, "OGAPI_SIGNUPS_PER_HOUR", cls.signups_per_hour),
            allow_private_fetch=_bool(env, "OGAPI_ALLOW_PRIVATE_FETCH", False),
            render_workers=_int(env, "OGAPI_RENDER_WORKERS", default_render_workers()),
            render_nice=_int(env, "OGAPI_RENDER_NICE", cls.render_nice, high=19),
            trusted_proxies=_networks(env, "OGAPI_TRUSTED_PROXIES"),
            image_cache_mb=_int(env, "IMAGE_CACHE_MB", cls.image_cache_mb),
            image_store=image_store,
            image_store_retention_days=_int(
                env, "IMAGE_STORE_RETENTION_DAYS", cls.image_store_retention_days, low=1
            ),
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
            s3_region=env.get("S3_REGION") or None,
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            log_format=log_format,
            reservation_timeout=_int(
                env, "OGAPI_RESERVATION_TIMEOUT", cls.reservation_timeout, low=1
            ),
            log_level=log_level,
        )
