"""signers package."""
