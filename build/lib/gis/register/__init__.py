"""The register (一册): households, persons, key persons, statistics, register export."""
