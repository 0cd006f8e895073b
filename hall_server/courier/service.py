"""The register as the API uses it: each change run as one durable store change, and the reads (one parcel, the
lists), on the event loop's thread through the store's read connection like every other read."""
from __future__ import annotations

from typing import Any

from ..accounts.auth import Principal
from ..cases.base import CaseContext
from ..config import HallConfig
from ..store.database import Store
from . import parcels
from .records import listing, parcel_row, parcels_of


class Parcels:
    def __init__(self, cfg: HallConfig, store: Store, cases: CaseContext):
        self.store = store
        self.ctx = parcels.CourierContext(cfg, cases)
        self.matter_names = {m.code: m.name for m in cfg.matters}

    async def register(self, who: Principal, **body: Any) -> dict:
        parcel_id = await self.store.write(lambda conn: parcels.register(conn, self.ctx, who, **body))
        return self.get(parcel_id)

    async def attach(self, who: Principal, parcel_id: int, case: int | str) -> dict:
        await self.store.write(lambda conn: parcels.attach(conn, self.ctx, who, parcel_id, case=case))
        return self.get(parcel_id)

    async def open_case(self, who: Principal, parcel_id: int, **body: Any) -> tuple[dict, int]:
        """The parcel, attached to the case opened from it, and the case's id."""
        _, case_id = await self.store.write(lambda conn: parcels.open_case(conn, self.ctx, who, parcel_id, **body))
        return self.get(parcel_id), case_id

    async def sort(self, who: Principal, parcel_id: int, department: str) -> dict:
        await self.store.write(lambda conn: parcels.sort(conn, self.ctx, who, parcel_id, department=department))
        return self.get(parcel_id)

    def get(self, parcel_id: int) -> dict:
        return parcels_of(self.store.read, [parcel_row(self.store.read, parcel_id)], self.matter_names)[0]

    def list(self, **filters: Any) -> dict:
        return listing(self.store.read, self.matter_names, **filters)

    def options(self) -> dict:
        """What the register's form offers: the configured couriers and the departments to sort to."""
        return {"couriers": list(self.ctx.couriers), "departments": self.ctx.departments}

