/* The counter screen (F3.8, F3.9): keyboard first.
 *
 * The account field finds the customer (Enter); htmx swaps the customer's bills into
 * #counter-panel, with the tendered field focused. Ticking bills, the waiver, the amount to
 * pay and the money tendered update the totals and the change as they are typed (in fen,
 * never floats). Enter posts; the receipt panel comes back with its Print button focused.
 * Keys: F2 account, F3 all bills / none, F4 waiver, F6 amount to pay, F8 tendered, F9 post,
 * ArrowUp/ArrowDown between bills, Esc next customer.
 */
(function () {
  "use strict";

  var $ = WaterScreen.$;
  var fen = WaterScreen.fen;
  var yuan = WaterScreen.yuan;
  var focus = WaterScreen.focus;

  function update() {
    var form = $("#counter-form");
    if (!form || !form.elements.tendered) return;
    var due = 0;
    var fees = 0;
    form.querySelectorAll("input.wm-bill").forEach(function (box) {
      if (box.checked) {
        due += fen(box.dataset.total) || 0;
        fees += fen(box.dataset.fee) || 0;
      }
    });
    var waiver = fen(form.elements.waiver.value) || 0;
    var payable = due - waiver;
    $("#counter-due").textContent = yuan(due);
    form.elements.amount.placeholder = yuan(payable);
    var amount = form.elements.amount.value.trim() ? fen(form.elements.amount.value) : payable;
    var tenderedText = form.elements.tendered.value.trim();
    var tendered = tenderedText ? fen(tenderedText) : amount;
    form.elements.tendered.placeholder = yuan(amount === null ? payable : amount);
    var change = amount === null || tendered === null ? null : tendered - amount;
    var limit = fen(form.dataset.smallChange) || 0;
    var keep = form.elements.keep_change;
    var canKeep = change !== null && change > 0 && change < limit && amount === payable;
    keep.disabled = !canKeep;
    if (!canKeep) keep.checked = false;
    var shown = $("#counter-change");
    shown.textContent = change === null ? "—" : keep.checked ? "0.00" : yuan(change);
    shown.classList.toggle("text-danger", change !== null && change < 0);
    var waiverLimit = form.dataset.waiverLimit === "" ? null : fen(form.dataset.waiverLimit);
    var supervisor = $("#counter-supervisor");
    if (supervisor) {
      var needed = waiverLimit !== null && waiver > waiverLimit;
      if (needed || form.elements.authoriser_username.value) supervisor.classList.remove("d-none");
      else supervisor.classList.add("d-none");
    }
    var waiverBox = form.elements.waiver;
    waiverBox.classList.toggle("is-invalid", waiver > fees);
    var kind = form.elements.invoice_kind;
    if (kind) {
      form.querySelectorAll(".wm-stock").forEach(function (span) {
        span.classList.toggle("d-none", span.dataset.kind !== kind.value);
      });
    }
  }

  function bills() {
    return Array.prototype.slice.call(document.querySelectorAll("#counter-form input.wm-bill"));
  }

  WaterScreen.start("counter", {
    update: update,
    list: bills,
    keys: {
      F3: function () {
        var boxes = bills();
        var all = boxes.every(function (box) { return box.checked; });
        boxes.forEach(function (box) { box.checked = !all; });
        update();
      },
      F4: function (form) {
        focus(form.elements.waiver);
      },
    },
  });
})();
