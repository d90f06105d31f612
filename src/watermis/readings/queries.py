"""Reading figures other pages and apps read: progress, loss rates, volumes per period."""

from decimal import Decimal

from django.db.models import Count, F, Q, Sum

from watermis.customers.models import Meter, MeterKind

from .models import PeriodStatus, Reading, ReadingPeriod, ReadingState

READ_STATES = (ReadingState.ENTERED, ReadingState.HELD)


def _counts(queryset, *group):
    # order_by(): the default ordering (by period, then the period's zone and book) would
    # join zones and books into the grouping for nothing
    return (
        queryset.order_by()
        .values(*group)
        .annotate(
            total=Count("id"),
            read=Count("id", filter=Q(state__in=READ_STATES)),
            held=Count("id", filter=Q(state=ReadingState.HELD)),
            abnormal=Count("id", filter=~Q(anomaly="")),
            estimated=Count("id", filter=Q(estimated=True)),
            volume=Sum("volume"),
        )
    )


def _with_percent(rows):
    for row in rows:
        row["pending"] = row["total"] - row["read"]
        row["percent"] = round(100 * row["read"] / row["total"], 1) if row["total"] else 0.0
    return rows


def progress_by_period(periods):
    """Per period: total rows, read, held, abnormal, estimated, volume, pending and percent."""
    rows = _counts(Reading.objects.filter(period__in=periods, sequence=1), "period_id")
    return {row["period_id"]: row for row in _with_percent(list(rows))}


def open_months(periods):
    """The billing months still open (not closed by month-end) per zone: [{zone_id, month,
    books}] of the open book periods among ``periods``, oldest month first."""
    rows = (
        periods.filter(status=PeriodStatus.OPEN, book__isnull=False)
        .order_by()
        .values("zone_id", "month")
        .annotate(books=Count("id"))
        .order_by("month", "zone_id")
    )
    return list(rows)


def progress_by_zone_month(periods):
    """The figures of :func:`progress_by_period` per zone and billing month, and the reads
    entered but not billed yet: {(zone id, month): row}."""
    rows = _counts(
        Reading.objects.filter(period__in=periods, sequence=1), "zone_id", "period__month"
    ).annotate(unbilled=Count("id", filter=Q(state=ReadingState.ENTERED, billed=False)))
    return {(row["zone_id"], row["period__month"]): row for row in _with_percent(list(rows))}


def progress_by_reader(periods):
    """The same figures per meter reader (F2.3 progress statistics)."""
    rows = _counts(
        Reading.objects.filter(period__in=periods, sequence=1),
        "reader_id",
        "reader__name",
    ).order_by("reader__name")
    return _with_percent(list(rows))


def period_volumes(meter_ids, month):
    """Σ volume of the reads of ``month`` per meter (several reads of monitored meters add up)."""
    rows = (
        Reading.objects.filter(meter_id__in=meter_ids, period__month=month, state__in=READ_STATES)
        .values("meter_id")
        .annotate(v=Sum("volume"))
    )
    return {row["meter_id"]: row["v"] or Decimal(0) for row in rows}


def loss_rates(zone_ids, month, masters=None):
    """Per master meter of the month (F2.1, F6.1, F7.1): its volume, the customer volume
    behind it and the loss rate = (master − customers) / master.

    Customer meters count once: a sub-meter behind the same master as its
    parent is inside the parent's volume already. Returns dicts, master meters
    in number order; rate is None while the master has no volume.
    """
    masters = (
        masters
        if masters is not None
        else Meter.objects.filter(kind__in=(MeterKind.DISTRICT, MeterKind.PLANT))
    )
    if zone_ids is not None:
        masters = masters.filter(zone_id__in=zone_ids)
    masters = list(masters.order_by("number"))
    ids = [m.pk for m in masters]
    master_volume = period_volumes(ids, month)
    behind = (
        Reading.objects.filter(meter__master_id__in=ids, period__month=month, state__in=READ_STATES)
        .exclude(meter__parent__master_id=F("meter__master_id"))
        .values("meter__master_id")
        .annotate(v=Sum("volume"), n=Count("meter_id", distinct=True))
    )
    customer = {row["meter__master_id"]: (row["v"] or Decimal(0), row["n"]) for row in behind}
    result = []
    for master in masters:
        supplied = master_volume.get(master.pk)
        used, meters = customer.get(master.pk, (Decimal(0), 0))
        loss = rate = None
        if supplied is not None:
            loss = supplied - used
            rate = (loss * 100 / supplied).quantize(Decimal("0.01")) if supplied > 0 else None
        result.append(
            {
                "master": master,
                "master_volume": supplied,
                "customer_volume": used,
                "customer_meters": meters,
                "loss": loss,
                "rate": rate,
            }
        )
    return result


def latest_period(book):
    return ReadingPeriod.objects.filter(book=book).order_by("-month").first()


def months_ending(last, count):
    """The ``count`` billing months (first days) up to and including ``last``, oldest first."""
    index = last.year * 12 + last.month - 1
    return [
        last.replace(year=(index - n) // 12, month=(index - n) % 12 + 1, day=1)
        for n in range(count - 1, -1, -1)
    ]


def _ids(masters):
    """Master meters as ids for a filter: a queryset stays a subquery."""
    return masters.values("pk") if hasattr(masters, "values") else list(masters)


def loss_rate_trend(masters, months):
    """The loss figures of a set of master meters per month of ``months``, oldest first:
    a zone's or the company's loss rate over time (F6.1, F9.2).

    ``masters``: master meters (a queryset, or ids) of one kind: a plant outlet's volume
    behind is its district meters', so adding both kinds would count water twice. For
    each month the figures add up the masters read in it: their volume, the customer
    volume behind them (customer meters count once, as in :func:`loss_rates`), the loss
    and the rate; ``masters`` says how many were read. In a month without any master
    read, volume, loss and rate are None and the volume behind is all of theirs. Two
    grouped queries, whatever the number of meters and months.
    """
    ids = _ids(masters)
    supplied = {month: {} for month in months}  # month -> {master id: volume}
    for row in (
        Reading.objects.filter(meter_id__in=ids, period__month__in=months, state__in=READ_STATES)
        .values("meter_id", "period__month")
        .annotate(v=Sum("volume"))
    ):
        if row["v"] is not None:
            supplied[row["period__month"]][row["meter_id"]] = row["v"]
    behind = {month: {} for month in months}  # month -> {master id: (volume, meters)}
    for row in (
        Reading.objects.filter(
            meter__master_id__in=ids, period__month__in=months, state__in=READ_STATES
        )
        .exclude(meter__parent__master_id=F("meter__master_id"))
        .values("meter__master_id", "period__month")
        .annotate(v=Sum("volume"), n=Count("meter_id", distinct=True))
    ):
        behind[row["period__month"]][row["meter__master_id"]] = (row["v"] or Decimal(0), row["n"])
    result = []
    for month in months:
        read = supplied[month]
        pairs = [fig for master, fig in behind[month].items() if not read or master in read]
        volume = sum(read.values(), Decimal(0)) if read else None
        used = sum((v for v, _n in pairs), Decimal(0))
        loss = rate = None
        if volume is not None:
            loss = volume - used
            rate = (loss * 100 / volume).quantize(Decimal("0.01")) if volume > 0 else None
        result.append(
            {
                "month": month,
                "masters": len(read),
                "master_volume": volume,
                "customer_volume": used,
                "customer_meters": sum(n for _v, n in pairs),
                "loss": loss,
                "rate": rate,
            }
        )
    return result


def loss_rate_history(master, months):
    """One master meter's loss figures per month of ``months`` (F7.1), oldest first: the
    figures of :func:`loss_rate_trend` for that meter alone (and :func:`loss_rates`')."""
    return loss_rate_trend([master.pk], months)
