/* Keyboard entry of meter readings (F2.2, F2.3).
 *
 * Every row of a table.wm-entry posts to its own endpoint (data-url) and is replaced by the
 * row the server answers, with the book's progress (#book-progress). Enter saves a row;
 * once saved, the next row still to read takes the focus. A row asking for a reason focuses
 * its reason box: Enter sends the reason (confirming the findings shown), Esc goes back to
 * the reading. ArrowUp/ArrowDown move between rows; Alt+R ticks "dial rolled over".
 */
(function () {
  "use strict";

  function rowsOf(table) {
    return Array.prototype.slice.call(table.querySelectorAll("tr.wm-row"));
  }

  function focusInput(input) {
    if (!input) return false;
    input.focus();
    if (input.select) input.select();
    return true;
  }

  function focusCurrent(row) {
    var input = row && row.querySelector(".wm-current:not([disabled])");
    return focusInput(input);
  }

  function neighbour(row, step, pendingOnly) {
    var rows = rowsOf(row.closest("table"));
    for (var i = rows.indexOf(row) + step; i >= 0 && i < rows.length; i += step) {
      if (pendingOnly && rows[i].dataset.state !== "pending") continue;
      if (rows[i].querySelector(".wm-current:not([disabled])")) return rows[i];
    }
    return null;
  }

  function replaceFromResponse(row, html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("tr.wm-row");
    if (!fresh) return row;
    row.replaceWith(fresh);
    var progress = doc.getElementById("book-progress");
    var current = document.getElementById("book-progress");
    if (progress && current) current.replaceWith(progress);
    return fresh;
  }

  function send(row, url, data) {
    if (row.dataset.busy) return;
    row.dataset.busy = "1";
    row.classList.add("opacity-50");
    var table = row.closest("table");
    var headers = { "X-CSRFToken": table.dataset.csrf, "X-Row": "1" };
    if (table.dataset.compact) headers["X-Row-Compact"] = "1";
    fetch(url, { method: "POST", body: data, headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status + " " + response.statusText);
        return response.text();
      })
      .then(function (html) {
        var fresh = replaceFromResponse(row, html);
        var outcome = fresh.dataset.outcome;
        if (outcome === "saved") {
          // On to the next meter still to read (rows read already are skipped), else the next row.
          if (!focusCurrent(neighbour(fresh, 1, true) || neighbour(fresh, 1))) focusCurrent(fresh);
        } else {
          if (!focusInput(fresh.querySelector(".wm-reason"))) focusCurrent(fresh);
        }
        fresh.dispatchEvent(new CustomEvent("wm:row-saved", { bubbles: true }));
      })
      .catch(function (error) {
        delete row.dataset.busy;
        row.classList.remove("opacity-50");
        row.classList.add("table-danger");
        var cell = row.querySelector(".wm-result");
        if (cell) {
          var div = document.createElement("div");
          div.className = "text-danger wm-error";
          div.textContent = error.message;
          cell.appendChild(div);
        }
      });
  }

  function saveRow(row, confirm) {
    var data = new FormData();
    row.querySelectorAll("input[name], select[name]").forEach(function (el) {
      if (el.type === "checkbox") {
        if (el.checked) data.append(el.name, "on");
      } else {
        data.append(el.name, el.value);
      }
    });
    if (confirm) data.append("confirm", "on");
    send(row, row.dataset.url, data);
  }

  function confirmHeld(row) {
    var reason = row.querySelector(".wm-held-reason");
    if (!reason || !reason.value.trim()) {
      if (reason) {
        reason.classList.add("is-invalid");
        reason.focus();
      }
      return;
    }
    var data = new FormData();
    data.append("reason", reason.value);
    send(row, row.dataset.confirmUrl, data);
  }

  function onKey(event) {
    var target = event.target;
    var row = target.closest && target.closest("tr.wm-row");
    if (!row) return;
    if (event.altKey && (event.key === "r" || event.key === "R")) {
      var box = row.querySelector(".wm-rollover");
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
        focusCurrent(row);
      }
      return;
    }
    if (target.classList.contains("wm-held-reason")) {
      if (event.key === "Enter") {
        event.preventDefault();
        confirmHeld(row);
      }
      return;
    }
    if (target.classList.contains("wm-reason")) {
      if (event.key === "Enter") {
        event.preventDefault();
        if (!target.value.trim()) {
          target.classList.add("is-invalid");
          return;
        }
        saveRow(row, target.dataset.confirm === "1");
      } else if (event.key === "Escape") {
        event.preventDefault();
        var cell = target.parentNode;
        target.remove();
        cell.querySelectorAll(".form-text, .wm-findings").forEach(function (el) {
          el.remove();
        });
        focusCurrent(row);
      }
      return;
    }
    if (event.key === "Enter" && target.matches("input, select")) {
      event.preventDefault();
      saveRow(row, false);
    } else if (
      (event.key === "ArrowDown" || event.key === "ArrowUp") &&
      target.classList.contains("wm-current")
    ) {
      event.preventDefault();
      focusCurrent(neighbour(row, event.key === "ArrowDown" ? 1 : -1));
    }
  }

  function onInput(event) {
    // A changed reading drops a confirmation asked for the old value.
    var target = event.target;
    if (!target.classList.contains("wm-current")) return;
    var reason = target.closest("tr.wm-row").querySelector('.wm-reason[data-confirm="1"]');
    if (reason) reason.dataset.confirm = "0";
  }

  function onClick(event) {
    var button = event.target.closest(".wm-confirm-held");
    if (button) confirmHeld(button.closest("tr.wm-row"));
  }

  document.querySelectorAll("table.wm-entry").forEach(function (table) {
    table.addEventListener("keydown", onKey);
    table.addEventListener("input", onInput);
    table.addEventListener("click", onClick);
  });
  var first = document.querySelector("table.wm-entry .wm-current:not([disabled])");
  var pending = document.querySelector('table.wm-entry tr.wm-row[data-state="pending"] .wm-current:not([disabled])');
  if (!document.querySelector("[autofocus]")) focusInput(pending || first);
})();
