/* 走访登记: the check-in form's position with its accuracy (typed by hand where the phone cannot
   locate), client id, photo preview and single send: static/fieldform.js, loaded before this file. */
(function () {
  "use strict";
  window.GridmapFieldForm.init({ form: "visit-form", save: "visit-save" });
}());
