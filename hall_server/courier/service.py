"""The register as the API uses it: each change run as one durable store change, and the reads (one parcel, the
lists), on the event loop's thread through the store's read connection like every other read. Department officers
read the parcels of their departments' cases (sorted to them, or attached to a case they decide); the register's
changes are the comprehensive windows' (clerks and supervisors)."""
from __future__ import annotations

from typing import Any

from ..accounts.auth import Principal
from ..cases.base import CaseContext
from ..config import HallConfig
from ..errors import Forbidden
from ..store.database import Store
from . import parcels
from .records import departments_of, listing, parcel_row, parcels_of


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

    def get(self, parcel_id: int, who: Principal | None = None) -> dict:
        """One parcel; a department officer sees only their departments' (403 otherwise)."""
        row = parcel_row(self.store.read, parcel_id)
        if who is not None and who.role == "department":
            theirs = departments_of(self.store.read, row)
            if not theirs & set(who.departments):
                raise Forbidden("not_your_department", f"快递 {parcel_id} 不属于您所在部门的办件",
                                f"parcel {parcel_id} is not sorted to, nor attached to a case of, "
                                f"{', '.join(who.departments)}", parcel=parcel_id)
        return parcels_of(self.store.read, [row], self.matter_names)[0]

    def list(self, who: Principal | None = None, *, department: str | None = None, **filters: Any) -> dict:
        """The register's lists; a department officer's only hold their departments' parcels (sorted to one, or
        attached to a case one of them decides)."""
        scope = None
        if who is not None and who.role == "department":
            if department and department not in who.departments:
                raise Forbidden("not_your_department", f"您无权查看{department}的快递",
                                f"{who.username} sees only the parcels of {', '.join(who.departments)}",
                                department=department)
            scope = tuple(who.departments)
        return listing(self.store.read, self.matter_names, department=department, scope=scope, **filters)

    def options(self) -> dict:
        """What the register's form offers: the configured couriers and the departments to sort to."""
        return {"couriers": list(self.ctx.couriers), "departments": self.ctx.departments}

