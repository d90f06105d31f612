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

  function focus(element) {
    if (!element) return false;
    element.focus();
    if (element.select) element.select();
    return true;
  }

  function focusAutofocus(root) {
    focus($("[autofocus]", root));
  }

  function nextCustomer() {
    var panel = $("#counter-panel");
    if (panel) panel.innerHTML = "";
    var account = $("#counter-account");
    if (account) {
      account.value = "";
      account.focus();
    }
  }

  function bills() {
    return Array.prototype.slice.call(document.querySelectorAll("#counter-form input.wm-bill"));
  }

  document.addEventListener("input", function (event) {
    if (event.target.closest("#counter-form")) update();
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest("#counter-form")) update();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id !== "counter-panel") return;
    update();
    focusAutofocus(event.target);
  });
  document.addEventListener("htmx:responseError", function (event) {
    var panel = $("#counter-panel");
    if (!panel) return;
    var div = document.createElement("div");
    div.className = "alert alert-danger py-2";
    div.id = "counter-request-error";
    div.textContent = event.detail.xhr.status + " " + event.detail.xhr.statusText;
    panel.prepend(div);
  });

  document.addEventListener("keydown", function (event) {
    var form = $("#counter-form");
    switch (event.key) {
      case "F2":
        event.preventDefault();
        focus($("#counter-account"));
        return;
      case "Escape":
        if (document.querySelector(".modal.show")) return;
        event.preventDefault();
        nextCustomer();
        return;
      case "F3":
        if (!form) return;
        event.preventDefault();
        var boxes = bills();
        var all = boxes.every(function (box) { return box.checked; });
        boxes.forEach(function (box) { box.checked = !all; });
        update();
        return;
      case "F4":
        if (!form) return;
        event.preventDefault();
        focus(form.elements.waiver);
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
        var list = bills();
        var at = list.indexOf(document.activeElement);
        if (at < 0) {
          var match = document.activeElement && document.activeElement.closest(".wm-match");
          if (!match) return;
          var links = Array.prototype.slice.call(document.querySelectorAll(".wm-match"));
          var to = links.indexOf(match) + (event.key === "ArrowDown" ? 1 : -1);
          if (to >= 0 && to < links.length) {
            event.preventDefault();
            links[to].focus();
          }
          return;
        }
        event.preventDefault();
        var next = at + (event.key === "ArrowDown" ? 1 : -1);
        if (next >= 0 && next < list.length) list[next].focus();
        return;
      default:
        return;
    }
  });

  update();
})();
