"""A stand-in for GitHub's REST API on 127.0.0.1: just the pull request calls Jangar makes.

`POST /repos/{owner}/{repo}/pulls` records the request (with its Authorization header) and answers
201 with an `html_url`, or 422 when `exists` names a PR already open for that head (as GitHub
does); `GET /repos/{owner}/{repo}/pulls?head=owner:branch` lists those.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class GitHubStandIn:
    server: ThreadingHTTPServer
    created: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    # head ("owner:branch") -> html_url of a PR that is already open
    exists: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    standin: GitHubStandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        parts = self.path.strip("/").split("/")
        if len(parts) != 4 or parts[0] != "repos" or parts[3] != "pulls":
            self._answer(404, {"message": "Not Found"})
            return
        owner, repo = parts[1], parts[2]
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.standin.headers.append(dict(self.headers))
        head = f"{owner}:{body.get('head')}"
        if head in self.standin.exists:
            self._answer(
                422,
                {"message": "Validation Failed", "errors": [{"message": f"A pull request already exists for {head}."}]},
            )
            return
        number = len(self.standin.created) + 1
        self.standin.created.append({"owner": owner, "repo": repo, **body})
        self._answer(201, {"number": number, "html_url": f"https://github.com/{owner}/{repo}/pull/{number}"})

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        head = urllib.parse.parse_qs(url.query).get("head", [""])[0]
        found = self.standin.exists.get(head)
        self._answer(200, [{"html_url": found}] if found else [])


def start_github_standin() -> GitHubStandIn:
    handler = type("GitHubHandler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    standin = GitHubStandIn(server=server)
    handler.standin = standin
    threading.Thread(target=server.serve_forever, name="github-standin", daemon=True).start()
    return standin
