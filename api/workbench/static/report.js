/* 举报不文明行为: the report form's position (phone or a tap on the small map, GCJ-02/BD-09 marked),
   client id, photo preview and single send: static/fieldform.js, loaded before this file. */
(function () {
  "use strict";
  window.GridmapFieldForm.init({ form: "report-form", save: "report-save" });
}());
