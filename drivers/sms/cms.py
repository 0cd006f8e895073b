"""What a modem's `+CMS ERROR: <n>` means (3GPP TS 27.005 §3.2.5; below 128 the network's RP cause, TS 24.011),
and which of them mean the modem cannot send at all (no SIM, no network) rather than that this message was refused.
"""
from __future__ import annotations

MEANINGS = {
    1: "unassigned (unallocated) number", 8: "operator determined barring", 10: "call barred",
    21: "short message transfer rejected", 27: "destination out of service", 28: "unidentified subscriber",
    29: "facility rejected", 30: "unknown subscriber", 38: "network out of order", 41: "temporary failure",
    42: "congestion", 47: "resources unavailable", 50: "requested facility not subscribed",
    69: "requested facility not implemented", 95: "invalid message", 96: "invalid mandatory information",
    111: "protocol error", 127: "interworking, unspecified",
    300: "ME failure", 301: "SMS service of ME reserved", 302: "operation not allowed", 303: "operation not supported",
    304: "invalid PDU mode parameter", 305: "invalid text mode parameter", 310: "SIM not inserted",
    311: "SIM PIN required", 312: "PH-SIM PIN required", 313: "SIM failure", 314: "SIM busy", 315: "SIM wrong",
    316: "SIM PUK required", 317: "SIM PIN2 required", 318: "SIM PUK2 required", 320: "memory failure",
    321: "invalid memory index", 322: "memory full", 330: "SMSC address unknown", 331: "no network service",
    332: "network timeout", 340: "no +CNMA acknowledgement expected", 500: "unknown error",
}
# errors that say the modem cannot send now (the message waits for it), by SmsError code
NOT_READY = {**dict.fromkeys((310, 311, 312, 313, 315, 316, 317, 318), "no_sim"), 331: "not_registered"}
ZH = {"no_sim": "SIM卡不可用", "not_registered": "无网络服务", "cms_error": "短信被拒绝"}


def meaning(number: int | None) -> str:
    if number is None:
        return "no reason given"
    if number >= 512:
        return "a manufacturer-specific error (see the modem's AT manual)"
    return MEANINGS.get(number, "an error the standard does not name")


def code_of(number: int | None) -> str:
    """The SmsError code for a +CMS ERROR number: no_sim, not_registered or cms_error."""
    return NOT_READY.get(number, "cms_error") if number is not None else "cms_error"
