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

// "Remove this source" removes its row.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest(".remove-source") : null;
  if (button) button.closest(".source-row")?.remove();
});

// "Add another source" asks the server for the row numbered after those on the page.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.elt.matches(".add-source")) {
    event.detail.parameters.index = document.querySelectorAll("#source-rows .source-row").length;
  }
});
