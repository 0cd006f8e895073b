"""Smart lockers (智能取件柜) for results: a clerk loads a decided case's result into a free compartment, the
citizen opens it at the kiosk at any hour with a 6-digit pickup code (kept only as a keyed hash) or by swiping
the applicant's ID card, and the case is delivered when the door is seen shut again.

Owns the `compartments`, `locker_pickups`, `locker_tries` and `locker_sms` tables and the `locker.*` events;
changes a case only through hall_server/cases/base.py (`load`, `record`, `set_fields`), as the case's own
changes do, and reaches the boards only through the device supervisor (drivers/locker/).
"""
