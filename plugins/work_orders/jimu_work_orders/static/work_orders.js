// Work order pages: tick all rows for a bulk action, show only the bulk action's own field,
// and preview the photos chosen in a stage form before they are sent.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function initBulk() {
    var all = document.querySelector("[data-check-all]");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll('#bulk-form input[name="ids"]').forEach(function (box) { box.checked = all.checked; });
      });
    }
    var action = document.querySelector("[data-bulk-action]");
    if (!action) { return; }
    function show() {
      document.querySelectorAll("[data-bulk-for]").forEach(function (field) {
        var mine = field.getAttribute("data-bulk-for") === action.value;
        field.hidden = !mine;
        field.disabled = !mine;  // a hidden field is not sent
      });
    }
    action.addEventListener("change", show);
    show();
  }

  function initPhotos() {
    document.querySelectorAll("[data-photo-input]").forEach(function (input) {
      var preview = document.querySelector('[data-photo-preview="' + input.id + '"]');
      if (!preview || !window.FileReader) { return; }
      input.addEventListener("change", function () {
        preview.textContent = "";
        Array.prototype.forEach.call(input.files || [], function (file) {
          if (file.type.indexOf("image/") !== 0) { return; }
          // A data: address: the content security policy allows those for images, not blob:.
          var reader = new FileReader();
          reader.onload = function () {
            var img = document.createElement("img");
            img.alt = file.name;
            img.src = reader.result;
            preview.appendChild(img);
          };
          reader.readAsDataURL(file);
        });
      });
    });
  }

  ready(function () { initBulk(); initPhotos(); });
})();
