"""The HTTP options of the clients (proxy=, trust_env=, http2=, verify=, cert=, limits=, http_client=) do what
the README says, over real sockets on 127.0.0.1: a recording forward proxy and a TLS front of the sandbox."""

from __future__ import annotations

import asyncio
import datetime
import http.client
import ipaddress
import ssl
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cadenya import APIConnectionError, AsyncCadenya, Cadenya
from tests.helpers import HTTPX2, NEEDS_HTTPX2
from tests.sandbox_support import ROOT, SandboxServer

httpx2 = HTTPX2

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "content-length"})


class RecordingProxy:
    """A forward proxy on 127.0.0.1 for plain http:// targets that records each request line it relays, and
    the client port it came from (one port per connection). `delay` holds each answer back, so that calls
    made at once overlap."""

    def __init__(self, delay: float = 0.0) -> None:
        self.seen: list[str] = []
        self.ports: set[int] = set()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def log_message(self, format: str, *args: Any) -> None:
                """Nothing on stderr."""

            def relay(self) -> None:
                target = urllib.parse.urlsplit(self.path)
                recorder.seen.append(f"{self.command} {self.path}")
                recorder.ports.add(self.client_address[1])
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP}
                upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
                try:
                    upstream.request(
                        self.command, target.path + (f"?{target.query}" * bool(target.query)), body, headers
                    )
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                time.sleep(recorder.delay)
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = relay

        self.delay = delay
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class Certificates:
    """A certificate authority made for the test, a server certificate for 127.0.0.1 and a client
    certificate, both signed by it, as PEM files in `directory`."""

    PASSWORD = "client-key-password"

    def __init__(self, directory: Path) -> None:
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cadenya test CA")])
        self.ca = (
            self._builder(ca_name, ca_name, self.ca_key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            )  # digital_signature, key_cert_sign, crl_sign
            # Python 3.13 verifies strictly (VERIFY_X509_STRICT): key identifiers are required.
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))
        self.server_cert, self.server_key = self._leaf(directory, "server", server=True)
        self.client_cert, self.client_key = self._leaf(directory, "client", server=False)
        key = serialization.load_pem_private_key(self.client_key.read_bytes(), password=None)
        self.client_key_encrypted = directory / "client-key-encrypted.pem"
        self.client_key_encrypted.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(self.PASSWORD.encode()),
            )
        )
        self.client_combined = directory / "client-combined.pem"
        self.client_combined.write_bytes(self.client_cert.read_bytes() + self.client_key.read_bytes())

    @staticmethod
    def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    def _leaf(self, directory: Path, name: str, *, server: bool) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"cadenya test {name}")])
        builder = (
            self._builder(subject, self.ca.subject, key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        else:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
        certificate = builder.sign(self.ca_key, hashes.SHA256())
        cert_file, key_file = directory / f"{name}.pem", directory / f"{name}-key.pem"
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_file, key_file


class TLSFront:
    """A TLS server on 127.0.0.1 that relays each connection, decrypted, to the sandbox: https:// in front of
    the plain-http sandbox. It presents the server certificate and asks every client for a certificate signed
    by the test CA (a client without one is refused during the handshake)."""

    def __init__(self, certificates: Certificates, upstream: str) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(certificates.server_cert, certificates.server_key)
        self.context.load_verify_locations(certificates.ca_file)
        self.context.verify_mode = ssl.CERT_REQUIRED
        target = urllib.parse.urlsplit(upstream)
        self._upstream = (target.hostname or "", target.port or 80)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.base_url = ""

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self._upstream), timeout=5)
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _start(self) -> int:
        self._server = await asyncio.start_server(
            self._connection, "127.0.0.1", 0, ssl=self.context, ssl_handshake_timeout=5
        )
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def __enter__(self) -> TLSFront:
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=5)
        self.base_url = f"https://127.0.0.1:{port}"
        return self

    def __exit__(self, *args: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for writer in self._writers:  # Server.close_clients() is new in Python 3.13
                writer.close()
            connections = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in connections:
                task.cancel()
            await asyncio.gather(*connections, return_exceptions=True)
            await asyncio.wait_for(self._server.wait_closed(), timeout=5)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    """A recording forward proxy on 127.0.0.1."""
    with RecordingProxy() as server:
        yield server


@pytest.fixture
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable of the machine running the tests applies."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A test CA with a server and a client certificate."""
    return Certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def tls_front(certificates: Certificates, sandbox: SandboxServer) -> Iterator[TLSFront]:
    """https:// in front of the sandbox, asking for a client certificate."""
    with TLSFront(certificates, sandbox.base_url) as front:
        yield front


def test_proxy_sends_the_calls_of_an_sdk_made_client_through_the_proxy(
    sandbox: SandboxServer, account: dict[str, str], proxy: RecordingProxy, no_proxy_environment: pytest.MonkeyPatch
) -> None:
    """Cadenya(proxy=...) sends each call through that proxy, and the call succeeds."""
    with Cadenya(base_url=sandbox.base_url, token=account["apiKey"], proxy=proxy.url) as client:
        assert client.account.get()._request_id
        assert isinstance(client.client.get_httpx_client(), httpx.Client)
    assert proxy.seen == [f"GET {sandbox.base_url}/v1/account"]


@NEEDS_HTTPX2
def test_an_httpx2_client_with_a_proxy_sends_the_calls_through_it(
    sandbox: SandboxServer, account: dict[str, str], proxy: RecordingProxy, no_proxy_environment: pytest.MonkeyPatch
) -> None:
    """An httpx2 client given with its own proxy carries the SDK's calls through that proxy."""
    with httpx2.Client(proxy=proxy.url) as http_client:
        client = Cadenya(base_url=sandbox.base_url, token=account["apiKey"], http_client=http_client)
        assert client.account.get()._request_id
    assert proxy.seen == [f"GET {sandbox.base_url}/v1/account"]


def test_http_proxy_in_the_environment_is_honoured(
    sandbox: SandboxServer, account: dict[str, str], proxy: RecordingProxy, no_proxy_environment: pytest.MonkeyPatch
) -> None:
    """With HTTP_PROXY set, a client the SDK makes sends through that proxy (trust_env defaults to True)."""
    no_proxy_environment.setenv("HTTP_PROXY", proxy.url)
    with Cadenya(base_url=sandbox.base_url, token=account["apiKey"]) as client:
        assert client.account.get()._request_id
    assert proxy.seen == [f"GET {sandbox.base_url}/v1/account"]


def test_trust_env_false_ignores_http_proxy(
    sandbox: SandboxServer, account: dict[str, str], proxy: RecordingProxy, no_proxy_environment: pytest.MonkeyPatch
) -> None:
    """With trust_env=False, HTTP_PROXY is ignored: the call goes straight to the API."""
    no_proxy_environment.setenv("HTTP_PROXY", proxy.url)
    with Cadenya(base_url=sandbox.base_url, token=account["apiKey"], trust_env=False) as client:
        assert client.account.get()._request_id
    assert proxy.seen == []


def test_http2_without_h2_is_a_configuration_error_naming_the_extra() -> None:
    """Where h2 cannot be imported, Cadenya(http2=True) is a ConfigurationError naming cadenya[http2]."""
    script = textwrap.dedent(
        """
        import sys

        class BlockH2:
            def find_spec(self, name, path=None, target=None):
                if name == "h2" or name.startswith("h2."):
                    raise ModuleNotFoundError(f"No module named {name!r}")
                return None

        sys.meta_path.insert(0, BlockH2())
        from cadenya import Cadenya, ConfigurationError

        try:
            Cadenya(base_url="http://127.0.0.1:9", token="cad_key_test", http2=True)
        except ConfigurationError as error:
            print("ConfigurationError:", error)
        else:
            print("no error")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ConfigurationError:") and "cadenya[http2]" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "cert",
    ["combined file", "(cert, key)", "(cert, key, password)"],
)
def test_verify_with_a_ca_bundle_and_cert_reach_an_https_api_asking_for_a_client_certificate(
    tls_front: TLSFront, account: dict[str, str], certificates: Certificates, cert: str
) -> None:
    """verify=<CA bundle file> trusts the test CA and cert= presents the client certificate, in each form."""
    forms: dict[str, Any] = {
        "combined file": str(certificates.client_combined),
        "(cert, key)": (str(certificates.client_cert), str(certificates.client_key)),
        "(cert, key, password)": (
            str(certificates.client_cert),
            str(certificates.client_key_encrypted),
            Certificates.PASSWORD,
        ),
    }
    with Cadenya(
        base_url=tls_front.base_url, token=account["apiKey"], verify=str(certificates.ca_file), cert=forms[cert]
    ) as client:
        assert client.account.get()._request_id


def test_without_the_ca_bundle_the_test_ca_is_not_trusted(
    tls_front: TLSFront, account: dict[str, str], certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default verify=True the server's certificate (of the test CA) is refused."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with (
        Cadenya(
            base_url=tls_front.base_url,
            token=account["apiKey"],
            cert=(str(certificates.client_cert), str(certificates.client_key)),
            max_retries=0,
        ) as client,
        pytest.raises(APIConnectionError),
    ):
        client.account.get()


def test_without_cert_the_server_asking_for_one_refuses_the_connection(
    tls_front: TLSFront, account: dict[str, str], certificates: Certificates
) -> None:
    """verify=<CA bundle> alone: the server that asks for a client certificate refuses the call."""
    with (
        Cadenya(
            base_url=tls_front.base_url, token=account["apiKey"], verify=str(certificates.ca_file), max_retries=0
        ) as client,
        pytest.raises(APIConnectionError),
    ):
        client.account.get()


def test_ssl_cert_file_in_the_environment_is_honoured(
    tls_front: TLSFront, account: dict[str, str], certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SSL_CERT_FILE naming the test CA, the default verify=True trusts it (trust_env defaults to True)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    with Cadenya(
        base_url=tls_front.base_url,
        token=account["apiKey"],
        cert=(str(certificates.client_cert), str(certificates.client_key)),
    ) as client:
        assert client.account.get()._request_id


def test_trust_env_false_ignores_ssl_cert_file(
    tls_front: TLSFront, account: dict[str, str], certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With trust_env=False, SSL_CERT_FILE naming the test CA is ignored: the server's certificate is refused."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    with (
        Cadenya(
            base_url=tls_front.base_url,
            token=account["apiKey"],
            cert=(str(certificates.client_cert), str(certificates.client_key)),
            trust_env=False,
            max_retries=0,
        ) as client,
        pytest.raises(APIConnectionError),
    ):
        client.account.get()


@NEEDS_HTTPX2
def test_an_httpx2_client_with_a_context_from_the_ca_bundle_reaches_the_https_api(
    tls_front: TLSFront, account: dict[str, str], certificates: Certificates
) -> None:
    """An httpx2 client given with an SSLContext of the CA bundle and client certificate makes the call."""
    context = ssl.create_default_context(cafile=str(certificates.ca_file))
    context.load_cert_chain(certificates.client_cert, certificates.client_key)
    with httpx2.Client(verify=context) as http_client:
        client = Cadenya(base_url=tls_front.base_url, token=account["apiKey"], http_client=http_client)
        assert client.account.get()._request_id


def _own_client(library: str, asynchronous: bool) -> Any:
    module: Any = {"httpx": httpx, "httpx2": httpx2}[library]
    return module.AsyncClient() if asynchronous else module.Client()


@pytest.mark.parametrize("library", ["httpx", pytest.param("httpx2", marks=NEEDS_HTTPX2)])
def test_a_given_sync_client_stays_open_after_the_with_block(
    sandbox: SandboxServer, account: dict[str, str], library: str
) -> None:
    """`with Cadenya(http_client=c):` leaves c open, and the SDK's calls still go through it afterwards."""
    http_client = _own_client(library, asynchronous=False)
    client = Cadenya(base_url=sandbox.base_url, token=account["apiKey"], http_client=http_client)
    with client:
        client.account.get()
    assert not http_client.is_closed
    assert client.account.get()._request_id
    http_client.close()


@pytest.mark.parametrize("library", ["httpx", pytest.param("httpx2", marks=NEEDS_HTTPX2)])
def test_a_given_sync_client_stays_open_after_close(
    sandbox: SandboxServer, account: dict[str, str], library: str
) -> None:
    """Cadenya(http_client=c).close() leaves c open."""
    http_client = _own_client(library, asynchronous=False)
    client = Cadenya(base_url=sandbox.base_url, token=account["apiKey"], http_client=http_client)
    client.account.get()
    client.close()
    assert not http_client.is_closed
    http_client.close()


@pytest.mark.parametrize("library", ["httpx", pytest.param("httpx2", marks=NEEDS_HTTPX2)])
def test_a_given_async_client_stays_open_after_the_async_with_block(
    sandbox: SandboxServer, account: dict[str, str], library: str
) -> None:
    """`async with AsyncCadenya(http_client=c):` leaves c open, and the SDK's calls still go through it."""

    async def run() -> None:
        http_client = _own_client(library, asynchronous=True)
        client = AsyncCadenya(base_url=sandbox.base_url, token=account["apiKey"], http_client=http_client)
        async with client:
            await client.account.get()
        assert not http_client.is_closed
        assert (await client.account.get())._request_id
        await http_client.aclose()

    asyncio.run(asyncio.wait_for(run(), timeout=30))


@pytest.mark.parametrize("library", ["httpx", pytest.param("httpx2", marks=NEEDS_HTTPX2)])
def test_a_given_async_client_stays_open_after_close(
    sandbox: SandboxServer, account: dict[str, str], library: str
) -> None:
    """await AsyncCadenya(http_client=c).close() leaves c open."""

    async def run() -> None:
        http_client = _own_client(library, asynchronous=True)
        client = AsyncCadenya(base_url=sandbox.base_url, token=account["apiKey"], http_client=http_client)
        await client.account.get()
        await client.close()
        assert not http_client.is_closed
        await http_client.aclose()

    asyncio.run(asyncio.wait_for(run(), timeout=30))


def _concurrent_calls(client: Cadenya, calls: int) -> None:
    with ThreadPoolExecutor(max_workers=calls) as pool:
        for result in pool.map(lambda _: client.account.get(), range(calls)):
            assert result._request_id


@NEEDS_HTTPX2
def test_limits_of_httpx2_bound_the_pool_of_an_httpx_client(
    sandbox: SandboxServer, account: dict[str, str], no_proxy_environment: pytest.MonkeyPatch
) -> None:
    """httpx2.Limits(max_connections=1) given while httpx is the default is used: four calls share one connection."""
    with RecordingProxy(delay=0.2) as proxy:
        limits = httpx2.Limits(max_connections=1, max_keepalive_connections=1)
        with Cadenya(base_url=sandbox.base_url, token=account["apiKey"], proxy=proxy.url, limits=limits) as client:
            assert isinstance(client.client.get_httpx_client(), httpx.Client)
            _concurrent_calls(client, 4)
    assert len(proxy.seen) == 4 and len(proxy.ports) == 1, proxy.ports


def test_without_limits_calls_at_once_open_several_connections(
    sandbox: SandboxServer, account: dict[str, str], no_proxy_environment: pytest.MonkeyPatch
) -> None:
    """The control of the test above: with the default limits, four calls at once use more than one connection."""
    with (
        RecordingProxy(delay=0.2) as proxy,
        Cadenya(base_url=sandbox.base_url, token=account["apiKey"], proxy=proxy.url) as client,
    ):
        _concurrent_calls(client, 4)
    assert len(proxy.seen) == 4 and len(proxy.ports) > 1, proxy.ports
