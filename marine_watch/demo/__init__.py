"""The demo: embedded broker, service and simulated coast (run), the simulator, CSV replay."""
