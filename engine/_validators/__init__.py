"""Generated request validators (engine/_validator_cache.py)."""
