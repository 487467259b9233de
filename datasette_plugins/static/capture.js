// Live preview of the "log a reflection" form: as the writer types, the sections are sent to
// the server (POST /-/kb/new/preview, with the form's CSRF token) and come back rendered by
// the same Markdown renderer as the saved entry's page, sanitised there (nh3). The page's CSP
// allows no inline script, and this file puts no typed text into the page as HTML itself.
// The button "Preview" still shows the preview and the similar lessons without script.
(function () {
  "use strict";
  var form = document.getElementById("capture-form");
  var live = document.getElementById("capture-live");
  if (!form || !live || !window.fetch || !window.URLSearchParams) { return; }
  var url = form.getAttribute("data-preview-url");
  var timer = null;
  var sent = 0;

  function update() {
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    var mine = ++sent;
    fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"Content-Type": "application/x-www-form-urlencoded"}
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && data.ok && mine === sent) { live.innerHTML = data.html; }  // sanitised by the server
    }).catch(function () { /* the Preview button still works */ });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 300);
  });
})();
