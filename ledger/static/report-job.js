// The report-in-progress page: poll the run's status until it is done or failed, and show its
// progress. The status URL and the translated status labels come in data- attributes of #report-job.
(function () {
  "use strict";
  var box = document.getElementById("report-job");
  if (!box) { return; }
  var labels = JSON.parse(box.dataset.statusLabels);
  function poll() {
    fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var job = body.job;
        document.getElementById("report-progress").value = job.progress;
        document.getElementById("report-percent").textContent = job.progress + "%";
        document.getElementById("report-state").textContent = labels[job.status] || job.status;
        if (job.status === "done") {
          document.getElementById("report-sha").textContent = job.sha256;
          document.getElementById("report-done").hidden = false;
        } else if (job.status === "failed") {
          var error = document.getElementById("report-error");
          error.textContent = job.error || "failed";
          error.hidden = false;
        } else {
          setTimeout(poll, 500);
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  if (["queued", "running"].indexOf(box.dataset.status) >= 0) { poll(); }
})();
