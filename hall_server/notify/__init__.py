"""Messages to applicants (SMS, 短信): the outbox, committed in the same transaction as the case change that
calls for a message, and the sender that hands it to the hall's SMS modem afterwards, with retries.

Owns the `outbox` table and the `sms.*` events; reads cases only through what a case change passes in.
"""
