"""Voice calling: the announcer (every call heard once, in order), the call text and its spoken tokens,
and the rendering worker process that turns a call into a WAV.

May import: `drivers.audio`, `store` (to follow the event log), `config`, `tasks`. Receives the device supervisor
and the clock from the place that wires the hall.
"""
