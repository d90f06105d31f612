"""Paging lists of millions of rows without counting them all (issue 10 item 5).

A query page shows its first rows at once, whatever the table's size: the rows are
counted only up to :data:`ROW_CAP` (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``), so a
page over twenty-four million bills counts ten thousand and one of them, not all. Past
the cap the list says "more than 10,000 rows" and pages through the first 10,000; the
filters narrow it (a zone, a month, a book, an account), and the statistical reports
(``watermis.reports``) sum any selection of any size.

A sort other than the list's own order (by amount, by what is outstanding) needs a
selection of at most :data:`ROW_CAP` rows too: past it the list keeps its own order,
which an index gives at once, and says so (:func:`honour_sort`).

Totals over the filtered rows (:class:`watermis.billing.bill_views.TotalsListView`) are
summed the same way: exactly, for a selection of at most :data:`ROW_CAP` rows.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet

ROW_CAP = getattr(settings, "WATERMIS_ROW_CAP", 10_000)


def capped_count(queryset, cap=None, ordered=False):
    """The rows of ``queryset``, counted up to ``cap + 1`` (more than ``cap``: ``cap + 1``);
    ``ordered``: count them in the queryset's order (an indexed one that finds the rows
    sooner than the table's physical order would), not in any."""
    cap = ROW_CAP if cap is None else cap
    queryset = queryset if ordered else queryset.order_by()
    return queryset.values("pk")[: cap + 1].count()


def queryset_of(object_list):
    """The queryset behind a list (django-tables2 wraps it in its table data), or None."""
    data = getattr(object_list, "data", object_list)
    return data if isinstance(data, QuerySet) else None


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` rows (or is told the count).

    ``more``: the list has more rows than ``cap``; ``count`` is then ``cap`` and the last
    page is the one that ends at the cap.
    """

    def __init__(self, object_list, per_page, count=None, cap=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = ROW_CAP if cap is None else cap
        if count is None:
            queryset = queryset_of(object_list)
            count = capped_count(queryset, self.cap) if queryset is not None else len(object_list)
        self.more = count > self.cap
        self.count = min(count, self.cap)


def own_order(request, table_class):
    """Whether the query string asks for no sort, or for the table's own order."""
    sort = request.GET.get("sort", "")
    own = getattr(getattr(table_class, "_meta", None), "order_by", None) or ()
    return not sort or sort == ",".join(own)


def honour_sort(request, table_class, count, cap=None):
    """``(request, refused)``: the request as it is when its sort can be honoured (none
    asked, the table's own order, or a selection of at most ``cap`` rows, ``count`` being
    the capped count); else a copy that asks for no sort, and ``refused`` True."""
    cap = ROW_CAP if cap is None else cap
    if count <= cap or own_order(request, table_class):
        return request, False
    copy = request.__class__.__new__(request.__class__)
    copy.__dict__.update(request.__dict__)
    copy.GET = request.GET.copy()
    copy.GET.pop("sort", None)
    return copy, True
