"""A fake NCALayer for tests: a WebSocket server on 127.0.0.1 (plain ws://, a free port) in a
thread, speaking the `kz.gov.pki.knca.basics` protocol that `core/static/aips/ncalayer.js` uses,
and signing with a test key (`aips.shared.eds.testing.sign_cms`).

What it does, like the real application (see the contract at the top of ncalayer.js):
- on connecting it sends the greeting {"result": {"version": "..."}};
- to {"module": "kz.gov.pki.knca.basics", "method": "sign", "args": {...}} it answers
  {"status": true, "body": {"result": ["<base64 CMS>"]}}, signing the base64-decoded `data`
  (signingParams.decode) attached or detached (signingParams.encapsulate, true by default);
- `mode = "cancel"` answers {"status": true, "body": {}} (the person closed NCALayer's window),
  `mode = "fail"` {"status": false, "code": ..., "message": ...}, `mode = "silent"` never answers;
- any other module or method gets {"status": false, "code": "MODULE_NOT_FOUND", ...}.
Every request is kept in `requests`, so a test can check what the page asked for.

Use it as a context manager, or through the `ncalayer` fixture below (which also points
AIPS_NCALAYER_URL and the CSP's connect-src at it), e.g. in a test module:

    from aips.shared.eds.tests import fake_ncalayer
    ncalayer = fake_ncalayer.ncalayer          # the fixture, under the name tests ask for

    def test_x(ncalayer: fake_ncalayer.FakeNcaLayer) -> None:
        ncalayer.key = some_key_bundle         # whose key signs (None: NCA's test auth key)
        ncalayer.signing_time = NCA_AUTH_TIME  # the signing-time attribute (None: now)
        ncalayer.mode = "cancel"               # or simulate the person cancelling
"""

import base64
import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from aips.shared.eds.keystore import KeyBundle
from aips.shared.eds.testing import nca_key, sign_cms

MODULE = "kz.gov.pki.knca.basics"


class FakeNcaLayer:
    def __init__(
        self,
        *,
        key: KeyBundle | None = None,
        mode: str = "sign",
        signing_time: datetime | None = None,
        result_as_list: bool = True,
    ) -> None:
        self.key = key
        self.mode = mode  # "sign", "cancel", "fail" or "silent"
        self.signing_time = signing_time
        self.result_as_list = result_as_list  # ["<cms>"] like an array of data, or "<cms>"
        self.requests: list[dict[str, Any]] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> "FakeNcaLayer":
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "FakeNcaLayer":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    # --- the protocol ---------------------------------------------------------------------

    def _handle(self, connection: ServerConnection) -> None:
        try:
            connection.send(json.dumps({"result": {"version": "fake-ncalayer"}}))
            for message in connection:
                request = json.loads(message)
                self.requests.append(request)
                if self.mode == "silent":
                    continue
                connection.send(json.dumps(self.answer(request)))
        except ConnectionClosed:
            return

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """What NCALayer would answer to `request` (also usable without a socket)."""
        if request.get("module") != MODULE or request.get("method") != "sign":
            return {
                "status": False,
                "code": "MODULE_NOT_FOUND",
                "message": "Module or method not found.",
                "details": f"{request.get('module')}.{request.get('method')}",
            }
        if self.mode == "cancel":
            return {"status": True, "body": {}}
        if self.mode == "fail":
            return {
                "status": False,
                "code": "INVOCATION_ERROR",
                "message": "An invoked method threw an exception.",
                "details": "simulated failure",
            }
        args = request.get("args") or {}
        params = args.get("signingParams") or {}
        raw = str(args.get("data") or "")
        data = base64.b64decode(raw) if params.get("decode") else raw.encode()
        cms = sign_cms(
            data,
            key=self.key or default_key(),
            detached=not params.get("encapsulate", True),
            signing_time=self.signing_time,
        )
        encoded = base64.b64encode(cms).decode()
        return {"status": True, "body": {"result": [encoded] if self.result_as_list else encoded}}


# NCA RK's only test authentication key (RSA, EKU client auth, IIN 123456789011) was revoked two
# minutes after it was issued; between the two it is a valid key for signing in.
NCA_AUTH_KEY = "individual_auth_revoked_2004"
NCA_AUTH_IIN = "123456789011"
NCA_AUTH_TIME = datetime(2022, 1, 18, 4, 40, 30, tzinfo=UTC)


def default_key() -> KeyBundle:
    """NCA's test authentication key; sign at NCA_AUTH_TIME and judge it then."""
    return nca_key(NCA_AUTH_KEY)


def point_settings_at(settings: Any, url: str) -> None:
    """AIPS_NCALAYER_URL and the CSP's connect-src (pytest-django's `settings`), so pages let the
    browser reach the fake."""
    settings.AIPS_NCALAYER_URL = url
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["connect-src"] = ["'self'", url]
    settings.CONTENT_SECURITY_POLICY = policy


@pytest.fixture
def ncalayer(settings: Any) -> Iterator[FakeNcaLayer]:
    """A running fake NCALayer that pages use (AIPS_NCALAYER_URL and the CSP point at it)."""
    with FakeNcaLayer() as layer:
        point_settings_at(settings, layer.url)
        yield layer
