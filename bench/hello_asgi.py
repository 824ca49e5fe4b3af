"""The hello-world ASGI app bench/run serves with uvicorn: the twin of
reference/app/hello.lua (200, content-type text/plain, "Hello World!")."""

START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}
BODY = {"type": "http.response.body", "body": b"Hello World!", "more_body": False}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send(START)
    await send(BODY)
