/* Focus after a refused form, on every page: when the page holds a control marked
   aria-invalid="true", the first one gets the focus as the page loads, so a person using a
   keyboard or a screen reader starts where the problem is (its label and, through
   aria-describedby, its error message are read out). When only the form as a whole is at
   fault, the error summary (_error_summary.html) gets the focus instead. A link in the
   summary moves the focus to its field and shows the field's label too. */
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  var invalid = document.querySelector("[aria-invalid=true]");

  function show(control) {
    var label = control.id ? document.querySelector("label[for='" + control.id + "']") : null;
    var legend = control.closest("fieldset") && control.closest("fieldset").querySelector("legend");
    control.focus({ preventScroll: true });
    (legend || label || control).scrollIntoView({ block: "center" });
  }

  if (invalid) {
    show(invalid);
  } else if (summary) {
    summary.focus();
  }

  if (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) { return; }
      var control = document.getElementById(link.getAttribute("href").slice(1));
      if (!control) { return; }
      event.preventDefault();
      show(control);
    });
  }
}());
