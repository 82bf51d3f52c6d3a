from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "urbangrid.dashboard"
    verbose_name = _("Leader dashboards")
