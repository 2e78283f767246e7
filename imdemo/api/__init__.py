"""Presentation layer: the HTTP API (Bottle) and the WebSocket endpoint; they parse, authenticate, map errors."""
