"""好差评 (ratings of a handling) and the 差评 loop to closure.

Owns the `rating_prompts` (a finished handling awaiting its rating: ticket or case, window and clerk as the
store had them when it was finished), `evaluations` (one per handling: level 1..5, reasons, channel) and
`badratings` / `badrating_steps` (every bad rating followed 核实 → 整改 → 反馈 → 复核, each step due in working
days of the hall's calendar, and its 申诉) tables, and the `evaluation.*` and `badrating.*` events.

May import: `store`, `errors`, `accounts.auth` (the caller), `clock`, `config`, `tasks`, and `cases.calendar`
for the working-day count. It never imports the queue or the cases service: the engine calls it when a ticket
is finished and the cases' notify hook when a case is delivered (both wired in runtime.py), inside the
change's own transaction; the window's rating device is reached through a callable runtime.py passes in.
"""
