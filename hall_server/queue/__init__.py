"""The ticket queue: the engine (issuing, calling, transfers, window states, the daily rollover), the
routing policy (one pure function over a snapshot) and the read views the API and pages show.

May import: `store`, `identity.citizen` (a ticket's redacted citizen reference), `config`, `clock`, `errors`.
"""
