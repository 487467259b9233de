// Live preview of the "log a reflection" form. Text only: every value is put in the
// page with textContent, never as HTML, so nothing typed can run (the page's CSP has
// no 'unsafe-inline' anyway). The server-side preview (button "Preview") shows the
// rendered Markdown and the similar lessons.
(function () {
  "use strict";
  var form = document.getElementById("capture-form");
  var live = document.getElementById("capture-live");
  if (!form || !live) { return; }
  var title = document.getElementById("f-title");
  var sections = form.querySelectorAll("textarea.capture-section");
  var serverPreview = live.innerHTML.trim() !== "";

  function paragraphs(parent, text) {
    text.split(/\n\s*\n/).forEach(function (block) {
      if (!block.trim()) { return; }
      var p = document.createElement("p");
      p.textContent = block.trim();
      parent.appendChild(p);
    });
  }

  function update() {
    serverPreview = false;
    while (live.firstChild) { live.removeChild(live.firstChild); }
    if (title && title.value.trim()) {
      var h = document.createElement("h2");
      h.className = "capture-live-title";
      h.textContent = title.value.trim();
      live.appendChild(h);
    }
    sections.forEach(function (area) {
      if (!area.value.trim()) { return; }
      var h2 = document.createElement("h3");
      h2.textContent = area.getAttribute("data-heading");
      live.appendChild(h2);
      paragraphs(live, area.value);
    });
  }

  form.addEventListener("input", update);
  if (!serverPreview) { update(); }
})();
