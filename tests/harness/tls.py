"""A throwaway certificate authority for TLS tests, made with the openssl command.

``TestCA(folder)`` creates ``ca.crt``/``ca.key``; ``issue_server(...)`` signs a server
certificate whose subject alternative names cover the names and addresses clients use.
Keys are EC P-256 so creating them takes milliseconds.
"""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {proc.stderr.strip()}")


@dataclass(frozen=True)
class ServerCert:
    """Paths of a signed server certificate and its private key (PEM)."""

    cert: Path
    key: Path


class TestCA:
    """A self-signed CA in FOLDER; ``cert`` is the file clients pass as sslrootcert."""

    __test__ = False  # not a pytest test class

    def __init__(self, folder: Path, name: str = "tinyrun test CA") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.cert = folder / "ca.crt"
        self.key = folder / "ca.key"
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(self.key),
            "-out",
            str(self.cert),
            "-days",
            "3",
            "-subj",
            f"/CN={name}",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            cwd=folder,
        )
        self.cert.chmod(0o644)

    def issue_server(self, stem: str, names: list[str]) -> ServerCert:
        """Sign a server certificate for NAMES (DNS names or IP addresses); CN is names[0]."""
        key = self.folder / f"{stem}.key"
        csr = self.folder / f"{stem}.csr"
        cert = self.folder / f"{stem}.crt"
        ext = self.folder / f"{stem}.ext"
        sans = []
        for name in names:
            try:
                ipaddress.ip_address(name)
                sans.append(f"IP:{name}")
            except ValueError:
                sans.append(f"DNS:{name}")
        ext.write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            f"subjectAltName={','.join(sans)}\n"
        )
        _openssl(
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(csr),
            "-subj",
            f"/CN={names[0]}",
            cwd=self.folder,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(self.cert),
            "-CAkey",
            str(self.key),
            "-CAcreateserial",
            "-out",
            str(cert),
            "-days",
            "3",
            "-extfile",
            str(ext),
            cwd=self.folder,
        )
        key.chmod(0o600)
        return ServerCert(cert=cert, key=key)
