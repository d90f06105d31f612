// The layout edit page: element rows (add, remove, show the fields of their type) and the
// pointer position over the preview, in millimetres (to place elements).
(function () {
  "use strict";
  const form = document.getElementById("layout-form");
  if (!form) return;
  const list = document.getElementById("elements");
  const template = document.getElementById("element-template");
  const total = form.querySelector('input[name="el-TOTAL_FORMS"]');

  function refresh() {
    if (window.htmx) window.htmx.trigger(form, "wm-preview");
  }

  form.addEventListener("change", function (event) {
    const target = event.target;
    const row = target.closest(".wm-element");
    if (!row) return;
    if (target.name && target.name.endsWith("-type")) row.dataset.type = target.value;
    if (target.name && target.name.endsWith("-DELETE")) row.classList.toggle("wm-removed", target.checked);
  });

  document.getElementById("add-element").addEventListener("click", function () {
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const row = list.lastElementChild;
    row.querySelector(".wm-element-number").textContent = String(index + 1);
    const type = row.querySelector('select[name$="-type"]');
    row.dataset.type = type.value;
    row.querySelector('input[name$="-x"]').value = "10";
    row.querySelector('input[name$="-y"]').value = "10";
    row.querySelector('input[name$="-w"]').value = "40";
    row.querySelector('input[name$="-h"]').value = "6";
    row.scrollIntoView({ block: "nearest" });
    type.focus();
    refresh();
  });

  const panel = document.querySelector(".wm-preview");
  document.getElementById("preview").addEventListener("click", function (event) {
    if (event.target.closest("#preview-image")) panel.classList.toggle("wm-preview-large");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") panel.classList.remove("wm-preview-large");
  });

  document.getElementById("preview").addEventListener("mousemove", function (event) {
    const image = event.target.closest("#preview-image");
    const pointer = document.getElementById("preview-pointer");
    if (!image || !pointer) return;
    const box = image.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * parseFloat(image.dataset.widthMm);
    const y = ((event.clientY - box.top) / box.height) * parseFloat(image.dataset.heightMm);
    pointer.textContent = "x " + x.toFixed(1) + "  y " + y.toFixed(1) + " mm";
  });
})();
