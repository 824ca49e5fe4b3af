"""ASGI 3 twin of reference/app/scope.lua, for the uvicorn side-by-side suite.

Reads the request body to the end (returns without a response on http.disconnect),
then answers 200 application/json with

    {"events": [<each http.request event received>, ...], "scope": {<the scope>}}

with scope.lua's string convention: every JSON string holds BYTES, one character
U+0000..U+00FF per byte (the Latin-1 mapping). ASGI byte strings (raw_path,
query_string, header names and values, body) are mapped byte by byte; ASGI text
(path, method, ...) is first encoded to UTF-8, exactly as a Lua server hands it over.
Tuples (client, server, header pairs) become lists. Like scope.lua, the standard
scope keys and the event keys type, body and more_body are always written, null
when absent, and object keys are sorted.
"""

import json

SCOPE_KEYS = (
    "type", "asgi", "lasgi", "http_version", "method", "scheme", "path", "raw_path",
    "query_string", "root_path", "headers", "client", "server", "state", "extensions",
)
EVENT_KEYS = ("type", "body", "more_body")


def _bytes(b):
    return bytes(b).decode("latin-1")


def _text(s):
    return s.encode("utf-8", "surrogateescape").decode("latin-1")


def _convert(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return _bytes(v)
    if isinstance(v, str):
        return _text(v)
    if v is None or isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, dict):
        return {_key(k): _convert(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_convert(x) for x in v]
    return "<%s>" % type(v).__name__


def _key(k):
    if isinstance(k, (bytes, bytearray)):
        return _bytes(k)
    if isinstance(k, str):
        return _text(k)
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k)


def _with_keys(d, keys):
    out = {_key(k): _convert(v) for k, v in d.items()}
    for k in keys:
        out.setdefault(k, None)
    return out


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    events = []
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            return
        if event["type"] == "http.request":
            events.append(_with_keys(event, EVENT_KEYS))
            if not event.get("more_body", False):
                break

    doc = {"scope": _with_keys(scope, SCOPE_KEYS), "events": events}
    body = json.dumps(doc, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json")],
    })
    await send({"type": "http.response.body", "body": body, "more_body": False})
