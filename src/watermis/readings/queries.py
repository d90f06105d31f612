"""Reading figures other pages and apps read: progress, loss rates, volumes per period."""

from decimal import Decimal

from django.db.models import Count, F, Q, Sum

from watermis.customers.models import Meter, MeterKind

from .models import Reading, ReadingPeriod, ReadingState

READ_STATES = (ReadingState.ENTERED, ReadingState.HELD)


def _counts(queryset, *group):
    return queryset.values(*group).annotate(
        total=Count("id"),
        read=Count("id", filter=Q(state__in=READ_STATES)),
        held=Count("id", filter=Q(state=ReadingState.HELD)),
        abnormal=Count("id", filter=~Q(anomaly="")),
        estimated=Count("id", filter=Q(estimated=True)),
        volume=Sum("volume"),
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


def loss_rate_history(master, months):
    """One master meter's loss figures per month of ``months`` (F7.1), oldest first.

    The same figures as :func:`loss_rates` (customer meters count once), in two
    grouped queries instead of two per month.
    """
    supplied = dict(
        Reading.objects.filter(meter=master, period__month__in=months, state__in=READ_STATES)
        .values("period__month")
        .annotate(v=Sum("volume"))
        .values_list("period__month", "v")
    )
    behind = {
        row["period__month"]: (row["v"] or Decimal(0), row["n"])
        for row in Reading.objects.filter(
            meter__master=master, period__month__in=months, state__in=READ_STATES
        )
        .exclude(meter__parent__master_id=F("meter__master_id"))
        .values("period__month")
        .annotate(v=Sum("volume"), n=Count("meter_id", distinct=True))
    }
    result = []
    for month in months:
        volume = supplied.get(month)
        used, meters = behind.get(month, (Decimal(0), 0))
        loss = rate = None
        if volume is not None:
            loss = volume - used
            rate = (loss * 100 / volume).quantize(Decimal("0.01")) if volume > 0 else None
        result.append(
            {
                "month": month,
                "master_volume": volume,
                "customer_volume": used,
                "customer_meters": meters,
                "loss": loss,
                "rate": rate,
            }
        )
    return result
