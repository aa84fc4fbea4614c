"""The retained MQTT risk topics: the publisher (risk node) and the mirror (API node)."""
