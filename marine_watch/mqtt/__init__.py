"""Broker sessions: endpoints and TLS, persistent sessions, accounts and ACL, the embedded broker."""
