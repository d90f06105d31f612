"""Invoice stock and numbers (F11.10; DESIGN.md "Invoice numbers come from the operator's
issued stock under a row lock").

- A supervisor issues a range of numbers of one kind and code to one operator
  (:func:`issue_stock`); ranges of the same kind and code never overlap (checked
  under the kind's row lock, so two supervisors cannot issue the same numbers).
- An operator prints only from their own stock. :func:`take_number` locks the
  operator's stocks of the kind (rows in primary-key order) and takes the next
  number of the oldest one; the caller records what the number was used for
  (a :class:`NumberUse`) in the same transaction. If that transaction rolls
  back, so does the number: no number is used twice and none is lost.
- A spoiled form (a jammed printer) uses up its number with a reason
  (:func:`spoil_number`). A returned stock (:func:`return_stock`) keeps the
  numbers it used; the rest may be issued again.

So every number from ``first`` to ``next - 1`` of a stock has exactly one
:class:`NumberUse` (:func:`stock_problems` proves it).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.core.scoping import ensure_in_scope, visible_zone_ids

from .models import InvoiceKind, InvoiceStock, NumberUse, NumberUseKind, StockState


def require(actor, perm):
    """Refuse (PermissionDenied) unless ``actor`` holds ``perm``."""
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def clean_reason(reason, message, field="reason"):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: message})
    return reason[:200]


def _as_number(value, field):
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or str(value).strip() != str(number):
        raise ValidationError({field: _("Enter a whole number of at least 1, digits only.")})
    return number


def _check_operator_scope(actor, operator):
    """A supervisor issues stock only to operators of the zones they see."""
    zones = visible_zone_ids(actor)
    if zones is None:
        return
    zone_id = operator.unit.zone_id if operator.unit_id else None
    if zone_id not in zones:
        raise PermissionDenied(_("This operator works in a zone outside your scope."))


def overlapping(kind, code, first, last, exclude=None):
    """The stocks of ``kind`` and ``code`` holding any number from ``first`` to ``last``."""
    stocks = InvoiceStock.objects.filter(kind=kind, code=code, first__lte=last).select_related(
        "operator"
    )
    if exclude is not None:
        stocks = stocks.exclude(pk=exclude.pk)
    return [stock for stock in stocks.order_by("first") if stock.held_until >= first]


@transaction.atomic
def issue_stock(actor, data, now=None):
    """Issue numbers ``first``–``last`` of ``kind`` (and ``code``) to ``operator``."""
    require(actor, "invoices.add_invoicestock")
    kind = InvoiceKind.objects.select_for_update().get(pk=data["kind"].pk)
    operator = data["operator"]
    errors = {}
    if not kind.uses_stock:
        errors["kind"] = _(
            "Electronic invoices are numbered by the e-invoice provider: they need no stock."
        )
    elif not kind.active:
        errors["kind"] = _("This invoice kind is no longer in use.")
    if not operator.is_active:
        errors["operator"] = _("This operator's sign-in is switched off.")
    if errors:
        raise ValidationError(errors)
    _check_operator_scope(actor, operator)
    first = _as_number(data.get("first"), "first")
    last = _as_number(data.get("last"), "last")
    if last < first:
        raise ValidationError({"last": _("The last number cannot be below the first.")})
    if len(str(last)) > kind.number_width:
        raise ValidationError(
            {
                "last": _("Numbers of %(kind)s have at most %(width)s digits.")
                % {"kind": kind, "width": kind.number_width}
            }
        )
    code = (data.get("code") or "").strip()
    clash = overlapping(kind, code, first, last)
    if clash:
        other = clash[0]
        raise ValidationError(
            {
                "first": _(
                    "Numbers %(first)s–%(last)s overlap the stock %(stock)s issued to "
                    "%(operator)s: a number is issued once."
                )
                % {
                    "first": other.format(first),
                    "last": other.format(last),
                    "stock": other,
                    "operator": other.operator,
                }
            }
        )
    stock = InvoiceStock(
        kind=kind,
        code=code,
        first=first,
        last=last,
        next=first,
        operator=operator,
        zone_id=operator.unit.zone_id if operator.unit_id else None,
        issued_by=journal.saved_operator(actor),
        issued_at=now or timezone.now(),
        note=(data.get("note") or "").strip()[:200],
    )
    return journal.create_object(stock, actor=actor)


@transaction.atomic
def return_stock(actor, stock, reason, now=None):
    """Take back the unused numbers of a stock; the numbers used stay with it."""
    require(actor, "invoices.change_invoicestock")
    reason = clean_reason(reason, _("Say why the stock is returned."))
    stock = InvoiceStock.objects.select_for_update().get(pk=stock.pk)
    ensure_in_scope(actor, stock, "change")
    if stock.state != StockState.ISSUED:
        raise ValidationError(
            _("This stock is %(state)s: only a stock in use can be returned.")
            % {"state": stock.get_state_display()}
        )
    return journal.update_object(
        stock,
        {
            "state": StockState.RETURNED,
            "returned_by": journal.saved_operator(actor),
            "returned_at": now or timezone.now(),
            "note": reason,
        },
        reason,
        verb="return_stock",
        actor=actor,
    )


def _consume(stock):
    """Take ``stock``'s next number (the stock is locked by the caller); returns it."""
    sequence = stock.next
    stock.next = sequence + 1
    fields = ["next"]
    if stock.next > stock.last:
        stock.state = StockState.EXHAUSTED
        fields.append("state")
    stock.save(update_fields=fields)
    if stock.state == StockState.EXHAUSTED:
        journal.record(
            stock,
            AuditAction.UPDATE,
            {"state": StockState.ISSUED.value},
            {"state": StockState.EXHAUSTED.value, "next": stock.next},
            verb="stock_used_up",
        )
    return sequence


def own_stocks(actor, kind, lock=False):
    """The actor's stocks of ``kind`` still in use, oldest first (locked: primary-key order)."""
    stocks = InvoiceStock.objects.filter(operator=actor, kind=kind, state=StockState.ISSUED)
    if lock:
        stocks = stocks.select_for_update()
    if not isinstance(kind, InvoiceKind):
        return list(stocks.select_related("kind").order_by("pk"))
    stocks = list(stocks.order_by("pk"))
    for stock in stocks:  # the kind as the caller has it: no join to read it again
        stock.kind = kind
    return stocks


def remaining_numbers(actor, kind):
    """How many numbers of ``kind`` the actor still holds."""
    stocks = own_stocks(actor, kind)
    return sum(stock.remaining for stock in stocks)


def take_number(actor, kind):
    """The next number of ``kind`` from the actor's own stock: (stock, sequence).

    Call inside the transaction that records the number's use; the stock rows stay
    locked until it ends, so numbers are taken strictly one after another.
    """
    if getattr(actor, "pk", None) is None:
        raise ValidationError(_("Only a signed-in operator prints from an invoice stock."))
    stocks = own_stocks(actor, kind, lock=True)
    if not stocks:
        raise ValidationError(
            {
                "kind": _(
                    "You have no numbers of %(kind)s left: a supervisor issues you a stock "
                    "of numbers."
                )
                % {"kind": kind}
            }
        )
    stock = stocks[0]
    return stock, _consume(stock)


@transaction.atomic
def spoil_number(actor, stock, reason, now=None):
    """Record the stock's next form as spoiled (jammed, misprinted): its number is used up."""
    require(actor, "invoices.add_invoice")
    reason = clean_reason(reason, _("Say what happened to the form (jammed, misprinted...)."))
    stock = InvoiceStock.objects.select_for_update().select_related("kind").get(pk=stock.pk)
    if stock.operator_id != actor.pk:
        raise PermissionDenied(_("Only the operator holding a stock records its spoiled forms."))
    if stock.state != StockState.ISSUED:
        raise ValidationError(
            _("This stock is %(state)s: no number is left to spoil.")
            % {"state": stock.get_state_display()}
        )
    sequence = _consume(stock)
    use = NumberUse(
        stock=stock,
        sequence=sequence,
        number=stock.format(sequence),
        use=NumberUseKind.SPOILED,
        reason=reason,
        operator=actor,
        at=now or timezone.now(),
        zone_id=stock.zone_id,
    )
    return journal.create_object(use, reason, actor=actor)


def record_use(stock, sequence, invoice, actor, at):
    """The number's use by ``invoice`` (inside the issuing transaction)."""
    return NumberUse.objects.create(
        stock=stock,
        sequence=sequence,
        number=stock.format(sequence),
        use=NumberUseKind.INVOICE,
        invoice=invoice,
        operator=actor,
        at=at,
        zone_id=stock.zone_id,
    )


def stock_problems(stock):
    """Numbers of ``stock`` taken without a record, or recorded outside what was taken.

    Empty when every number from ``first`` to ``next - 1`` has exactly one use.
    """
    problems = []
    used = list(NumberUse.objects.filter(stock=stock).values_list("sequence", flat=True))
    taken = set(range(stock.first, stock.next))
    missing = sorted(taken - set(used))
    extra = sorted(set(used) - taken)
    if missing:
        problems.append(
            _("Numbers taken without a record: %(numbers)s")
            % {"numbers": ", ".join(stock.format(n) for n in missing[:20])}
        )
    if extra:
        problems.append(
            _("Numbers recorded but not taken: %(numbers)s")
            % {"numbers": ", ".join(stock.format(n) for n in extra[:20])}
        )
    return problems


def stock_totals(stocks):
    """Σ numbers issued, used and left of a stock queryset."""
    rows = stocks.order_by().values("first", "last", "next", "state")
    issued = used = left = 0
    for row in rows:
        issued += row["last"] - row["first"] + 1
        used += row["next"] - row["first"]
        if row["state"] == StockState.ISSUED:
            left += row["last"] - row["next"] + 1
    return {"issued": issued, "used": used, "left": left}
