"""A second client for the package's echo server: the Python websockets
library (Debian's python3-websockets, 10.4 on bookworm), as
interop_python_test.go runs it:

    /usr/bin/python3 testdata/pyclient.py ws://127.0.0.1:PORT/echo MAX

It echoes text, binary, an empty text and a 100 KiB message, pings, and
closes with 4001 and a reason; then, on a second connection, sends MAX+1
bytes and expects to be closed with 1009. It offers permessage-deflate, as
the library does by default, which the server must decline by saying
nothing. It prints one line per step and "ok" last; any failure raises.
"""
import asyncio
import sys

import websockets


async def main(url, max_size):
    async with websockets.connect(url, subprotocols=["chat"], max_size=2**20) as ws:
        assert ws.subprotocol == "chat", f"subprotocol {ws.subprotocol!r}"
        assert ws.extensions == [], f"extensions {ws.extensions!r}"
        for msg in ["héllo wörld", b"\x00\x01\xfe\xff", "", b"lasgi 0123456789" * (100 * 1024 // 16)]:
            await ws.send(msg)
            echo = await asyncio.wait_for(ws.recv(), 10)
            assert type(echo) is type(msg) and echo == msg, f"echo of {len(msg)} differs"
            print(f"echo {type(msg).__name__} {len(msg)}")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        print("pong")
        await ws.close(code=4001, reason="python done")
        assert ws.close_code == 4001, f"close code {ws.close_code}"
        print("closed 4001")

    async with websockets.connect(url, max_size=2**20) as ws:
        await ws.send(b"x" * (max_size + 1))
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd is not None else None
            reason = e.rcvd.reason if e.rcvd is not None else None
            assert code == 1009, f"closed with {code}"
            print(f"closed 1009 {reason}")
        else:
            raise AssertionError("a message past the limit was echoed")
    print("ok")


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
