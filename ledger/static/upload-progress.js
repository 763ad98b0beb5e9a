// Upload forms with a progress bar: a form marked data-upload-progress is sent with XMLHttpRequest,
// so that the bytes sent can be shown while a large file goes up, then "checking" while the server
// reads every row. The answer replaces the page's <main> (a preview, or the form with its errors);
// a redirect (the file recorded) is followed. Without JavaScript the form posts as usual.
(function () {
  "use strict";
  function replaceMain(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var fresh = page.querySelector("main");
    var current = document.querySelector("main");
    if (!fresh || !current) { document.location.reload(); return; }
    current.replaceWith(fresh);
    if (page.title) { document.title = page.title; }
    bind(fresh);
    fresh.focus();
  }
  function send(form, event) {
    event.preventDefault();
    var box = form.querySelector(".upload-progress");
    var bar = box.querySelector("progress");
    var percent = box.querySelector(".upload-percent");
    var stage = box.querySelector(".upload-stage");
    var button = form.querySelector("button[type=submit]");
    box.hidden = false;
    button.disabled = true;
    stage.textContent = stage.dataset.sending;
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable && bar.hasAttribute("max")) {
        var value = Math.round(progress.loaded * 100 / progress.total);
        bar.value = value;
        if (percent) { percent.textContent = value + "%"; }
      }
    });
    request.upload.addEventListener("load", function () {
      stage.textContent = stage.dataset.checking;
      bar.removeAttribute("value");
    });
    request.addEventListener("load", function () {
      var target = new URL(request.responseURL || form.action, document.baseURI);
      if (target.pathname !== new URL(form.action, document.baseURI).pathname) {
        document.location.assign(target.href);
      } else {
        replaceMain(request.responseText);
      }
    });
    request.addEventListener("error", function () { form.submit(); });
    request.send(new FormData(form));
  }
  function bind(root) {
    root.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
      form.addEventListener("submit", function (event) { send(form, event); });
    });
  }
  bind(document);
})();
