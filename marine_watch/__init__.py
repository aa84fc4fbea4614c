"""marine_watch: coastal readings over MQTT to risk colours, alerts and an API (docs/ARCHITECTURE.md)."""
