"""Store credentials: where they come from, where they may go, and that no message ever shows them.

* **Sources.** The environment (`HAVEN_STORE_USER`, `HAVEN_STORE_PASSWORD`) or a file (`--password-file`),
  never a command-line argument (anyone on the machine reads those in `ps`). A URL's userinfo
  (`http://user:secret@host/...`) is taken as the account, and removed from the URL before it is used or shown.
* **Transport.** HTTP basic auth sends the password as it is: over plain http only to a loopback host,
  unless the operator says otherwise explicitly (`--allow-plain-http-auth`).
* **No guessing.** No account is ever assumed (Virtuoso's factory `dba`/`dba` included).
* **Messages.** :func:`redact` takes the userinfo out of any text, for the messages that quote a URL the
  operator typed.
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

PASSWORD_ENV = "HAVEN_STORE_PASSWORD"
USER_ENV = "HAVEN_STORE_USER"
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/@\s?#]*@")


class CredentialsError(ValueError):
    """Credentials that cannot be used as given; the message says what to do instead."""


@dataclass(frozen=True)
class Account:
    user: str
    password: str


def redact(text: str) -> str:
    """`text` with the userinfo of every URL in it replaced by `***`."""
    return _USERINFO.sub(r"\1***@", text)


def split_userinfo(url: str) -> tuple[str, Account | None]:
    """(`url` without its userinfo, the account it named or None)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), Account(unquote(user), unquote(password))


def read_password_file(path: Path | str) -> str:
    """The first line of `path` (a secret file as Docker and systemd provide them)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsError(f"cannot read the password file {path}: {exc.strerror}") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise CredentialsError(f"the password file {path} is empty")
    return lines[0]


def account(user: str | None, password_file: Path | str | None, urls: list[str | None]) -> Account | None:
    """The account to write with: `user` with the password of `password_file` or else `HAVEN_STORE_PASSWORD`;
    failing a user, `HAVEN_STORE_USER`, then the userinfo of one of `urls`; None when nothing names one."""
    user = user or os.environ.get(USER_ENV)
    if user:
        password = read_password_file(password_file) if password_file else os.environ.get(PASSWORD_ENV, "")
        return Account(user, password)
    if password_file:
        raise CredentialsError(f"a password file without an account: give --user (or {USER_ENV})")
    for url in urls:
        if url:
            _, found = split_userinfo(url)
            if found is not None:
                return found
    return None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_basic_transport(urls: list[str], allow_plain_http: bool) -> None:
    """Refuse to send a basic-auth password over plain http to a host other than this machine."""
    if allow_plain_http:
        return
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise CredentialsError(
                f"basic auth would send the store password unencrypted to {parts.hostname} over plain http: use "
                "an https URL or --auth digest, or pass --allow-plain-http-auth if the network is private")
