// Disable a form's submit button after the first click. The form's one-time key makes a second
// submission harmless anyway; this only spares the person the wait.
(function () {
  "use strict";
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    });
  });
})();
