// Live character counts for text fields with a limit (academy/errors/limits.py renders the
// hint "Up to N characters." without JavaScript). The visible count is hidden from screen
// readers; a polite status message says the same once typing pauses, so it is not read out on
// every key press. Over the limit the count turns into an error-styled "N characters too many":
// the server refuses the text with a message, and never cuts it.
(function () {
  "use strict";
  var format = new Intl.NumberFormat("en-GB");

  function describe(remaining) {
    if (remaining >= 0) {
      return format.format(remaining) + (remaining === 1 ? " character" : " characters") + " left";
    }
    var over = -remaining;
    return format.format(over) + (over === 1 ? " character" : " characters") + " too many";
  }

  function attach(field) {
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    var hint = document.getElementById(field.id + "-limit");
    if (!limit || !hint) { return; }
    var visible = document.createElement("span");
    visible.className = "char-count";
    visible.setAttribute("aria-hidden", "true");
    var spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.setAttribute("role", "status");
    hint.appendChild(document.createTextNode(" "));
    hint.appendChild(visible);
    hint.parentNode.insertBefore(spoken, hint.nextSibling);
    var timer = null;
    function update(announce) {
      var remaining = limit - field.value.length;
      visible.textContent = describe(remaining) + ".";
      hint.classList.toggle("char-limit-over", remaining < 0);
      if (announce) {
        clearTimeout(timer);
        timer = setTimeout(function () { spoken.textContent = describe(remaining) + "."; }, 1000);
      }
    }
    field.addEventListener("input", function () { update(true); });
    update(false);
  }

  var fields = document.querySelectorAll("input[data-limit], textarea[data-limit]");
  for (var i = 0; i < fields.length; i += 1) { attach(fields[i]); }
}());
