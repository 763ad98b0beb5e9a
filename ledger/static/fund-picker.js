// A fund picker that searches: progressive enhancement of a <select data-fund-picker="URL"> (the
// allocation form, the report form) or an <input data-fund-picker="URL"> (the voucher list's filter).
//
// Without this script the page keeps its plain control, which works as it is. With it, a text box
// becomes an ARIA 1.2 combobox (role=combobox, aria-expanded, aria-controls, aria-activedescendant)
// over a role=listbox of the funds the server finds for what was typed (GET URL?q=...&limit=...,
// scoped to the user's funds by the service). Keys: Down / Up move through the list (Down opens it),
// Enter picks, Escape closes (a second Escape clears the box). A pick sets the select's value to the
// fund's code (the form posts the same field as without the script), or the input's text to the code.
(function () {
  "use strict";

  var LIMIT = 20;
  var WAIT_MS = 120;
  var count = 0;

  function enhance(control) {
    var url = control.getAttribute("data-fund-picker");
    var isSelect = control.tagName === "SELECT";
    var number = ++count;
    var input;
    var wrapper = document.createElement("div");
    wrapper.className = "fund-picker";
    control.parentNode.insertBefore(wrapper, control);

    if (isSelect) {
      input = document.createElement("input");
      input.type = "text";
      // The label's for= names the select's id: the text box takes it, so the label names the combobox.
      input.id = control.id || ("fund-picker-" + number);
      control.id = input.id + "-select";
      ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (name) {
        if (control.hasAttribute(name)) { input.setAttribute(name, control.getAttribute(name)); }
      });
      // A hidden control cannot show the browser's "fill this in": the text box asks instead.
      if (control.required) {
        input.required = true;
        control.required = false;
      }
      var chosen = control.options[control.selectedIndex];
      input.value = chosen && chosen.value ? chosen.text.trim() : "";
      control.hidden = true;
      control.tabIndex = -1;
      control.setAttribute("aria-hidden", "true");
      wrapper.appendChild(input);
      wrapper.appendChild(control);
    } else {
      input = control;
      input.removeAttribute("list");  // the listbox below replaces the datalist
      if (!input.id) { input.id = "fund-picker-" + number; }
      wrapper.appendChild(input);
    }
    var placeholder = control.getAttribute("data-fund-picker-placeholder");
    if (placeholder) { input.placeholder = placeholder; }

    var listbox = document.createElement("ul");
    listbox.id = input.id + "-listbox";
    listbox.className = "fund-picker-list";
    listbox.setAttribute("role", "listbox");
    listbox.hidden = true;
    var label = document.querySelector('label[for="' + input.id + '"]');
    if (label) {
      if (!label.id) { label.id = input.id + "-label"; }
      listbox.setAttribute("aria-labelledby", label.id);
    }
    wrapper.appendChild(listbox);

    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    wrapper.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("autocomplete", "off");

    var items = [];
    var active = -1;
    var asked = 0;
    var timer = null;

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      var options = listbox.querySelectorAll("[role=option]");
      if (!options.length) { return; }
      active = (index + options.length) % options.length;
      options.forEach(function (option, position) {
        option.setAttribute("aria-selected", position === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", options[active].id);
      if (options[active].scrollIntoView) { options[active].scrollIntoView({block: "nearest"}); }
    }

    function pick(index) {
      var item = items[index];
      if (!item) { return; }
      if (isSelect) {
        var found = Array.prototype.some.call(control.options, function (option) { return option.value === item.code; });
        if (!found) { control.add(new Option(item.label, item.code)); }
        control.value = item.code;
        input.value = item.label;
        control.dispatchEvent(new Event("change", {bubbles: true}));
      } else {
        input.value = item.code;
      }
      close();
    }

    function render(data) {
      items = data.items || [];
      listbox.textContent = "";
      items.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = listbox.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-code", item.code);
        var name = document.createElement("span");
        name.className = "fund-picker-name";
        name.textContent = item.label;
        option.appendChild(name);
        var where = document.createElement("span");
        where.className = "fund-picker-where muted";
        where.textContent = item.parent_name ? item.level_label + " · " + item.parent_name : item.level_label;
        option.appendChild(where);
        // mousedown keeps the focus in the box; the click picks.
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { pick(index); });
        listbox.appendChild(option);
      });
      if (!items.length) {
        var none = document.createElement("li");
        none.className = "fund-picker-none muted";
        none.textContent = control.getAttribute("data-fund-picker-none") || "—";
        listbox.appendChild(none);
      }
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      input.removeAttribute("aria-activedescendant");
      active = -1;
      status.textContent = (control.getAttribute("data-fund-picker-found") || "{count}").replace("{count}",
        String(items.length) + (data.more ? "+" : ""));
    }

    function search() {
      var mine = ++asked;
      var address = url + "?q=" + encodeURIComponent(input.value.trim()) + "&limit=" + LIMIT;
      fetch(address, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          // Only the answer to the latest question is shown (answers may arrive out of order).
          if (data && mine === asked && document.activeElement === input) { render(data); }
        })
        .catch(function () { /* the plain text stays; the server checks what is sent */ });
    }

    input.addEventListener("input", function () {
      if (isSelect) { control.value = ""; }
      clearTimeout(timer);
      timer = setTimeout(search, WAIT_MS);
    });
    input.addEventListener("keydown", function (event) {
      var open = !listbox.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (open) { setActive(active + 1); } else { search(); }
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (open) { setActive(active - 1); }
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();  // a pick, not a submission of the form
          pick(active);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          if (isSelect) { control.value = ""; }
        }
      }
    });
    input.addEventListener("blur", close);

    // A clerk who types a code (or a fund's whole name) and sends the form without picking from
    // the list sends what was typed: the option it names when there is one, else the text itself,
    // which the server checks and, if it names no fund, refuses on this field.
    if (isSelect && control.form) {
      control.form.addEventListener("submit", function () {
        var typed = input.value.trim();
        if (control.value || !typed) { return; }
        var match = Array.prototype.find.call(control.options, function (option) {
          return option.value && (option.value === typed || option.text.trim() === typed);
        });
        if (!match) {
          match = new Option(typed, typed);
          control.add(match);
        }
        control.value = match.value;
      });
    }
  }

  document.querySelectorAll("[data-fund-picker]").forEach(enhance);
})();
