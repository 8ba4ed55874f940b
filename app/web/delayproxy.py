"""A TCP proxy on 127.0.0.1 that delays every byte by half a round trip each way, as a network
between a classroom and a server would; for benchmarks/page.py and the browser tests.

    with DelayProxy("http://127.0.0.1:8000", rtt=0.1) as url:  # url: "http://127.0.0.1:<port>"
        ...
        proxy.drop()  # closes every open connection, as a dropped network would

Bytes keep their order and are not throttled: only latency is added. Runs its own event loop in
a thread.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from urllib.parse import urlsplit


class DelayProxy:
    def __init__(self, target: str, rtt: float = 0.1) -> None:
        parts = urlsplit(target)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.delay = rtt / 2
        self.loop = asyncio.new_event_loop()
        self.writers: set[asyncio.StreamWriter] = set()
        self.url = ""
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                await asyncio.sleep(max(0.0, due - self.loop.time()))
                writer.write(data)
                await writer.drain()
            writer.close()

        sender = asyncio.create_task(send())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((self.loop.time() + self.delay, data))
        except ConnectionError:
            pass
        queue.put_nowait((self.loop.time() + self.delay, b""))
        try:
            await sender
        except ConnectionError:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self.writers -= {writer, up_writer}

    async def _start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    def drop(self) -> None:
        """Close every connection open now (new ones are accepted as before)."""

        def close_all() -> None:
            for w in list(self.writers):
                w.transport.abort()

        self.loop.call_soon_threadsafe(close_all)

    def __enter__(self) -> str:
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async def stop() -> None:
            self.server.close()
            for w in list(self.writers):
                w.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def main() -> None:
    """`python -m app.web.delayproxy URL [RTT_MS]`: serve until killed, in a process of its own
    (benchmarks/page.py runs it so, away from its own event loop and GIL); prints the proxy's
    URL on the first line."""
    import sys
    import time

    target, rtt_ms = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 100.0
    with DelayProxy(target, rtt=rtt_ms / 1000) as url:
        print(url, flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
