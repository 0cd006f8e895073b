"""The hall's pages: Jinja2 templates, their static scripts and styles, and the pages that are not an API's.

Owns `templates/`, `static/` (served at /static, no CDN: halls are on private networks), the template
loader every page uses (`templates.py`) and the landing, ticket-status and API-reference pages (`pages.py`).
May import: the API's dependencies (`api.deps`), `queue` views through the hall, `errors`, `config`.
"""
