"""The HTTP/WebSocket API under /api/v1, one router per resource."""
