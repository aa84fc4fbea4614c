"""What a station is and says: catalogue, readings, payload decoding, QC, NDBC files, simulator."""
