"""Background tasks of payments (Django's tasks framework; run by ``manage.py db_worker``)."""

from django_tasks import task

from watermis.core.journal import audit_context


@task()
def transfer_task(run_id):
    """Run a deposit transfer (``deposits.run_transfer``)."""
    from .deposits import run_transfer

    with audit_context(source="task:deposit_transfer"):
        run_transfer(run_id)
    return run_id
