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

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  function fen(text) {
    var value = String(text || "").trim().replace(/,/g, "");
    if (!/^\d*(\.\d{0,2})?$/.test(value) || value === "" || value === ".") return null;
    var parts = value.split(".");
    return parseInt(parts[0] || "0", 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function yuan(cents) {
    var sign = cents < 0 ? "-" : "";
    cents = Math.abs(cents);
    return sign + Math.floor(cents / 100) + "." + String(cents % 100).padStart(2, "0");
  }

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

  function focus(element) {
    if (!element) return false;
    element.focus();
    if (element.select) element.select();
    return true;
  }

  function nextCustomer() {
    var panel = $("#deposit-panel");
    if (panel) panel.innerHTML = "";
    var account = $("#deposit-account");
    if (account) {
      account.value = "";
      account.focus();
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.closest("#deposit-form")) update();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id !== "deposit-panel") return;
    update();
    focus($("[autofocus]", event.target));
  });
  document.addEventListener("htmx:responseError", function (event) {
    var panel = $("#deposit-panel");
    if (!panel) return;
    var div = document.createElement("div");
    div.className = "alert alert-danger py-2";
    div.id = "deposit-request-error";
    div.textContent = event.detail.xhr.status + " " + event.detail.xhr.statusText;
    panel.prepend(div);
  });

  document.addEventListener("keydown", function (event) {
    var form = $("#deposit-form");
    switch (event.key) {
      case "F2":
        event.preventDefault();
        focus($("#deposit-account"));
        return;
      case "Escape":
        if (document.querySelector(".modal.show")) return;
        event.preventDefault();
        nextCustomer();
        return;
      case "F6":
        if (!form) return;
        event.preventDefault();
        focus(form.elements.amount);
        return;
      case "F8":
        if (!form) return;
        event.preventDefault();
        focus(form.elements.tendered);
        return;
      case "F9":
        if (!form) return;
        event.preventDefault();
        form.requestSubmit();
        return;
      case "ArrowDown":
      case "ArrowUp":
        var match = document.activeElement && document.activeElement.closest(".wm-match");
        if (!match) return;
        var links = Array.prototype.slice.call(document.querySelectorAll(".wm-match"));
        var to = links.indexOf(match) + (event.key === "ArrowDown" ? 1 : -1);
        if (to >= 0 && to < links.length) {
          event.preventDefault();
          links[to].focus();
        }
        return;
      default:
        return;
    }
  });

  update();
})();
