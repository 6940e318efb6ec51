// The stage form's small behaviours. They live in a file, not in hx-on attributes, because the
// Content-Security-Policy allows no inline or evaluated script.

// "Same numbers for both sides" hides the second side's fields.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.name === "same") {
    const sideB = document.getElementById("side-b");
    if (sideB) sideB.hidden = box.checked;
  }
});

// "Remove this source" removes its row, and keyboard users land on "Add another source".
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest(".remove-source") : null;
  if (!button) return;
  const form = button.form;
  button.closest(".source-row")?.remove();
  form?.querySelector(".add-source")?.focus();
});

// "Add another source" asks the server for the row numbered after the highest on the page, so
// ids stay unique once rows are removed.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.elt.matches(".add-source")) {
    const rows = document.querySelectorAll("#source-rows .source-row");
    const indexes = Array.from(rows, (row) => Number(row.dataset.index));
    event.detail.parameters.index = 1 + Math.max(-1, ...indexes);
  }
});

// Keyboard users land in the source they just added, ready to type its address.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id === "source-rows") {
    event.detail.target.lastElementChild?.querySelector("input")?.focus();
  }
});

// The spare empty source row is for editors without a script; with one, "Add another source"
// numbers new rows from the last real one. Also after htmx swaps in a re-rendered form.
const removeSpareRows = () => {
  for (const spare of document.querySelectorAll(".source-row.spare")) spare.remove();
};
removeSpareRows();
document.addEventListener("htmx:afterSettle", removeSpareRows);
