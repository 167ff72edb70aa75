# An HTTP endpoint with a fixed service time, for bench/Checks.Bench.ps1: GET /slow answers after 20 ms (a real
# service's latency, without a process per request as a CGI would need), anything else at once. One process,
# one listener per port given, asyncio so thousands of waiting requests cost no threads.
import asyncio, sys

BODY = b"status: ok"
REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(BODY), BODY)

async def serve(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        if head.split(b" ", 2)[1].startswith(b"/slow"):
            await asyncio.sleep(0.020)
        writer.write(REPLY)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()

async def main(address, ports):
    servers = [await asyncio.start_server(serve, address, int(p), backlog=4096, reuse_address=True) for p in ports]
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))

asyncio.run(main(sys.argv[1], sys.argv[2:]))
