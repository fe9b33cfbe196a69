// Keyboard-first annotation (celm serve): served from 'self' under the app's CSP, no inline script.
// The page declares the keys: each choice carries data-key="…", the forms are #rating-form,
// #skip-form and #claim-form, the help is #keys-help. Keys: a choice's key picks it, Enter submits
// (Ctrl+Enter inside the comment box), S skips, ? shows or hides the keys.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type === "text") || el.tagName === "SELECT");
  }
  function submit(form) {
    if (!form) return false;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.metaKey || ev.isComposing) return;
    var rating = document.getElementById("rating-form");
    if (ev.key === "Enter" && (ev.ctrlKey || !typing(ev.target))) {
      if (ev.target && ev.target.tagName === "BUTTON") return;  // a focused button does its own thing
      if (submit(rating) || submit(document.getElementById("claim-form"))) ev.preventDefault();
      return;
    }
    if (ev.ctrlKey || typing(ev.target)) return;
    if (ev.key === "?") {
      var help = document.getElementById("keys-help");
      if (help) { help.hidden = !help.hidden; ev.preventDefault(); }
      return;
    }
    if (ev.key === "s" || ev.key === "S") {
      if (submit(document.getElementById("skip-form"))) ev.preventDefault();
      return;
    }
    if (!rating) return;
    var choice = rating.querySelector('input[data-key="' + ev.key + '"]');
    if (choice) {
      choice.checked = true;
      choice.focus();
      ev.preventDefault();
    }
  });
})();
