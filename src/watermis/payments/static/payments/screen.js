/* What the customer screens share (the counter, the deposit screen): money typed in fen
 * (never floats), the focus, the panel htmx swaps in, and the keys every screen has:
 * F2 account, F6 amount, F8 tendered, F9 post, ArrowUp/ArrowDown between matches (and the
 * screen's own list), Esc next customer.
 *
 * WaterScreen.start(prefix, {update, keys, list}): the screen's elements are #<prefix>-form,
 * -panel, -account; ``update()`` recomputes its figures as anything is typed or ticked;
 * ``keys``: {key: function (form)} for its own keys; ``list()``: elements the arrows move
 * between (the counter's bills).
 */
window.WaterScreen = (function () {
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

  function focus(element) {
    if (!element) return false;
    element.focus();
    if (element.select) element.select();
    return true;
  }

  function step(elements, from, event, always) {
    var next = elements.indexOf(from) + (event.key === "ArrowDown" ? 1 : -1);
    var inside = next >= 0 && next < elements.length;
    if (always || inside) event.preventDefault();
    if (inside) elements[next].focus();
  }

  function start(prefix, options) {
    var update = options.update;
    var keys = options.keys || {};
    var formSelector = "#" + prefix + "-form";

    function nextCustomer() {
      var panel = $("#" + prefix + "-panel");
      if (panel) panel.innerHTML = "";
      var account = $("#" + prefix + "-account");
      if (account) {
        account.value = "";
        account.focus();
      }
    }

    ["input", "change"].forEach(function (type) {
      document.addEventListener(type, function (event) {
        if (event.target.closest(formSelector)) update();
      });
    });
    document.addEventListener("htmx:afterSettle", function (event) {
      if (event.target.id !== prefix + "-panel") return;
      update();
      focus($("[autofocus]", event.target));
    });
    document.addEventListener("htmx:responseError", function (event) {
      var panel = $("#" + prefix + "-panel");
      if (!panel) return;
      var div = document.createElement("div");
      div.className = "alert alert-danger py-2";
      div.id = prefix + "-request-error";
      div.textContent = event.detail.xhr.status + " " + event.detail.xhr.statusText;
      panel.prepend(div);
    });

    document.addEventListener("keydown", function (event) {
      var form = $(formSelector);
      switch (event.key) {
        case "F2":
          event.preventDefault();
          focus($("#" + prefix + "-account"));
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
          var own = options.list ? options.list() : [];
          if (own.indexOf(document.activeElement) >= 0) {
            step(own, document.activeElement, event, true);
            return;
          }
          var match = document.activeElement && document.activeElement.closest(".wm-match");
          if (match) {
            step(Array.prototype.slice.call(document.querySelectorAll(".wm-match")), match, event);
          }
          return;
        default:
          if (keys[event.key] && form) {
            event.preventDefault();
            keys[event.key](form);
          }
      }
    });

    update();
  }

  return { $: $, fen: fen, yuan: yuan, focus: focus, start: start };
})();
