"""`[courier]` in a hall's config: the couriers the register offers (any other name may be typed in)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_COURIERS = ("中国邮政EMS", "顺丰速运", "京东物流", "中通快递", "圆通速递", "韵达快递", "申通快递", "极兔速递")


class CourierPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    couriers: tuple[str, ...] = Field(default=DEFAULT_COURIERS, description="offered first at registration; "
                                      "a name typed that is part of one of these (顺丰) is registered as it (顺丰速运)")

    @field_validator("couriers")
    @classmethod
    def _names(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        names = [" ".join(c.split()) for c in v]
        if any(not n or len(n) > 40 for n in names):
            raise ValueError("courier.couriers: each courier's name has 1 to 40 characters")
        if len(set(n.casefold() for n in names)) != len(names):
            raise ValueError(f"courier.couriers: a courier is listed twice in {names}")
        return tuple(names)
