"""Background tasks of billing (Django's tasks framework; run by ``manage.py db_worker``)."""

from django_tasks import task

from watermis.core.journal import audit_context


@task()
def bill_book_task(run_book_id):
    """Bill (or preview) one book of a bill run."""
    from .billrun import bill_book

    with audit_context(source="task:bill_book"):
        bill_book(run_book_id)
    return run_book_id
