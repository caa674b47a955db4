"""A real HTTP server on 127.0.0.1 for the sources tests (standard library only).

Routes serve bytes at paths shaped like the real services'. Each route can: honour Range
requests (206, Content-Range, If-Range with ETag), drop the connection after N bytes for
its first K requests, answer a list of error statuses before succeeding, ignore Range,
or answer with a fixed status. Every request is logged (method, path, headers).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_vnm() -> Path:
    """The real Vietnam files (../shared/data/vnm beside the checkout, or $COVGAP_SHARED_DATA)."""
    env = os.environ.get("COVGAP_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "vnm"


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


@dataclass
class Route:
    body: bytes | Callable[[str], tuple[int, bytes, str]] = b""
    content_type: str = "application/octet-stream"
    fail_statuses: list[int] = field(default_factory=list)
    drop_after: int | None = None
    drop_times: int = 1
    ignore_range: bool = False
    status: int = 200
    hits: int = 0


class LocalServer:
    """``with LocalServer() as srv: srv.add("/a/b.tif", Route(data)); srv.url("/a/b.tif")``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                with server._lock:
                    server.log.append((self.command, self.path, dict(self.headers)))
                    route = server.routes.get(self.path) or server.routes.get(
                        self.path.split("?", 1)[0]
                    )
                    if route is not None and not head:
                        route.hits += 1
                        fail = route.fail_statuses.pop(0) if route.fail_statuses else None
                        drop = (
                            route.drop_after
                            if (route.drop_after is not None and route.drop_times > 0)
                            else None
                        )
                        if drop is not None:
                            route.drop_times -= 1
                    else:
                        fail, drop = None, None
                if route is None:
                    return self._plain(404, b"Not Found\n")
                if fail is not None:
                    return self._plain(fail, f"error {fail}\n".encode())
                if callable(route.body):
                    status, data, ctype = route.body(self.path)
                else:
                    status, data, ctype = route.status, route.body, route.content_type
                if status != 200:
                    return self._plain(status, data, ctype)
                etag = '"' + hashlib.sha1(data).hexdigest() + '"'
                total = len(data)
                start, end = 0, total - 1
                code = 200
                rng = self.headers.get("Range")
                if_range = self.headers.get("If-Range")
                if rng and not route.ignore_range and (if_range is None or if_range == etag):
                    m = re.match(r"bytes=(\d*)-(\d*)$", rng.strip())
                    if m:
                        a = int(m.group(1)) if m.group(1) else None
                        b = int(m.group(2)) if m.group(2) else None
                        if a is None and b is not None:  # suffix range
                            a, b = max(0, total - b), total - 1
                        if a >= total:
                            self.send_response(416)
                            self.send_header("Content-Range", f"bytes */{total}")
                            self.send_header("Content-Length", "0")
                            self.end_headers()
                            return
                        start, end = a, min(b if b is not None else total - 1, total - 1)
                        code = 206
                payload = data[start : end + 1]
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("ETag", etag)
                if code == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
                self.end_headers()
                if head:
                    return
                if drop is not None and drop < len(payload):
                    self.wfile.write(payload[:drop])
                    self.wfile.flush()
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                self.wfile.write(payload)

            def _plain(self, status: int, body: bytes, ctype: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> Route:
        self.routes[path] = route
        return route

    def requests_for(self, path: str) -> list[tuple[str, str, dict[str, str]]]:
        return [r for r in self.log if r[1] == path]

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def fast_http():
    from covgap.sources.http import HttpOptions

    return HttpOptions(
        timeout_s=5,
        retries=3,
        backoff_s=0.001,
        backoff_factor=1.0,
        chunk_bytes=16384,
        progress=False,
    )


def local_cache(srv: LocalServer, root: Path, *, offline: bool = False):
    """A Cache whose every service lives on the local test server."""
    from covgap.sources import Cache, Endpoints

    return Cache(root, offline=offline, http=fast_http(), endpoints=Endpoints.with_base(srv.base))


def cache_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
