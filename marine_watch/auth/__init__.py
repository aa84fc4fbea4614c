"""Who may do what: API keys, roles and users (keys), rate limits and websocket caps."""
