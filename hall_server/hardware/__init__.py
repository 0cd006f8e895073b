"""The hall's devices: their config models (config.py), and in the running server the supervisor (a task per
device: open, health, log once, reopen), devices that kiosk programs report, the LED screens that follow
calls, caller keypads, kiosk printing, ID-card reads and device alerts.

May import: `drivers`, `store`, `queue`, `identity`, `config`, `errors`, `tasks`. Never the `Hall` that wires them:
each part receives what it uses.
"""
