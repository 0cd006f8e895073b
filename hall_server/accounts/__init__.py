"""Staff and device accounts: passwords (scrypt), bearer tokens (kept as SHA-256), roles, and the accounts
a first start and development mode create.

May import: `store`, `errors`.
"""
