"""The courier register (快递签收登记) of the comprehensive windows: parcels of application materials that
arrive by post or courier, registered on arrival, attached to an existing case or opened as a case with channel
`courier`, and sorted to the department that decides it.

Owns the `parcels` table and the `parcel.*` events; a parcel attached to a case also appends
`case.parcel_received` to that case's log (its history). Cases are taken in through cases/intake.py.
"""
