from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "watermis.reports"
    verbose_name = _("Reports")

    def ready(self):
        from watermis.billing import hooks

        def refresh_after_run(run_id):
            """A bill run's bills are summed into the facts at once, in the background, so
            the first report after a run of a million bills need not wait for them. (The task
            queue is a table of the same database: the task commits with the run's last book.)"""
            from .tasks import refresh_facts_task

            refresh_facts_task.enqueue()

        hooks.register_run_finished(refresh_after_run)
