"""What people send: forecasts (surge, wind, waves), the MQTT forecast inbox, road notes."""
