"""The ``marine-watch`` command: main (serve, demo, check-config …), numerics, hindcast."""
