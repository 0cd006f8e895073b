"""The driver framework: URLs and their errors, the registry, the device lifecycle, redaction."""
from __future__ import annotations

import pytest

from drivers.base import Device
from drivers.health import DeviceHealth, DeviceState
from drivers.redact import REDACTED, redact
from drivers.registry import Registry
from drivers.url import DeviceURLError, boolean, choice, parse_url, positive

OPTIONS = {"paper": choice("ok", "near-end", "out"), "width": positive(int), "slow": boolean}


@pytest.mark.parametrize("raw,address,options", [
    ("escpos+tcp://192.168.10.31:9100", "192.168.10.31:9100", {}),
    ("escpos+serial:///dev/ttyS0?width=80", "/dev/ttyS0", {"width": 80}),
    ("sim://printer?paper=near-end&slow=yes", "printer", {"paper": "near-end", "slow": True}),
])
def test_urls_parse_into_address_and_typed_options(raw, address, options):
    url = parse_url(raw, OPTIONS)
    assert url.address == address and url.options == options


@pytest.mark.parametrize("raw,message", [
    ("192.168.10.31:9100", "not a device URL"),
    ("sim://printer?papr=out", "unknown option 'papr'; did you mean 'paper'?"),
    ("sim://printer?paper=empty", "bad value 'empty' for option 'paper': use one of ok, near-end, out"),
    ("sim://printer?width=-58", "bad value '-58' for option 'width': must be greater than 0"),
    ("escpos+tcp://host:99999", "the port '99999' is not a number between 0 and 65535"),
])
def test_url_errors_name_the_part_at_fault(raw, message):
    with pytest.raises(DeviceURLError) as exc:
        parse_url(raw, OPTIONS)
    assert message in str(exc.value)


class Lamp(Device):
    """A minimal device: what a driver must provide."""
    kind = "lamp"

    def __init__(self, url):
        super().__init__(url)
        self.opened = 0

    def _open(self):
        self.opened += 1

    def _close(self):
        pass

    def health(self):
        return DeviceHealth(DeviceState.OK)

    def _diagnostics(self):
        return {"last_card": {"id_number": "420102199001011234", "citizen_ref": "abc"}, "bulb": "ok"}


def test_registry_resolves_schemes_and_names_unknown_ones():
    reg = Registry("lamp")
    reg.register("lamp+tcp", lambda raw: Lamp(parse_url(raw)))
    assert isinstance(reg.create("lamp+tcp://10.0.0.1:80"), Lamp)
    with pytest.raises(DeviceURLError, match=r"unknown lamp scheme 'lamp\+tpc'; did you mean lamp\+tcp://\?"):
        reg.create("lamp+tpc://10.0.0.1:80")
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("lamp+tcp", lambda raw: Lamp(parse_url(raw)))


def test_constructing_does_no_io_and_the_context_manager_opens_and_closes():
    lamp = Lamp(parse_url("lamp+tcp://10.0.0.1:80"))
    assert lamp.opened == 0 and not lamp.is_open
    with lamp as d:
        assert d.is_open and lamp.opened == 1
    assert not lamp.is_open


def test_diagnostics_redact_personal_data_at_any_depth():
    diag = Lamp(parse_url("lamp+tcp://10.0.0.1:80")).diagnostics()
    assert diag["last_card"] == {"id_number": REDACTED, "citizen_ref": REDACTED}
    assert diag["bulb"] == "ok" and diag["kind"] == "lamp"
    assert "420102199001011234" not in repr(diag)


def test_redact_keeps_empty_values_and_lists():
    assert redact({"photo": "", "list": [{"address": "x"}]}) == {"photo": "", "list": [{"address": REDACTED}]}
