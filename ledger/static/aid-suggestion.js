// The tier amount as the out-of-pocket cost is typed, on the new-application form: asks the
// suggestion address (data-url) for the fund, the person and the amount, and shows the amount with
// the rule that produced it. Without this script the form works as it is; the reviewer sees the
// same suggestion on the application's page.
(function () {
  "use strict";

  var WAIT_MS = 250;

  function yuan(text) {
    var cleaned = (text || "").replace(/[\uff10-\uff19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).replace(/[,\s]/g, "").replace(/\uff0e/g, ".");
    return /^[0-9]+(\.[0-9]{1,2})?$/.test(cleaned) ? cleaned : null;
  }

  function fen(text) {
    var value = yuan(text);
    if (value === null) { return null; }
    var parts = value.split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function outOfPocket(form) {
    var typed = form.elements.out_of_pocket.value;
    if (typed.trim()) { return yuan(typed); }
    var total = fen(form.elements.total_cost.value);
    var reimbursed = fen(form.elements.reimbursed.value || "0");
    if (total === null || reimbursed === null || reimbursed > total) { return null; }
    var left = total - reimbursed;
    return Math.floor(left / 100) + "." + ("0" + (left % 100)).slice(-2);
  }

  function start() {
    var box = document.getElementById("suggestion");
    var form = document.getElementById("application-form");
    if (!box || !form) { return; }
    var amount = document.getElementById("suggestion-amount");
    var rule = document.getElementById("suggestion-rule");
    var timer = null;
    var asked = 0;

    function show(amountText, ruleText) {
      amount.textContent = amountText;
      rule.textContent = ruleText;
    }

    function ask() {
      var cost = outOfPocket(form);
      var fund = form.elements.fund_code.value;
      if (cost === null || !fund) {
        show("", box.getAttribute(cost === null ? "data-waiting" : "data-failed"));
        return;
      }
      var query = new URLSearchParams({fund: fund, out_of_pocket: cost, person: form.elements.person_id.value});
      var number = ++asked;
      fetch(box.getAttribute("data-url") + "?" + query.toString(),
            {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (number !== asked) { return; }  // a later question is on its way
          if (!body) { show("", box.getAttribute("data-failed")); return; }
          show(body.amount, body.rule);
        })
        .catch(function () { if (number === asked) { show("", box.getAttribute("data-failed")); } });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, WAIT_MS);
    }

    ["total_cost", "reimbursed", "out_of_pocket"].forEach(function (name) {
      form.elements[name].addEventListener("input", later);
    });
    ["fund_code", "person_id"].forEach(function (name) {
      form.elements[name].addEventListener("change", ask);
    });
    ask();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
