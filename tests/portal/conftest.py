from tests.open311.conftest import key, partner, world

__all__ = ["key", "partner", "world"]
