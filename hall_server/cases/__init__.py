"""Cases (办件), the 1+N back office: intake at the comprehensive window, the departments' review and decision,
working-day deadlines by China's calendar, and the notices the window prints.

Owns the `cases`, `case_materials` and `case_tasks` tables and the `case.*` events; the queue owns tickets.
"""
