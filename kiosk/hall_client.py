"""The hall server's HTTP API, as the kiosk uses it: the only way the kiosk reaches the hall.

Every call carries the kiosk's bearer token. An answer the server refused comes back as `HallRefused`
with the server's own error body (code, message_zh, message_en), so the page can show it unchanged;
a server that cannot be reached is `HallUnreachable`.
"""
from __future__ import annotations

from typing import Any

import httpx

TIMEOUT_S = 10.0


class HallUnreachable(RuntimeError):
    """The hall server did not answer (network, server down, timeout)."""


class HallRefused(RuntimeError):
    """The hall server answered with an error: `status` and its body `{"error": {...}}`."""

    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body
        err = body.get("error") or {}
        super().__init__(f"{status} {err.get('code', '')}: {err.get('message_en', '')}")


class HallClient:
    def __init__(self, server: str, token: str, transport: httpx.AsyncBaseTransport | None = None):
        self.server = server.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.server, timeout=TIMEOUT_S, transport=transport,
                                       headers={"Authorization": f"Bearer {token}"})

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            r = await self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise HallUnreachable(f"{self.server}: {type(exc).__name__}: {exc}") from exc
        if r.status_code == 204:
            return None
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code >= 400:
            if not isinstance(body, dict) or "error" not in body:
                body = {"error": {"code": f"http_{r.status_code}", "message_zh": "服务器拒绝了请求，请到服务台咨询",
                                  "message_en": f"the hall server answered {r.status_code}; ask at the service desk",
                                  "detail": body}}
            raise HallRefused(r.status_code, body)
        return body

    # -- what the kiosk asks -----------------------------------------------------------------------
    async def me(self) -> dict:
        return await self._call("GET", "/api/v1/auth/me")

    async def hall(self) -> dict:
        return await self._call("GET", "/api/v1/hall")

    async def queue(self) -> dict:
        return await self._call("GET", "/api/v1/queue")

    async def issue(self, matter: str, kiosk: str, swipe: str | None) -> dict:
        body = {"matter": matter, "kiosk": kiosk, "channel": "kiosk"}
        if swipe:
            body["swipe"] = swipe
        return await self._call("POST", "/api/v1/tickets", json=body)

    async def ticket(self, ticket_id: int) -> dict:
        return await self._call("GET", f"/api/v1/tickets/{ticket_id}")

    async def ticket_by_number(self, number: str) -> dict:
        return await self._call("GET", f"/api/v1/tickets/by-number/{number}")

    async def case_lookup(self, body: dict) -> dict:
        """The self-service case query: `{"number"}`, `{"query_code"}` or `{"swipe"}` → `{"cases": [...]}`, each as
        the public status page shows it, with its query code."""
        return await self._call("POST", "/api/v1/case-lookup", json=body)

    async def handout_ticket(self, kiosk: str, body: dict) -> dict:
        """An 出件 ticket, to collect a ready result at the 出件 window: `{"number"}` or `{"swipe"}` → the ticket (with
        `case`, and `print` when the hall printed it itself)."""
        return await self._call("POST", "/api/v1/handout-tickets", json={**body, "kiosk": kiosk})

    async def complaint(self, body: dict) -> dict:
        """Register a 办不成事 complaint as this kiosk: `{"text", "contact"?: {"phone"}}` → `{"id", "number", "due"…}`
        (channel kiosk)."""
        return await self._call("POST", "/api/v1/complaints", json=body)

    async def swipe(self, kiosk: str, card: dict) -> dict:
        """Post a card the kiosk's reader decoded; the server keeps only masked forms and a keyed hash."""
        return await self._call("POST", "/api/v1/swipes", json={"kiosk": kiosk, "card": card})

    async def report_devices(self, kiosk: str, devices: list[dict], interval_s: float) -> None:
        await self._call("PUT", f"/api/v1/kiosks/{kiosk}/devices",
                         json={"devices": devices, "interval_s": interval_s})

    async def alert(self, kiosk: str, kind: str, device: str | None, detail: str, ticket_id: int | None = None) -> None:
        await self._call("POST", "/api/v1/alerts", json={"kind": kind, "device": device, "detail": detail[:300],
                                                         "ticket_id": ticket_id, "kiosk": kiosk})
