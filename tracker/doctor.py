"""`tracker doctor`: check config, database, SMTP and sources, and say what is wrong."""

from __future__ import annotations

import os
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from tracker.config import Config, NaverApiSource
from tracker.db import Database, current_revision, head_revision


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_database(config: Config) -> Check:
    """Open the database and compare its schema revision with the newest."""
    try:
        database = Database(config.database_url, migrate=False)
        revision = current_revision(database.engine)
        database.dispose()
    except Exception as exc:  # any driver error is the answer here
        return Check("database", False, f"cannot connect: {exc}".splitlines()[0])
    head = head_revision()
    if revision is None:
        return Check("database", True, "reachable and empty: the schema is created on first use")
    if revision != head:
        return Check(
            "database", False, f"schema at {revision}, newest {head}: run `tracker db upgrade`"
        )
    return Check("database", True, f"reachable, schema {revision}")


def check_smtp(config: Config) -> Check | None:
    """Connect to the SMTP server (and log in) without sending; None when alerts are off."""
    alerts = config.alerts
    if not alerts.enabled or not (alerts.to or config.health.operator):
        return None
    smtp = alerts.smtp
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            client.ehlo()
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if smtp.username:
                password = os.environ.get(smtp.password_env)
                if password is None:
                    return Check("smtp", False, f"{smtp.password_env} is not set")
                client.login(smtp.username, password)
    except (OSError, smtplib.SMTPException) as exc:
        return Check("smtp", False, f"{smtp.host}:{smtp.port}: {exc or type(exc).__name__}")
    return Check("smtp", True, f"{smtp.host}:{smtp.port} answers ({smtp.security})")


def check_sources(config: Config, timeout: float = 10.0) -> Iterator[Check]:
    """Fetch each enabled source's listing URL once (honouring proxy variables)."""
    for source in config.sources:
        if not source.enabled:
            continue
        name = f"source {source.name}"
        if isinstance(source, NaverApiSource):
            client_id = os.environ.get(source.client_id_env)
            client_secret = os.environ.get(source.client_secret_env)
            if not client_id or not client_secret:
                yield Check(name, True, "skipped: Naver API keys not set")
                continue
            url = f"{source.endpoint}?query=test&display=1"
            headers = {"X-Naver-Client-Id": client_id, "X-Naver-Client-Secret": client_secret}
        else:
            url, headers = source.url, {}
        request = urllib.request.Request(
            url, headers={"User-Agent": config.crawl.user_agent, **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                size = len(response.read(200_000))
                yield Check(name, True, f"HTTP {response.status}, {size} bytes")
        except urllib.error.HTTPError as exc:
            yield Check(name, False, f"{url}: HTTP {exc.code}")
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            yield Check(name, False, f"{url}: {reason}")


def run_checks(config: Config, timeout: float = 10.0) -> list[Check]:
    """Return every check's result (the config itself was validated when it loaded)."""
    checks = [Check("config", True, f"{config.path} is valid"), check_database(config)]
    smtp = check_smtp(config)
    if smtp is not None:
        checks.append(smtp)
    checks.extend(check_sources(config, timeout))
    return checks
