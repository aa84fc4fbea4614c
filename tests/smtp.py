"""A real SMTP server for the tests (aiosmtpd): STARTTLS with a test-time certificate, required
before anything else, and AUTH with one account; it records every accepted message."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.security.certs import Pki, make_pki
from tests.services import free_port


@dataclass
class Received:
    """One accepted message: envelope, parsed content, and whether it came over TLS."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool


@dataclass
class Inbox:
    """What the server accepted, and the refused attempts (bad account, no TLS)."""

    username: str
    password: str
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        if not ok:
            with self.lock:
                self.refused.append(f"auth {mechanism}")
        return AuthResult(success=ok)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd hook name
        assert isinstance(envelope.content, bytes)  # DATA is taken as bytes (decode_data off)
        assert envelope.mail_from is not None  # DATA comes after MAIL FROM
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    parsed,
                    session.ssl is not None,
                )
            )
        return "250 OK"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    pki: Pki
    inbox: Inbox


@contextmanager
def smtp_server(
    folder: Path, username: str, password: str, *, starttls: bool = True
) -> Iterator[SmtpServer]:
    """Run the server on a free port of 127.0.0.1 (its certificate names it, and localhost).

    ``starttls=False``: a server that offers no STARTTLS and takes AUTH in plain text (what the
    service must refuse to talk to)."""
    pki = make_pki(folder / "smtp-pki")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.cert, pki.key)
    inbox = Inbox(username, password)
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        tls_context=context if starttls else None,
        require_starttls=starttls,
        authenticator=inbox.authenticate,
        auth_require_tls=starttls,
        auth_required=starttls,
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, pki, inbox)
    finally:
        controller.stop()
