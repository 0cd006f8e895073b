"""Citizens' identity: ID cards turned into redacted citizen references (masked forms + keyed hash, never
a photo or a full number) and swipes, which give a kiosk a short-lived right to a priority class.

May import: `queue` (a swipe's suggestions), `store`, `config`, `errors`.
"""
