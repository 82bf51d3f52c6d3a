"""Chinese (and English) names for the third-party apps shown in the admin.

django-axes (sign-in lock-out) and django-tasks' database backend ship neither zh-Hans
translations nor readable app names ("AXES", "TASKS DATABASE BACKEND"). INSTALLED_APPS names
the AppConfig subclasses below instead of the packages: they give the apps translated names and
their models translated names. `THIRD_PARTY_MSGIDS` repeats the packages' own msgids (field
names and fieldsets the admin shows) so that `makemessages` keeps them in our catalogue, which
Django reads before the packages' (LOCALE_PATHS come first).
"""

from __future__ import annotations

from axes.apps import AppConfig as _AxesAppConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig as _TasksDbAppConfig

#: model name → (verbose_name, verbose_name_plural), per app label
MODEL_NAMES = {
    "axes": {
        "accessattempt": (_("sign-in failure record"), _("sign-in failure records")),
        "accessfailurelog": (_("failed sign-in"), _("failed sign-ins")),
        "accesslog": (_("sign-in record"), _("sign-in records")),
    },
    "django_tasks_database": {
        "dbtaskresult": (_("background task"), _("background tasks")),
    },
}

#: the packages' own msgids, translated in our catalogue
THIRD_PARTY_MSGIDS = (
    # django-axes
    _("User Agent"),
    _("IP Address"),
    _("Username"),
    _("HTTP Accept"),
    _("Path"),
    _("Attempt Time"),
    _("Access lock out"),
    _("GET Data"),
    _("POST Data"),
    _("Failed Logins"),
    _("Logout Time"),
    _("Session key hash (sha256)"),
    _("Form Data"),
    _("Meta Data"),
    # django-tasks database backend
    _("enqueued at"),
    _("started at"),
    _("finished at"),
    _("args kwargs"),
    _("priority"),
    _("task path"),
    _("worker id"),
    _("queue name"),
    _("backend name"),
    _("run after"),
    _("return value"),
    _("exception class path"),
    _("traceback"),
)


def _rename_models(config) -> None:
    for model_name, (singular, plural) in MODEL_NAMES.get(config.label, {}).items():
        try:
            meta = config.get_model(model_name)._meta
        except LookupError:  # a model the installed version does not have
            continue
        meta.verbose_name = singular
        meta.verbose_name_plural = plural


class AxesConfig(_AxesAppConfig):
    verbose_name = _("Sign-in protection")

    def ready(self) -> None:
        super().ready()
        _rename_models(self)


class TasksDatabaseConfig(_TasksDbAppConfig):
    verbose_name = _("Background tasks")

    def ready(self) -> None:
        super().ready()
        _rename_models(self)
