"""Kerberos logins (LOGIN7 with an SSPI blob, 2.2.6.4): FreeTDS and Microsoft's driver send a raw
krb5 GSSAPI or SPNEGO token; python-gssapi accepts it with the server's keytab. The reply token
goes out as its own SSPI message (Microsoft's driver hangs otherwise); further legs arrive as
SSPI packets (0x11). The session then runs as the PostgreSQL role named like the principal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import gssapi

from . import packets as pk
from . import tokens as tk

if TYPE_CHECKING:
    from .login import Login7
    from .session import Session


class Acceptor:
    """Accepts Kerberos logins for the service principals in KEYTAB."""

    def __init__(self, keytab: Path) -> None:
        self.keytab = keytab
        self.logins: list[str] = []  # principals that logged in, for tests

    def login(self, session: Session, request: Login7) -> bool:
        try:
            creds = gssapi.Credentials(
                usage="accept", store={"keytab": str(self.keytab)}
            )
            context = gssapi.SecurityContext(creds=creds, usage="accept")
            token = request.sspi
            while True:
                reply = context.step(token)
                if reply:
                    session.reply(tk.sspi(reply))
                if context.complete:
                    break
                ptype, token = session.transport.read_message()
                if ptype != pk.SSPI:
                    return False
        except gssapi.exceptions.GSSError as exc:
            text = f"Login failed. The login is from an untrusted domain: {exc.gen_message()}"
            session.reply(tk.message(18452, 14, text) + tk.done(tk.DONE_ERROR))
            return False
        principal = str(context.initiator_name)
        self.logins.append(principal)
        role = principal.split("@", 1)[0]
        return session.open_as(
            role, request.database or session.server.default_database
        )
