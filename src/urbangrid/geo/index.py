"""Point-to-grid spatial index (placeholder until implemented)."""


def invalidate_index() -> None:
    pass
