"""Who is asking: a random client id in Flask's signed session cookie, so a browser session owns the jobs it
queued (and the runs they trained) without accounts. Only a digest of the id is ever written to the store.

The cookie is signed with ATTRACTORSCOPE_SECRET_KEY, or else with a random key created once in
``<store>/.jobs/.secret`` (mode 0600), which every worker and every restart on that store share.
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import session

__all__ = ["configure_sessions", "client_owner", "SESSION_DAYS"]

log = logging.getLogger(__name__)
SESSION_DAYS = 30
_KEY = "client"


def configure_sessions(server, secret_key: str | None, store: Path) -> None:
    if not secret_key:
        try:
            secret_key = _stored_secret(Path(store) / ".jobs" / ".secret")
        except OSError as err:  # a read-only store: no job can be queued there anyway
            log.warning("cannot keep a session key in the store (%s); using one for this process only", err)
            secret_key = secrets.token_hex(32)
    server.secret_key = secret_key
    server.config.update(SESSION_COOKIE_NAME="attractorscope_session", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=timedelta(days=SESSION_DAYS))


def _stored_secret(path: Path) -> str:
    """The key in ``path``, created atomically on first use (two workers starting at once agree on one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".secret.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # fails if another worker was first: then its key is the one
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def client_owner() -> str:
    """This browser session's owner tag for job records and bundles (a digest, never the cookie's id);
    the session cookie is created on first use."""
    client = session.get(_KEY)
    if not isinstance(client, str) or len(client) != 32:
        client = secrets.token_hex(16)
        session[_KEY] = client
        session.permanent = True
    return hashlib.sha256(client.encode()).hexdigest()[:24]
