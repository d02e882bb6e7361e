"""What the moto server itself answered, so the IAM proof can be reconciled with it.

moto keeps its own log of every request its Flask dispatch answers (`moto.moto_api.recorder`, the recorder behind
`/moto-api/recorder/*`; it writes one JSON line per request: method, URL, headers, body). `ServerLog` installs a fresh
one of those recorders, writing to a file of the test's, and names each logged request by its service and operation,
the way botocore's service models say it is sent: the SigV4 credential scope names the service; `X-Amz-Target`
(JSON protocol) or `Action` (query protocol) names the operation; for REST services (S3) the method, path and query
are matched against each operation's `requestUri`. That matching is the only hand-written part: moto logs HTTP, and
neither moto nor botocore turns an HTTP request back into an operation.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.session
import moto.moto_api
from iam_requests import Call
from moto.moto_api._internal import Recorder

_SESSION = botocore.session.get_session()
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


class ServerLog:
    def __init__(self, path: Path):
        with mock.patch.dict(os.environ, {"MOTO_RECORDER_FILEPATH": str(path)}):
            self._recorder = Recorder()
        self._original = moto.moto_api.recorder

    def install(self) -> None:
        moto.moto_api.recorder = self._recorder  # looked up by moto's dispatch on each request

    def uninstall(self) -> None:
        moto.moto_api.recorder = self._original

    @contextmanager
    def recording(self) -> Iterator[list[Call]]:
        """Yields a list that, when the block ends, holds every call the server answered during it, in order."""
        self._recorder.reset_recording()
        self._recorder.start_recording()
        answered: list[Call] = []
        try:
            yield answered
        finally:
            self._recorder.stop_recording()
            entries = [json.loads(line) for line in self._recorder.download_recording().splitlines() if line]
            answered.extend(call_of(e) for e in entries if not urlsplit(e["url"]).path.startswith("/moto-api/"))


def call_of(entry: dict[str, Any]) -> Call:
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    scope = _CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
    assert scope, f"an unsigned request reached the stand-in: {entry['method']} {entry['url']}"
    service = _SESSION.get_service_model(scope[1])
    body = base64.b64decode(entry["body"]) if entry.get("body_encoded") else (entry.get("body") or "").encode()
    url = urlsplit(entry["url"])
    if "x-amz-target" in headers:
        return Call(service.service_name, headers["x-amz-target"].rsplit(".", 1)[1], json.loads(body or b"{}"))
    if service.protocol == "query":
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        return Call(service.service_name, form.pop("Action"), form)
    return _rest_call(service, entry["method"], url.path, parse_qs(url.query, keep_blank_values=True), headers)


def _rest_call(service: Any, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Call:
    """The operation whose `requestUri` and required members this request satisfies most specifically."""
    matches = []
    for name in service.operation_names:
        operation = service.operation_model(name)
        if operation.http["method"] != method:
            continue
        template, _, literal = operation.http["requestUri"].partition("?")
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(template))
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.fullmatch(pattern, path)
        fixed = dict(p.partition("=")[::2] for p in literal.split("&") if p)
        if not found or any(k not in query or (v and query[k][0] != v) for k, v in fixed.items()):
            continue
        shape = operation.input_shape
        members = shape.members if shape else {}
        required = [members[m].serialization for m in (shape.required_members if shape else [])]
        if not all(
            (s.get("location") != "header" or s["name"].lower() in headers)
            and (s.get("location") != "querystring" or s["name"] in query)
            for s in required
        ):
            continue
        params = {}
        for member, member_shape in members.items():
            location, wire = member_shape.serialization.get("location"), member_shape.serialization.get("name", member)
            if location == "uri" and wire in found.groupdict():
                params[member] = unquote(found[wire])
            elif location == "querystring" and wire in query:
                params[member] = query[wire][0]
        matches.append((len(fixed) + len(required), name, params))
    matches.sort(key=lambda m: -m[0])
    assert matches, f"no {service.service_name} operation is sent as {method} {path}?{query}"
    assert len(matches) == 1 or matches[0][0] > matches[1][0], f"{method} {path} is ambiguous: {matches[:2]}"
    return Call(service.service_name, matches[0][1], matches[0][2])
