"""Background tasks of the reports (Django's tasks framework; run by ``manage.py db_worker``)."""

from django_tasks import task


@task()
def refresh_facts_task():
    """Sum the ledger rows posted since the last refresh into the facts."""
    from .facts import refresh

    return refresh()
