"""Readings → colours: state, hazards, dikes, outlook, held levels, zones, regions, pipeline."""
