"""What a bill run tells the apps after billing (payments), without billing importing them.

Arrows point one way (billing ← payments): payments registers here, in its
``AppConfig.ready``, what it does when a bill run starts and when a book's bills are
written (the deposit transfer right after a bill run, F4.3); reports registers what it
does when a run is finished (summing the new bills into its facts).
"""

_run_started = []
_bills_written = []
_run_finished = []


def register_run_started(func):
    """``func(run)`` runs in the transaction that starts a (real, not preview) bill run."""
    _run_started.append(func)
    return func


def register_bills_written(func):
    """``func(actor, customer_ids, run_book)`` runs in a book's transaction once its bills,
    entries and balances are written (``customer_ids``: the customers billed, sorted)."""
    _bills_written.append(func)
    return func


def register_run_finished(func):
    """``func(run_id)`` runs once a bill run's last book is done (in that book's transaction:
    use ``transaction.on_commit`` for work that must see the bills)."""
    _run_finished.append(func)
    return func


def run_started(run):
    for func in _run_started:
        func(run)


def bills_written(actor, customer_ids, run_book):
    for func in _bills_written:
        func(actor, customer_ids, run_book)


def run_finished(run_id):
    for func in _run_finished:
        func(run_id)
