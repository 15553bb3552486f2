"""Packaged JSON-LD contexts, byte for byte as published; served by the offline loader."""
