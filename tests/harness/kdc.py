"""An MIT Kerberos KDC for the test session, on 127.0.0.1 and its own realm.

Everything lives in one folder: ``krb5.conf`` (what clients point KRB5_CONFIG at), ``kdc.conf``
(KRB5_KDC_PROFILE), the principal database, stash, ACL and the KDC log. Nothing under /etc is
read or written: every Kerberos command runs with ``env`` (see :meth:`Kdc.env`).

Host names are never canonicalised (``rdns = false``, ``dns_canonicalize_hostname = false``), so
a service principal is exactly ``service/<the host name the client used>@REALM``; the tests use
``localhost`` for GSSAPI. Ticket lifetimes may be as short as a few seconds, and tickets may be
renewable (realm ``max_renewable_life`` is a week), so renewal and expiry can be tested.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .net import free_port, wait_for_port

SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join(SBIN))
    if not found:
        raise RuntimeError(f"{name} not found: install krb5-kdc, krb5-admin-server and krb5-user")
    return found


class Kdc:
    """A running krb5kdc. Use :meth:`start` (or the ``kdc`` fixture) and :meth:`stop`."""

    def __init__(self, folder: Path, realm: str = "TINYRUN.TEST") -> None:
        self.folder = folder
        self.realm = realm
        self.port = free_port(udp_too=True)
        self.krb5_conf = folder / "krb5.conf"
        self.kdc_conf = folder / "kdc.conf"
        self.log_file = folder / "kdc.log"
        self._proc: subprocess.Popen[bytes] | None = None

    # -- configuration ---------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """An environment for Kerberos commands: this realm's config only, no default ccache."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "KRB5_CONFIG": str(self.krb5_conf),
            "KRB5_KDC_PROFILE": str(self.kdc_conf),
            "KRB5CCNAME": f"FILE:{self.folder / 'unused-default-ccache'}",
            "KRB5RCACHETYPE": "none",
        }
        return env

    def _write_config(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        realm, port = self.realm, self.port
        self.krb5_conf.write_text(
            "[libdefaults]\n"
            f"    default_realm = {realm}\n"
            "    dns_lookup_realm = false\n"
            "    dns_lookup_kdc = false\n"
            "    rdns = false\n"
            "    dns_canonicalize_hostname = false\n"
            "    ignore_acceptor_hostname = false\n"
            "    forwardable = true\n"
            "    udp_preference_limit = 1\n"
            "    ticket_lifetime = 10h\n"
            "\n[realms]\n"
            f"    {realm} = {{\n"
            f"        kdc = 127.0.0.1:{port}\n"
            "    }\n"
            "\n[domain_realm]\n"
            f"    localhost = {realm}\n"
            f"    127.0.0.1 = {realm}\n"
        )
        self.krb5_conf.chmod(0o644)
        self.kdc_conf.write_text(
            "[kdcdefaults]\n"
            f"    kdc_listen = 127.0.0.1:{port}\n"
            f"    kdc_tcp_listen = 127.0.0.1:{port}\n"
            "\n[realms]\n"
            f"    {realm} = {{\n"
            f"        database_name = {self.folder / 'principal'}\n"
            f"        key_stash_file = {self.folder / 'stash'}\n"
            f"        acl_file = {self.folder / 'kadm5.acl'}\n"
            f"        kdc_listen = 127.0.0.1:{port}\n"
            f"        kdc_tcp_listen = 127.0.0.1:{port}\n"
            "        max_life = 1d\n"
            "        max_renewable_life = 7d\n"
            "        master_key_type = aes256-cts-hmac-sha1-96\n"
            "        supported_enctypes = aes256-cts-hmac-sha1-96:normal "
            "aes128-cts-hmac-sha1-96:normal\n"
            "    }\n"
            "\n[logging]\n"
            f"    kdc = FILE:{self.log_file}\n"
            f"    default = FILE:{self.log_file}\n"
        )
        (self.folder / "kadm5.acl").write_text(f"*/admin@{realm} *\n")

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Kdc:
        """Create the realm database and start krb5kdc in the foreground of a child process."""
        self._write_config()
        master = secrets.token_hex(16)
        self._run([_tool("kdb5_util"), "create", "-s", "-r", self.realm, "-P", master])
        self._proc = subprocess.Popen(
            [_tool("krb5kdc"), "-n", "-r", self.realm],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "krb5kdc.stderr", "wb"),  # noqa: SIM115
            start_new_session=True,
        )
        try:
            wait_for_port("127.0.0.1", self.port, timeout=30)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"krb5kdc did not start: {self.diagnostics()}") from None
        return self

    def stop(self) -> None:
        """Stop krb5kdc (SIGTERM, then SIGKILL after 5 s)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def diagnostics(self) -> str:
        """The tail of the KDC's logs, for error messages."""
        parts = []
        for name in ("krb5kdc.stderr", "kdc.log"):
            path = self.folder / name
            if path.exists():
                parts.append(f"--- {name}\n" + path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    # -- administration --------------------------------------------------------------------

    def _run(self, argv: list[str], stdin: str | None = None) -> str:
        proc = subprocess.run(argv, env=self.env(), input=stdin, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv[:2])} failed ({proc.returncode}): {proc.stderr.strip()}"
            )
        return proc.stdout

    def kadmin(self, query: str) -> str:
        """Run one kadmin.local query against this realm's database."""
        return self._run([_tool("kadmin.local"), "-r", self.realm, "-q", query])

    def principal(self, name: str) -> str:
        """NAME qualified with this realm unless it already names one."""
        return name if "@" in name else f"{name}@{self.realm}"

    def add_principal(self, name: str, password: str | None = None) -> str:
        """Create principal NAME (random key when no password). Returns the full name."""
        full = self.principal(name)
        if password is None:
            self.kadmin(f"addprinc -randkey {full}")
        else:
            if '"' in password:
                raise ValueError("test passwords must not contain a double quote")
            self.kadmin(f'addprinc -pw "{password}" {full}')
        return full

    def keytab(self, principal: str, path: Path) -> Path:
        """Add PRINCIPAL's current keys to the keytab at PATH (keys are not changed)."""
        self.kadmin(f"ktadd -k {path} -norandkey {self.principal(principal)}")
        return path

    def kinit(
        self,
        principal: str,
        ccache: Path | str,
        password: str | None = None,
        keytab: Path | None = None,
        lifetime: str = "10m",
        renewable: str | None = None,
    ) -> str:
        """Get a TGT for PRINCIPAL into CCACHE (a path or a TYPE:residual name).

        Uses a password (fed on stdin) or a keytab. LIFETIME and RENEWABLE use kinit's
        duration syntax ("30s", "1m", "10h"). Returns the ccache name (``FILE:...``).
        """
        name = str(ccache)
        if ":" not in name:
            name = f"FILE:{name}"
        argv = [_tool("kinit"), "-c", name, "-l", lifetime]
        if renewable:
            argv += ["-r", renewable]
        if keytab is not None:
            argv += ["-k", "-t", str(keytab)]
        elif password is None:
            raise ValueError("kinit needs a password or a keytab")
        argv.append(self.principal(principal))
        self._run(argv, stdin=None if keytab is not None else password + "\n")
        return name

    def expired_ccache(self, principal: str, ccache: Path, password: str) -> str:
        """A ccache holding a TGT for PRINCIPAL that has already expired."""
        name = self.kinit(principal, ccache, password=password, lifetime="2s")
        time.sleep(3)
        return name

    def klist(self, ccache: str) -> str:
        """klist's output for CCACHE (raises when the cache is empty or unreadable)."""
        return self._run([_tool("klist"), "-c", ccache])


@dataclass(frozen=True)
class KerberosUser:
    """A Kerberos client identity: principal, password, keytab and a valid ticket cache."""

    principal: str
    password: str
    keytab: Path
    ccache_path: Path
    krb5_conf: Path

    @property
    def ccache(self) -> str:
        """The ticket cache as a KRB5CCNAME value."""
        return f"FILE:{self.ccache_path}"
