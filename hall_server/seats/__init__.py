"""Seat monitoring (座席监控): the seats' configuration, the 离岗 rules (pure functions), the worker process
that owns the cameras and presence detection, and the monitor in the server that turns presence into seat
state, alerts, evidence and on-seat time.

May import: `store`, `hardware.alerts`, `drivers.health`; the worker process alone imports `drivers.camera`
(OpenCV), never the server process. Receives the device supervisor (to show the worker's cameras) and the
cameras' URLs from the place that wires the hall.
"""
