"""Colours → alert messages: the book, its store, delivery (webhooks, e-mail, CAP) and escalation."""
