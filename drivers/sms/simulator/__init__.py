"""A simulated SMS modem: `ModemSimulator` (sim://sms) speaks AT on a pseudo-terminal and records what it sent."""

from .modem_sim import FAULTS, ModemSimulator, SentMessage

__all__ = ["FAULTS", "ModemSimulator", "SentMessage"]
