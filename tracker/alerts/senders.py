"""Deliver rendered mails: the AlertSender protocol, stdlib SMTP and an in-memory sender for tests.

Scrapy's ``MailSender`` is deprecated (Scrapy 2.15), so delivery is plain :mod:`smtplib`.
Every failure becomes an :class:`AlertDeliveryError`; its ``transport`` flag says whether the
server itself is unusable (refused, timeout, TLS, authentication: stop this run's dispatch) or
only this message was refused (the next message may still go through).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol

from tracker.errors import TrackerError

if TYPE_CHECKING:
    from tracker.config import SmtpConfig

logger = logging.getLogger(__name__)


class AlertDeliveryError(TrackerError):
    """A mail could not be delivered; ``transport`` is True when no mail can go out right now."""

    exit_code = 1

    def __init__(self, message: str, *, transport: bool = True) -> None:
        super().__init__(message)
        self.transport = transport


class AlertSender(Protocol):
    """Delivers one message or raises AlertDeliveryError."""

    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """Send through an SMTP server: plain, STARTTLS (never falling back to plain) or SSL.

    The password comes from the environment variable named by ``config.password_env`` (read at
    send time, so a missing variable is an error of the send, recorded in the outbox) unless
    given explicitly. ``ssl_context`` defaults to the system's trusted CAs with host checking.
    """

    def __init__(
        self,
        config: SmtpConfig,
        *,
        password: str | None = None,
        environ: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self._password = password
        self._environ = environ
        self._ssl_context = ssl_context

    @property
    def address(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _password_or_raise(self) -> str:
        if self._password is not None:
            return self._password
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(self.config.password_env)
        if not value:
            raise AlertDeliveryError(
                f"SMTP username {self.config.username!r} is set but the password variable "
                f"{self.config.password_env} (alerts.smtp.password_env) is empty or unset"
            )
        return value

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.security == "ssl":
            return smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=self._context()
            )
        return smtplib.SMTP(config.host, config.port, timeout=config.timeout)

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to the addresses in its To header, or raise AlertDeliveryError."""
        config = self.config
        password = self._password_or_raise() if config.username else None
        delivered = False
        client: smtplib.SMTP | None = None
        try:
            client = self._connect()
            client.ehlo()
            if config.security == "starttls":
                # Raises SMTPNotSupportedError when the server does not offer STARTTLS: we
                # never continue in plain text when TLS was asked for.
                client.starttls(context=self._context())
                client.ehlo()
            if config.username:
                if config.security == "none":
                    logger.warning("Sending the SMTP password to %s without TLS", self.address)
                client.login(config.username, password or "")
            refused = client.send_message(message)
            if refused:
                raise AlertDeliveryError(
                    f"{self.address} refused recipients: {_describe_refused(refused)}",
                    transport=False,
                )
            delivered = True
        except AlertDeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise AlertDeliveryError(
                f"SMTP authentication failed at {self.address} for {config.username!r}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise AlertDeliveryError(
                f"{self.address} refused recipients: {_describe_refused(exc.recipients)}",
                transport=False,
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise AlertDeliveryError(
                f"{self.address} refused the sender {exc.sender!r}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPDataError as exc:
            raise AlertDeliveryError(
                f"{self.address} rejected the message: {exc.smtp_code} {_text(exc.smtp_error)}",
                transport=False,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise AlertDeliveryError(f"{self.address} does not support {exc}") from None
        except ConnectionRefusedError:
            raise AlertDeliveryError(f"connection to SMTP server {self.address} refused") from None
        except TimeoutError:
            raise AlertDeliveryError(
                f"SMTP server {self.address} timed out after {config.timeout:g} s"
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib reports a timeout while reading a reply as a disconnection.
            if isinstance(exc.__context__, TimeoutError):
                raise AlertDeliveryError(
                    f"SMTP server {self.address} timed out after {config.timeout:g} s"
                ) from None
            raise AlertDeliveryError(f"SMTP server {self.address} disconnected: {exc}") from None
        except ssl.SSLError as exc:
            raise AlertDeliveryError(f"TLS with SMTP server {self.address} failed: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise AlertDeliveryError(
                f"SMTP server {self.address} failed: {type(exc).__name__}: {exc}"
            ) from None
        finally:
            if client is not None:
                _close(client, delivered)


def _close(client: smtplib.SMTP, delivered: bool) -> None:
    # A failing QUIT after the server accepted the message must not turn into a failed send
    # (the row would be retried and the mail delivered twice).
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        if delivered:
            logger.debug("QUIT failed after delivery; ignored")
        client.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe_refused(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{rcpt} ({code} {_text(text)})" for rcpt, (code, text) in refused.items())


class MemorySender:
    """Keeps sent messages in ``sent``; fails the next ``fail_times`` sends (tests, dry runs)."""

    def __init__(
        self, fail_times: int = 0, *, error: str = "simulated failure", transport: bool = True
    ) -> None:
        self.sent: list[EmailMessage] = []
        self.attempts = 0
        self.fail_times = fail_times
        self.error = error
        self.transport = transport

    def send(self, message: EmailMessage) -> None:
        self.attempts += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            raise AlertDeliveryError(self.error, transport=self.transport)
        self.sent.append(message)
