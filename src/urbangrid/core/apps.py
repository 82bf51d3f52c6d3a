from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "urbangrid.core"
    label = "core"
    verbose_name = _("Organisation and people")

    def ready(self) -> None:
        _widen_psycopg_query_cache()


def _widen_psycopg_query_cache() -> None:
    """psycopg caches the parsing of a query only up to 50 parameters; a case row has more, so
    every case INSERT was re-parsed (about 1 ms of CPU). Let the cache hold our statements."""
    try:
        from psycopg import _queries
    except ImportError:  # SQLite-only installation
        return
    if getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", 0) < 200:
        _queries.MAX_CACHED_STATEMENT_PARAMS = 200
