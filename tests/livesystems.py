"""Real systems the request-fulfilment tests run against, started once per pytest session (tests/conftest.py):

- OpenLDAP (Debian's ``slapd`` and ``ldap-utils``) with a slapd.conf in a temporary directory, on a loopback
  port, with the mdb backend and the inetOrgPerson schema;
- ``scim2-server`` (PyPI), with a bearer token and a tenant per test (``/TENANT/v2``).

Each is skipped with a reason where it is not installed, unless ACTIONDESK_REQUIRE_SLAPD=1 /
ACTIONDESK_REQUIRE_SCIM=1 (CI), which fail instead.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SUFFIX = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{SUFFIX}"
SLAPD_CANDIDATES = ("/usr/sbin/slapd", "slapd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: object, what: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 30.0) -> None:
    """Poll the server's own readiness (never a guessed delay); fail with its log if it dies or never gets there."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if check():  # type: ignore[operator]
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} never became ready: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class LiveLdap:
    url: str
    admin_dn: str
    password: str
    proc: subprocess.Popen[bytes]

    def ldapadd(self, ldif: str) -> None:
        done = subprocess.run(
            ["ldapadd", "-x", "-H", self.url, "-D", self.admin_dn, "-w", self.password],
            input=ldif.encode(),
            capture_output=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ldapadd failed: {done.stderr.decode()[-500:]}")

    def ldapsearch(self, base: str, query: str, *attributes: str) -> str:
        done = subprocess.run(
            [
                "ldapsearch",
                "-x",
                "-LLL",
                "-H",
                self.url,
                "-D",
                self.admin_dn,
                "-w",
                self.password,
                "-b",
                base,
                query,
                *list(attributes),
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if done.returncode not in (0, 32):
            raise RuntimeError(f"ldapsearch failed: {done.stderr.decode()[-500:]}")
        return done.stdout.decode()

    def tree(self, people: dict[str, tuple[str, ...]]) -> tuple[str, str]:
        """A fresh subtree for one test: ``ou=<t>`` with ``ou=people`` and ``ou=groups``; ``people`` maps each
        group to its first members (a groupOfNames needs one). Returns (groups base, user DN template)."""
        tag = f"t{secrets.token_hex(4)}"
        base = f"ou={tag},{SUFFIX}"
        entries = [f"dn: {base}\nobjectClass: organizationalUnit\nou: {tag}\n"]
        entries.append(f"dn: ou=people,{base}\nobjectClass: organizationalUnit\nou: people\n")
        entries.append(f"dn: ou=groups,{base}\nobjectClass: organizationalUnit\nou: groups\n")
        users = sorted({u for members in people.values() for u in members})
        for user in users:
            entries.append(
                f"dn: uid={user},ou=people,{base}\nobjectClass: inetOrgPerson\nuid: {user}\ncn: {user}\nsn: {user}\n"
            )
        for group, members in people.items():
            lines = "".join(f"member: uid={m},ou=people,{base}\n" for m in members)
            entries.append(f"dn: cn={group},ou=groups,{base}\nobjectClass: groupOfNames\ncn: {group}\n{lines}")
        self.ldapadd("\n".join(entries))
        return f"ou=groups,{base}", f"uid={{user}},ou=people,{base}"


def slapd_binary() -> str | None:
    for candidate in SLAPD_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def start_slapd(home: Path) -> LiveLdap:
    binary = slapd_binary()
    if binary is None or shutil.which("ldapadd") is None:
        raise FileNotFoundError("slapd and ldap-utils are not installed (apt-get install slapd ldap-utils)")
    password = secrets.token_urlsafe(12)
    (home / "data").mkdir()
    config = home / "slapd.conf"
    config.write_text(
        "include /etc/ldap/schema/core.schema\n"
        "include /etc/ldap/schema/cosine.schema\n"
        "include /etc/ldap/schema/inetorgperson.schema\n"
        "modulepath /usr/lib/ldap\n"
        "moduleload back_mdb\n"
        f"pidfile {home / 'slapd.pid'}\n"
        "database mdb\n"
        "maxsize 104857600\n"
        f'suffix "{SUFFIX}"\n'
        f'rootdn "{ADMIN_DN}"\n'
        f"rootpw {password}\n"
        f"directory {home / 'data'}\n"
    )
    log = home / "slapd.log"
    for _ in range(3):  # a port taken between picking and binding: try another
        port = free_port()
        url = f"ldap://127.0.0.1:{port}"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [binary, "-f", str(config), "-h", f"{url}/", "-d", "0"], stdout=out, stderr=subprocess.STDOUT
            )

        def bound(port: int = port) -> bool:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True

        try:
            wait_until(bound, "slapd", proc, log)
        except RuntimeError:
            stop(proc)
            continue
        live = LiveLdap(url=url, admin_dn=ADMIN_DN, password=password, proc=proc)
        live.ldapadd(f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n")
        return live
    raise RuntimeError(f"slapd did not start: {log.read_text()[-2000:]}")


@dataclass
class LiveScim:
    root: str  # http://127.0.0.1:PORT
    token: str
    proc: subprocess.Popen[bytes]

    def tenant(self) -> str:
        """The base URL of a fresh tenant (its own users): ``…/<tenant>/v2``."""
        return f"{self.root}/t{secrets.token_hex(4)}/v2"


def start_scim(home: Path) -> LiveScim:
    script = Path(sys.executable).parent / "scim2-server"
    if not script.exists():
        raise FileNotFoundError("scim2-server is not installed (pip install scim2-server)")
    token = secrets.token_urlsafe(16)
    log = home / "scim.log"
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        port = free_port()
        root = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    str(script),
                    "--hostname",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--dynamic-tenants",
                    f"--bearer-token={token}",  # attached: a token may start with "-", which argparse reads as a flag
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(
                lambda root=root: (
                    httpx.get(f"{root}/ready/v2/ServiceProviderConfig", headers=headers, timeout=2).status_code == 200
                ),
                "scim2-server",
                proc,
                log,
            )
        except RuntimeError:
            stop(proc)
            continue
        return LiveScim(root=root, token=token, proc=proc)
    raise RuntimeError(f"scim2-server did not start: {log.read_text()[-2000:]}")
