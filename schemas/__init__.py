"""Data contracts: Avro schemas (the source of truth for every topic), pydantic models
that mirror them, the codec, and the topic catalog."""
