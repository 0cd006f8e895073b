"""The SMS modem's check: SIM, signal and registration (its health, and its status in the report); with --active
and --sms-to NUMBER, one test message to that number (a technician's own phone), which is all --active does."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import FAIL, WARN, Check

if TYPE_CHECKING:
    from .targets import Options, Target

TEST_TEXT = "【onewindow设备检测】这是一条测试短信，收到即表示大厅短信猫工作正常，无需回复。"


def sms(dev: Any, target: Target, opts: Options, check: Check) -> None:
    from drivers.sms.base import SmsError
    from drivers.sms.numbers import mask
    try:
        check.data["modem"] = dev.status().as_dict()
    except SmsError as exc:         # the health check has said so already
        check.data["modem"] = {"error": exc.code}
    if not opts.active:
        check.detail += "; --active --sms-to NUMBER sends a test SMS"
        return
    if check.state == FAIL:
        check.worse(FAIL, "no test SMS was sent: the modem cannot send")
        return
    if not opts.sms_to:
        check.worse(WARN, "no test SMS was sent: give the number to send it to with --sms-to")
        return
    to = mask(opts.sms_to)
    try:
        refs = dev.send(opts.sms_to, TEST_TEXT)
    except SmsError as exc:
        check.data["test_sms"] = {"to": to, **exc.as_dict()}
        check.worse(FAIL, f"the test SMS to {to} was not sent: {exc.en}")
        return
    check.data["test_sms"] = {"to": to, "parts": len(refs), "refs": refs}
    check.detail += f"; a test SMS went to {to} (reference {', '.join(map(str, refs))}): check that it arrived"
