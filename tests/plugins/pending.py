"""Waiting for what the server prepares in the background (a release's dumps): it answers 503 with
Retry-After meanwhile, and the real answer later."""
from __future__ import annotations

import time

#: seconds a test waits for a background job on the small fixtures before calling it stuck
PATIENCE_S = 60.0


def when_ready(client, path: str, patience: float = PATIENCE_S, **kwargs):
    """`client.get(path)` (a Flask test client), asked again while it answers 503 with Retry-After."""
    deadline = time.monotonic() + patience
    while True:
        response = client.get(path, **kwargs)
        if response.status_code != 503 or "Retry-After" not in response.headers:
            return response
        assert time.monotonic() < deadline, f"{path} still pending after {patience} s"
        time.sleep(0.1)
