/* The deposit screen (F4.1): keyboard first, as the counter.
 *
 * The account field finds the customer (Enter); htmx swaps the customer's deposit, arrears
 * and open bills into #deposit-panel with the amount focused. The change is shown as the
 * amount and the money tendered are typed (in fen, never floats). Enter posts; the deposit's
 * page opens with its voucher button.
 * Keys: F2 account, F6 amount, F8 tendered, F9 post, ArrowUp/ArrowDown between matches,
 * Esc next customer.
 */
(function () {
  "use strict";

  var $ = WaterScreen.$;
  var fen = WaterScreen.fen;
  var yuan = WaterScreen.yuan;

  function update() {
    var form = $("#deposit-form");
    if (!form) return;
    var amount = fen(form.elements.amount.value);
    var tenderedText = form.elements.tendered.value.trim();
    var tendered = tenderedText ? fen(tenderedText) : amount;
    form.elements.tendered.placeholder = amount === null ? "" : yuan(amount);
    var change = amount === null || tendered === null ? null : tendered - amount;
    var shown = $("#deposit-change");
    shown.textContent = change === null ? "—" : yuan(change);
    shown.classList.toggle("text-danger", change !== null && change < 0);
  }

  WaterScreen.start("deposit", { update: update });
})();
