"""“办不成事” complaints: what a citizen could not get done, followed 受理 → 分类 → 转办 → 办结 → 反馈 → 核查 → 备案.

Owns the `complaints` and `complaint_steps` tables and the `complaint.*` events: a complaint registered at the
办不成事 window (`complaints.window`, 7 in the district centre), from a kiosk, or from a case's public status
page; classified simple / complex / special (answer due on the spot, in 5 or in 10 working days of the hall's
calendar); passed to the responsible department, whose account answers; the citizen told (SMS at registration and
at the answer, through the outbox, in the step's own transaction), the answer fed back, checked and filed. Out of
scope (a matter in court, a petition 信访) it is closed with its reason. A watch colours overdue steps amber/red
and raises an alert on each turn.

May import: `store`, `errors`, `accounts.auth` (the caller), `clock`, `config`, `tasks`, `notify.outbox` (the
outbox it is handed, for its messages). The working-day calendar is passed in (the cases' WorkCalendar, wired in
runtime.py); it never imports the cases, the feedback or the queue.
"""
