"""A loopback HTTP proxy that misbehaves on request, for fault tests and benchmarks.

The portal stays honest; this proxy sits between the kiosk and it and, per request,
can drop the connection, delay, reset or truncate the response part way through the
body, or answer 500 / 503 / 429 (with Retry-After) itself. It can also throttle both
directions to a bandwidth and add latency, to emulate a 2G link (64 kbit/s, 300 ms RTT).

One request per client connection (``Connection: close`` is forced upstream), so a
fault applies to exactly one request. Faults queued with ``push`` are used in order,
then ``default`` applies. It runs in a thread with its own event loop (``with
FaultProxy(url) as proxy: ...``) or as ``python -m sync.faultproxy``; it stops by
itself after ``lifetime`` seconds, and every socket read has a timeout.

An ``https://`` upstream makes it a TCP tunnel: TLS is end to end between the kiosk
and the portal (the proxy cannot read it, and the kiosk's pins see the portal's own
key), so only the link is emulated (bandwidth and latency per direction); faults and
per-request counts need plain http, and ``requests`` counts connections instead.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

FaultKind = Literal["pass", "drop", "delay", "reset", "truncate", "status"]
HEADER_LIMIT = 64 * 1024
CHUNK = 4096


@dataclass(frozen=True)
class Fault:
    """What to do with one request.

    - ``pass``: forward as is (after ``delay`` seconds, if set).
    - ``drop``: read the request, then close without a response.
    - ``delay``: wait ``delay`` seconds, then forward (longer than the client's
      timeout makes a timeout).
    - ``reset``: forward, relay the response head and ``after_bytes`` of its body, then
      reset the connection (RST).
    - ``truncate``: as reset but close cleanly (FIN) after ``after_bytes`` of body.
    - ``status``: answer ``status`` without forwarding, with ``retry_after`` if set.
    """

    kind: FaultKind = "pass"
    delay: float = 0.0
    after_bytes: int = 0
    status: int = 500
    retry_after: str | None = None


PASS = Fault()


def drop() -> Fault:
    return Fault("drop")


def delay(seconds: float) -> Fault:
    return Fault("delay", delay=seconds)


def reset(after_bytes: int = 10) -> Fault:
    return Fault("reset", after_bytes=after_bytes)


def truncate(after_bytes: int = 10) -> Fault:
    return Fault("truncate", after_bytes=after_bytes)


def status(code: int, retry_after: str | None = None) -> Fault:
    return Fault("status", status=code, retry_after=retry_after)


class _Pacer:
    """Paces bytes to a bandwidth (bits/s); None means unlimited."""

    def __init__(self, bandwidth_bps: float | None) -> None:
        self.bps = bandwidth_bps
        self.ready_at = time.monotonic()

    async def pace(self, n: int) -> None:
        if not self.bps:
            return
        now = time.monotonic()
        self.ready_at = max(self.ready_at, now) + n * 8 / self.bps
        await asyncio.sleep(max(0.0, self.ready_at - now))


class FaultProxy:
    """``FaultProxy(upstream_url, bandwidth_bps=None, rtt=0.0)``; ``.url`` once started."""

    def __init__(
        self,
        upstream: str,
        *,
        bandwidth_bps: float | None = None,
        rtt: float = 0.0,
        lifetime: float = 600.0,
        io_timeout: float = 120.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname or not parts.port:
            raise ValueError("upstream must be http://host:port or https://host:port")
        self.tunnel = parts.scheme == "https"
        self.upstream = (parts.hostname, parts.port)
        self.bandwidth_bps = bandwidth_bps
        self.rtt = rtt
        self.lifetime = lifetime
        self.io_timeout = io_timeout
        self.host = host
        self.port = port
        self.default = PASS
        self._faults: collections.deque[Fault] = collections.deque()
        self._lock = threading.Lock()
        self.requests = 0  # requests seen
        self.applied: list[FaultKind] = []  # fault kind used for each request
        self.bytes_up = 0  # request bytes forwarded to the portal
        self.bytes_down = 0  # response bytes relayed to the client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tunnel else 'http'}://{self.host}:{self.port}"

    def push(self, *faults: Fault) -> None:
        """Faults for the next requests, one each, in order."""
        with self._lock:
            self._faults.extend(faults)

    def pending(self) -> int:
        with self._lock:
            return len(self._faults)

    def _next_fault(self) -> Fault:
        with self._lock:
            fault = self._faults.popleft() if self._faults else self.default
            self.requests += 1
            self.applied.append(fault.kind)
            return fault

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._run_thread, name="faultproxy", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError(f"fault proxy did not start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run_thread(self) -> None:
        try:
            asyncio.run(self.serve())
        except BaseException as exc:  # noqa: BLE001 - start() raises it: not swallowed
            self._error = exc
            self._ready.set()

    async def serve(self) -> None:
        """Serve until stop() or ``lifetime`` seconds, whichever comes first."""
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.lifetime)
            server.close()

    # --- one connection = one request ------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.tunnel:
                with contextlib.suppress(asyncio.CancelledError):  # the proxy stopping
                    await self._tunnel(reader, writer)
            else:
                await asyncio.wait_for(self._serve_one(reader, writer), self.io_timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up = _Pacer(self.bandwidth_bps)
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > HEADER_LIMIT:
            return
        await up.pace(len(head))
        length = _content_length(head)
        body = bytearray()
        while len(body) < length:
            chunk = await reader.read(min(CHUNK, length - len(body)))
            if not chunk:
                return
            await up.pace(len(chunk))
            body += chunk
        fault = self._next_fault()
        await asyncio.sleep(self.rtt / 2)  # one-way latency, client to portal
        if fault.kind == "drop":
            return
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.kind == "status":
            await self._answer(writer, fault)
            return
        request = _force_close(head) + bytes(body)
        self.bytes_up += len(request)
        await self._relay(request, writer, fault)

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Relay one connection's bytes both ways through a delay line per direction:
        each chunk leaves ``rtt / 2`` after it arrived, paced to the bandwidth."""
        self._next_fault()  # counts the connection; faults do not apply to a tunnel
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            pacer = _Pacer(self.bandwidth_bps)
            line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

            async def feed() -> None:
                while chunk := await asyncio.wait_for(src.read(CHUNK), self.io_timeout):
                    line.put_nowait((time.monotonic() + self.rtt / 2, chunk))
                line.put_nowait((0.0, b""))

            feeder = asyncio.create_task(feed())
            try:
                while True:
                    due, chunk = await line.get()
                    if not chunk:
                        break
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    await pacer.pace(len(chunk))
                    dst.write(chunk)
                    await dst.drain()
                    if up:
                        self.bytes_up += len(chunk)
                    else:
                        self.bytes_down += len(chunk)
                with contextlib.suppress(OSError):
                    if dst.can_write_eof():
                        dst.write_eof()
            finally:
                feeder.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await feeder

        # The first direction to end ends the connection: its peer closed, and what
        # it sent has been delivered (a pipe returns once its delay line is empty).
        pipes = {
            asyncio.create_task(pipe(reader, up_writer, True)),
            asyncio.create_task(pipe(up_reader, writer, False)),
        }
        try:
            await asyncio.wait(pipes, timeout=self.lifetime, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            up_writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await up_writer.wait_closed()

    async def _answer(self, writer: asyncio.StreamWriter, fault: Fault) -> None:
        body = b'{"detail":"injected by the fault proxy"}'
        lines = [
            f"HTTP/1.1 {fault.status} Injected",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        if fault.retry_after is not None:
            lines.append(f"Retry-After: {fault.retry_after}")
        await asyncio.sleep(self.rtt / 2)
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()

    async def _relay(self, request: bytes, writer: asyncio.StreamWriter, fault: Fault) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            up_writer.write(request)
            await up_writer.drain()
            down = _Pacer(self.bandwidth_bps)
            first = True
            buffered = b""
            head_len: int | None = None
            sent = 0
            while True:
                chunk = await up_reader.read(CHUNK)
                if not chunk:
                    break
                if first:
                    await asyncio.sleep(self.rtt / 2)  # one-way latency, portal to client
                    first = False
                if fault.kind in ("reset", "truncate"):
                    buffered += chunk
                    if head_len is None and b"\r\n\r\n" in buffered:
                        head_len = buffered.index(b"\r\n\r\n") + 4
                    if head_len is None:
                        continue
                    limit = head_len + fault.after_bytes
                    out = buffered[sent:limit]
                    buffered_done = len(buffered) >= limit
                    if out:
                        await down.pace(len(out))
                        writer.write(out)
                        await writer.drain()
                        sent += len(out)
                        self.bytes_down += len(out)
                    if buffered_done:
                        if fault.kind == "reset":
                            _abort(writer)
                        return
                    continue
                await down.pace(len(chunk))
                writer.write(chunk)
                await writer.drain()
                self.bytes_down += len(chunk)
        finally:
            up_writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await up_writer.wait_closed()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
            if length < 0:
                raise ValueError("negative Content-Length")
            return length
        if name.strip().lower() == b"transfer-encoding":
            raise ValueError("chunked requests are not supported by the fault proxy")
    return 0


def _force_close(head: bytes) -> bytes:
    lines = [
        line
        for line in head[:-4].split(b"\r\n")
        if line.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive")
    ]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN: what a dying middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="loopback proxy that throttles (2G emulation)")
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of the portal")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bandwidth", type=float, default=None, help="bits per second")
    parser.add_argument("--rtt", type=float, default=0.0, help="round-trip time, seconds")
    parser.add_argument("--lifetime", type=float, default=600.0, help="stop after this long")
    args = parser.parse_args(argv)
    proxy = FaultProxy(
        args.upstream,
        bandwidth_bps=args.bandwidth,
        rtt=args.rtt,
        lifetime=args.lifetime,
        port=args.port,
    )
    proxy.start()
    print(f"fault proxy on {proxy.url}", flush=True)
    try:
        assert proxy._thread is not None
        proxy._thread.join()
    except KeyboardInterrupt:
        proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
