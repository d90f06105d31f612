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


def run_queued_tasks():
    """Run every queued task in this process, as ``manage.py db_worker --batch`` does, without
    the worker's connection handling (tests, and benchmarks on SQLite's in-memory database).
    Returns how many ran."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="in-process",
        excluded_queue_names=[],
    )
    count = 0
    while (result := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        result.claim("in-process")
        worker.run_task(result)
        count += 1
    return count
