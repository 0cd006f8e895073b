"""Device drivers and their simulators, one sub-package per kind, chosen by URL.

This package knows nothing of queues or halls: it never imports `hall_server` or `kiosk`.
"""
