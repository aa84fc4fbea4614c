"""MQTT → decode and QC → bounded queue → writer: subscriber, writer, dead letters, partition."""
