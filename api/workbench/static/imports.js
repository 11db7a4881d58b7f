/* The import pages (数据导入): a progress bar for the upload (the bytes sent) and for the import (the
   rows written, polled from ?view=status), and the layer choice applied at once. Without this script
   the forms post as they are and the pages work the same, without the bar. No inline handlers, no
   eval: loaded with the page's CSP nonce. Listeners sit on the document, so a <main> swapped in from
   a refused post (a 422 page) keeps working. */
(function () {
  "use strict";
  var POLL_MS = 500;

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("form.choose-layer select")) {
      select.form.submit();
    }
  });

  function show(form, text, value, max) {
    var bar = form.querySelector("progress.import-progress");
    var label = form.querySelector(".progress-text");
    if (bar) {
      bar.hidden = false;
      if (max) { bar.max = max; bar.value = value; } else { bar.removeAttribute("value"); }
    }
    if (label) { label.hidden = false; label.textContent = text; }
  }

  function busy(form, on) {
    form.querySelectorAll("button").forEach(function (b) { b.disabled = on; });
  }

  // A refused post answers a page of its own (422 with the reasons beside the fields): show its <main>.
  function replaceMain(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var main = doc.querySelector("main");
    if (main) {
      document.querySelector("main").replaceWith(document.adoptNode(main));
      document.title = doc.title;
      window.scrollTo(0, 0);
    }
  }

  function poll(form, state) {
    var url = form.getAttribute("data-status");
    if (!url || state.finished) { return; }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (state.finished || !s) { return; }
        if (s.total) {
          show(form, form.getAttribute("data-writing") + " " + s.done + " / " + s.total, s.done, s.total);
        }
        state.timer = window.setTimeout(function () { poll(form, state); }, POLL_MS);
      })
      .catch(function () { state.timer = window.setTimeout(function () { poll(form, state); }, POLL_MS); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var kind = form.getAttribute && form.getAttribute("data-progress");
    var submitter = event.submitter;
    if (!kind || !window.FormData || !window.XMLHttpRequest) { return; }
    if (kind === "import" && !(submitter && submitter.value === "import")) { return; }  // a preview: as it is
    event.preventDefault();
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    var state = { finished: false, timer: null };
    // not form.action: the mapping form's buttons are named "action", which shadows that property
    var action = new URL(form.getAttribute("action"), window.location.href).href;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", action);
    xhr.setRequestHeader("Accept", "text/html");  // the page's post, not the API's (same path)
    if (kind === "upload") {
      show(form, form.getAttribute("data-sending") || "", 0, 0);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var percent = Math.round(100 * e.loaded / e.total);
          show(form, (form.getAttribute("data-sending") || "") + " " + percent + "%", e.loaded, e.total);
        }
      });
      xhr.upload.addEventListener("load", function () { show(form, form.getAttribute("data-reading") || "", 0, 0); });
    } else {
      show(form, form.getAttribute("data-running") || "", 0, 0);
      state.timer = window.setTimeout(function () { poll(form, state); }, POLL_MS);
    }
    xhr.addEventListener("load", function () {
      state.finished = true;
      window.clearTimeout(state.timer);
      var target = xhr.responseURL;
      if (target && target !== action) {
        window.location.assign(target);  // followed the redirect to the next step
        return;
      }
      busy(form, false);
      replaceMain(xhr.responseText);
    });
    xhr.addEventListener("error", function () {
      state.finished = true;
      busy(form, false);
      show(form, form.getAttribute("data-failed") || "", 0, 0);
    });
    busy(form, true);
    xhr.send(data);
  });
}());
